// Elementwise arithmetic and math: PyTorch's broadcasting, type promotion
// (Python numbers included) and its exact integer semantics.
#include <cmath>
#include <numbers>
#include <string>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
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

bool is_inexact(ElementType t) { return is_floating(t) || is_complex(t); }

Value full_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

// A 0-d scalar operand converted to `like`'s type and broadcast to its shape.
Value scalar_like(Builder& b, Value scalar, Value like) {
  return broadcast_to(b, b.convert(scalar, b.element_type(like)), b.dims(like));
}

Value compare(Builder& b, ComparisonDirection direction, Value x, double constant) {
  return b.compare(direction, x, full_like(b, constant, x));
}

Value is_negative(Builder& b, Value x) { return compare(b, ComparisonDirection::kLT, x, 0); }
Value is_nonzero(Builder& b, Value x) { return compare(b, ComparisonDirection::kNE, x, 0); }

Value logical_and(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kAnd, x, y); }

std::optional<TensorArg> optional_scalar(const OpCall& call, size_t i) {
  return i < call.size() ? call.optional_tensor(i) : std::nullopt;
}

// Operands converted to their promoted type (or `compute`, when given) and
// broadcast to their common shape.
struct Promoted {
  ElementType type;  // result_type of the operands
  std::vector<Value> values;
};

Promoted promote(Builder& b, const OpCall& call, const std::vector<TensorArg>& operands,
                 std::optional<ElementType> compute = std::nullopt) {
  const ElementType type = result_type(b, operands, call.default_float);
  std::vector<Value> values;
  for (const TensorArg& operand : operands) values.push_back(operand.value);
  return {type, promote_and_broadcast(b, values, compute.value_or(opmath_type(type)))};
}

Value truncate(Builder& b, Value x) {
  return b.select(is_negative(b, x), b.unary(UnaryOp::kCeil, x), b.unary(UnaryOp::kFloor, x));
}

// --- add / sub / rsub ------------------------------------------------------

void check_alpha(ElementType result, ElementType alpha) {
  if (alpha == ElementType::kPred && result != ElementType::kPred) {
    throw InvalidArgument("Boolean alpha only supported for Boolean results.");
  }
  if (!is_inexact(result) && is_inexact(alpha)) {
    throw InvalidArgument(
        "For integral input tensors, argument alpha must not be a floating point number.");
  }
  if (!is_complex(result) && is_complex(alpha)) {
    throw InvalidArgument(
        "For non-complex input tensors, argument alpha must not be a complex number.");
  }
}

void check_no_bool_subtraction(Builder& b, const TensorArg& lhs, const TensorArg& rhs) {
  const bool lhs_bool = b.element_type(lhs.value) == ElementType::kPred;
  const bool rhs_bool = b.element_type(rhs.value) == ElementType::kPred;
  if (lhs_bool && rhs_bool) {
    throw InvalidArgument(
        "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
        "`logical_xor()` operator instead.");
  }
  if (lhs_bool || rhs_bool) {
    throw InvalidArgument(
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
        "to invert a mask, use the `~` or `logical_not()` operator instead.");
  }
}

// lhs + alpha * rhs (or lhs - alpha * rhs), promoted as PyTorch's add.
Value add_scaled(Builder& b, const OpCall& call, const TensorArg& lhs, const TensorArg& rhs,
                 std::optional<TensorArg> alpha, bool subtract) {
  Promoted p = promote(b, call, {lhs, rhs});
  if (alpha) check_alpha(p.type, b.element_type(alpha->value));
  Value x = p.values[0];
  Value y = p.values[1];
  if (p.type == ElementType::kPred) {
    // Adding bools is a logical or; alpha only says whether rhs counts.
    if (alpha) y = logical_and(b, y, scalar_like(b, alpha->value, y));
    return b.binary(BinaryOp::kOr, x, y);
  }
  if (alpha) y = b.mul(scalar_like(b, alpha->value, y), y);
  Value sum = subtract ? b.sub(x, y) : b.add(x, y);
  return b.convert(sum, p.type);
}

std::vector<Value> add_rule(Builder& b, const OpCall& call) {
  return {add_scaled(b, call, call.tensor(0), call.tensor(1), optional_scalar(call, 2), false)};
}

std::vector<Value> sub_rule(Builder& b, const OpCall& call) {
  check_no_bool_subtraction(b, call.tensor(0), call.tensor(1));
  return {add_scaled(b, call, call.tensor(0), call.tensor(1), optional_scalar(call, 2), true)};
}

// rsub(self, other, alpha) = other - alpha * self.
std::vector<Value> rsub_rule(Builder& b, const OpCall& call) {
  check_no_bool_subtraction(b, call.tensor(0), call.tensor(1));
  return {add_scaled(b, call, call.tensor(1), call.tensor(0), optional_scalar(call, 2), true)};
}

std::vector<Value> mul_rule(Builder& b, const OpCall& call) {
  Promoted p = promote(b, call, {call.tensor(0), call.tensor(1)});
  if (p.type == ElementType::kPred) return {logical_and(b, p.values[0], p.values[1])};
  return {b.convert(b.mul(p.values[0], p.values[1]), p.type)};
}

// --- division and remainders ----------------------------------------------

// Python's floor division of integers: C division rounds toward zero, so a
// quotient with a nonzero remainder of the other sign than the divisor is one
// too big.
Value integer_floor_divide(Builder& b, Value x, Value y) {
  Value quotient = b.div(x, y);
  if (is_unsigned_integral(b.element_type(x))) return quotient;
  Value remainder = b.binary(BinaryOp::kRemainder, x, y);
  Value signs_differ =
      b.compare(ComparisonDirection::kNE, is_negative(b, remainder), is_negative(b, y));
  Value adjust = logical_and(b, is_nonzero(b, remainder), signs_differ);
  return b.select(adjust, b.sub(quotient, full_like(b, 1, quotient)), quotient);
}

// PyTorch's div_floor_floating: floor((x - fmod(x, y)) / y), corrected so the
// result is the floor of the exact quotient, with IEEE results for y == 0 and
// the sign of x / y on a zero quotient.
Value floating_floor_divide(Builder& b, Value x, Value y) {
  Value mod = b.binary(BinaryOp::kRemainder, x, y);
  Value div = b.div(b.sub(x, mod), y);
  Value signs_differ = b.compare(ComparisonDirection::kNE, is_negative(b, y), is_negative(b, mod));
  Value adjust = logical_and(b, is_nonzero(b, mod), signs_differ);
  div = b.select(adjust, b.sub(div, full_like(b, 1, div)), div);
  Value floor = b.unary(UnaryOp::kFloor, div);
  Value round_up = compare(b, ComparisonDirection::kGT, b.sub(div, floor), 0.5);
  floor = b.select(round_up, b.add(floor, full_like(b, 1, floor)), floor);
  Value true_quotient = b.div(x, y);
  Value signed_zero =
      b.select(sign_bit_set(b, true_quotient), full_like(b, -0.0, x), full_like(b, 0.0, x));
  Value result = b.select(is_nonzero(b, div), floor, signed_zero);
  return b.select(compare(b, ComparisonDirection::kEQ, y, 0), true_quotient, result);
}

// Python's modulo: the result takes the sign of the divisor.
Value python_remainder(Builder& b, Value x, Value y) {
  Value mod = b.binary(BinaryOp::kRemainder, x, y);
  if (is_unsigned_integral(b.element_type(x))) return mod;
  Value signs_differ = b.compare(ComparisonDirection::kNE, is_negative(b, mod), is_negative(b, y));
  Value adjust = logical_and(b, is_nonzero(b, mod), signs_differ);
  return b.select(adjust, b.add(mod, y), mod);
}

// Integer division by zero raises ZeroDivisionError on PyTorch's CPU; only the
// device sees the divisor's values, so the program checks them (DESIGN.md,
// "Errors only the device can see").
Value divide(Builder& b, const OpCall& call, const TensorArg& lhs, const TensorArg& rhs,
             std::string_view rounding_mode) {
  if (rounding_mode.empty()) {
    const ElementType type =
        to_floating(result_type(b, {lhs, rhs}, call.default_float), call.default_float);
    Promoted p = promote(b, call, {lhs, rhs}, opmath_type(type));
    return b.convert(b.div(p.values[0], p.values[1]), type);
  }
  const bool floor = rounding_mode == "floor";
  if (!floor && rounding_mode != "trunc") {
    throw InvalidArgument(
        "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '" +
        std::string(rounding_mode) + "'");
  }
  Promoted p = promote(b, call, {lhs, rhs});
  Value x = p.values[0];
  Value y = p.values[1];
  if (p.type == ElementType::kPred)
    throw_no_kernel(floor ? "div_floor_cpu" : "div_trunc_cpu", p.type);
  if (is_integral(p.type)) {
    call.check_on_device(check_nonzero_divisor(b, y));
    return floor ? integer_floor_divide(b, x, y) : b.div(x, y);
  }
  if (is_complex(p.type)) {
    throw InvalidArgument(std::string("div_") + (floor ? "floor" : "trunc") +
                          " does not support complex inputs");
  }
  Value result = floor ? floating_floor_divide(b, x, y) : truncate(b, b.div(x, y));
  return b.convert(result, p.type);
}

std::string_view rounding_mode(const OpCall& call) {
  if (call.size() < 3 || call.is_none(2)) return {};
  return call.string_at(2);
}

std::vector<Value> div_rule(Builder& b, const OpCall& call) {
  return {divide(b, call, call.tensor(0), call.tensor(1), rounding_mode(call))};
}

std::vector<Value> true_divide_rule(Builder& b, const OpCall& call) {
  return {divide(b, call, call.tensor(0), call.tensor(1), {})};
}

std::vector<Value> floor_divide_rule(Builder& b, const OpCall& call) {
  return {divide(b, call, call.tensor(0), call.tensor(1), "floor")};
}

template <Value (*fn)(Builder&, Value, Value), bool python_sign>
std::vector<Value> remainder_like_rule(Builder& b, const OpCall& call) {
  Promoted p = promote(b, call, {call.tensor(0), call.tensor(1)});
  const std::string_view kernel = python_sign ? "remainder_cpu" : "fmod_cpu";
  if (p.type == ElementType::kPred || is_complex(p.type)) throw_no_kernel(kernel, p.type);
  if (is_integral(p.type)) call.check_on_device(check_nonzero_divisor(b, p.values[1]));
  return {b.convert(fn(b, p.values[0], p.values[1]), p.type)};
}

Value c_remainder(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kRemainder, x, y); }

// --- pow ---------------------------------------------------------------

// Integer power, exact with wraparound; negative exponents give what PyTorch's
// tensor-tensor kernel gives: 1 for base 1, +-1 for base -1, else 0.
Value integer_power(Builder& b, Value base, Value exponent) {
  if (is_unsigned_integral(b.element_type(base))) return b.binary(BinaryOp::kPower, base, exponent);
  Value zero = full_like(b, 0, exponent);
  Value one = full_like(b, 1, base);
  Value negative = is_negative(b, exponent);
  Value power = b.binary(BinaryOp::kPower, base, b.select(negative, zero, exponent));
  Value odd = is_nonzero(b, b.binary(BinaryOp::kRemainder, exponent, full_like(b, 2, exponent)));
  Value minus_one_result = b.select(odd, full_like(b, -1, base), one);
  Value reciprocal = b.select(compare(b, ComparisonDirection::kEQ, base, 1), one,
                              b.select(compare(b, ComparisonDirection::kEQ, base, -1),
                                       minus_one_result, full_like(b, 0, base)));
  return b.select(negative, reciprocal, power);
}

std::vector<Value> pow_rule(Builder& b, const OpCall& call) {
  Promoted p = promote(b, call, {call.tensor(0), call.tensor(1)});
  if (p.type == ElementType::kPred) throw_no_kernel("pow", p.type);
  if (is_integral(p.type)) return {integer_power(b, p.values[0], p.values[1])};
  return {b.convert(b.binary(BinaryOp::kPower, p.values[0], p.values[1]), p.type)};
}

// square is pow(x, 2): bool squares to s64.
std::vector<Value> square_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  ElementType type = b.element_type(x);
  if (type == ElementType::kPred) type = ElementType::kS64;
  Value y = b.convert(x, opmath_type(type));
  return {b.convert(b.mul(y, y), type)};
}

// --- unary math -----------------------------------------------------------

using ValueFn = Value (*)(Builder&, Value);

template <UnaryOp op>
Value apply(Builder& b, Value x) {
  return b.unary(op, x);
}

Value reciprocal(Builder& b, Value x) { return b.div(full_like(b, 1, x), x); }
Value exp2(Builder& b, Value x) { return b.binary(BinaryOp::kPower, full_like(b, 2, x), x); }
Value log2(Builder& b, Value x) {
  return b.mul(b.unary(UnaryOp::kLog, x), full_like(b, 1 / std::numbers::ln2, x));
}
Value log10(Builder& b, Value x) {
  return b.mul(b.unary(UnaryOp::kLog, x), full_like(b, 1 / std::numbers::ln10, x));
}

// chlo.erf_inv derives its tail from log(1 - x*x), and the rounding of x*x
// costs up to ~100 ulps as |x| nears 1 (where the gradient, which grows as
// exp(erfinv(x)^2), magnifies it further). One Newton step on erf(y) = x
// repairs the tail: the residual erf(y) - x = +-((1 - |x|) - erfc(|y|)) has
// an exact 1 - |x| and erfc's relative accuracy, and the step divides it by
// erf's derivative 2/sqrt(pi) * exp(-y^2). Nearer 0 chlo.erf_inv is already
// as accurate as the step could make it.
Value erfinv(Builder& b, Value x) {
  Value y = b.unary(UnaryOp::kErfInv, x);
  Value magnitude = b.unary(UnaryOp::kAbs, x);
  Value residual =
      b.mul(b.unary(UnaryOp::kSign, x), b.sub(b.sub(full_like(b, 1, x), magnitude),
                                              b.unary(UnaryOp::kErfc, b.unary(UnaryOp::kAbs, y))));
  Value step = b.mul(residual, b.mul(full_like(b, std::sqrt(std::numbers::pi) / 2, x),
                                     b.unary(UnaryOp::kExp, b.mul(y, y))));
  // At |x| = 1 (y infinite) the step would be 0 * inf.
  Value refine = logical_and(b, compare(b, ComparisonDirection::kGT, magnitude, 0.9),
                             compare(b, ComparisonDirection::kLT, magnitude, 1));
  return b.select(refine, b.sub(y, step), y);
}

// Math that PyTorch only defines on floating types: integers and bool compute
// in the default float type; the half types compute in f32.
template <ValueFn fn>
std::vector<Value> floating_unary_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = to_floating(b.element_type(x), call.default_float);
  return {b.convert(fn(b, b.convert(x, opmath_type(type))), type)};
}

// As floating_unary_rule, for functions CPU has no complex kernel for (erf).
template <ValueFn fn>
std::vector<Value> real_floating_unary_rule(Builder& b, const OpCall& call) {
  const ElementType type = b.element_type(call.tensor(0).value);
  if (is_complex(type)) throw_no_kernel(std::string(call.name) + "_vml_cpu", type);
  return floating_unary_rule<fn>(b, call);
}

std::vector<Value> neg_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (b.element_type(x) == ElementType::kPred) {
    throw InvalidArgument(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead.");
  }
  return {b.unary(UnaryOp::kNegate, x)};
}

std::vector<Value> abs_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred) throw_no_kernel("abs_cpu", type);
  if (is_unsigned_integral(type)) return {x};
  return {b.unary(UnaryOp::kAbs, x)};
}

// (x > 0) - (x < 0), as PyTorch: NaN and -0.0 give +0.
Value real_sign(Builder& b, Value x) {
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred) return x;
  Value positive = b.convert(compare(b, ComparisonDirection::kGT, x, 0), type);
  Value negative = b.convert(is_negative(b, x), type);
  return b.sub(positive, negative);
}

std::vector<Value> sign_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (is_complex(b.element_type(x))) {
    throw Unsupported(
        "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
        "torch.sgn instead.");
  }
  return {real_sign(b, x)};
}

// sgn is sign for reals and z / |z| (0 at 0) for complex numbers.
std::vector<Value> sgn_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (!is_complex(type)) return {real_sign(b, x)};
  Value magnitude = b.unary(UnaryOp::kAbs, x);
  Value is_zero = compare(b, ComparisonDirection::kEQ, magnitude, 0);
  Value unit = b.div(x, b.convert(magnitude, type));
  return {b.select(is_zero, full_like(b, 0, x), unit)};
}

// floor, ceil, trunc and round leave integers as they are.
template <ValueFn fn>
std::vector<Value> rounding_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred || is_complex(type)) {
    throw_no_kernel(std::string(call.name) + "_vml_cpu", type);
  }
  if (is_integral(type)) return {x};
  return {fn(b, x)};
}

std::vector<Value> round_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  // round.decimals and its out= form have the extra int; plain round has not.
  const bool has_decimals = call.size() > 1 && !call.is_none(1);
  if (!has_decimals) return rounding_rule<apply<UnaryOp::kRoundNearestEven>>(b, call);
  if (!is_floating(type)) throw_no_kernel("round_cpu", type);
  int64_t decimals = call.int_at(1);
  if (decimals == 0) return {b.unary(UnaryOp::kRoundNearestEven, x)};
  // As PyTorch: scale by 10^|decimals| in the compute type, round half to even, scale back.
  const bool negative = decimals < 0;
  const double scale = std::pow(10.0, static_cast<double>(negative ? -decimals : decimals));
  Value y = b.convert(x, opmath_type(type));
  Value ten_pow = full_like(b, scale, y);
  Value scaled = negative ? b.div(y, ten_pow) : b.mul(y, ten_pow);
  Value rounded = b.unary(UnaryOp::kRoundNearestEven, scaled);
  return {b.convert(negative ? b.mul(rounded, ten_pow) : b.div(rounded, ten_pow), type)};
}

std::vector<Value> frac_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (!is_floating(type)) throw_no_kernel("frac_cpu", type);
  return {b.sub(x, truncate(b, x))};
}

// --- lerp, addcmul, addcdiv --------------------------------------------------

void check_same_dtype(Builder& b, Value self, Value other, std::string_view what) {
  if (b.element_type(self) != b.element_type(other)) {
    throw InvalidArgument("expected dtype " + std::string(type_meta_name(b.element_type(self))) +
                          " for `" + std::string(what) + "` but got dtype " +
                          std::string(type_meta_name(b.element_type(other))));
  }
}

// PyTorch's lerp: two formulas, each exact at its end of the weight range.
std::vector<Value> lerp_rule(Builder& b, const OpCall& call) {
  const TensorArg& self = call.tensor(0);
  const TensorArg& end = call.tensor(1);
  const TensorArg& weight = call.tensor(2);
  const ElementType type = b.element_type(self.value);
  // lerp.Scalar's weight (any form of it, out= included) arrives as a number.
  const bool scalar_weight = weight.is_scalar;
  if (!is_inexact(type))
    throw_no_kernel(scalar_weight ? "lerp_kernel_scalar" : "lerp_kernel_tensor", type);
  check_same_dtype(b, self.value, end.value, "end");
  if (!scalar_weight) check_same_dtype(b, self.value, weight.value, "weight");
  const ElementType compute = opmath_type(type);
  std::vector<Value> operands = {self.value, end.value};
  if (!scalar_weight) operands.push_back(weight.value);
  std::vector<Value> values = promote_and_broadcast(b, operands, compute);
  Value start = values[0];
  Value diff = b.sub(values[1], start);
  Value w = scalar_weight ? scalar_like(b, weight.value, start) : values[2];
  Value small_weight = compare(b, ComparisonDirection::kLT, b.unary(UnaryOp::kAbs, w), 0.5);
  Value from_start = b.add(start, b.mul(w, diff));
  Value from_end = b.sub(values[1], b.mul(diff, b.sub(full_like(b, 1, w), w)));
  return {b.convert(b.select(small_weight, from_start, from_end), type)};
}

void check_value(Builder& b, ElementType result, const std::optional<TensorArg>& value) {
  if (value && is_complex(b.element_type(value->value)) && !is_complex(result)) {
    throw InvalidArgument("value cannot be converted to type " +
                          std::string(type_meta_name(result)) + " without overflow");
  }
}

// self + value * t1 * t2, or self + value * t1 / t2, in the order PyTorch's
// kernels evaluate them; value is first cast to the compute type.
template <bool divide>
std::vector<Value> addc_rule(Builder& b, const OpCall& call) {
  const TensorArg& t1 = call.tensor(1);
  const TensorArg& t2 = call.tensor(2);
  Promoted p = promote(b, call, {call.tensor(0), t1, t2});
  if (divide) {
    const ElementType a = b.element_type(t1.value);
    const ElementType c = b.element_type(t2.value);
    if (!is_inexact(a) && !is_inexact(c)) {
      throw InvalidArgument(
          "Integer division with addcdiv is no longer supported, and in a future  release "
          "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
          "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to("
          "input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for float "
          "inputs. The future addcdiv behavior is just the latter implementation: (input + "
          "value * tensor1 / tensor2), for all dtypes.");
    }
  }
  if (p.type == ElementType::kPred)
    throw_no_kernel(divide ? "addcdiv_cpu_out" : "addcmul_cpu_out", p.type);
  const std::optional<TensorArg> value = optional_scalar(call, 3);
  check_value(b, p.type, value);
  Value scaled = p.values[1];
  if (value) scaled = b.mul(scalar_like(b, value->value, scaled), scaled);
  Value term = divide ? b.div(scaled, p.values[2]) : b.mul(scaled, p.values[2]);
  return {b.convert(b.add(p.values[0], term), p.type)};
}

// xlogy(self, other) = self * log(other) (xlog1py: self * log1p(other)), 0
// where self is 0 (even for other 0 or inf), NaN where other is NaN; integers
// and bool compute in the default float type. kl_div's composite reaches xlogy.
template <UnaryOp log_op>
std::vector<Value> xlog_rule(Builder& b, const OpCall& call) {
  const ElementType common = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (is_complex(common)) throw Unsupported(std::string(call.name) + " of complex tensors");
  const ElementType type = to_floating(common, call.default_float);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, opmath_type(type));
  Value x = v[0], y = v[1];
  Value product = b.mul(x, b.unary(log_op, y));
  Value zero_x = b.select(compare(b, ComparisonDirection::kEQ, x, 0), full_like(b, 0, x), product);
  Value y_nan = b.compare(ComparisonDirection::kNE, y, y);
  return {b.convert(b.select(y_nan, y, zero_x), type)};
}

}  // namespace

void add_elementwise_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("add", &add_rule);
  add("sub", &sub_rule);
  add("rsub", &rsub_rule);
  add("mul", &mul_rule);
  add("div", &div_rule);
  add("true_divide", &true_divide_rule);
  add("floor_divide", &floor_divide_rule);
  add("remainder", &remainder_like_rule<python_remainder, true>);
  add("fmod", &remainder_like_rule<c_remainder, false>);
  add("pow", &pow_rule);
  add("square", &square_rule);
  add("neg", &neg_rule);
  add("abs", &abs_rule);
  add("sign", &sign_rule);
  add("sgn", &sgn_rule);
  add("reciprocal", &floating_unary_rule<reciprocal>);
  add("exp", &floating_unary_rule<apply<UnaryOp::kExp>>);
  add("exp2", &floating_unary_rule<exp2>);
  add("expm1", &floating_unary_rule<apply<UnaryOp::kExpm1>>);
  add("log", &floating_unary_rule<apply<UnaryOp::kLog>>);
  add("log2", &floating_unary_rule<log2>);
  add("log10", &floating_unary_rule<log10>);
  add("log1p", &floating_unary_rule<apply<UnaryOp::kLog1p>>);
  add("sqrt", &floating_unary_rule<apply<UnaryOp::kSqrt>>);
  add("rsqrt", &floating_unary_rule<apply<UnaryOp::kRsqrt>>);
  add("sin", &floating_unary_rule<apply<UnaryOp::kSin>>);
  add("cos", &floating_unary_rule<apply<UnaryOp::kCos>>);
  add("tan", &floating_unary_rule<apply<UnaryOp::kTan>>);
  add("tanh", &floating_unary_rule<apply<UnaryOp::kTanh>>);
  add("sigmoid", &floating_unary_rule<apply<UnaryOp::kLogistic>>);
  add("erf", &real_floating_unary_rule<apply<UnaryOp::kErf>>);
  add("erfinv", &real_floating_unary_rule<erfinv>);
  add("erfc", &real_floating_unary_rule<apply<UnaryOp::kErfc>>);
  add("asin", &floating_unary_rule<apply<UnaryOp::kAsin>>);
  add("acos", &floating_unary_rule<apply<UnaryOp::kAcos>>);
  add("atan", &floating_unary_rule<apply<UnaryOp::kAtan>>);
  add("sinh", &floating_unary_rule<apply<UnaryOp::kSinh>>);
  add("cosh", &floating_unary_rule<apply<UnaryOp::kCosh>>);
  add("asinh", &floating_unary_rule<apply<UnaryOp::kAsinh>>);
  add("acosh", &floating_unary_rule<apply<UnaryOp::kAcosh>>);
  add("atanh", &floating_unary_rule<apply<UnaryOp::kAtanh>>);
  add("floor", &rounding_rule<apply<UnaryOp::kFloor>>);
  add("ceil", &rounding_rule<apply<UnaryOp::kCeil>>);
  add("trunc", &rounding_rule<truncate>);
  add("round", &round_rule);
  add("frac", &frac_rule);
  add("lerp", &lerp_rule);
  add("addcmul", &addc_rule<false>);
  add("addcdiv", &addc_rule<true>);
  add("xlogy", &xlog_rule<UnaryOp::kLog>);
  add("special_xlog1py", &xlog_rule<UnaryOp::kLog1p>);
}

}  // namespace torch_pjrt::lowering
