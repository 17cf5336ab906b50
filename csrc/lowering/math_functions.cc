// PyTorch's floating-point math functions beyond arithmetic: the binary ones
// (atan2, hypot, copysign, logaddexp, fmax, ...), the gamma family and the
// special functions, with the edge values (zeros, infinities, NaN) CPU gives.
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "lowering/broadcast.h"
#include "lowering/complex_log_add_exp.h"
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
using stablehlo::UnaryOp;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Value full_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

Value compare(Builder& b, ComparisonDirection direction, Value x, double constant) {
  return b.compare(direction, x, full_like(b, constant, x));
}
Value logical_or(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kOr, x, y); }
Value logical_and(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kAnd, x, y); }

// 0, -1, -2, ...: the poles of the gamma family (and -inf, whose floor is itself).
Value is_nonpositive_integer(Builder& b, Value x) {
  return logical_and(b, compare(b, ComparisonDirection::kLE, x, 0),
                     b.compare(ComparisonDirection::kEQ, x, b.unary(UnaryOp::kFloor, x)));
}

// The operands of a binary op, promoted as PyTorch promotes them (Python
// numbers are wrapped scalars), broadcast, and converted to the type the
// kernel computes in. `type` is the result's dtype.
struct Operands {
  ElementType type;
  Value x, y;
};

// Ops whose integer inputs give a float result (atan2, copysign, zeta).
Operands floating_operands(Builder& b, const OpCall& call) {
  const ElementType common = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  const ElementType type = to_floating(common, call.default_float);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, opmath_type(type));
  return {type, v[0], v[1]};
}

// Ops CPU has kernels for only in floating types (hypot, logaddexp, nextafter).
Operands float_only_operands(Builder& b, const OpCall& call, std::string_view kernel) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (!is_floating(type)) throw_no_kernel(kernel, type);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, opmath_type(type));
  return {type, v[0], v[1]};
}

// A unary op on floating values: integers and bool compute in the default
// float type, the half types in f32.
Value floating_operand(Builder& b, const OpCall& call, ElementType* type) {
  Value x = call.tensor(0).value;
  *type = to_floating(b.element_type(x), call.default_float);
  return b.convert(x, opmath_type(*type));
}

[[noreturn]] void no_kernel(const OpCall& call, ElementType type) {
  throw_no_kernel(std::string(call.name) + "_cpu", type);
}

// --- binary ------------------------------------------------------------------

std::vector<Value> atan2_rule(Builder& b, const OpCall& call) {
  Operands o = floating_operands(b, call);
  if (is_complex(o.type)) no_kernel(call, o.type);
  return {b.convert(b.binary(BinaryOp::kAtan2, o.x, o.y), o.type)};
}

std::vector<Value> copysign_rule(Builder& b, const OpCall& call) {
  Operands o = floating_operands(b, call);
  if (is_complex(o.type)) no_kernel(call, o.type);
  Value magnitude = b.unary(UnaryOp::kAbs, o.x);
  Value result = b.select(sign_bit_set(b, o.y), b.unary(UnaryOp::kNegate, magnitude), magnitude);
  return {b.convert(result, o.type)};
}

// sqrt(x^2 + y^2) scaled by the larger magnitude, so it neither overflows nor
// underflows where the result is representable; an infinity wins over NaN.
std::vector<Value> hypot_rule(Builder& b, const OpCall& call) {
  Operands o = float_only_operands(b, call, "hypot_cpu");
  Value ax = b.unary(UnaryOp::kAbs, o.x);
  Value ay = b.unary(UnaryOp::kAbs, o.y);
  Value x_larger = b.compare(ComparisonDirection::kGT, ax, ay);
  Value big = b.select(x_larger, ax, ay);
  Value small = b.select(x_larger, ay, ax);
  Value ratio = b.div(small, big);
  Value scaled =
      b.mul(big, b.unary(UnaryOp::kSqrt, b.add(full_like(b, 1, ratio), b.mul(ratio, ratio))));
  // Zero only when both are (a NaN beside a zero stays NaN).
  Value both_zero = compare(b, ComparisonDirection::kEQ, b.add(ax, ay), 0);
  Value result = b.select(both_zero, full_like(b, 0, ax), scaled);
  result = b.select(logical_or(b, is_inf(b, ax), is_inf(b, ay)), full_like(b, kInf, ax), result);
  return {b.convert(result, o.type)};
}

// max + log1p(exp(-|x - y|)) (base 2 for logaddexp2); equal infinities give
// themselves instead of inf - inf = NaN.
template <bool base2>
std::vector<Value> logaddexp_rule(Builder& b, const OpCall& call) {
  if (!base2) {
    const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
    if (is_complex(type)) {
      std::vector<Value> v =
          promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, type);
      return {complex_log_add_exp(b, v[0], v[1])};
    }
  }
  Operands o = float_only_operands(b, call, base2 ? "logaddexp2_cpu" : "logaddexp_cpu");
  Value larger = b.select(b.compare(ComparisonDirection::kGT, o.x, o.y), o.x, o.y);
  Value gap = b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kAbs, b.sub(o.x, o.y)));
  Value tail = base2 ? b.mul(b.unary(UnaryOp::kLog1p,
                                     b.binary(BinaryOp::kPower, full_like(b, 2, gap), gap)),
                             full_like(b, 1 / std::numbers::ln2, gap))
                     : b.unary(UnaryOp::kLog1p, b.unary(UnaryOp::kExp, gap));
  Value result = b.add(larger, tail);
  Value same_inf = logical_and(b, is_inf(b, o.x), b.compare(ComparisonDirection::kEQ, o.x, o.y));
  result = b.select(same_inf, o.x, result);
  return {b.convert(result, o.type)};
}

// fmax / fmin: a NaN loses to a number; two NaNs give NaN.
template <bool is_max>
std::vector<Value> fmax_rule(Builder& b, const OpCall& call) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (is_complex(type)) {
    throw InvalidArgument(std::string(is_max ? "fmax" : "fmin") +
                          " not implemented for complex tensors.");
  }
  const ElementType compute = type == ElementType::kPred ? type : opmath_type(type);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, compute);
  const auto direction = is_max ? ComparisonDirection::kGT : ComparisonDirection::kLT;
  Value result = b.select(b.compare(direction, v[0], v[1]), v[0], v[1]);
  if (is_floating(type)) {
    result = b.select(is_nan(b, v[1]), v[0], result);
    result = b.select(is_nan(b, v[0]), v[1], result);
  }
  return {b.convert(result, type)};
}

// input == 0 ? values : input > 0; both of one dtype.
std::vector<Value> heaviside_rule(Builder& b, const OpCall& call) {
  const TensorArg& input = call.tensor(0);
  const TensorArg& values = call.tensor(1);
  const ElementType type = b.element_type(input.value);
  if (type != b.element_type(values.value)) {
    throw InvalidArgument("heaviside is not yet implemented for tensors with different dtypes.");
  }
  if (is_complex(type)) {
    throw InvalidArgument("heaviside is not yet implemented for complex tensors.");
  }
  std::vector<Value> v = promote_and_broadcast(b, {input.value, values.value}, type);
  if (type == ElementType::kPred) return {b.select(v[0], v[0], v[1])};
  Value positive = b.convert(compare(b, ComparisonDirection::kGT, v[0], 0), type);
  return {b.select(compare(b, ComparisonDirection::kEQ, v[0], 0), v[1], positive)};
}

std::vector<Value> nextafter_rule(Builder& b, const OpCall& call) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (!is_floating(type)) throw_no_kernel("nextafter_cpu", type);
  // In the result's own type: one step of f16 is not one step of f32.
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, type);
  return {b.binary(BinaryOp::kNextAfter, v[0], v[1])};
}

// Hurwitz's zeta, sum over j >= 0 of (q + j)^-x. CHLO's zeta is only right
// for q > 0, so the terms below 0 are added one by one in a loop first:
// zeta(x, q) = q^-x + zeta(x, q + 1). Below -2^16 (more steps than that) the
// result is NaN.
constexpr double kMaxZetaShift = 65536;

Value hurwitz_zeta(Builder& b, Value x, Value q) {
  auto shifting = [](Builder& rb, Value current) {
    Value negative = rb.compare(ComparisonDirection::kLT, current, rb.zeros(rb.type(current)));
    Value in_reach = rb.compare(ComparisonDirection::kGE, current,
                                rb.splat(-kMaxZetaShift, rb.type(current)));
    return rb.binary(BinaryOp::kAnd, negative, in_reach);
  };
  std::vector<int64_t> all_dims(b.dims(q).size());
  for (size_t d = 0; d < all_dims.size(); ++d) all_dims[d] = static_cast<int64_t>(d);
  std::vector<Value> loop = b.while_loop(
      {q, b.zeros(b.type(q)), x},
      [&](Builder& rb, const std::vector<Value>& v) {
        Value any = rb.reduce(shifting(rb, v[0]), rb.constant(0, ElementType::kPred), all_dims,
                              [](Builder& r, const std::vector<Value>& a) {
                                return std::vector<Value>{r.binary(BinaryOp::kOr, a[0], a[1])};
                              });
        return std::vector<Value>{any};
      },
      [&](Builder& rb, const std::vector<Value>& v) {
        Value active = shifting(rb, v[0]);
        Value term = rb.binary(BinaryOp::kPower, v[0], rb.unary(UnaryOp::kNegate, v[2]));
        Value sum = rb.add(v[1], rb.select(active, term, rb.zeros(rb.type(term))));
        Value next = rb.select(active, rb.add(v[0], rb.splat(1, rb.type(v[0]))), v[0]);
        return std::vector<Value>{next, sum, v[2]};
      });
  Value result = b.add(loop[1], b.binary(BinaryOp::kZeta, x, loop[0]));
  Value out_of_reach = compare(b, ComparisonDirection::kLT, q, -kMaxZetaShift);
  return b.select(out_of_reach, full_like(b, kNaN, result), result);
}

// Hurwitz zeta(x, q), with Cephes's (CPU's) inf at x == 1 and, for x > 1, at
// the poles q = 0, -1, -2, ..., and its NaN for x < 1.
std::vector<Value> zeta_rule(Builder& b, const OpCall& call) {
  Operands o = floating_operands(b, call);
  Value result = hurwitz_zeta(b, o.x, o.y);
  Value pole = logical_and(b, is_nonpositive_integer(b, o.y),
                           compare(b, ComparisonDirection::kGT, o.x, 1));
  pole = logical_or(b, pole, compare(b, ComparisonDirection::kEQ, o.x, 1));
  result = b.select(pole, full_like(b, kInf, o.x), result);
  Value below_one = compare(b, ComparisonDirection::kLT, o.x, 1);
  return {b.convert(b.select(below_one, full_like(b, kNaN, result), result), o.type)};
}

// --- the gamma family ------------------------------------------------------

// digamma with CPU's values at the poles: -inf at +0, inf at -0, NaN at the
// negative integers.
Value digamma(Builder& b, Value x) {
  Value result = b.unary(UnaryOp::kDigamma, x);
  Value zero = compare(b, ComparisonDirection::kEQ, x, 0);
  Value pole = b.select(sign_bit_set(b, x), full_like(b, kInf, x), full_like(b, -kInf, x));
  result = b.select(is_nonpositive_integer(b, x), full_like(b, kNaN, x), result);
  return b.select(zero, pole, result);
}

std::vector<Value> digamma_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  if (is_complex(type)) no_kernel(call, type);
  return {b.convert(digamma(b, x), type)};
}

std::vector<Value> lgamma_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  if (is_complex(type)) throw_no_kernel("lgamma_vml_cpu", type);
  return {b.convert(b.unary(UnaryOp::kLgamma, x), type)};
}

// trigamma the way CPU computes it: below 1/2 by reflection, pi^2 / sin^2(pi
// x) - trigamma(1 - x), then six steps of the recurrence and the asymptotic
// series. Near the negative integers sin(pi x) is not exactly 0, so CPU's
// values there are large but finite; this gives the same ones.
Value trigamma(Builder& b, Value x) {
  Value reflect = compare(b, ComparisonDirection::kLT, x, 0.5);
  Value sin_pi_x = b.unary(UnaryOp::kSin, b.mul(full_like(b, std::numbers::pi, x), x));
  Value reflection = b.div(full_like(b, std::numbers::pi * std::numbers::pi, x),
                           b.mul(sin_pi_x, sin_pi_x));
  Value y = b.select(reflect, b.sub(full_like(b, 1, x), x), x);
  Value sum = b.zeros(b.type(x));
  for (int i = 0; i < 6; ++i) {
    sum = b.add(sum, b.div(full_like(b, 1, y), b.mul(y, y)));
    y = b.add(y, full_like(b, 1, y));
  }
  Value inverse_square = b.div(full_like(b, 1, y), b.mul(y, y));
  auto times = [&](Value a, double c) { return b.mul(a, full_like(b, c, a)); };
  Value tail = b.sub(full_like(b, 1.0 / 30, y), times(inverse_square, 1.0 / 42));
  tail = b.sub(full_like(b, 1.0 / 6, y), b.mul(inverse_square, tail));
  tail = b.add(b.add(full_like(b, 1, y), b.div(full_like(b, 1, y), times(y, 2))),
               b.mul(inverse_square, tail));
  sum = b.add(sum, b.div(tail, y));
  return b.select(reflect, b.sub(reflection, sum), sum);
}

// polygamma(n, x): digamma for n == 0, trigamma for 1, the zeta form above.
std::vector<Value> polygamma_rule(Builder& b, const OpCall& call) {
  const int64_t n = call.int_at(0);
  if (n < 0) throw InvalidArgument("polygamma(n, x) does not support negative n.");
  Value x = call.tensor(1).value;
  const ElementType type = to_floating(b.element_type(x), call.default_float);
  if (is_complex(type)) no_kernel(call, type);
  x = b.convert(x, opmath_type(type));
  if (n == 0) return {b.convert(digamma(b, x), type)};
  if (n == 1) return {b.convert(trigamma(b, x), type)};
  // (-1)^(n+1) n! zeta(n + 1, x), as Cephes computes it on CPU.
  double factorial = 1;
  for (int64_t k = 2; k <= n; ++k) factorial *= static_cast<double>(k);
  Value result = b.mul(full_like(b, n % 2 == 1 ? factorial : -factorial, x),
                       hurwitz_zeta(b, full_like(b, static_cast<double>(n + 1), x), x));
  // At the poles (x a non-positive integer) CPU's Cephes zeta is inf, so the
  // result is (-1)^(n+1) n! inf; the series' term there is 0^-(n+1).
  result = b.select(is_nonpositive_integer(b, x), full_like(b, n % 2 == 1 ? kInf : -kInf, x),
                    result);
  // Cephes's zeta is NaN at q = +inf.
  Value at_inf = compare(b, ComparisonDirection::kEQ, x, kInf);
  return {b.convert(b.select(at_inf, full_like(b, kNaN, x), result), type)};
}

// --- unary special functions -------------------------------------------------

// sin(pi x) / (pi x), 1 at 0.
std::vector<Value> sinc_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  Value product = b.mul(x, full_like(b, std::numbers::pi, x));
  Value result = b.div(b.unary(UnaryOp::kSin, product), product);
  Value one = is_complex(type) ? b.splat_complex(1, 0, b.type(x)) : full_like(b, 1, x);
  Value zero = b.compare(ComparisonDirection::kEQ, x, b.zeros(b.type(x)));
  return {b.convert(b.select(zero, one, result), type)};
}

// log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given (NaN
// stays NaN).
std::vector<Value> logit_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  if (is_complex(type)) no_kernel(call, type);
  if (call.size() > 1 && !call.is_none(1)) {
    const double eps = call.double_at(1);
    Value low = full_like(b, eps, x);
    Value high = full_like(b, 1 - eps, x);
    x = b.select(b.compare(ComparisonDirection::kLT, x, low), low, x);
    x = b.select(b.compare(ComparisonDirection::kGT, x, high), high, x);
  }
  return {b.convert(b.unary(UnaryOp::kLog, b.div(x, b.sub(full_like(b, 1, x), x))), type)};
}

// logit_backward(grad, x, eps): grad / (x (1 - x)); outside [eps, 1 - eps]
// it is 0 (the clamp's gradient), or NaN outside [0, 1] without eps.
std::vector<Value> logit_backward_rule(Builder& b, const OpCall& call) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (!is_floating(type)) no_kernel(call, type);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, opmath_type(type));
  Value grad = v[0], x = v[1];
  Value result = b.div(grad, b.mul(x, b.sub(full_like(b, 1, x), x)));
  const bool has_eps = call.size() > 2 && !call.is_none(2);
  const double eps = has_eps ? call.double_at(2) : 0;
  Value outside = logical_or(b, compare(b, ComparisonDirection::kLT, x, eps),
                             compare(b, ComparisonDirection::kGT, x, 1 - eps));
  result = b.select(outside, full_like(b, has_eps ? 0 : kNaN, x), result);
  return {b.convert(result, type)};
}

// -x log x: 0 at 0, -inf below 0, NaN for NaN.
std::vector<Value> entr_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  if (is_complex(type)) no_kernel(call, type);
  Value result = b.unary(UnaryOp::kNegate, b.mul(x, b.unary(UnaryOp::kLog, x)));
  result = b.select(compare(b, ComparisonDirection::kEQ, x, 0), full_like(b, 0, x), result);
  result = b.select(compare(b, ComparisonDirection::kLT, x, 0), full_like(b, -kInf, x), result);
  return {b.convert(result, type)};
}

// The argument of a complex number; of a real one, pi below zero, else 0
// (NaN stays NaN).
std::vector<Value> angle_rule(Builder& b, const OpCall& call) {
  ElementType type;
  Value x = floating_operand(b, call, &type);
  if (is_complex(type)) {
    return {b.binary(BinaryOp::kAtan2, b.unary(UnaryOp::kImag, x), b.unary(UnaryOp::kReal, x))};
  }
  Value result = b.select(compare(b, ComparisonDirection::kLT, x, 0),
                          full_like(b, std::numbers::pi, x), full_like(b, 0, x));
  return {b.convert(b.select(is_nan(b, x), x, result), type)};
}

// The largest finite value of a floating type, nan_to_num's default for inf.
double largest_finite(ElementType type) {
  switch (type) {
    case ElementType::kF16:
      return 65504.0;
    case ElementType::kBF16:
      return 3.3895313892515355e38;
    case ElementType::kF32:
      return std::numeric_limits<float>::max();
    default:
      return std::numeric_limits<double>::max();
  }
}

Value replace_non_finite(Builder& b, const OpCall& call, Value x, ElementType type) {
  auto value_or = [&](size_t i, double fallback) {
    return i < call.size() && !call.is_none(i) ? call.double_at(i) : fallback;
  };
  const double nan = value_or(1, 0);
  const double posinf = value_or(2, largest_finite(type));
  const double neginf = value_or(3, -largest_finite(type));
  // The replacement is a value of the tensor's dtype, so it is rounded there.
  auto in_type = [&](double v) {
    return b.convert(b.convert(full_like(b, v, x), type), b.element_type(x));
  };
  Value result = b.select(is_nan(b, x), in_type(nan), x);
  result = b.select(compare(b, ComparisonDirection::kEQ, x, kInf), in_type(posinf), result);
  return b.select(compare(b, ComparisonDirection::kEQ, x, -kInf), in_type(neginf), result);
}

// nan_to_num(self, nan=0, posinf=max, neginf=lowest); integers pass through,
// complex numbers get it on each part.
std::vector<Value> nan_to_num_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (is_complex(type)) {
    const ElementType part = type == ElementType::kC64 ? ElementType::kF32 : ElementType::kF64;
    Value re = replace_non_finite(b, call, b.unary(UnaryOp::kReal, x), part);
    Value im = replace_non_finite(b, call, b.unary(UnaryOp::kImag, x), part);
    return {b.binary(BinaryOp::kComplex, re, im)};
  }
  if (!is_floating(type)) return {x};
  return {replace_non_finite(b, call, x, type)};
}

}  // namespace

void add_math_function_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("atan2", &atan2_rule);
  add("arctan2", &atan2_rule);
  add("copysign", &copysign_rule);
  add("hypot", &hypot_rule);
  add("logaddexp", &logaddexp_rule<false>);
  add("logaddexp2", &logaddexp_rule<true>);
  add("fmax", &fmax_rule<true>);
  add("fmin", &fmax_rule<false>);
  add("heaviside", &heaviside_rule);
  add("nextafter", &nextafter_rule);
  add("special_zeta", &zeta_rule);
  add("digamma", &digamma_rule);
  add("special_psi", &digamma_rule);
  add("lgamma", &lgamma_rule);
  add("polygamma", &polygamma_rule);
  add("sinc", &sinc_rule);
  add("logit", &logit_rule);
  add("logit_backward", &logit_backward_rule);
  add("special_entr", &entr_rule);
  add("angle", &angle_rule);
  add("nan_to_num", &nan_to_num_rule);
}

}  // namespace torch_pjrt::lowering
