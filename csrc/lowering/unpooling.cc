// max_unpool2d / max_unpool3d: each input element is written to the position
// its index names within its channel's output plane (or volume); the rest of
// the output is zero. Indices come from max_pool*_with_indices, where two
// equal indices always carry the same element, so the order of duplicate
// writes does not matter.
#include <cstdint>
#include <string>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

std::string int_list_text(const std::vector<int64_t>& values) { return shape_text(values); }

std::vector<Value> max_unpool(Builder& b, const OpCall& call, int spatial) {
  const Value self = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  const std::vector<int64_t>& output_size = call.ints(2);
  const std::string name = "max_unpooling" + std::to_string(spatial) + "d";
  const char* axes = spatial == 2 ? "(height, width)" : "(depth, height, width)";
  const std::vector<int64_t>& dims = b.dims(self);
  const auto rank = static_cast<int64_t>(dims.size());
  const ElementType type = b.element_type(self);
  if (b.element_type(indices) != ElementType::kS64) {
    throw InvalidArgument("elements in indices should be type int64 but got: " +
                          std::string(scalar_type_name(b.element_type(indices))));
  }
  if (b.dims(indices) != dims) {
    throw InvalidArgument("Expected shape of indices to be same as that of the input tensor (" +
                          shape_text(dims) +
                          ") but got indices tensor with shape: " + shape_text(b.dims(indices)));
  }
  if (static_cast<int>(output_size.size()) != spatial) {
    throw InvalidArgument(std::string("There should be exactly ") +
                          (spatial == 2 ? "two" : "three") + " elements " + axes +
                          " in output_size, but got " + (spatial == 2 ? "" : ": ") +
                          std::to_string(output_size.size()) + " elements.");
  }
  if (spatial == 3) {
    for (size_t k : {3u, 4u}) {
      const std::vector<int64_t>& list = call.ints(k);
      const char* what = k == 3 ? "stride" : "padding";
      if (list.size() != 3) {
        throw InvalidArgument(std::string("There should be exactly three elements ") + axes +
                              " in " + what + ", but got: " + std::to_string(list.size()) +
                              " elements.");
      }
      if (k == 3) {
        for (int64_t s : list) {
          if (s <= 0) {
            throw InvalidArgument("strides should be greater than zero, but got stride: " +
                                  int_list_text(list));
          }
        }
      }
    }
  }
  if (rank != spatial + 1 && rank != spatial + 2) {
    throw InvalidArgument("Input to " + name + " should be a " + std::to_string(spatial + 1) +
                          "d or " + std::to_string(spatial + 2) +
                          "d Tensor, but got a tensor with " + std::to_string(rank) +
                          " dimensions.");
  }
  for (int64_t d = rank - spatial - 1; d < rank; ++d) {
    if (dims[d] == 0) {
      throw InvalidArgument(name + "_forward_out_cpu(): Expected input to have non-zero size for " +
                            "non-batch dimensions, but got " + shape_text(dims) +
                            " with dimension " + std::to_string(d) + " being empty.");
    }
  }
  if (!stablehlo::is_floating(type) || stablehlo::is_complex(type)) {
    throw_no_kernel("max_unpool" + std::to_string(spatial) + "d", type);
  }
  std::vector<int64_t> result_dims(dims.begin(), dims.end() - spatial);
  int64_t plane = 1;
  for (int64_t s : output_size) {
    result_dims.push_back(s);
    plane *= s;
  }
  int64_t channels = 1;
  for (int64_t d = 0; d < rank - spatial; ++d) channels *= dims[d];
  const int64_t per_channel = b.type(self).numel() / std::max<int64_t>(channels, 1);
  const int64_t total = channels * plane;
  if (b.type(self).numel() == 0 || total == 0) return {b.zeros(TensorType{type, result_dims})};
  // One flat position per element: its channel's offset plus its index; an
  // index outside the plane goes to a spare slot past the end, and the
  // program's check reports it as CPU does.
  std::string volume;
  for (int64_t s : output_size) volume += (volume.empty() ? "" : "x") + std::to_string(s);
  call.check_on_device(check_in_range(b, indices, 0, plane,
                                      CheckSite{CheckKind::kRuntime,
                                                "Found an invalid max index: {} (output "
                                                "volumes are of size " +
                                                    volume + ")"}));
  const TensorType index_type{ElementType::kS64, {channels, per_channel}};
  Value index = b.reshape(indices, {channels, per_channel});
  Value channel_base =
      b.mul(b.iota(index_type, 0), b.splat(static_cast<double>(plane), index_type));
  Value valid = b.binary(
      BinaryOp::kAnd, b.compare(ComparisonDirection::kGE, index, b.zeros(index_type)),
      b.compare(ComparisonDirection::kLT, index, b.splat(static_cast<double>(plane), index_type)));
  Value target =
      b.select(valid, b.add(channel_base, index), b.splat(static_cast<double>(total), index_type));
  const int64_t n = channels * per_channel;
  stablehlo::ScatterDimensions dn;
  dn.inserted_window_dims = {0};
  dn.scatter_dims_to_operand_dims = {0};
  dn.index_vector_dim = 1;
  Value placed = b.scatter(
      b.zeros(TensorType{type, {total + 1}}), b.reshape(target, {n, 1}), b.reshape(self, {n}), dn,
      [](Builder&, const std::vector<Value>& args) { return std::vector<Value>{args[1]}; });
  return {b.reshape(b.slice(placed, {0}, {total}), result_dims)};
}

// max_unpool2d(self, indices, output_size)
std::vector<Value> max_unpool2d_rule(Builder& b, const OpCall& call) {
  return max_unpool(b, call, 2);
}

// max_unpool3d(self, indices, output_size, stride, padding)
std::vector<Value> max_unpool3d_rule(Builder& b, const OpCall& call) {
  return max_unpool(b, call, 3);
}

}  // namespace

void add_unpooling_rules(RuleTable& table) {
  table.add("max_unpool2d", {&max_unpool2d_rule, {}});
  table.add("max_unpool3d", {&max_unpool3d_rule, {}});
}

}  // namespace torch_pjrt::lowering
