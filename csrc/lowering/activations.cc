// Activation functions and the backward ops autograd calls for them, with the
// formulas PyTorch's CPU kernels use (so results agree to rounding).
#include <cmath>
#include <numbers>
#include <string>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::is_floating;
using stablehlo::UnaryOp;

// PyTorch's CPU kernel for this op has no case for the dtype: NotImplementedError.
[[noreturn]] void no_kernel(const OpCall& call, ElementType t) {
  throw_no_kernel(std::string(call.name) + "_cpu", t);
}

Value constant_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

// The Scalar argument at `i` (a 0-d run-time value) in `like`'s type and shape;
// `fallback` when the argument is absent.
Value scalar_arg(Builder& b, const OpCall& call, size_t i, Value like, double fallback) {
  if (i >= call.size() || call.is_none(i)) return constant_like(b, fallback, like);
  Value scalar = call.tensor(i).value;
  return broadcast_to(b, b.convert(scalar, b.element_type(like)), b.dims(like));
}

Value compare(Builder& b, ComparisonDirection direction, Value x, Value y) {
  return b.compare(direction, x, y);
}
Value compare(Builder& b, ComparisonDirection direction, Value x, double constant) {
  return b.compare(direction, x, constant_like(b, constant, x));
}

Value exp(Builder& b, Value x) { return b.unary(UnaryOp::kExp, x); }

Value sigmoid(Builder& b, Value x) {
  Value one = constant_like(b, 1, x);
  return b.div(one, b.add(one, exp(b, b.unary(UnaryOp::kNegate, x))));
}

// Floating tensor operands promoted to their common type, broadcast, and
// converted to the type the arithmetic runs in.
struct Floating {
  ElementType type;  // the result type
  std::vector<Value> values;
};

Floating floating_operands(Builder& b, const OpCall& call, const std::vector<size_t>& indices) {
  std::vector<TensorArg> operands;
  std::vector<Value> values;
  for (size_t i : indices) {
    operands.push_back(call.tensor(i));
    values.push_back(call.tensor(i).value);
  }
  const ElementType type = result_type(b, operands, call.default_float);
  if (!is_floating(type)) no_kernel(call, type);
  return {type, promote_and_broadcast(b, values, opmath_type(type))};
}

// An activation of one floating tensor: fn(b, call, x) in the compute type.
template <Value (*fn)(Builder&, const OpCall&, Value)>
std::vector<Value> unary_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0});
  return {b.convert(fn(b, call, f.values[0]), f.type)};
}

// A backward op (grad_output, input): fn(b, call, grad, x) in the compute type.
template <Value (*fn)(Builder&, const OpCall&, Value, Value)>
std::vector<Value> backward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 1});
  return {b.convert(fn(b, call, f.values[0], f.values[1]), f.type)};
}

// --- gelu -----------------------------------------------------------------

constexpr double kSqrt1_2 = 0.70710678118654752440;
// sqrt(2 / pi), the tanh approximation's scale.
constexpr double kSqrt2OverPi = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
constexpr double kKappa = 0.044715;

bool tanh_approximation(const OpCall& call, size_t i) {
  const std::string_view approximate =
      i < call.size() && !call.is_none(i) ? call.string_at(i) : "none";
  if (approximate != "none" && approximate != "tanh") {
    throw InvalidArgument("approximate argument must be either none or tanh.");
  }
  return approximate == "tanh";
}

// kSqrt2OverPi * (x + kKappa * x^3)
Value gelu_tanh_inner(Builder& b, Value x) {
  Value cube = b.mul(b.mul(x, x), x);
  return b.mul(constant_like(b, kSqrt2OverPi, x),
               b.add(x, b.mul(constant_like(b, kKappa, x), cube)));
}

Value gelu(Builder& b, const OpCall& call, Value x) {
  Value half = constant_like(b, 0.5, x);
  Value one = constant_like(b, 1, x);
  if (tanh_approximation(call, 1)) {
    Value tanh = b.unary(UnaryOp::kTanh, gelu_tanh_inner(b, x));
    return b.mul(b.mul(half, x), b.add(one, tanh));
  }
  Value erf = b.unary(UnaryOp::kErf, b.mul(x, constant_like(b, kSqrt1_2, x)));
  return b.mul(b.mul(x, half), b.add(one, erf));
}

Value gelu_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value half = constant_like(b, 0.5, x);
  Value one = constant_like(b, 1, x);
  if (tanh_approximation(call, 2)) {
    Value x_sq = b.mul(x, x);
    Value tanh = b.unary(UnaryOp::kTanh, gelu_tanh_inner(b, x));
    Value left = b.mul(half, x);
    Value left_derivative = b.mul(half, b.add(one, tanh));
    Value tanh_derivative = b.sub(one, b.mul(tanh, tanh));
    Value inner_derivative = b.mul(constant_like(b, kSqrt2OverPi, x),
                                   b.add(one, b.mul(constant_like(b, 3 * kKappa, x), x_sq)));
    Value right_derivative = b.mul(b.mul(left, tanh_derivative), inner_derivative);
    return b.mul(grad, b.add(left_derivative, right_derivative));
  }
  Value cdf =
      b.mul(half, b.add(one, b.unary(UnaryOp::kErf, b.mul(x, constant_like(b, kSqrt1_2, x)))));
  // The standard normal density: exp(-x^2 / 2) / sqrt(2 pi).
  Value pdf = b.mul(exp(b, b.mul(b.mul(x, x), constant_like(b, -0.5, x))),
                    constant_like(b, std::numbers::inv_sqrtpi * kSqrt1_2, x));
  return b.mul(grad, b.add(cdf, b.mul(x, pdf)));
}

// --- silu, mish -------------------------------------------------------------

Value silu(Builder& b, const OpCall&, Value x) {
  Value one = constant_like(b, 1, x);
  return b.div(x, b.add(one, exp(b, b.unary(UnaryOp::kNegate, x))));
}

// CPU's silu also takes complex tensors (x / (1 + exp(-x)) in complex).
std::vector<Value> silu_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  if (stablehlo::is_complex(b.element_type(x))) return {silu(b, call, x)};
  return unary_rule<silu>(b, call);
}

Value silu_backward(Builder& b, const OpCall&, Value grad, Value x) {
  Value one = constant_like(b, 1, x);
  Value s = sigmoid(b, x);
  return b.mul(b.mul(grad, s), b.add(one, b.mul(x, b.sub(one, s))));
}

Value tanh_softplus(Builder& b, Value x) {
  return b.unary(UnaryOp::kTanh, b.unary(UnaryOp::kLog1p, exp(b, x)));
}

Value mish(Builder& b, const OpCall&, Value x) { return b.mul(x, tanh_softplus(b, x)); }

Value mish_backward(Builder& b, const OpCall&, Value grad, Value x) {
  Value one = constant_like(b, 1, x);
  Value t = tanh_softplus(b, x);
  Value slope = b.mul(b.mul(x, sigmoid(b, x)), b.sub(one, b.mul(t, t)));
  return b.mul(grad, b.add(t, slope));
}

// mish_backward is not structured in PyTorch: its result takes the input's
// dtype, whatever the gradient's.
std::vector<Value> mish_backward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 1});
  Value result = mish_backward(b, call, f.values[0], f.values[1]);
  return {b.convert(result, b.element_type(call.tensor(1).value))};
}

// --- relu family ------------------------------------------------------------

// relu is clamp_min(x, 0): NaN stays NaN; integers are fine, bool is not.
std::vector<Value> relu_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (b.element_type(x) == ElementType::kPred) {
    throw InvalidArgument("Boolean inputs not supported for relu");
  }
  return {b.max(x, constant_like(b, 0, x))};
}

Value leaky_relu(Builder& b, const OpCall& call, Value x) {
  Value slope = scalar_arg(b, call, 1, x, 0.01);
  return b.select(compare(b, ComparisonDirection::kGT, x, 0), x, b.mul(x, slope));
}

// PyTorch also rejects self_is_result with a negative slope; the slope is a
// run-time value here, so that check is not made.
Value leaky_relu_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value slope = scalar_arg(b, call, 2, x, 0.01);
  return b.select(compare(b, ComparisonDirection::kGT, x, 0), grad, b.mul(grad, slope));
}

// hardtanh is clamp: integers clamp to the bounds cast to their type; NaN stays NaN.
std::vector<Value> hardtanh_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred) throw InvalidArgument("Bool inputs not supported for hardtanh");
  Value y = b.convert(x, opmath_type(type));
  Value low = scalar_arg(b, call, 1, y, -1);
  Value high = scalar_arg(b, call, 2, y, 1);
  return {b.convert(b.min(b.max(y, low), high), type)};
}

Value hardtanh_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value low = scalar_arg(b, call, 2, x, -1);
  Value high = scalar_arg(b, call, 3, x, 1);
  Value outside = b.binary(stablehlo::BinaryOp::kOr, compare(b, ComparisonDirection::kLE, x, low),
                           compare(b, ComparisonDirection::kGE, x, high));
  return b.select(outside, constant_like(b, 0, grad), grad);
}

// threshold compares in the input's own type (the half types included), as
// PyTorch casts the threshold to it.
std::vector<Value> threshold_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred || stablehlo::is_complex(type)) no_kernel(call, type);
  Value threshold = scalar_arg(b, call, 1, x, 0);
  Value value = scalar_arg(b, call, 2, x, 0);
  return {b.select(compare(b, ComparisonDirection::kLE, x, threshold), value, x)};
}

std::vector<Value> threshold_backward_rule(Builder& b, const OpCall& call) {
  const TensorArg& grad = call.tensor(0);
  const TensorArg& x = call.tensor(1);
  const ElementType type = result_type(b, {grad, x}, call.default_float);
  if (type == ElementType::kPred || stablehlo::is_complex(type)) no_kernel(call, type);
  std::vector<Value> values = promote_and_broadcast(b, {grad.value, x.value}, type);
  Value threshold = scalar_arg(b, call, 2, values[1], 0);
  Value at_or_below = compare(b, ComparisonDirection::kLE, values[1], threshold);
  return {b.select(at_or_below, constant_like(b, 0, values[0]), values[0])};
}

// --- backward of sigmoid / tanh from their outputs --------------------------

Value sigmoid_backward(Builder& b, const OpCall&, Value grad, Value y) {
  return b.mul(b.mul(grad, b.sub(constant_like(b, 1, y), y)), y);
}

Value tanh_backward(Builder& b, const OpCall&, Value grad, Value y) {
  return b.mul(grad, b.sub(constant_like(b, 1, y), b.mul(y, y)));
}

// --- elu, softplus ----------------------------------------------------------

struct EluCoefficients {
  Value negative;     // alpha * scale
  Value positive;     // scale
  Value input_scale;  // applied to x inside exp
};

EluCoefficients elu_coefficients(Builder& b, const OpCall& call, size_t first, Value like) {
  Value alpha = scalar_arg(b, call, first, like, 1);
  Value scale = scalar_arg(b, call, first + 1, like, 1);
  return {b.mul(alpha, scale), scale, scalar_arg(b, call, first + 2, like, 1)};
}

Value elu(Builder& b, const OpCall& call, Value x) {
  EluCoefficients c = elu_coefficients(b, call, 1, x);
  Value negative = b.mul(b.unary(UnaryOp::kExpm1, b.mul(x, c.input_scale)), c.negative);
  return b.select(compare(b, ComparisonDirection::kLE, x, 0), negative, b.mul(x, c.positive));
}

// elu_backward(grad, alpha, scale, input_scale, is_result, self_or_result).
std::vector<Value> elu_backward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 5});
  Value grad = f.values[0];
  Value y = f.values[1];  // the input, or the output when is_result
  EluCoefficients c = elu_coefficients(b, call, 1, y);
  Value negative;
  if (call.bool_at(4)) {
    negative = b.mul(b.mul(grad, c.input_scale), b.add(y, c.negative));
  } else {
    negative =
        b.mul(b.mul(b.mul(grad, c.input_scale), c.negative), exp(b, b.mul(y, c.input_scale)));
  }
  Value result =
      b.select(compare(b, ComparisonDirection::kLE, y, 0), negative, b.mul(grad, c.positive));
  return {b.convert(result, f.type)};
}

// Above the threshold (of x * beta) softplus is the identity, for stability.
Value softplus(Builder& b, const OpCall& call, Value x) {
  Value beta = scalar_arg(b, call, 1, x, 1);
  Value threshold = scalar_arg(b, call, 2, x, 20);
  Value scaled = b.mul(x, beta);
  Value smooth = b.div(b.unary(UnaryOp::kLog1p, exp(b, scaled)), beta);
  return b.select(compare(b, ComparisonDirection::kGT, scaled, threshold), x, smooth);
}

Value softplus_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value beta = scalar_arg(b, call, 2, x, 1);
  Value threshold = scalar_arg(b, call, 3, x, 20);
  Value scaled = b.mul(x, beta);
  Value z = exp(b, scaled);
  Value smooth = b.div(b.mul(grad, z), b.add(z, constant_like(b, 1, z)));
  return b.select(compare(b, ComparisonDirection::kGT, scaled, threshold), grad, smooth);
}

// --- hardsigmoid, hardswish ---------------------------------------------------

// min(max(x + 3, 0), 6), propagating NaN as std::min/std::max do in PyTorch.
Value relu6_of_x_plus_3(Builder& b, Value x) {
  Value shifted = b.add(x, constant_like(b, 3, x));
  return b.min(b.max(shifted, constant_like(b, 0, x)), constant_like(b, 6, x));
}

Value hardsigmoid(Builder& b, const OpCall&, Value x) {
  return b.div(relu6_of_x_plus_3(b, x), constant_like(b, 6, x));
}

// PyTorch's kernel multiplies by 1/6 rounded to f32, even for f64.
Value hardsigmoid_backward(Builder& b, const OpCall&, Value grad, Value x) {
  Value inside = b.binary(stablehlo::BinaryOp::kAnd, compare(b, ComparisonDirection::kGT, x, -3),
                          compare(b, ComparisonDirection::kLT, x, 3));
  const double one_sixth = static_cast<float>(1.0 / 6.0);
  return b.select(inside, b.mul(grad, constant_like(b, one_sixth, grad)),
                  constant_like(b, 0, grad));
}

Value hardswish(Builder& b, const OpCall&, Value x) {
  return b.div(b.mul(x, relu6_of_x_plus_3(b, x)), constant_like(b, 6, x));
}

// 0 up to -3 (inclusive), x / 3 + 1/2 below 3, 1 from 3 on: PyTorch's choice at the kinks.
Value hardswish_backward(Builder& b, const OpCall&, Value grad, Value x) {
  Value middle = b.mul(grad, b.add(b.div(x, constant_like(b, 3, x)), constant_like(b, 0.5, x)));
  Value upper = b.select(compare(b, ComparisonDirection::kLT, x, 3), middle, grad);
  return b.select(compare(b, ComparisonDirection::kLE, x, -3), constant_like(b, 0, grad), upper);
}

// --- log_sigmoid --------------------------------------------------------------

// min(x, 0) - log1p(exp(-|x|)); the buffer is exp(-|x|), which CPU's backward reads.
std::vector<Value> log_sigmoid_forward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0});
  Value x = f.values[0];
  Value z = exp(b, b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kAbs, x)));
  Value output = b.sub(b.min(x, constant_like(b, 0, x)), b.unary(UnaryOp::kLog1p, z));
  return {b.convert(output, f.type), b.convert(z, f.type)};
}

// log_sigmoid_backward(grad_output, self, buffer): grad * (max_deriv - sign * z / (1 + z)),
// max_deriv 1 and sign 1 for negative inputs, 0 and -1 otherwise.
std::vector<Value> log_sigmoid_backward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 1, 2});
  Value grad = f.values[0], x = f.values[1], z = f.values[2];
  Value negative = compare(b, ComparisonDirection::kLT, x, 0);
  Value ratio = b.div(z, b.add(constant_like(b, 1, z), z));
  Value derivative = b.select(negative, b.sub(constant_like(b, 1, z), ratio), ratio);
  return {b.convert(b.mul(derivative, grad), f.type)};
}

// --- shrinks, glu, prelu ----------------------------------------------------

// -lambda <= x <= lambda (false for NaN). The lambda bound is a run-time
// value, so CPU's check that it is not negative is not made.
Value within(Builder& b, Value x, Value lambd) {
  return b.binary(stablehlo::BinaryOp::kAnd,
                  compare(b, ComparisonDirection::kGE, x, b.unary(UnaryOp::kNegate, lambd)),
                  compare(b, ComparisonDirection::kLE, x, lambd));
}

Value hardshrink(Builder& b, const OpCall& call, Value x) {
  return b.select(within(b, x, scalar_arg(b, call, 1, x, 0.5)), constant_like(b, 0, x), x);
}

Value hardshrink_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value inside = within(b, x, scalar_arg(b, call, 2, x, 0.5));
  return b.select(inside, constant_like(b, 0, grad), grad);
}

// x - lambda above lambda, x + lambda below -lambda, else x * 0 (NaN stays NaN).
Value softshrink(Builder& b, const OpCall& call, Value x) {
  Value lambd = scalar_arg(b, call, 1, x, 0.5);
  Value above = compare(b, ComparisonDirection::kGT, x, lambd);
  Value below = compare(b, ComparisonDirection::kLT, x, b.unary(UnaryOp::kNegate, lambd));
  return b.select(above, b.sub(x, lambd),
                  b.select(below, b.add(x, lambd), b.mul(x, constant_like(b, 0, x))));
}

// The gradient is 0 within the bounds (and for NaN, as CPU's a > l || a < -l).
Value softshrink_backward(Builder& b, const OpCall& call, Value grad, Value x) {
  Value lambd = scalar_arg(b, call, 2, x, 0.5);
  Value outside =
      b.binary(stablehlo::BinaryOp::kOr, compare(b, ComparisonDirection::kGT, x, lambd),
               compare(b, ComparisonDirection::kLT, x, b.unary(UnaryOp::kNegate, lambd)));
  return b.select(outside, grad, constant_like(b, 0, grad));
}

// The two halves of `x` along `dim`, which must be even.
std::pair<Value, Value> glu_halves(Builder& b, Value x, int64_t dim) {
  std::vector<int64_t> dims = b.dims(x);
  if (dims.empty()) {
    throw InvalidArgument("glu does not support scalars because halving size must be even");
  }
  dim = wrap_dim(dim, static_cast<int64_t>(dims.size()));
  if (dims[dim] % 2 != 0) {
    throw InvalidArgument("Halving dimension must be even, but dimension " + std::to_string(dim) +
                          " is size " + std::to_string(dims[dim]));
  }
  std::vector<int64_t> start(dims.size(), 0), limit = dims;
  limit[dim] = dims[dim] / 2;
  Value first = b.slice(x, start, limit);
  start[dim] = dims[dim] / 2;
  limit[dim] = dims[dim];
  return {first, b.slice(x, start, limit)};
}

// glu(x, dim) = a * sigmoid(b) for the halves a, b of x.
std::vector<Value> glu_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0});
  auto [first, second] = glu_halves(b, f.values[0], call.size() > 1 ? call.int_at(1) : -1);
  return {b.convert(b.mul(first, sigmoid(b, second)), f.type)};
}

// glu_backward(grad, x, dim): d/da = sigmoid(b), d/db = a sigmoid(b) (1 - sigmoid(b)).
// grad has the halves' shape, so the operands are not broadcast together.
std::vector<Value> glu_backward_rule(Builder& b, const OpCall& call) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (!is_floating(type)) no_kernel(call, type);
  Value grad = b.convert(call.tensor(0).value, opmath_type(type));
  Value x = b.convert(call.tensor(1).value, opmath_type(type));
  const int64_t dim = wrap_dim(call.int_at(2), static_cast<int64_t>(b.dims(x).size()));
  auto [first, second] = glu_halves(b, x, dim);
  if (b.dims(grad) != b.dims(first)) {
    throw InvalidArgument("glu_backward: grad_output has the wrong shape");
  }
  Value gate = sigmoid(b, second);
  Value grad_first = b.mul(grad, gate);
  Value grad_second = b.mul(b.mul(grad_first, first), b.sub(constant_like(b, 1, gate), gate));
  return {b.convert(b.concatenate({grad_first, grad_second}, dim), type)};
}

// _prelu_kernel(x, weight): x above zero, weight * x elsewhere (weight already
// shaped to broadcast).
std::vector<Value> prelu_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 1});
  Value x = f.values[0], w = f.values[1];
  return {b.convert(b.select(compare(b, ComparisonDirection::kGT, x, 0), x, b.mul(w, x)), f.type)};
}

// (grad_input, grad_weight), both of the broadcast shape; autograd sums the
// weight's gradient down to its shape.
std::vector<Value> prelu_backward_rule(Builder& b, const OpCall& call) {
  Floating f = floating_operands(b, call, {0, 1, 2});
  Value grad = f.values[0], x = f.values[1], w = f.values[2];
  Value positive = compare(b, ComparisonDirection::kGT, x, 0);
  Value grad_input = b.select(positive, grad, b.mul(w, grad));
  Value grad_weight = b.select(positive, constant_like(b, 0, x), b.mul(x, grad));
  return {b.convert(grad_input, f.type), b.convert(grad_weight, f.type)};
}

}  // namespace

void add_activation_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("relu", &relu_rule);
  add("gelu", &unary_rule<gelu>);
  add("gelu_backward", &backward_rule<gelu_backward>);
  add("silu", &silu_rule);
  add("silu_backward", &backward_rule<silu_backward>);
  add("mish", &unary_rule<mish>);
  add("mish_backward", &mish_backward_rule);
  add("leaky_relu", &unary_rule<leaky_relu>);
  add("leaky_relu_backward", &backward_rule<leaky_relu_backward>);
  add("hardtanh", &hardtanh_rule);
  add("hardtanh_backward", &backward_rule<hardtanh_backward>);
  add("threshold", &threshold_rule);
  add("threshold_backward", &threshold_backward_rule);
  add("sigmoid_backward", &backward_rule<sigmoid_backward>);
  add("tanh_backward", &backward_rule<tanh_backward>);
  add("elu", &unary_rule<elu>);
  add("elu_backward", &elu_backward_rule);
  add("softplus", &unary_rule<softplus>);
  add("softplus_backward", &backward_rule<softplus_backward>);
  add("hardsigmoid", &unary_rule<hardsigmoid>);
  add("hardsigmoid_backward", &backward_rule<hardsigmoid_backward>);
  add("hardswish", &unary_rule<hardswish>);
  add("hardswish_backward", &backward_rule<hardswish_backward>);
  add("log_sigmoid_forward", &log_sigmoid_forward_rule);
  add("log_sigmoid_backward", &log_sigmoid_backward_rule);
  add("hardshrink", &unary_rule<hardshrink>);
  add("hardshrink_backward", &backward_rule<hardshrink_backward>);
  add("softshrink", &unary_rule<softshrink>);
  add("softshrink_backward", &backward_rule<softshrink_backward>);
  add("glu", &glu_rule);
  add("glu_backward", &glu_backward_rule);
  add("_prelu_kernel", &prelu_rule);
  add("_prelu_kernel_backward", &prelu_backward_rule);
}

}  // namespace torch_pjrt::lowering
