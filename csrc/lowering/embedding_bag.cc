// embedding_bag: the rows of `weight` named by a flat list of indices, cut
// into bags by `offsets` (bag k holds indices offsets[k] .. offsets[k+1]-1, the
// last bag runs to the end), each bag reduced by sum, mean or max; and the
// gradients of that for weight and per_sample_weights.
//
// Every bag has a static size only as a whole ([num_bags, D]), so a bag is
// never materialized: position i of the index list knows its bag (offset2bag),
// rows are gathered for all positions at once and scattered into their bag.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
#include "lowering/prefix_scan.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;

constexpr int64_t kSum = 0;
constexpr int64_t kMean = 1;
constexpr int64_t kMax = 2;

Value splat_like(Builder& b, double value, ElementType type, const std::vector<int64_t>& dims) {
  return b.splat(value, TensorType{type, dims});
}

std::vector<Value> add_body(Builder& r, const std::vector<Value>& args) {
  return {r.add(args[0], args[1])};
}

std::vector<Value> min_body(Builder& r, const std::vector<Value>& args) {
  return {r.min(args[0], args[1])};
}

std::vector<Value> max_body(Builder& r, const std::vector<Value>& args) {
  return {r.max(args[0], args[1])};
}

// Rows `positions` (s64 [n]) of the 2-D `table`: [n, D].
Value gather_rows(Builder& b, Value table, Value positions) {
  const int64_t n = b.dims(positions)[0];
  const int64_t width = b.dims(table)[1];
  stablehlo::GatherDimensions dn;
  dn.offset_dims = {1};
  dn.collapsed_slice_dims = {0};
  dn.start_index_map = {0};
  dn.index_vector_dim = 1;
  return b.gather(table, b.reshape(positions, {n, 1}), dn, {1, width});
}

// Element `positions` (s64 [n]) of the 1-D `vector`.
Value gather_elements(Builder& b, Value vector, Value positions) {
  const int64_t n = b.dims(positions)[0];
  stablehlo::GatherDimensions dn;
  dn.collapsed_slice_dims = {0};
  dn.start_index_map = {0};
  dn.index_vector_dim = 1;
  return b.gather(vector, b.reshape(positions, {n, 1}), dn, {1});
}

// Row i of `updates` ([n, ...]) combined into row positions[i] of `target`.
Value scatter_rows(Builder& b, Value target, Value positions, Value updates,
                   const Builder::RegionBody& combine) {
  const int64_t n = b.dims(positions)[0];
  stablehlo::ScatterDimensions dn;
  for (int64_t d = 1; d < b.rank(target); ++d) dn.update_window_dims.push_back(d);
  dn.inserted_window_dims = {0};
  dn.scatter_dims_to_operand_dims = {0};
  dn.index_vector_dim = 1;
  return b.scatter(target, b.reshape(positions, {n, 1}), updates, dn, combine);
}

// The bag of every index position (s64 [n]): how many bag starts after the
// first lie at or before it. The last bag takes every position after its
// start, as CPU's kernel does (with include_last_offset the final offset is
// not a bag start).
Value bag_of_positions(Builder& b, Value offsets, int64_t n, int64_t num_bags) {
  const TensorType marks_type{ElementType::kS64, {n + 1}};
  if (num_bags <= 1 || n == 0) return b.zeros(TensorType{ElementType::kS64, {n}});
  Value starts = b.slice(b.convert(offsets, ElementType::kS64), {1}, {num_bags});
  // Starts past the end fall out of the scatter; they start no bag of a position.
  Value marks = scatter_rows(b, b.zeros(marks_type), starts,
                             splat_like(b, 1, ElementType::kS64, {num_bags - 1}), add_body);
  Value counted = prefix_scan(
      b, {marks}, 0,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.add(earlier[0], later[0])};
      })[0];
  return b.slice(counted, {0}, {n});
}

ElementType index_type_of(Builder& b, Value indices, Value offsets) {
  const bool wide =
      b.element_type(indices) == ElementType::kS64 || b.element_type(offsets) == ElementType::kS64;
  return wide ? ElementType::kS64 : ElementType::kS32;
}

bool is_index_type(ElementType type) {
  return type == ElementType::kS32 || type == ElementType::kS64;
}

void check_weight(const Builder& b, Value weight) {
  const ElementType type = b.element_type(weight);
  if (type != ElementType::kF32 && type != ElementType::kF64 && type != ElementType::kF16 &&
      type != ElementType::kBF16) {
    throw InvalidArgument(
        "Expected tensor for argument #1 'weight' to have one of the following scalar types: "
        "Half, BFloat16, Float, Double; but got " +
        std::string(type_meta_name(type)) +
        " instead (while checking arguments for embedding_bag)");
  }
}

void check_index_dtypes(const Builder& b, Value indices, Value offsets) {
  for (auto [value, name] : {std::pair{indices, "indices"}, std::pair{offsets, "offsets"}}) {
    const ElementType type = b.element_type(value);
    if (!is_index_type(type)) {
      throw InvalidArgument(std::string("Expected tensor for argument #1 '") + name +
                            "' to have one of the following scalar types: Long, Int; but got " +
                            std::string(type_meta_name(type)) +
                            " instead (while checking arguments for embedding_bag)");
    }
  }
}

// The value checks CPU makes on indices and offsets, as device checks.
void check_index_values(Builder& b, const OpCall& call, Value indices, Value offsets,
                        int64_t num_weights) {
  const int64_t n = b.dims(indices)[0];
  const int64_t offset_count = b.dims(offsets)[0];
  if (n > 0) {
    call.check_on_device(
        check_in_range(b, indices, 0, num_weights,
                       CheckSite{CheckKind::kRuntime,
                                 "Index of input takes value {} which is not in the valid "
                                 "range [0, " +
                                     std::to_string(num_weights) + ")"}));
  }
  if (n > 0 && offset_count > 0) {
    call.check_on_device(check_in_range(
        b, b.slice(offsets, {0}, {1}), 0, 1,
        CheckSite{CheckKind::kRuntime,
                  "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                  "start from position 0. However, got {}"}));
  }
  if (offset_count > 0) {
    call.check_on_device(check_in_range(
        b, b.slice(offsets, {offset_count - 1}, {offset_count}),
        std::numeric_limits<int64_t>::min(), n + 1,
        CheckSite{CheckKind::kRuntime, "offsets[-1] can not be greater than input's length " +
                                           std::to_string(n) + " but got offsets[-1] of {}"}));
  }
}

// _embedding_bag and _embedding_bag_forward_only: (output, offset2bag,
// bag_size, max_indices). The three index outputs follow CPU's kernels, whose
// shapes differ by path: in sum mode the fast path (float, half or bfloat16
// weights, no padding_idx) leaves offset2bag empty, bag_size and max_indices
// are zeros there, and in mean mode max_indices repeats bag_size.
std::vector<Value> embedding_bag_rule(Builder& b, const OpCall& call) {
  const Value weight = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  const Value offsets = call.tensor(2).value;
  const int64_t mode = call.int_at(4);
  const std::optional<TensorArg> per_sample = call.optional_tensor(6);
  const bool include_last_offset = call.bool_at(7);
  const int64_t padding_idx = call.size() > 8 ? call.int_at(8) : -1;
  const bool forward_only = call.name == "_embedding_bag_forward_only";
  // sparse (argument 5) changes only the gradient's layout, not the forward.

  check_index_dtypes(b, indices, offsets);
  if (b.rank(indices) != 1) {
    throw InvalidArgument("input has to be a 1D or 2D Tensor, but got Tensor of dimension " +
                          std::to_string(b.rank(indices)));
  }
  if (b.rank(offsets) != 1) {
    throw InvalidArgument("offsets has to be a 1D Tensor, but got Tensor of dimension " +
                          std::to_string(b.rank(offsets)));
  }
  if (b.rank(weight) != 2) {
    throw InvalidArgument("weight has to be a 2D Tensor, but got Tensor of dimension " +
                          std::to_string(b.rank(weight)));
  }
  check_weight(b, weight);
  if (mode != kSum && mode != kMean && mode != kMax) {
    throw InvalidArgument("`mode` must be sum, mean, or max.");
  }
  const ElementType type = b.element_type(weight);
  if (per_sample) {
    if (mode != kSum) {
      throw InvalidArgument("embedding_bag: per_sample_weights only supported with mode='sum'");
    }
    if (b.element_type(per_sample->value) != type) {
      throw InvalidArgument(
          "Expected tensor for argument #1 'weight' to have the same type as tensor for argument "
          "#1 'per_sample_weights'; but type " +
          std::string(type_meta_name(type)) + " does not equal " +
          std::string(type_meta_name(b.element_type(per_sample->value))) +
          " (while checking arguments for embedding_bag)");
    }
    if (b.rank(per_sample->value) != 1 ||
        b.type(per_sample->value).numel() != b.type(indices).numel()) {
      throw InvalidArgument(
          "Expected per_sample_weights.value().numel() == indices.numel() to be true, but got "
          "false.");
    }
  }
  const int64_t n = b.dims(indices)[0];
  const int64_t offset_count = b.dims(offsets)[0];
  if (include_last_offset && offset_count < 1) {
    throw InvalidArgument("include_last_offset: number of offset should be at least 1");
  }
  const int64_t num_bags = offset_count - (include_last_offset ? 1 : 0);
  // CPU's offset2bag for positions without a bag is not a bag number.
  if (num_bags == 0 && n > 0) {
    throw Unsupported("embedding_bag with indices but no bags");
  }
  const int64_t num_weights = b.dims(weight)[0];
  const int64_t width = b.dims(weight)[1];
  check_index_values(b, call, indices, offsets, num_weights);

  const ElementType index_type = index_type_of(b, indices, offsets);
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> out_dims{num_bags, width};
  const bool fast_sum = mode == kSum && padding_idx < 0 && type != ElementType::kF64;
  const int64_t bag_size_count = mode == kSum && forward_only ? offset_count : num_bags;
  if (n == 0 || num_bags == 0) {
    // Every bag is empty: zeros everywhere, as CPU gives.
    Value bag_size = b.zeros(TensorType{index_type, {bag_size_count}});
    Value max_indices = mode == kMax ? b.zeros(TensorType{index_type, out_dims})
                                     : b.zeros(TensorType{index_type, {bag_size_count}});
    return {b.zeros(TensorType{type, out_dims}), b.zeros(TensorType{index_type, {n}}), bag_size,
            max_indices};
  }
  const Value positions = b.convert(indices, ElementType::kS64);
  const Value bag_of = bag_of_positions(b, offsets, n, num_bags);
  // Indices equal to padding_idx take part in no bag (and no count).
  Value kept = splat_like(b, 1, ElementType::kPred, {n});
  if (padding_idx >= 0) {
    kept = b.compare(ComparisonDirection::kNE, positions,
                     splat_like(b, static_cast<double>(padding_idx), ElementType::kS64, {n}));
  }
  const Value kept_rows = b.broadcast_in_dim(kept, {n, width}, {0});
  const Value rows = n > 0 ? gather_rows(b, b.convert(weight, compute), positions)
                           : b.zeros(TensorType{compute, {0, width}});

  Value counts = scatter_rows(b, b.zeros(TensorType{ElementType::kS64, {num_bags}}), bag_of,
                              b.convert(kept, ElementType::kS64), add_body);
  const Value nonempty = b.compare(ComparisonDirection::kGT, counts, b.zeros(b.type(counts)));
  const Value nonempty_rows = b.broadcast_in_dim(nonempty, out_dims, {0});

  Value output;
  Value max_indices;
  if (mode == kMax) {
    // CPU scans each bag in order and keeps an element only when it is
    // strictly greater: the first of equal maxima wins, a NaN first element
    // stays (nothing compares greater), and a later NaN is never taken.
    const Value lowest = b.constant(-INFINITY, compute);
    const TensorType positions_type{ElementType::kS64, {n, width}};
    const Value none = splat_like(b, static_cast<double>(n), ElementType::kS64, {n});
    Value first_position = scatter_rows(
        b, splat_like(b, static_cast<double>(n), ElementType::kS64, {num_bags}), bag_of,
        b.select(kept, b.iota(TensorType{ElementType::kS64, {n}}, 0), none), min_body);
    Value padded_rows = b.concatenate({rows, b.zeros(TensorType{compute, {1, width}})}, 0);
    Value first_rows = gather_rows(b, padded_rows, first_position);
    Value first_is_nan = is_nan(b, first_rows);
    Value comparable = b.binary(stablehlo::BinaryOp::kAnd, kept_rows,
                                b.unary(stablehlo::UnaryOp::kNot, is_nan(b, rows)));
    Value candidates = b.select(comparable, rows, b.broadcast_in_dim(lowest, {n, width}, {}));
    Value best =
        scatter_rows(b, b.broadcast_in_dim(lowest, out_dims, {}), bag_of, candidates, max_body);
    Value is_best =
        b.binary(stablehlo::BinaryOp::kAnd, comparable,
                 b.compare(ComparisonDirection::kEQ, rows, gather_rows(b, best, bag_of)));
    Value first =
        scatter_rows(b, splat_like(b, static_cast<double>(n), ElementType::kS64, out_dims), bag_of,
                     b.select(is_best, b.iota(positions_type, 0),
                              splat_like(b, static_cast<double>(n), ElementType::kS64, {n, width})),
                     min_body);
    first = b.select(first_is_nan, b.broadcast_in_dim(first_position, out_dims, {0}), first);
    // Position n (no maximum: an empty bag) names index 0, as CPU reports.
    Value padded = b.concatenate({positions, b.zeros(TensorType{ElementType::kS64, {1}})}, 0);
    Value chosen =
        b.reshape(gather_elements(b, padded, b.reshape(first, {num_bags * width})), out_dims);
    max_indices = b.convert(chosen, index_type);
    output = b.select(first_is_nan, first_rows, best);
    output = b.select(nonempty_rows, output, b.zeros(TensorType{compute, out_dims}));
  } else {
    Value contributions = rows;
    if (per_sample) {
      contributions = b.mul(contributions, b.broadcast_in_dim(b.convert(per_sample->value, compute),
                                                              {n, width}, {0}));
    }
    contributions = b.select(kept_rows, contributions, b.zeros(TensorType{compute, {n, width}}));
    output =
        scatter_rows(b, b.zeros(TensorType{compute, out_dims}), bag_of, contributions, add_body);
    if (mode == kMean) {
      Value divisor =
          b.convert(b.max(counts, splat_like(b, 1, ElementType::kS64, {num_bags})), compute);
      output = b.div(output, b.broadcast_in_dim(divisor, out_dims, {0}));
    }
  }
  output = b.convert(output, type);

  Value offset2bag =
      fast_sum ? b.zeros(TensorType{index_type, {0}}) : b.convert(bag_of, index_type);
  Value bag_size;
  if (mode == kSum) {
    bag_size = b.zeros(TensorType{index_type, {bag_size_count}});
    max_indices = b.zeros(TensorType{index_type, {bag_size_count}});
  } else {
    bag_size = b.convert(counts, index_type);
    if (mode == kMean) max_indices = bag_size;
  }
  return {output, offset2bag, bag_size, max_indices};
}

// offset2bag as the backward gets it, or rebuilt from offsets where the
// forward's fast path left it empty.
Value backward_bag_of(Builder& b, Value offset2bag, Value offsets, int64_t n, int64_t num_bags) {
  if (b.type(offset2bag).numel() == n) {
    return b.reshape(b.convert(offset2bag, ElementType::kS64), {n});
  }
  if (b.type(offset2bag).numel() != 0) {
    throw InvalidArgument("embedding_bag_backward: offset2bag has " +
                          std::to_string(b.type(offset2bag).numel()) + " elements for " +
                          std::to_string(n) + " indices");
  }
  return bag_of_positions(b, offsets, n, num_bags);
}

// What CPU's sum/mean backward divides each position's gradient by under
// scale_grad_by_freq (s64 [n]). Its kernel walks the distinct indices in
// ascending order and, for the g-th of them, divides by the frequency of the
// g-th element of the *sorted index list* rather than of that index itself;
// the two agree until a repeated index shifts them apart. Matching CPU means
// doing the same: g is how many distinct indices are smaller.
Value cpu_frequency_divisor(Builder& b, Value positions, int64_t num_weights) {
  const int64_t n = b.dims(positions)[0];
  const TensorType weights_type{ElementType::kS64, {num_weights}};
  Value frequency = scatter_rows(b, b.zeros(weights_type), positions,
                                 splat_like(b, 1, ElementType::kS64, {n}), add_body);
  Value present = b.convert(b.compare(ComparisonDirection::kGT, frequency, b.zeros(weights_type)),
                            ElementType::kS64);
  Value smaller_distinct =
      b.sub(prefix_scan(
                b, {present}, 0,
                [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
                  return std::vector<Value>{r.add(earlier[0], later[0])};
                })[0],
            present);
  Value sorted =
      b.sort({positions}, 0, /*is_stable=*/false, [](Builder& r, const std::vector<Value>& args) {
        return std::vector<Value>{r.compare(ComparisonDirection::kLT, args[0], args[1])};
      })[0];
  Value group = gather_elements(b, smaller_distinct, positions);
  return gather_elements(b, frequency, gather_elements(b, sorted, group));
}

// The gradient of weight [num_weights, D] from grad [num_bags, D].
Value dense_backward(Builder& b, const OpCall& call, Value grad, Value indices, Value bag_of,
                     Value bag_size, Value max_indices, int64_t num_weights,
                     bool scale_grad_by_freq, int64_t mode,
                     const std::optional<TensorArg>& per_sample, int64_t padding_idx) {
  if (b.rank(grad) != 2) {
    throw InvalidArgument(
        "embedding_bag_backward: grad has to be a 2D Tensor, but got Tensor "
        "of dimension " +
        std::to_string(b.rank(grad)));
  }
  const ElementType type = b.element_type(grad);
  const ElementType compute = opmath_type(type);
  const int64_t num_bags = b.dims(grad)[0];
  const int64_t width = b.dims(grad)[1];
  const int64_t n = b.dims(indices)[0];
  const std::vector<int64_t> result_dims{num_weights, width};
  const Value g = b.convert(grad, compute);
  if (n == 0 || num_weights == 0 || width == 0 || num_bags == 0) {
    return b.zeros(TensorType{type, result_dims});
  }
  if (mode == kMax) {
    // Each bag's gradient goes to the row that gave its maximum; empty bags
    // gave none.
    const std::vector<int64_t> bag_dims{num_bags, width};
    Value rows = b.convert(b.reshape(max_indices, bag_dims), ElementType::kS64);
    call.check_on_device(
        check_in_range(b, rows, 0, num_weights,
                       CheckSite{CheckKind::kRuntime,
                                 "embedding_bag_backward: max index {} is not in the valid "
                                 "range [0, " +
                                     std::to_string(num_weights) + ")"}));
    Value columns = b.iota(TensorType{ElementType::kS64, bag_dims}, 1);
    Value where = b.concatenate(
        {b.reshape(rows, {num_bags, width, 1}), b.reshape(columns, {num_bags, width, 1})}, 2);
    Value filled = b.compare(ComparisonDirection::kGT,
                             b.convert(b.reshape(bag_size, {num_bags}), ElementType::kS64),
                             b.zeros(TensorType{ElementType::kS64, {num_bags}}));
    Value updates = b.select(b.broadcast_in_dim(filled, bag_dims, {0}), g,
                             b.zeros(TensorType{compute, bag_dims}));
    stablehlo::ScatterDimensions dn;
    dn.inserted_window_dims = {0, 1};
    dn.scatter_dims_to_operand_dims = {0, 1};
    dn.index_vector_dim = 2;
    Value result =
        b.scatter(b.zeros(TensorType{compute, result_dims}), where, updates, dn, add_body);
    return b.convert(result, type);
  }
  const Value positions = b.convert(indices, ElementType::kS64);
  call.check_on_device(
      check_in_range(b, positions, 0, num_weights,
                     CheckSite{CheckKind::kRuntime,
                               "Index of input takes value {} which is not in the valid "
                               "range [0, " +
                                   std::to_string(num_weights) + ")"}));
  Value contributions = gather_rows(b, g, bag_of);
  Value scale = splat_like(b, 1, compute, {n});
  if (per_sample) scale = b.convert(per_sample->value, compute);
  if (mode == kMean) {
    Value sizes = b.convert(b.reshape(bag_size, {b.type(bag_size).numel()}), ElementType::kS64);
    Value size_of = gather_elements(b, sizes, bag_of);
    size_of = b.max(size_of, splat_like(b, 1, ElementType::kS64, {n}));
    scale = b.div(scale, b.convert(size_of, compute));
  }
  if (scale_grad_by_freq) {
    scale = b.div(scale, b.convert(cpu_frequency_divisor(b, positions, num_weights), compute));
  }
  if (padding_idx >= 0) {
    Value kept = b.compare(ComparisonDirection::kNE, positions,
                           splat_like(b, static_cast<double>(padding_idx), ElementType::kS64, {n}));
    scale = b.select(kept, scale, b.zeros(TensorType{compute, {n}}));
  }
  contributions = b.mul(contributions, b.broadcast_in_dim(scale, {n, width}, {0}));
  Value result = scatter_rows(b, b.zeros(TensorType{compute, result_dims}), positions,
                              contributions, add_body);
  return b.convert(result, type);
}

void check_backward_mode(int64_t mode) {
  if (mode != kSum && mode != kMean && mode != kMax) {
    throw InvalidArgument("Unknown mode for embedding_bag_backward_cpu " + std::to_string(mode));
  }
}

// _embedding_bag_backward(grad, indices, offsets, offset2bag, bag_size,
// maximum_indices, num_weights, scale_grad_by_freq, mode, sparse,
// per_sample_weights, padding_idx)
std::vector<Value> embedding_bag_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  const Value offsets = call.tensor(2).value;
  const int64_t mode = call.int_at(8);
  if (call.bool_at(9)) throw Unsupported("sparse gradients of embedding_bag");
  check_backward_mode(mode);
  check_index_dtypes(b, indices, offsets);
  const int64_t n = b.type(indices).numel();
  const Value flat = b.reshape(indices, {n});
  const Value bag_of =
      backward_bag_of(b, call.tensor(3).value, offsets, n, b.rank(grad) > 0 ? b.dims(grad)[0] : 0);
  return {dense_backward(b, call, grad, flat, bag_of, call.tensor(4).value, call.tensor(5).value,
                         call.int_at(6), call.bool_at(7), mode, call.optional_tensor(10),
                         call.size() > 11 ? call.int_at(11) : -1)};
}

// _embedding_bag_dense_backward(grad, indices, offset2bag, bag_size,
// maximum_indices, num_weights, scale_grad_by_freq, mode, per_sample_weights,
// padding_idx)
std::vector<Value> embedding_bag_dense_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  const int64_t mode = call.int_at(7);
  check_backward_mode(mode);
  const int64_t n = b.type(indices).numel();
  const Value offset2bag = call.tensor(2).value;
  if (mode != kMax && b.type(offset2bag).numel() != n) {
    throw InvalidArgument("_embedding_bag_dense_backward: offset2bag has " +
                          std::to_string(b.type(offset2bag).numel()) + " elements for " +
                          std::to_string(n) + " indices");
  }
  const Value bag_of =
      b.convert(b.reshape(offset2bag, {b.type(offset2bag).numel()}), ElementType::kS64);
  return {dense_backward(b, call, grad, b.reshape(indices, {n}), bag_of, call.tensor(3).value,
                         call.tensor(4).value, call.int_at(5), call.bool_at(6), mode,
                         call.optional_tensor(8), call.size() > 9 ? call.int_at(9) : -1)};
}

// _embedding_bag_per_sample_weights_backward(grad, weight, indices, offsets,
// offset2bag, mode, padding_idx): the gradient of each index's weight is the
// dot product of its bag's gradient with its row.
std::vector<Value> per_sample_weights_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value;
  const Value weight = call.tensor(1).value;
  const Value indices = call.tensor(2).value;
  const Value offsets = call.tensor(3).value;
  const int64_t mode = call.int_at(5);
  const int64_t padding_idx = call.size() > 6 ? call.int_at(6) : -1;
  if (mode != kSum) {
    throw InvalidArgument(
        "embedding_bag_backward: per_sample_weights only supported for mode='sum'");
  }
  if (b.rank(grad) != 2 || b.rank(weight) != 2 || b.dims(grad)[1] != b.dims(weight)[1]) {
    throw InvalidArgument("_embedding_bag_per_sample_weights_backward: grad " +
                          shape_text(b.dims(grad)) + " and weight " + shape_text(b.dims(weight)) +
                          " must be 2-D with the same number of columns");
  }
  check_index_dtypes(b, indices, offsets);
  const ElementType type = b.element_type(grad);
  const ElementType compute = opmath_type(type);
  const int64_t n = b.type(indices).numel();
  const int64_t num_weights = b.dims(weight)[0];
  if (n == 0) return {b.zeros(TensorType{type, {0}})};
  const Value positions = b.convert(b.reshape(indices, {n}), ElementType::kS64);
  call.check_on_device(
      check_in_range(b, positions, 0, num_weights,
                     CheckSite{CheckKind::kRuntime,
                               "Index of input takes value {} which is not in the valid "
                               "range [0, " +
                                   std::to_string(num_weights) + ")"}));
  const Value bag_of = backward_bag_of(b, call.tensor(4).value, offsets, n, b.dims(grad)[0]);
  Value products = b.mul(gather_rows(b, b.convert(grad, compute), bag_of),
                         gather_rows(b, b.convert(weight, compute), positions));
  Value result = b.reduce(products, b.constant(0, compute), {1}, add_body);
  if (padding_idx >= 0) {
    Value kept = b.compare(ComparisonDirection::kNE, positions,
                           splat_like(b, static_cast<double>(padding_idx), ElementType::kS64, {n}));
    result = b.select(kept, result, b.zeros(TensorType{compute, {n}}));
  }
  return {b.convert(result, type)};
}

}  // namespace

void add_embedding_bag_rules(RuleTable& table) {
  table.add("_embedding_bag", {&embedding_bag_rule, {}});
  table.add("_embedding_bag_forward_only", {&embedding_bag_rule, {}});
  table.add("_embedding_bag_backward", {&embedding_bag_backward_rule, {}});
  table.add("_embedding_bag_dense_backward", {&embedding_bag_dense_backward_rule, {}});
  table.add("_embedding_bag_per_sample_weights_backward", {&per_sample_weights_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
