#include "lowering/broadcast.h"

#include <algorithm>
#include <string>

namespace torch_pjrt::lowering {
namespace {

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

}  // namespace

std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a,
                                      const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> result(rank);
  // Align trailing dimensions; a missing leading dimension counts as 1.
  for (size_t i = 0; i < rank; ++i) {
    const size_t from_end = rank - 1 - i;
    const int64_t size_a = from_end < a.size() ? a[a.size() - 1 - from_end] : 1;
    const int64_t size_b = from_end < b.size() ? b[b.size() - 1 - from_end] : 1;
    if (size_a != size_b && size_a != 1 && size_b != 1) {
      throw InvalidArgument("The size of tensor a (" + std::to_string(size_a) +
                            ") must match the size of tensor b (" + std::to_string(size_b) +
                            ") at non-singleton dimension " + std::to_string(i));
    }
    result[i] = size_a == 1 ? size_b : size_a;
  }
  return result;
}

std::vector<int64_t> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<int64_t> result;
  for (const auto& shape : shapes) result = broadcast_shapes(result, shape);
  return result;
}

Value broadcast_to(Builder& b, Value x, const std::vector<int64_t>& dims) {
  const std::vector<int64_t>& from = b.dims(x);
  if (from == dims) return x;
  if (from.size() > dims.size()) {
    throw InvalidArgument("the number of sizes provided (" + std::to_string(dims.size()) +
                          ") must be greater or equal to the number of dimensions in the "
                          "tensor (" +
                          std::to_string(from.size()) + ")");
  }
  const int64_t offset = static_cast<int64_t>(dims.size() - from.size());
  std::vector<int64_t> mapping(from.size());
  for (size_t i = 0; i < from.size(); ++i) {
    const int64_t target = dims[offset + i];
    if (from[i] != target && from[i] != 1) {
      throw InvalidArgument("The expanded size of the tensor (" + std::to_string(target) +
                            ") must match the existing size (" + std::to_string(from[i]) +
                            ") at non-singleton dimension " + std::to_string(offset + i) +
                            ".  Target sizes: " + shape_string(dims) +
                            ".  Tensor sizes: " + shape_string(from));
    }
    mapping[i] = offset + static_cast<int64_t>(i);
  }
  return b.broadcast_in_dim(x, dims, mapping);
}

std::vector<Value> promote_and_broadcast(Builder& b, const std::vector<Value>& operands,
                                         ElementType type) {
  std::vector<std::vector<int64_t>> shapes;
  shapes.reserve(operands.size());
  for (Value v : operands) shapes.push_back(b.dims(v));
  const std::vector<int64_t> common = broadcast_shapes(shapes);
  std::vector<Value> result;
  result.reserve(operands.size());
  for (Value v : operands) result.push_back(broadcast_to(b, b.convert(v, type), common));
  return result;
}

int64_t wrap_dim(int64_t dim, int64_t rank) {
  // PyTorch lets a 0-d tensor be indexed as if it had one dimension.
  const int64_t extent = std::max<int64_t>(rank, 1);
  if (dim < -extent || dim >= extent) {
    throw IndexOutOfRange("Dimension out of range (expected to be in range of [" +
                          std::to_string(-extent) + ", " + std::to_string(extent - 1) +
                          "], but got " + std::to_string(dim) + ")");
  }
  return dim < 0 ? dim + extent : dim;
}

}  // namespace torch_pjrt::lowering
