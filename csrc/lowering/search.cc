// searchsorted, bucketize and histc.
//
// searchsorted runs the binary search of PyTorch's CPU kernel step for step
// (lower bound: first position whose element is not below the value; upper
// bound: not at most), so even NaN values and sequences holding NaN give CPU's
// positions. histc bins as CPU does: (x - min) * bins / (max - min) in the
// input's type, truncated, the top edge counted in the last bin, elements
// outside [min, max] and NaN dropped.
#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/nan_extremum.h"
#include "lowering/promotion.h"
#include "lowering/row_gather.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Value s64_splat(Builder& b, int64_t value, const std::vector<int64_t>& dims) {
  return b.splat(static_cast<double>(value), TensorType{ElementType::kS64, dims});
}

struct SearchOptions {
  bool right = false;
  bool out_int32 = false;
  std::optional<TensorArg> sorter;
};

// Positions of `values` in `sequence` (1-D, or one row per leading index of
// values), following CPU's checks.
Value search_sorted(Builder& b, const TensorArg& sequence_arg, TensorArg values_arg,
                    const SearchOptions& options, ElementType default_float) {
  // A Scalar value becomes a 0-d tensor (not a wrapped number) on CPU.
  values_arg.is_scalar = false;
  const ElementType type = result_type(b, {sequence_arg, values_arg}, default_float);
  if (type == ElementType::kPred || stablehlo::is_complex(type))
    throw_no_kernel("searchsorted_out_cpu", type);
  Value sequence = b.convert(sequence_arg.value, type);
  Value values = b.convert(values_arg.value, type);
  const std::vector<int64_t> seq_dims = b.dims(sequence), value_dims = b.dims(values);
  if (seq_dims.empty()) {
    throw InvalidArgument(
        "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
        "dimension");
  }
  const bool one_row = seq_dims.size() == 1;
  if (!one_row && (seq_dims.size() != value_dims.size() ||
                   !std::equal(seq_dims.begin(), seq_dims.end() - 1, value_dims.begin()))) {
    throw InvalidArgument(
        "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
        "dimensions of boundaries tensor and input value tensor must match, but we got "
        "boundaries tensor " +
        shape_string(seq_dims) + " and input value tensor " + shape_string(value_dims));
  }
  const int64_t n = seq_dims.back();
  const int64_t total = b.type(values).numel();
  int64_t row_count = 1;
  if (!one_row)
    for (size_t d = 0; d + 1 < seq_dims.size(); ++d) row_count *= seq_dims[d];
  const int64_t m = one_row ? total : value_dims.back();
  const ElementType index_type = options.out_int32 ? ElementType::kS32 : ElementType::kS64;
  if (options.sorter) {
    Value sorter = options.sorter->value;
    if (b.element_type(sorter) != ElementType::kS64) {
      throw InvalidArgument(
          "torch.searchsorted(): sorter must be a tensor of long dtype but got dtype " +
          std::string(scalar_type_name(b.element_type(sorter))));
    }
    if (b.dims(sorter) != seq_dims) {
      throw InvalidArgument(
          "torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
          "tensor " +
          shape_string(seq_dims) + "and got sorter tensor " + shape_string(b.dims(sorter)));
    }
  }
  if (total == 0 || n == 0) return b.zeros(TensorType{index_type, value_dims});

  Value table = b.reshape(sequence, {row_count, n});
  if (options.sorter) table = take_rows(b, table, b.reshape(options.sorter->value, {row_count, n}));
  Value start = search_rows(b, table, b.reshape(values, {row_count, m}), options.right);
  return b.convert(b.reshape(start, value_dims), index_type);
}

// searchsorted(sorted_sequence, self, *, out_int32, right, side?, sorter?)
std::vector<Value> searchsorted_rule(Builder& b, const OpCall& call) {
  SearchOptions options;
  options.out_int32 = call.bool_at(2);
  options.right = call.bool_at(3);
  if (!call.is_none(4)) {
    const std::string_view side = call.string_at(4);
    if (side != "left" && side != "right") {
      throw InvalidArgument("torch.searchsorted(): side can only be 'left' or 'right' but got " +
                            std::string(side));
    }
    if (side == "left" && options.right) {
      throw InvalidArgument(
          "torch.searchsorted(): side and right can't be set to opposites, got side of left "
          "while right was True");
    }
    options.right = side == "right";
  }
  options.sorter = call.optional_tensor(5);
  return {search_sorted(b, call.tensor(0), call.tensor(1), options, call.default_float)};
}

// bucketize(self, boundaries, *, out_int32, right)
std::vector<Value> bucketize_rule(Builder& b, const OpCall& call) {
  const TensorArg& boundaries = call.tensor(1);
  if (b.rank(boundaries.value) != 1) {
    throw InvalidArgument("boundaries tensor must be 1 dimension, but got dim(" +
                          std::to_string(b.rank(boundaries.value)) + ")");
  }
  SearchOptions options;
  options.out_int32 = call.bool_at(2);
  options.right = call.bool_at(3);
  return {search_sorted(b, boundaries, call.tensor(0), options, call.default_float)};
}

double static_double(const OpCall& call, size_t i) {
  const StaticScalar& s = call.static_scalar(i);
  if (const auto* d = std::get_if<double>(&s)) return *d;
  if (const auto* n = std::get_if<int64_t>(&s)) return static_cast<double>(*n);
  if (const auto* flag = std::get_if<bool>(&s)) return *flag ? 1 : 0;
  throw InvalidArgument("histc: min and max must be real numbers");
}

// histc(self, bins, min, max); min and max are compile-time (they decide
// whether the data's own range is used). A data range that is not finite
// cannot be reported here (it would need a device-side check); such elements
// are dropped instead.
std::vector<Value> histc_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (!stablehlo::is_floating(type)) throw_no_kernel("histogram_cpu", type);
  const int64_t bins = call.int_at(1);
  if (bins <= 0) {
    throw InvalidArgument("torch.histogram(): bins must be > 0, but got " + std::to_string(bins) +
                          " for dimension 0");
  }
  double low = static_double(call, 2), high = static_double(call, 3);
  const int64_t count = b.type(x).numel();
  Value flat = b.reshape(x, {count});
  Value left, right;
  if (low == high && count > 0) {
    auto extreme = [&](BinaryOp op, double init) {
      return b.reduce(flat, b.constant(init, type), {0},
                      [op](Builder& r, const std::vector<Value>& a) {
                        return std::vector<Value>{nan_propagating(r, op, a[0], a[1])};
                      });
    };
    left = extreme(BinaryOp::kMinimum, INFINITY);
    right = extreme(BinaryOp::kMaximum, -INFINITY);
    Value same = b.compare(ComparisonDirection::kEQ, left, right);
    left = b.select(same, b.sub(left, b.constant(1, type)), left);
    right = b.select(same, b.add(right, b.constant(1, type)), right);
  } else {
    if (low == high) {
      low -= 1;
      high += 1;
    }
    if (!std::isfinite(low) || !std::isfinite(high)) {
      throw InvalidArgument("torch.histc: range of [" + format_double(low) + ", " +
                            format_double(high) + "] is not finite");
    }
    if (!(low < high)) throw InvalidArgument("torch.histc: max must be larger than min");
    left = b.constant(low, type);
    right = b.constant(high, type);
  }
  const ElementType count_type = ElementType::kS64;
  if (count == 0) return {b.zeros(TensorType{type, {bins}})};
  const std::vector<int64_t> shape{count};
  Value left_all = broadcast_to(b, left, shape), right_all = broadcast_to(b, right, shape);
  Value inside = b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kGE, flat, left_all),
                          b.compare(ComparisonDirection::kLE, flat, right_all));
  Value scaled =
      b.div(b.mul(b.sub(flat, left_all), b.splat(static_cast<double>(bins), b.type(flat))),
            b.sub(right_all, left_all));
  Value bin = b.convert(scaled, count_type);
  bin = b.min(bin, s64_splat(b, bins - 1, shape));  // the top edge joins the last bin
  // Elements outside go to an extra slot that is cut off.
  bin = b.select(inside, bin, s64_splat(b, bins, shape));
  stablehlo::ScatterDimensions s;
  s.inserted_window_dims = {0};
  s.scatter_dims_to_operand_dims = {0};
  s.index_vector_dim = 1;
  Value hist = b.scatter(b.zeros(TensorType{count_type, {bins + 1}}), b.reshape(bin, {count, 1}),
                         s64_splat(b, 1, shape), s, [](Builder& r, const std::vector<Value>& a) {
                           return std::vector<Value>{r.add(a[0], a[1])};
                         });
  return {b.convert(b.slice(hist, {0}, {bins}), type)};
}

}  // namespace

void add_search_rules(RuleTable& table) {
  table.add("searchsorted", {&searchsorted_rule, {}});
  table.add("bucketize", {&bucketize_rule, {}});
  table.add("histc", {&histc_rule, {2, 3}});
}

}  // namespace torch_pjrt::lowering
