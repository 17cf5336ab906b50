// segment_reduce(data, reduce, lengths | offsets, axis, unsafe, initial):
// consecutive runs of data along `axis` reduced by sum, mean, prod, max or min,
// and its gradient. The segments' sizes are data, not shape: every position
// along the axis learns its segment (how many segment starts lie at or before
// it) and is scattered into it. `initial` joins every segment's reduction
// and is the value of an empty one.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
#include "lowering/nan_extremum.h"
#include "lowering/prefix_scan.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

enum class Reduction { kSum, kMean, kProd, kMax, kMin };

Reduction parse_reduction(std::string_view name) {
  if (name == "sum") return Reduction::kSum;
  if (name == "mean") return Reduction::kMean;
  if (name == "prod") return Reduction::kProd;
  if (name == "max" || name == "amax") return Reduction::kMax;
  if (name == "min" || name == "amin") return Reduction::kMin;
  throw InvalidArgument("reduce argument must be either sum, prod, mean, amax or amin, got " +
                        std::string(name));
}

// The problem as [outer, N, inner] data with [outer, S] segment bounds.
struct Segments {
  std::vector<int64_t> data_dims;
  int64_t axis = 0;
  int64_t outer = 1, size = 0, inner = 1, count = 0;
  Value starts;   // s64 [outer, S]
  Value lengths;  // s64 [outer, S]
  // Per position: its segment (s64 [outer, N]), S where it lies in none.
  Value segment_of;
};

Value splat(Builder& b, double value, ElementType type, const std::vector<int64_t>& dims) {
  return b.splat(value, TensorType{type, dims});
}

// Where [outer, N] positions go in an [outer, S, ...] operand: [outer, N, 2].
Value scatter_targets(Builder& b, const Segments& s) {
  Value rows = b.iota(TensorType{ElementType::kS64, {s.outer, s.size}}, 0);
  return b.concatenate(
      {b.reshape(rows, {s.outer, s.size, 1}), b.reshape(s.segment_of, {s.outer, s.size, 1})}, 2);
}

// Combines updates [outer, N, inner] into target [outer, S, inner] per segment.
Value scatter_to_segments(Builder& b, const Segments& s, Value target, Value updates,
                          const Builder::RegionBody& combine) {
  stablehlo::ScatterDimensions dn;
  dn.update_window_dims = {2};
  dn.inserted_window_dims = {0, 1};
  dn.scatter_dims_to_operand_dims = {0, 1};
  dn.index_vector_dim = 2;
  return b.scatter(target, scatter_targets(b, s), updates, dn, combine);
}

// Each position's row of the segment values [outer, S, inner]: [outer, N, inner]
// (positions in no segment read segment 0 or the last; callers mask them).
Value gather_from_segments(Builder& b, const Segments& s, Value values) {
  stablehlo::GatherDimensions dn;
  dn.offset_dims = {2};
  dn.collapsed_slice_dims = {0, 1};
  dn.start_index_map = {0, 1};
  dn.index_vector_dim = 2;
  return b.gather(values, scatter_targets(b, s), dn, {1, 1, s.inner});
}

std::vector<Value> add_body(Builder& r, const std::vector<Value>& args) {
  return {r.add(args[0], args[1])};
}

// Reads data's shape, the segment bounds (lengths at `lengths_at`, offsets at
// `offsets_at`) and the axis, and checks them as CPU does.
Segments read_segments(Builder& b, const OpCall& call, Value data, size_t lengths_at,
                       size_t offsets_at, int64_t axis_arg, bool unsafe, const char* op) {
  Segments s;
  s.data_dims = b.dims(data);
  const int64_t rank = static_cast<int64_t>(s.data_dims.size());
  const std::optional<TensorArg> lengths = call.optional_tensor(lengths_at);
  const std::optional<TensorArg> offsets = call.optional_tensor(offsets_at);
  if (!lengths && !offsets) {
    throw InvalidArgument(std::string(op) + "(): Either lengths or offsets must be defined.");
  }
  const Value bounds = lengths ? lengths->value : offsets->value;
  const ElementType bounds_type = b.element_type(bounds);
  if (bounds_type != ElementType::kS32 && bounds_type != ElementType::kS64) {
    throw_no_kernel(
        lengths ? "_segment_reduce_lengths_cpu_kernel1" : "_segment_reduce_offsets_cpu_kernel1",
        bounds_type);
  }
  const int64_t bounds_rank = b.rank(bounds);
  if (bounds_rank == 0) {
    throw InvalidArgument(std::string(op) +
                          "(): lengths and offsets must have at least one dimension");
  }
  if (rank < bounds_rank) {
    throw InvalidArgument("Expected data.dim() >= lengths_value.dim() to be true, but got false.");
  }
  s.axis = wrap_dim(axis_arg, rank);
  if (bounds_rank - 1 != s.axis) {
    throw InvalidArgument(std::string(op) +
                          "(): Expected axis to be the last dimension of lengths but got " +
                          std::to_string(s.axis) + ".");
  }
  const std::vector<int64_t>& bounds_dims = b.dims(bounds);
  for (int64_t d = 0; d < s.axis; ++d) {
    if (bounds_dims[d] != s.data_dims[d]) {
      throw InvalidArgument(std::string(op) + "(): lengths " + shape_text(bounds_dims) +
                            " do not match data " + shape_text(s.data_dims) + " before the axis");
    }
    s.outer *= s.data_dims[d];
  }
  for (int64_t d = s.axis + 1; d < rank; ++d) s.inner *= s.data_dims[d];
  s.size = s.data_dims[s.axis];
  const int64_t last = bounds_dims.back();
  Value wide = b.reshape(b.convert(bounds, ElementType::kS64), {s.outer, last});
  if (lengths) {
    s.count = last;
    s.lengths = wide;
    // Each segment starts where the ones before it end.
    Value ends = prefix_scan(
        b, {wide}, 1,
        [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
          return std::vector<Value>{r.add(earlier[0], later[0])};
        })[0];
    s.starts = b.sub(ends, wide);
    if (s.count > 0 && s.outer > 0) {
      if (!unsafe) {
        call.check_on_device(
            check_in_range(b, wide, 0, std::numeric_limits<int64_t>::max(),
                           CheckSite{CheckKind::kRuntime, "lengths contains negative value!"}));
        call.check_on_device(check_in_range(
            b, b.slice(ends, {0, s.count - 1}, {s.outer, s.count}), s.size, s.size + 1,
            CheckSite{CheckKind::kRuntime,
                      std::string(op) + "(): Expected all rows of lengths along axis to sum to "
                                        "data.size(lengths.dim()-1) when !unsafe."}));
      } else {
        call.check_on_device(
            check_in_range(b, wide, 0, std::numeric_limits<int64_t>::max(),
                           CheckSite{CheckKind::kRuntime,
                                     "Expected segment_length >= 0 to be true, but got false."}));
      }
    }
  } else {
    if (last < 1) {
      throw InvalidArgument(std::string(op) + "(): offsets must have at least one element");
    }
    s.count = last - 1;
    s.starts = b.slice(wide, {0, 0}, {s.outer, s.count});
    s.lengths = b.sub(b.slice(wide, {0, 1}, {s.outer, last}), s.starts);
    if (s.count > 0 && s.outer > 0) {
      call.check_on_device(
          check_in_range(b, s.lengths, 0, std::numeric_limits<int64_t>::max(),
                         CheckSite{CheckKind::kRuntime,
                                   "Expected segment_length >= 0 to be true, but got false."}));
    }
  }
  // Position j lies in the last segment starting at or before it, if it ends
  // after j. Starts past the end or before 0 mark nothing (the scatter drops
  // them; CPU never reads such positions).
  const std::vector<int64_t> position_dims{s.outer, s.size};
  if (s.count == 0 || s.size == 0 || s.outer == 0) {
    s.segment_of = splat(b, static_cast<double>(s.count), ElementType::kS64, position_dims);
    return s;
  }
  Value rows = b.iota(TensorType{ElementType::kS64, {s.outer, s.count}}, 0);
  Value where = b.concatenate(
      {b.reshape(rows, {s.outer, s.count, 1}), b.reshape(s.starts, {s.outer, s.count, 1})}, 2);
  stablehlo::ScatterDimensions dn;
  dn.inserted_window_dims = {0, 1};
  dn.scatter_dims_to_operand_dims = {0, 1};
  dn.index_vector_dim = 2;
  Value marks = b.scatter(b.zeros(TensorType{ElementType::kS64, {s.outer, s.size}}), where,
                          splat(b, 1, ElementType::kS64, {s.outer, s.count}), dn, add_body);
  Value started = prefix_scan(
      b, {marks}, 1,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.add(earlier[0], later[0])};
      })[0];
  Value segment = b.sub(started, splat(b, 1, ElementType::kS64, position_dims));
  // The segment's end, read with the segment clamped into range.
  Value clamped = b.clamp(b.constant_int(0, ElementType::kS64), segment,
                          b.constant_int(s.count - 1, ElementType::kS64));
  Value ends = b.add(s.starts, s.lengths);
  stablehlo::GatherDimensions gd;
  gd.collapsed_slice_dims = {0, 1};
  gd.start_index_map = {0, 1};
  gd.index_vector_dim = 2;
  Value position_rows = b.iota(TensorType{ElementType::kS64, position_dims}, 0);
  Value end_of = b.gather(ends,
                          b.concatenate({b.reshape(position_rows, {s.outer, s.size, 1}),
                                         b.reshape(clamped, {s.outer, s.size, 1})},
                                        2),
                          gd, {1, 1});
  Value positions = b.iota(TensorType{ElementType::kS64, position_dims}, 1);
  Value inside = b.binary(BinaryOp::kAnd,
                          b.compare(ComparisonDirection::kGE, segment,
                                    b.zeros(TensorType{ElementType::kS64, position_dims})),
                          b.compare(ComparisonDirection::kLT, positions, end_of));
  s.segment_of = b.select(inside, segment,
                          splat(b, static_cast<double>(s.count), ElementType::kS64, position_dims));
  return s;
}

void check_data_type(ElementType type) {
  if (type != ElementType::kF32 && type != ElementType::kF64 && type != ElementType::kF16 &&
      type != ElementType::kBF16) {
    throw_no_kernel("_segment_reduce_cpu", type);
  }
}

std::vector<int64_t> result_dims(const Segments& s) {
  std::vector<int64_t> dims = s.data_dims;
  dims[s.axis] = s.count;
  return dims;
}

// What an empty segment gives without `initial`, and where a reduction starts.
double identity(Reduction reduction) {
  switch (reduction) {
    case Reduction::kProd:
      return 1;
    case Reduction::kMax:
      return -INFINITY;
    case Reduction::kMin:
      return INFINITY;
    default:
      return 0;
  }
}

// segment_reduce(data, reduce, *, lengths, indices, offsets, axis, unsafe, initial)
std::vector<Value> segment_reduce_rule(Builder& b, const OpCall& call) {
  const Value data = call.tensor(0).value;
  const Reduction reduction = parse_reduction(call.string_at(1));
  if (!call.is_none(3) && call.is_none(2) && call.is_none(4)) {
    throw InvalidArgument("segment_reduce(): indices based reduction is not supported yet.");
  }
  const ElementType type = b.element_type(data);
  const Segments s =
      read_segments(b, call, data, 2, 4, call.int_at(5), call.bool_at(6), "segment_reduce");
  check_data_type(type);
  const std::optional<TensorArg> initial = call.optional_tensor(7);
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> segment_dims{s.outer, s.count, s.inner};
  // CPU reduces in the data's type: initial is rounded to it first.
  Value start = initial ? b.convert(b.convert(initial->value, type), compute)
                        : b.constant(identity(reduction), compute);
  if (reduction == Reduction::kMean && !initial) start = b.constant(0, compute);
  Value result = b.broadcast_in_dim(start, segment_dims, {});
  if (s.count > 0 && s.outer > 0 && s.inner > 0 && s.size > 0) {
    Value x = b.reshape(b.convert(data, compute), {s.outer, s.size, s.inner});
    result = scatter_to_segments(
        b, s, result, x, [reduction](Builder& r, const std::vector<Value>& args) {
          switch (reduction) {
            case Reduction::kProd:
              return std::vector<Value>{r.mul(args[0], args[1])};
            case Reduction::kMax:
              return std::vector<Value>{nan_propagating(r, BinaryOp::kMaximum, args[0], args[1])};
            case Reduction::kMin:
              return std::vector<Value>{nan_propagating(r, BinaryOp::kMinimum, args[0], args[1])};
            default:
              return std::vector<Value>{r.add(args[0], args[1])};
          }
        });
  }
  if (reduction == Reduction::kMean) {
    Value lengths = b.broadcast_in_dim(b.convert(s.lengths, compute), segment_dims, {0, 1});
    Value mean = b.div(result, lengths);
    if (initial) {
      Value empty = b.compare(ComparisonDirection::kEQ, lengths, b.zeros(b.type(lengths)));
      mean = b.select(empty, b.broadcast_in_dim(start, segment_dims, {}), mean);
    }
    result = mean;
  }
  return {b.reshape(b.convert(result, type), result_dims(s))};
}

// _segment_reduce_backward(grad, output, data, reduce, *, lengths, offsets,
// axis, initial): each position's share of its segment's gradient.
std::vector<Value> segment_reduce_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value;
  const Value output = call.tensor(1).value;
  const Value data = call.tensor(2).value;
  const Reduction reduction = parse_reduction(call.string_at(3));
  const ElementType type = b.element_type(data);
  check_data_type(type);
  const Segments s = read_segments(b, call, data, 4, 5, call.int_at(6), /*unsafe=*/true,
                                   "_segment_reduce_backward");
  const std::optional<TensorArg> initial = call.optional_tensor(7);
  const std::vector<int64_t> segment_dims{s.outer, s.count, s.inner};
  if (b.type(grad).numel() != s.outer * s.count * s.inner ||
      b.type(output).numel() != s.outer * s.count * s.inner) {
    throw InvalidArgument("_segment_reduce_backward(): grad " + shape_text(b.dims(grad)) +
                          " and output " + shape_text(b.dims(output)) + " must have shape " +
                          shape_text(result_dims(s)));
  }
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> position_dims{s.outer, s.size, s.inner};
  if (s.count == 0 || s.outer == 0 || s.inner == 0 || s.size == 0) return {b.zeros(b.type(data))};
  Value x = b.reshape(b.convert(data, compute), position_dims);
  Value g = gather_from_segments(b, s, b.reshape(b.convert(grad, compute), segment_dims));
  Value inside = b.broadcast_in_dim(
      b.compare(ComparisonDirection::kLT, s.segment_of,
                splat(b, static_cast<double>(s.count), ElementType::kS64, {s.outer, s.size})),
      position_dims, {0, 1});
  Value share = g;
  switch (reduction) {
    case Reduction::kSum:
      break;
    case Reduction::kMean: {
      Value lengths = b.reshape(b.convert(s.lengths, compute), {s.outer, s.count, 1});
      lengths = b.broadcast_in_dim(lengths, segment_dims, {0, 1, 2});
      share = b.div(g, gather_from_segments(b, s, lengths));
      break;
    }
    case Reduction::kMax:
    case Reduction::kMin: {
      // The positions holding the extremum, and any NaN, get the gradient.
      // CPU's kernel then divides it by their number only where it is
      // positive; matching CPU means the same.
      Value out = gather_from_segments(b, s, b.reshape(b.convert(output, compute), segment_dims));
      Value hit =
          b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kEQ, x, out), is_nan(b, x));
      hit = b.binary(BinaryOp::kAnd, hit, inside);
      Value ones = b.select(hit, splat(b, 1, compute, position_dims),
                            b.zeros(TensorType{compute, position_dims}));
      Value ties =
          scatter_to_segments(b, s, b.zeros(TensorType{compute, segment_dims}), ones, add_body);
      Value positive =
          b.compare(ComparisonDirection::kGT, g, b.zeros(TensorType{compute, position_dims}));
      share = b.select(hit, b.select(positive, b.div(g, gather_from_segments(b, s, ties)), g),
                       b.zeros(TensorType{compute, position_dims}));
      break;
    }
    case Reduction::kProd: {
      // The product of the others: grad * output / x, or, as CPU computes it
      // for a zero or NaN x, the product of the rest of the segment (and
      // initial) itself.
      const Value zeros_like = b.zeros(TensorType{compute, position_dims});
      const Value ones_like = splat(b, 1, compute, position_dims);
      Value nan = b.binary(BinaryOp::kAnd, is_nan(b, x), inside);
      Value special = b.binary(
          BinaryOp::kOr, nan,
          b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kEQ, x, zeros_like), inside));
      Value start =
          initial ? b.convert(b.convert(initial->value, type), compute) : b.constant(1, compute);
      Value plain_product = scatter_to_segments(
          b, s, b.broadcast_in_dim(start, segment_dims, {}), b.select(special, ones_like, x),
          [](Builder& r, const std::vector<Value>& args) {
            return std::vector<Value>{r.mul(args[0], args[1])};
          });
      auto count = [&](Value mask) {
        return gather_from_segments(
            b, s,
            scatter_to_segments(b, s, b.zeros(TensorType{compute, segment_dims}),
                                b.select(mask, ones_like, zeros_like), add_body));
      };
      Value other_specials = b.sub(count(special), ones_like);
      Value other_nans = b.sub(count(nan), b.select(nan, ones_like, zeros_like));
      Value others = b.select(b.compare(ComparisonDirection::kEQ, other_specials, zeros_like),
                              gather_from_segments(b, s, plain_product),
                              b.select(b.compare(ComparisonDirection::kGT, other_nans, zeros_like),
                                       splat(b, NAN, compute, position_dims), zeros_like));
      Value out = gather_from_segments(b, s, b.reshape(b.convert(output, compute), segment_dims));
      share = b.select(special, b.mul(g, others), b.div(b.mul(g, out), x));
      break;
    }
  }
  share = b.select(inside, share, b.zeros(TensorType{compute, position_dims}));
  return {b.reshape(b.convert(share, type), s.data_dims)};
}

}  // namespace

void add_segment_reduce_rules(RuleTable& table) {
  table.add("segment_reduce", {&segment_reduce_rule, {}});
  table.add("_segment_reduce_backward", {&segment_reduce_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
