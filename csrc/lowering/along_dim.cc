#include "lowering/along_dim.h"
#include "lowering/promotion.h"

namespace torch_pjrt::lowering {

namespace {

std::vector<int64_t> all_dims_but(int64_t rank, int64_t dim) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim) dims.push_back(d);
  }
  return dims;
}

Value index_column(Builder& b, const std::vector<int64_t>& index) {
  const auto count = static_cast<int64_t>(index.size());
  return b.constant_ints(index, TensorType{ElementType::kS64, {count, 1}});
}

}  // namespace

Value take_along(Builder& b, Value x, int64_t dim, const std::vector<int64_t>& index) {
  stablehlo::GatherDimensions dn;
  const int64_t rank = b.rank(x);
  dn.offset_dims = all_dims_but(rank, dim);
  dn.collapsed_slice_dims = {dim};
  dn.start_index_map = {dim};
  dn.index_vector_dim = 1;
  std::vector<int64_t> slice_sizes = b.dims(x);
  slice_sizes[dim] = 1;
  return b.gather(x, index_column(b, index), dn, slice_sizes);
}

Value scatter_add_along(Builder& b, Value updates, int64_t dim, const std::vector<int64_t>& index,
                        int64_t size) {
  stablehlo::ScatterDimensions dn;
  const int64_t rank = b.rank(updates);
  dn.update_window_dims = all_dims_but(rank, dim);
  dn.inserted_window_dims = {dim};
  dn.scatter_dims_to_operand_dims = {dim};
  dn.index_vector_dim = 1;
  TensorType target = b.type(updates);
  target.dims[dim] = size;
  return b.scatter(b.zeros(target), index_column(b, index), updates, dn,
                   [](Builder& r, const std::vector<Value>& args) {
                     return std::vector<Value>{r.add(args[0], args[1])};
                   });
}

Value along(Builder& b, const std::vector<double>& values, ElementType type,
            const std::vector<int64_t>& dims, int64_t dim) {
  const auto count = static_cast<int64_t>(values.size());
  return b.broadcast_in_dim(b.constant_doubles(values, TensorType{type, {count}}), dims, {dim});
}

}  // namespace torch_pjrt::lowering
