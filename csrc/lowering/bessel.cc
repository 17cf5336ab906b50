// Bessel functions of orders 0 and 1 (torch.i0, torch.special.i0e/i1/i1e,
// modified_bessel_*, scaled_modified_bessel_k*, bessel_j*/y*) and the
// spherical j0, with CPU's values at 0, below 0, at the infinities and NaN.
//
// Each function is split where its behaviour changes: near 0 a Chebyshev
// series in x^2 (or x) with the logarithmic singularity of the K and Y
// functions added in closed form; far from 0 the exponential or oscillating
// factor in closed form times a Chebyshev series in 1/x (or 1/x^2) for the
// slowly varying amplitude. The series are in special_function_series.h.
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "lowering/chebyshev_series.h"
#include "lowering/rule_table.h"
#include "lowering/special_function_series.h"
#include "lowering/unary_special.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;
using namespace special_math;

// k / x + offset: the variable of the series in 1/x.
Value reciprocal_variable(Builder& b, Value x, double k, double offset) {
  return b.add(b.div(c(b, k, x), x), c(b, offset, x));
}
Value negate_if_negative(Builder& b, Value x, Value value) {
  return b.select(lt(b, x, 0), b.unary(UnaryOp::kNegate, value), value);
}

// --- I: exp(-|x|) I(|x|) on [0, 8] and sqrt(x) exp(-x) I(x) beyond ---------

// exp(-|x|) I0(x); 0 at the infinities.
Value i0e(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  Value small = chebyshev_series(b, series::kI0eSmall, scaled(b, a, 0.25, -1));
  Value large = b.div(chebyshev_series(b, series::kI0eLarge, reciprocal_variable(b, a, 16, -1)),
                      b.unary(UnaryOp::kSqrt, a));
  return b.select(le(b, a, 8), small, large);
}

// exp(-|x|) I1(|x|), with x's sign (a -0 gives +0, as on CPU).
Value i1e_magnitude(Builder& b, Value a) {
  Value small = b.mul(a, chebyshev_series(b, series::kI1eSmall, scaled(b, a, 0.25, -1)));
  Value large = b.div(chebyshev_series(b, series::kI1eLarge, reciprocal_variable(b, a, 16, -1)),
                      b.unary(UnaryOp::kSqrt, a));
  return b.select(le(b, a, 8), small, large);
}
Value i1e(Builder& b, Value x) {
  return negate_if_negative(b, x, i1e_magnitude(b, b.unary(UnaryOp::kAbs, x)));
}

// Unscaled: inf for large |x|, NaN at the infinities (0 * inf), as on CPU.
Value i0(Builder& b, Value x) {
  return b.mul(i0e(b, x), b.unary(UnaryOp::kExp, b.unary(UnaryOp::kAbs, x)));
}
Value i1(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  return negate_if_negative(b, x, b.mul(i1e_magnitude(b, a), b.unary(UnaryOp::kExp, a)));
}

// --- K: a series in x^2 plus log(x/2) I(x) on (0, 2], sqrt(x) exp(x) K(x)
// in 1/x beyond. inf at 0 (either sign), NaN below 0. ------------------------

template <bool exponentially_scaled>
Value k0(Builder& b, Value x) {
  Value near = b.sub(chebyshev_series(b, series::kK0Small, scaled(b, b.mul(x, x), 0.5, -1)),
                     b.mul(b.unary(UnaryOp::kLog, b.mul(x, c(b, 0.5, x))), i0(b, x)));
  Value far = b.div(chebyshev_series(b, series::kK0eLarge, reciprocal_variable(b, x, 4, -1)),
                    b.unary(UnaryOp::kSqrt, x));
  if (exponentially_scaled) {
    near = b.mul(near, b.unary(UnaryOp::kExp, x));
  } else {
    far = b.mul(far, b.unary(UnaryOp::kExp, b.unary(UnaryOp::kNegate, x)));
  }
  Value result = b.select(le(b, x, 2), near, far);
  result = b.select(lt(b, x, 0), c(b, kNaN, x), result);
  return b.select(eq(b, x, 0), c(b, kInf, x), result);
}

template <bool exponentially_scaled>
Value k1(Builder& b, Value x) {
  Value near =
      b.add(b.div(chebyshev_series(b, series::kK1Small, scaled(b, b.mul(x, x), 0.5, -1)), x),
            b.mul(b.unary(UnaryOp::kLog, b.mul(x, c(b, 0.5, x))), i1(b, x)));
  Value far = b.div(chebyshev_series(b, series::kK1eLarge, reciprocal_variable(b, x, 4, -1)),
                    b.unary(UnaryOp::kSqrt, x));
  if (exponentially_scaled) {
    near = b.mul(near, b.unary(UnaryOp::kExp, x));
  } else {
    far = b.mul(far, b.unary(UnaryOp::kExp, b.unary(UnaryOp::kNegate, x)));
  }
  Value result = b.select(le(b, x, 2), near, far);
  result = b.select(lt(b, x, 0), c(b, kNaN, x), result);
  return b.select(eq(b, x, 0), c(b, kInf, x), result);
}

// --- J and Y: series in x^2 on [0, 8]; beyond, Hankel's form
// sqrt(2 / (pi x)) (P cos(chi) - Q sin(chi)) for J and (P sin(chi) + Q
// cos(chi)) for Y, chi = x - (2 order + 1) pi / 4, P and x Q series in 1/x^2.

struct Oscillation {
  Value amplitude;  // sqrt(2 / (pi x))
  Value p, q, cos_chi, sin_chi;
};

template <int order>
Oscillation oscillation(Builder& b, Value a) {
  Value t = reciprocal_variable(b, b.mul(a, a), 128, -1);
  Oscillation o;
  o.amplitude = b.unary(UnaryOp::kSqrt, b.div(c(b, 2 / kPi, a), a));
  if constexpr (order == 0) {
    o.p = chebyshev_series(b, series::kP0, t);
    o.q = b.div(chebyshev_series(b, series::kQ0, t), a);
  } else {
    o.p = chebyshev_series(b, series::kP1, t);
    o.q = b.div(chebyshev_series(b, series::kQ1, t), a);
  }
  Value chi = b.sub(a, c(b, (2 * order + 1) * kPi / 4, a));
  o.cos_chi = b.unary(UnaryOp::kCos, chi);
  o.sin_chi = b.unary(UnaryOp::kSin, chi);
  return o;
}

template <int order>
Value hankel_j(Builder& b, Value a) {
  Oscillation o = oscillation<order>(b, a);
  return b.mul(o.amplitude, b.sub(b.mul(o.p, o.cos_chi), b.mul(o.q, o.sin_chi)));
}
template <int order>
Value hankel_y(Builder& b, Value a) {
  Oscillation o = oscillation<order>(b, a);
  return b.mul(o.amplitude, b.add(b.mul(o.p, o.sin_chi), b.mul(o.q, o.cos_chi)));
}

Value small_variable(Builder& b, Value a) { return scaled(b, b.mul(a, a), 1.0 / 32, -1); }

// Even; NaN at the infinities, as CPU's asymptotic form gives.
Value j0(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  Value near = chebyshev_series(b, series::kJ0Small, small_variable(b, a));
  return b.select(le(b, a, 8), near, hankel_j<0>(b, a));
}

// Odd, -0 at -0.
Value j1(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  Value near = b.mul(x, chebyshev_series(b, series::kJ1Small, small_variable(b, a)));
  return b.select(le(b, a, 8), near, negate_if_negative(b, x, hankel_j<1>(b, a)));
}

// -inf at 0, NaN below.
Value y_edges(Builder& b, Value x, Value result) {
  result = b.select(lt(b, x, 0), c(b, kNaN, x), result);
  return b.select(eq(b, x, 0), c(b, -kInf, x), result);
}

Value y0(Builder& b, Value x) {
  Value log_half = b.unary(UnaryOp::kLog, b.mul(x, c(b, 0.5, x)));
  Value near = b.add(chebyshev_series(b, series::kY0Small, small_variable(b, x)),
                     b.mul(c(b, 2 / kPi, x), b.mul(log_half, j0(b, x))));
  return y_edges(b, x, b.select(le(b, x, 8), near, hankel_y<0>(b, x)));
}

Value y1(Builder& b, Value x) {
  Value log_half = b.unary(UnaryOp::kLog, b.mul(x, c(b, 0.5, x)));
  Value singular = b.sub(b.mul(log_half, j1(b, x)), b.div(c(b, 1, x), x));
  Value near = b.add(b.mul(x, chebyshev_series(b, series::kY1Small, small_variable(b, x))),
                     b.mul(c(b, 2 / kPi, x), singular));
  return y_edges(b, x, b.select(le(b, x, 8), near, hankel_y<1>(b, x)));
}

// sin(x) / x: its Taylor series below 1/2 (no cancellation, 1 at 0), 0 at the
// infinities.
Value spherical_j0(Builder& b, Value x) {
  Value x2 = b.mul(x, x);
  // 1 - x^2/3! + x^4/5! - ..., through x^12, nested.
  Value taylor = c(b, 1, x);
  for (int k = 6; k >= 1; --k) {
    const double ratio = 1.0 / ((2.0 * k) * (2.0 * k + 1));
    taylor = b.sub(c(b, 1, x), b.mul(b.mul(x2, c(b, ratio, x)), taylor));
  }
  Value direct = b.div(b.unary(UnaryOp::kSin, x), x);
  Value result = b.select(lt(b, b.unary(UnaryOp::kAbs, x), 0.5), taylor, direct);
  return b.select(eq(b, b.unary(UnaryOp::kAbs, x), kInf), c(b, 0, x), result);
}

template <SpecialFunction f, bool halves>
std::vector<Value> unary_rule(Builder& b, const OpCall& call) {
  std::string kernel(call.name);
  if (kernel.starts_with("special_")) kernel = kernel.substr(8);
  if (kernel == "i0") kernel = "i0_vml";  // CPU's vectorized kernel's name
  return lower_unary_special(b, call, f, kernel + "_cpu", halves);
}

}  // namespace

void add_bessel_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("i0", &unary_rule<i0, true>);
  add("special_i0e", &unary_rule<i0e, true>);
  add("special_i1", &unary_rule<i1, true>);
  add("special_i1e", &unary_rule<i1e, true>);
  add("special_modified_bessel_i0", &unary_rule<i0, false>);
  add("special_modified_bessel_i1", &unary_rule<i1, false>);
  add("special_modified_bessel_k0", &unary_rule<k0<false>, false>);
  add("special_modified_bessel_k1", &unary_rule<k1<false>, false>);
  add("special_scaled_modified_bessel_k0", &unary_rule<k0<true>, false>);
  add("special_scaled_modified_bessel_k1", &unary_rule<k1<true>, false>);
  add("special_bessel_j0", &unary_rule<j0, false>);
  add("special_bessel_j1", &unary_rule<j1, false>);
  add("special_bessel_y0", &unary_rule<y0, false>);
  add("special_bessel_y1", &unary_rule<y1, false>);
  add("special_spherical_bessel_j0", &unary_rule<spherical_j0, false>);
}

}  // namespace torch_pjrt::lowering
