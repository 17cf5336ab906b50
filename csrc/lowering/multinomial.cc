// multinomial(self, num_samples, replacement, generator): indices drawn from
// the categories of each row of `self` (1-D, or rows x categories) with the
// row's (unnormalized) weights as probabilities.
//
// Without replacement, and for single draws, CPU's own method: every category
// races an Exp(1) clock scaled by its weight (key p / E), and the largest keys
// win. With replacement, inverse-CDF sampling: a uniform point on [0, total)
// per draw, binary-searched in the row's running sums. Both are built so a
// zero-weight category is never drawn while a positive one is left, whatever
// the rounding: zero weights take no part in the search and always lose the
// race. The values cannot match CPU's generator; the distribution does.
//
// Errors on the data (negative, infinite or NaN weights, rows of zeros) are
// device checks carrying CPU's messages, which differ between its two paths.

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/prefix_scan.h"
#include "lowering/row_gather.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

// CPU keeps category indices exactly representable in float.
constexpr int64_t kMaxCategories = int64_t{1} << 24;

Value s64_splat(Builder& b, int64_t value, const std::vector<int64_t>& dims) {
  return b.broadcast_in_dim(b.constant_int(value, ElementType::kS64), dims, {});
}

Value float_splat(Builder& b, double value, ElementType type, const std::vector<int64_t>& dims) {
  return b.splat(value, TensorType{type, dims});
}

Value fold(Builder& b, Value x, BinaryOp op, Value init, const std::vector<int64_t>& dims) {
  return b.reduce(x, init, dims, [op](Builder& r, const std::vector<Value>& args) {
    return std::vector<Value>{r.binary(op, args[0], args[1])};
  });
}

Value any_in(Builder& b, Value pred, const std::vector<int64_t>& dims) {
  return fold(b, pred, BinaryOp::kOr, b.constant(0, ElementType::kPred), dims);
}

Value any_at_all(Builder& b, Value pred) { return any_in(b, pred, {0, 1}); }

// The weights' classes. XLA:CPU, like TPUs, treats subnormal floats as zero
// in arithmetic and comparisons, so they are zero weights here; every part of
// the rule sees them so (bit tests would disagree with the arithmetic and
// compilers rewrite them into float comparisons anyway).
struct WeightClasses {
  Value nonzero;
  Value negative;  // -inf included, NaN not
  Value nan;
  Value positive_infinity;
  Value positive;  // +inf included
};

WeightClasses classify(Builder& b, Value p) {
  const std::vector<int64_t>& dims = b.dims(p);
  const ElementType type = b.element_type(p);
  Value zero = float_splat(b, 0.0, type, dims);
  WeightClasses c;
  c.nonzero = b.compare(ComparisonDirection::kNE, p, zero);
  c.negative = b.compare(ComparisonDirection::kLT, p, zero);
  c.nan = b.compare(ComparisonDirection::kNE, p, p);
  c.positive_infinity =
      b.compare(ComparisonDirection::kEQ, p,
                float_splat(b, std::numeric_limits<double>::infinity(), type, dims));
  c.positive = b.compare(ComparisonDirection::kGT, p, zero);
  return c;
}

// Rows whose weights are all zero.
Value zero_rows(Builder& b, const WeightClasses& c) {
  return b.unary(UnaryOp::kNot, any_in(b, c.nonzero, {1}));
}

void add_check(Builder& b, const OpCall& call, Value failed, std::string message) {
  call.check_on_device(DeviceCheck{CheckSite{CheckKind::kRuntime, std::move(message)}, failed,
                                   b.constant_int(0, ElementType::kS64)});
}

// CPU's checks before its exponential race: first the whole tensor (no NaN,
// +inf or negative weight), then every row (not all zero).
void check_race_weights(Builder& b, const OpCall& call, const WeightClasses& c) {
  Value bad =
      b.binary(BinaryOp::kOr, b.binary(BinaryOp::kOr, c.nan, c.negative), c.positive_infinity);
  add_check(b, call, any_at_all(b, bad),
            "probability tensor contains either `inf`, `nan` or element < 0");
  add_check(b, call, any_in(b, zero_rows(b, c), {0}),
            "invalid multinomial distribution (sum of probabilities <= 0)");
}

// CPU's checks while it builds each row's running sums, row by row: a weight
// that is not >= 0 (NaN included), then one that is infinite, then the row's
// sum. Only the first offence in that order is reported, so each check
// fails only when its first offence comes before the others'.
void check_running_sum_weights(Builder& b, const OpCall& call, const WeightClasses& c) {
  const std::vector<int64_t>& dims = b.dims(c.nonzero);
  const int64_t rows = dims[0], n = dims[1];
  const int64_t none = std::numeric_limits<int64_t>::max();
  // Events numbered in CPU's order: row i's weights i*(n+1)+j, its sum i*(n+1)+n.
  Value row_start =
      b.mul(b.iota(TensorType{ElementType::kS64, dims}, 0), s64_splat(b, n + 1, dims));
  Value element_event = b.add(row_start, b.iota(TensorType{ElementType::kS64, dims}, 1));
  Value sum_event =
      b.add(b.mul(b.iota(TensorType{ElementType::kS64, {rows}}, 0), s64_splat(b, n + 1, {rows})),
            s64_splat(b, n, {rows}));
  auto first = [&](Value where, Value event, const std::vector<int64_t>& over) {
    Value candidates = b.select(where, event, s64_splat(b, none, b.dims(event)));
    return fold(b, candidates, BinaryOp::kMinimum, b.constant_int(none, ElementType::kS64), over);
  };
  Value first_negative = first(b.binary(BinaryOp::kOr, c.negative, c.nan), element_event, {0, 1});
  Value first_infinite = first(c.positive_infinity, element_event, {0, 1});
  Value first_zero_row = first(zero_rows(b, c), sum_event, {0});
  auto before = [&](Value x, Value y, Value z) {
    return b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kLT, x, y),
                    b.compare(ComparisonDirection::kLT, x, z));
  };
  add_check(b, call, before(first_negative, first_infinite, first_zero_row),
            "invalid multinomial distribution (encountering probability entry < 0)");
  add_check(b, call, before(first_infinite, first_negative, first_zero_row),
            "invalid multinomial distribution (encountering probability entry = infinity or NaN)");
  add_check(b, call, before(first_zero_row, first_negative, first_infinite),
            "invalid multinomial distribution (sum of probabilities <= 0)");
}

// Draws from one call's generator key.
class Draws {
 public:
  explicit Draws(Value key) : state_(key) {}

  // Uniform on [0, 1) in `type` (f32 or f64) at its full resolution.
  Value uniform(Builder& b, const std::vector<int64_t>& dims, ElementType type) {
    const int precision = type == ElementType::kF64 ? 53 : 24;
    Value bits = draw(b, dims, type);
    const ElementType bits_type = b.element_type(bits);
    const int64_t shift = static_cast<int64_t>(stablehlo::byte_width(bits_type)) * 8 - precision;
    Value kept = b.binary(BinaryOp::kShiftRightLogical, bits,
                          b.broadcast_in_dim(b.constant_int(shift, bits_type), dims, {}));
    return b.mul(b.convert(kept, type), float_splat(b, std::ldexp(1.0, -precision), type, dims));
  }

  // Exp(1) as -log(1 - u), with u from all the draw's bits: a short clock,
  // the one that wins the race, keeps its resolution down to 2^-32 (2^-64 in
  // f64). Held above 0, so no weight divided by it is NaN or inf; a u that
  // rounds up to 1 gives an infinite clock, which only loses.
  Value exponential(Builder& b, const std::vector<int64_t>& dims, ElementType type) {
    Value bits = draw(b, dims, type);
    const int width = static_cast<int>(stablehlo::byte_width(b.element_type(bits))) * 8;
    Value u = b.mul(b.convert(bits, type), float_splat(b, std::ldexp(1.0, -width), type, dims));
    Value clock = b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kLog1p, b.unary(UnaryOp::kNegate, u)));
    const double smallest_normal = type == ElementType::kF64 ? std::numeric_limits<double>::min()
                                                             : std::numeric_limits<float>::min();
    return b.max(clock, float_splat(b, smallest_normal, type, dims));
  }

 private:
  // u32 bits for f32 results, u64 for f64.
  Value draw(Builder& b, const std::vector<int64_t>& dims, ElementType type) {
    const ElementType bits_type = type == ElementType::kF64 ? ElementType::kU64 : ElementType::kU32;
    auto [next_state, bits] =
        b.rng_bit_generator(state_, TensorType{bits_type, {TensorType{type, dims}.numel()}});
    state_ = next_state;
    return b.reshape(bits, dims);
  }

  Value state_;
};

// The weights divided by their row's largest: the running sums stay below the
// category count and the race's keys p / E finite, where large weights would
// overflow to inf and lose all order.
Value scaled_to_row_max(Builder& b, Value p, const WeightClasses& c) {
  const std::vector<int64_t>& dims = b.dims(p);
  const ElementType type = b.element_type(p);
  Value weights = b.select(c.positive, p, float_splat(b, 0.0, type, dims));
  Value largest = fold(b, weights, BinaryOp::kMaximum, b.constant(0.0, type), {1});
  const std::vector<int64_t> row_dims{dims[0]};
  // A row without positive weights fails its check; it keeps finite values.
  largest =
      b.select(b.compare(ComparisonDirection::kGT, largest, float_splat(b, 0.0, type, row_dims)),
               largest, float_splat(b, 1.0, type, row_dims));
  return b.div(weights, b.broadcast_in_dim(largest, dims, {0}));
}

// Without replacement: the categories with the `samples` largest keys p / E,
// E ~ Exp(1), in decreasing key order. Zero weights get negative keys (random,
// so the leftovers CPU would also return come in random order) and so lose
// to every positive weight, even to one whose key underflows to 0. With p at
// most 1 (scaled_to_row_max) and E at least the smallest normal, keys stay
// finite and ties stay as rare as equal clocks.
Value exponential_race(Builder& b, Draws& draws, Value p, const WeightClasses& c, int64_t samples) {
  const std::vector<int64_t>& dims = b.dims(p);
  const int64_t rows = dims[0];
  const ElementType type = b.element_type(p);
  Value clock = draws.exponential(b, dims, type);
  Value key = b.select(c.positive, b.div(p, clock),
                       b.unary(UnaryOp::kNegate, b.add(float_splat(b, 1.0, type, dims), clock)));
  Value index = b.iota(TensorType{ElementType::kS64, dims}, 1);
  if (samples == 1) {
    // The largest key; among equal keys the first category, as argmax.
    auto best =
        b.reduce({key, index},
                 {b.constant(-std::numeric_limits<double>::infinity(), type),
                  b.constant_int(0, ElementType::kS64)},
                 {1}, [](Builder& r, const std::vector<Value>& args) {
                   // (key, index) of the running best, then of the candidate.
                   const Value& best_key = args[0];
                   const Value& best_index = args[1];
                   const Value& key = args[2];
                   const Value& index = args[3];
                   Value take = r.binary(
                       BinaryOp::kOr, r.compare(ComparisonDirection::kGT, key, best_key),
                       r.binary(BinaryOp::kAnd, r.compare(ComparisonDirection::kEQ, key, best_key),
                                r.compare(ComparisonDirection::kLT, index, best_index)));
                   return std::vector<Value>{r.select(take, key, best_key),
                                             r.select(take, index, best_index)};
                 });
    return b.reshape(best[1], {rows, 1});
  }
  auto sorted =
      b.sort({key, index}, 1, /*is_stable=*/true, [](Builder& r, const std::vector<Value>& args) {
        return std::vector<Value>{r.compare(ComparisonDirection::kGT, args[0], args[1])};
      });
  return b.slice(sorted[1], {0, 0}, {rows, samples});
}

// With replacement: each draw is the category whose slice of [0, total)
// holds u * total. The search runs on `reach`, the running sum as of each
// row's last positive weight: nondecreasing even where a parallel scan's
// rounding is not, and flat across zero weights, so the first category whose
// reach exceeds the point always has a positive weight. A point rounded up to
// the total falls to the row's last positive category.
Value inverse_cdf(Builder& b, Draws& draws, Value p, const WeightClasses& c, int64_t samples) {
  const std::vector<int64_t>& dims = b.dims(p);
  const int64_t rows = dims[0], n = dims[1];
  const ElementType type = b.element_type(p);
  const std::vector<int64_t> out_dims{rows, samples};
  Value running = prefix_scan(
      b, {p}, 1,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.add(earlier[0], later[0])};
      })[0];
  Value reach = prefix_scan(
      b, {b.select(c.positive, running, float_splat(b, 0.0, type, dims))}, 1,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.max(earlier[0], later[0])};
      })[0];
  Value total = b.reshape(b.slice(reach, {0, n - 1}, {rows, n}), {rows});
  Value point = b.mul(draws.uniform(b, out_dims, type), b.broadcast_in_dim(total, out_dims, {0}));

  // The first category whose reach is above the point.
  Value low = search_rows(b, reach, point, /*right=*/true);
  Value last_positive = fold(
      b,
      b.select(c.positive, b.iota(TensorType{ElementType::kS64, dims}, 1), s64_splat(b, 0, dims)),
      BinaryOp::kMaximum, b.constant_int(0, ElementType::kS64), {1});
  return b.min(low, b.broadcast_in_dim(last_positive, out_dims, {0}));
}

std::vector<Value> multinomial_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  const int64_t samples = call.int_at(1);
  const bool replacement = call.bool_at(2);
  const std::vector<int64_t> self_dims = b.dims(self);
  const ElementType type = b.element_type(self);
  if (self_dims.empty() || self_dims.size() > 2) {
    throw InvalidArgument("prob_dist must be 1 or 2 dim");
  }
  if (!stablehlo::is_floating(type)) {
    throw InvalidArgument("multinomial only supports floating-point dtypes for input, got: " +
                          std::string(scalar_type_name(type)));
  }
  if (!call.out_element_types.empty() && call.out_element_types[0] != ElementType::kS64) {
    throw InvalidArgument("multinomial expects Long tensor out, got: " +
                          std::string(scalar_type_name(call.out_element_types[0])));
  }
  if (samples <= 0) throw InvalidArgument("cannot sample n_sample <= 0 samples");
  const int64_t n = self_dims.back();
  if (!replacement && samples > n) {
    throw InvalidArgument(
        "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
  }
  if (n > kMaxCategories) throw InvalidArgument("number of categories cannot exceed 2^24");

  const bool one_row = self_dims.size() == 1;
  const int64_t rows = one_row ? 1 : self_dims[0];
  const std::vector<int64_t> result_dims =
      one_row ? std::vector<int64_t>{samples} : std::vector<int64_t>{rows, samples};
  if (rows == 0) return {b.zeros(TensorType{ElementType::kS64, result_dims})};
  const bool race = !replacement || samples == 1;
  if (type != ElementType::kF16 && type != ElementType::kBF16 && type != ElementType::kF32 &&
      type != ElementType::kF64) {
    throw_no_kernel(race ? "aminmax_cpu" : "multinomial", type);
  }
  if (n == 0) {
    // Rows without categories: CPU's race fails to take their extremes, its
    // running sums find nothing to draw.
    throw InvalidArgument(race ? "aminmax(): cannot compute aminmax over an empty dimension as the "
                                 "operation has no identity."
                               : "invalid multinomial distribution (sum of probabilities <= 0)");
  }

  Value weights = b.reshape(self, {rows, n});
  const WeightClasses classes = classify(b, weights);
  if (race) {
    check_race_weights(b, call, classes);
  } else {
    check_running_sum_weights(b, call, classes);
  }
  const ElementType compute = type == ElementType::kF64 ? ElementType::kF64 : ElementType::kF32;
  Value p = scaled_to_row_max(b, b.convert(weights, compute), classes);
  Draws draws(call.tensor(call.size() - 1).value);
  Value drawn = race ? exponential_race(b, draws, p, classes, samples)
                     : inverse_cdf(b, draws, p, classes, samples);
  return {b.reshape(drawn, result_dims)};
}

}  // namespace

void add_multinomial_rules(RuleTable& table) {
  table.add("multinomial", RuleInfo{&multinomial_rule, {}});
}

}  // namespace torch_pjrt::lowering
