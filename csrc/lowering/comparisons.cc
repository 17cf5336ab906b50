// Comparisons, logical and bitwise ops, where, clamp, maximum/minimum, the
// floating-point classification predicates, torch.equal and torch.isin.

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
#include "lowering/nan_extremum.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::is_complex;
using stablehlo::is_floating;
using stablehlo::is_integral;
using stablehlo::is_unsigned_integral;
using stablehlo::UnaryOp;

std::string cpu_kernel_name(const OpCall& call) { return std::string(call.name) + "_cpu"; }

// Both operands converted to their PyTorch result type and broadcast together.
struct PromotedPair {
  Value lhs;
  Value rhs;
  ElementType type;
};

PromotedPair promote_pair(Builder& b, const OpCall& call, const TensorArg& lhs,
                          const TensorArg& rhs) {
  ElementType type = result_type(b, {lhs, rhs}, call.default_float);
  std::vector<Value> values = promote_and_broadcast(b, {lhs.value, rhs.value}, type);
  return {values[0], values[1], type};
}

// Broadcasts values to their common shape, keeping each one's element type.
std::vector<Value> broadcast_all(Builder& b, std::vector<Value> values) {
  std::vector<std::vector<int64_t>> shapes;
  for (Value v : values) shapes.push_back(b.dims(v));
  std::vector<int64_t> shape = broadcast_shapes(shapes);
  for (Value& v : values) v = broadcast_to(b, v, shape);
  return values;
}

// x != 0 as pred; complex values are true when either part is nonzero.
Value truth(Builder& b, Value x) {
  if (b.element_type(x) == ElementType::kPred) return x;
  if (is_complex(b.element_type(x))) {
    return b.binary(BinaryOp::kOr, truth(b, b.unary(UnaryOp::kReal, x)),
                    truth(b, b.unary(UnaryOp::kImag, x)));
  }
  return b.compare(ComparisonDirection::kNE, x, b.zeros(b.type(x)));
}

Value all_false(Builder& b, Value like) {
  return b.splat(0.0, TensorType{ElementType::kPred, b.dims(like)});
}

Value all_true(Builder& b, Value like) {
  return b.splat(1.0, TensorType{ElementType::kPred, b.dims(like)});
}

// --- comparisons -------------------------------------------------------------

bool is_ordering(ComparisonDirection direction) {
  return direction != ComparisonDirection::kEQ && direction != ComparisonDirection::kNE;
}

template <ComparisonDirection kDirection>
std::vector<Value> compare_rule(Builder& b, const OpCall& call) {
  PromotedPair p = promote_pair(b, call, call.tensor(0), call.tensor(1));
  if (is_ordering(kDirection) && is_complex(p.type)) {
    throw_no_kernel(cpu_kernel_name(call), p.type);
  }
  if (p.type == ElementType::kPred && is_ordering(kDirection)) {
    // Order false < true as the integers they stand for.
    p.lhs = b.convert(p.lhs, ElementType::kU8);
    p.rhs = b.convert(p.rhs, ElementType::kU8);
  }
  return {b.compare(kDirection, p.lhs, p.rhs)};
}

// --- logical and bitwise -----------------------------------------------------

template <BinaryOp kOp>
std::vector<Value> logical_rule(Builder& b, const OpCall& call) {
  std::vector<Value> v = broadcast_all(b, {call.tensor(0).value, call.tensor(1).value});
  return {b.binary(kOp, truth(b, v[0]), truth(b, v[1]))};
}

std::vector<Value> logical_not_rule(Builder& b, const OpCall& call) {
  return {b.unary(UnaryOp::kNot, truth(b, call.tensor(0).value))};
}

template <BinaryOp kOp>
std::vector<Value> bitwise_rule(Builder& b, const OpCall& call) {
  PromotedPair p = promote_pair(b, call, call.tensor(0), call.tensor(1));
  if (p.type != ElementType::kPred && !is_integral(p.type)) {
    std::string name(call.name);
    if (name.starts_with("__")) name = "bitwise" + name.substr(1, name.size() - 3);
    throw_no_kernel(name + "_cpu", p.type);
  }
  return {b.binary(kOp, p.lhs, p.rhs)};
}

std::vector<Value> bitwise_not_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  ElementType type = b.element_type(x);
  if (type != ElementType::kPred && !is_integral(type)) {
    throw_no_kernel("bitwise_not_cpu", type);
  }
  return {b.unary(UnaryOp::kNot, x)};
}

// --- where -------------------------------------------------------------------

std::vector<Value> where_rule(Builder& b, const OpCall& call) {
  Value condition = call.tensor(0).value;
  ElementType condition_type = b.element_type(condition);
  // PyTorch still accepts uint8 conditions (deprecated, with a warning).
  if (condition_type == ElementType::kU8) {
    condition = truth(b, condition);
  } else if (condition_type != ElementType::kPred) {
    throw InvalidArgument(
        "where expected condition to be a boolean tensor, but got a tensor with dtype " +
        std::string(scalar_type_name(condition_type)));
  }
  const TensorArg& self = call.tensor(1);
  const TensorArg& other = call.tensor(2);
  ElementType type = result_type(b, {self, other}, call.default_float);
  std::vector<Value> v =
      broadcast_all(b, {condition, b.convert(self.value, type), b.convert(other.value, type)});
  return {b.select(v[0], v[1], v[2])};
}

// --- clamp, maximum, minimum -------------------------------------------------

// max(x, lo) then min(·, hi), both NaN-propagating: a NaN input or bound gives
// NaN, and lo > hi gives hi, as PyTorch's clamp does.
Value clamp_values(Builder& b, const OpCall& call, const TensorArg& self,
                   const std::optional<TensorArg>& lo, const std::optional<TensorArg>& hi) {
  std::vector<TensorArg> operands = {self};
  if (lo) operands.push_back(*lo);
  if (hi) operands.push_back(*hi);
  ElementType type = result_type(b, operands, call.default_float);
  if (is_complex(type)) throw Unsupported("clamp is not supported for complex types");
  if (type == ElementType::kPred) {
    throw_no_kernel("clamp_scalar_cpu", type);
  }
  std::vector<Value> values;
  for (const TensorArg& operand : operands) values.push_back(operand.value);
  values = promote_and_broadcast(b, values, type);
  Value result = values[0];
  size_t next = 1;
  if (lo) result = nan_propagating(b, BinaryOp::kMaximum, result, values[next++]);
  if (hi) result = nan_propagating(b, BinaryOp::kMinimum, result, values[next]);
  return result;
}

std::optional<TensorArg> optional_bound(const OpCall& call, size_t i) {
  return i < call.size() ? call.optional_tensor(i) : std::nullopt;
}

std::vector<Value> clamp_rule(Builder& b, const OpCall& call) {
  std::optional<TensorArg> lo = optional_bound(call, 1);
  std::optional<TensorArg> hi = optional_bound(call, 2);
  if (!lo && !hi) {
    throw InvalidArgument("torch.clamp: At least one of 'min' or 'max' must not be None");
  }
  return {clamp_values(b, call, call.tensor(0), lo, hi)};
}

// CPU's clamp_min / clamp_max with a bool tensor bound order false < true (or /
// and); with a Scalar bound they have no bool kernel.
std::optional<Value> bool_bound(Builder& b, const OpCall& call, BinaryOp op) {
  const TensorArg& self = call.tensor(0);
  const TensorArg& bound = call.tensor(1);
  if (result_type(b, {self, bound}, call.default_float) != ElementType::kPred) return std::nullopt;
  if (bound.is_scalar) throw_no_kernel(std::string(call.name) + "_scalar_cpu", ElementType::kPred);
  std::vector<Value> v = broadcast_all(b, {self.value, bound.value});
  return b.binary(op, v[0], v[1]);
}

std::vector<Value> clamp_min_rule(Builder& b, const OpCall& call) {
  if (auto result = bool_bound(b, call, BinaryOp::kOr)) return {*result};
  return {clamp_values(b, call, call.tensor(0), call.tensor(1), std::nullopt)};
}

std::vector<Value> clamp_max_rule(Builder& b, const OpCall& call) {
  if (auto result = bool_bound(b, call, BinaryOp::kAnd)) return {*result};
  return {clamp_values(b, call, call.tensor(0), std::nullopt, call.tensor(1))};
}

template <BinaryOp kOp>
std::vector<Value> extremum_rule(Builder& b, const OpCall& call) {
  PromotedPair p = promote_pair(b, call, call.tensor(0), call.tensor(1));
  if (is_complex(p.type)) {
    throw InvalidArgument(std::string(call.name) + " not implemented for complex tensors.");
  }
  if (p.type == ElementType::kPred) {
    return {b.binary(kOp == BinaryOp::kMaximum ? BinaryOp::kOr : BinaryOp::kAnd, p.lhs, p.rhs)};
  }
  return {nan_propagating(b, kOp, p.lhs, p.rhs)};
}

// --- classification ----------------------------------------------------------

Value equals_constant(Builder& b, Value x, double value) {
  return b.compare(ComparisonDirection::kEQ, x, b.splat(value, b.type(x)));
}

Value is_finite(Builder& b, Value x) {
  ElementType type = b.element_type(x);
  if (is_complex(type)) {
    return b.binary(BinaryOp::kAnd, is_finite(b, b.unary(UnaryOp::kReal, x)),
                    is_finite(b, b.unary(UnaryOp::kImag, x)));
  }
  if (!is_floating(type)) return all_true(b, x);
  return b.unary(UnaryOp::kIsFinite, x);
}

std::vector<Value> isnan_rule(Builder& b, const OpCall& call) {
  return {is_nan(b, call.tensor(0).value)};
}

std::vector<Value> isinf_rule(Builder& b, const OpCall& call) {
  return {is_inf(b, call.tensor(0).value)};
}

std::vector<Value> isfinite_rule(Builder& b, const OpCall& call) {
  return {is_finite(b, call.tensor(0).value)};
}

template <bool kPositive>
std::vector<Value> is_signed_inf_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  ElementType type = b.element_type(x);
  if (is_complex(type)) {
    throw InvalidArgument(std::string(call.name) + " does not support complex inputs.");
  }
  if (!is_floating(type)) return {all_false(b, x)};
  double inf = std::numeric_limits<double>::infinity();
  return {equals_constant(b, x, kPositive ? inf : -inf)};
}

// The sign bit itself, so -0.0 and NaNs with the bit set count as negative.
std::vector<Value> signbit_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  ElementType type = b.element_type(x);
  if (is_complex(type)) throw Unsupported("signbit is not implemented for complex tensors.");
  if (type == ElementType::kPred || is_unsigned_integral(type)) return {all_false(b, x)};
  if (is_floating(type)) {
    ElementType bits_type = stablehlo::byte_width(type) == 8   ? ElementType::kS64
                            : stablehlo::byte_width(type) == 4 ? ElementType::kS32
                            : stablehlo::byte_width(type) == 2 ? ElementType::kS16
                                                               : ElementType::kS8;
    x = b.bitcast_convert(x, TensorType{bits_type, b.dims(x)});
  }
  return {b.compare(ComparisonDirection::kLT, x, b.zeros(b.type(x)))};
}

// torch.equal: a 0-d pred, false (not an error) when the shapes differ.
std::vector<Value> equal_rule(Builder& b, const OpCall& call) {
  const TensorArg& self = call.tensor(0);
  const TensorArg& other = call.tensor(1);
  if (b.dims(self.value) != b.dims(other.value)) {
    return {b.constant(0.0, ElementType::kPred)};
  }
  PromotedPair p = promote_pair(b, call, self, other);
  Value equal = b.compare(ComparisonDirection::kEQ, p.lhs, p.rhs);
  if (b.rank(equal) == 0) return {equal};
  std::vector<int64_t> all_dims(b.rank(equal));
  for (size_t i = 0; i < all_dims.size(); ++i) all_dims[i] = static_cast<int64_t>(i);
  return {b.reduce(equal, b.constant(1.0, ElementType::kPred), all_dims,
                   [](Builder& rb, const std::vector<Value>& args) {
                     return std::vector<Value>{rb.binary(BinaryOp::kAnd, args[0], args[1])};
                   })};
}

// isin(elements, test_elements, assume_unique, invert): every element is
// compared with every test element (an [elements..., tests] predicate reduced
// over the tests), which XLA fuses into one pass; PyTorch's sort-based path
// for large inputs only pays off on the host.
std::vector<Value> isin_rule(Builder& b, const OpCall& call) {
  const TensorArg& elements = call.tensor(0);
  const TensorArg& tests = call.tensor(1);
  const ElementType type = result_type(b, {elements, tests}, call.default_float);
  if (is_complex(type)) throw_no_kernel("isin_default_cpu", type);
  if (type == ElementType::kPred) {
    throw InvalidArgument("Unsupported input type encountered for isin(): Bool");
  }
  const bool invert = call.bool_at(3);
  Value x = b.convert(elements.value, type);
  Value t = b.convert(tests.value, type);
  int64_t count = 1;
  for (int64_t d : b.dims(t)) count *= d;
  std::vector<int64_t> dims = b.dims(x);
  const int64_t test_dim = static_cast<int64_t>(dims.size());
  std::vector<int64_t> element_dims(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) element_dims[i] = static_cast<int64_t>(i);
  dims.push_back(count);
  Value pairs = b.compare(ComparisonDirection::kEQ, b.broadcast_in_dim(x, dims, element_dims),
                          b.broadcast_in_dim(b.reshape(t, {count}), dims, {test_dim}));
  Value found = b.reduce(pairs, b.constant(0.0, ElementType::kPred), {test_dim},
                         [](Builder& rb, const std::vector<Value>& args) {
                           return std::vector<Value>{rb.binary(BinaryOp::kOr, args[0], args[1])};
                         });
  return {invert ? b.unary(UnaryOp::kNot, found) : found};
}

void add_rule(RuleTable& table, std::string name, Rule rule) {
  table.add(std::move(name), RuleInfo{rule, {}});
}

}  // namespace

void add_comparison_rules(RuleTable& table) {
  add_rule(table, "eq", &compare_rule<ComparisonDirection::kEQ>);
  add_rule(table, "ne", &compare_rule<ComparisonDirection::kNE>);
  add_rule(table, "lt", &compare_rule<ComparisonDirection::kLT>);
  add_rule(table, "le", &compare_rule<ComparisonDirection::kLE>);
  add_rule(table, "gt", &compare_rule<ComparisonDirection::kGT>);
  add_rule(table, "ge", &compare_rule<ComparisonDirection::kGE>);
  add_rule(table, "logical_and", &logical_rule<BinaryOp::kAnd>);
  add_rule(table, "logical_or", &logical_rule<BinaryOp::kOr>);
  add_rule(table, "logical_xor", &logical_rule<BinaryOp::kXor>);
  add_rule(table, "logical_not", &logical_not_rule);
  add_rule(table, "bitwise_and", &bitwise_rule<BinaryOp::kAnd>);
  add_rule(table, "bitwise_or", &bitwise_rule<BinaryOp::kOr>);
  add_rule(table, "bitwise_xor", &bitwise_rule<BinaryOp::kXor>);
  add_rule(table, "__and__", &bitwise_rule<BinaryOp::kAnd>);
  add_rule(table, "__or__", &bitwise_rule<BinaryOp::kOr>);
  add_rule(table, "__xor__", &bitwise_rule<BinaryOp::kXor>);
  add_rule(table, "bitwise_not", &bitwise_not_rule);
  add_rule(table, "where", &where_rule);
  constexpr auto kResultDtype = RuleInfo::ScalarRange::kResultDtype;
  table.add("clamp", with_scalar_range(&clamp_rule, kResultDtype));
  table.add("clamp_min", with_scalar_range(&clamp_min_rule, kResultDtype));
  table.add("clamp_max", with_scalar_range(&clamp_max_rule, kResultDtype));
  add_rule(table, "maximum", &extremum_rule<BinaryOp::kMaximum>);
  add_rule(table, "minimum", &extremum_rule<BinaryOp::kMinimum>);
  add_rule(table, "isnan", &isnan_rule);
  add_rule(table, "isinf", &isinf_rule);
  add_rule(table, "isposinf", &is_signed_inf_rule<true>);
  add_rule(table, "isneginf", &is_signed_inf_rule<false>);
  add_rule(table, "isfinite", &isfinite_rule);
  add_rule(table, "signbit", &signbit_rule);
  add_rule(table, "equal", &equal_rule);
  add_rule(table, "isin", &isin_rule);
}

}  // namespace torch_pjrt::lowering
