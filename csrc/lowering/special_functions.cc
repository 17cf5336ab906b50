// The error-function family of torch.special beyond erf/erfc (erfcx, ndtri,
// log_ndtr) and Airy's Ai, with CPU's values at the infinities, outside the
// domain and for NaN. Chebyshev series from special_function_series.h carry
// the smooth parts; the exponential and oscillating factors are closed forms.
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "lowering/broadcast.h"
#include "lowering/chebyshev_series.h"
#include "lowering/rule_table.h"
#include "lowering/special_function_series.h"
#include "lowering/unary_special.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;
using namespace special_math;

// --- erfcx(x) = exp(x^2) erfc(x) ----------------------------------------------

// For x >= 0: series on [0, 2] and [2, 10]; beyond, the asymptotic series
// 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2x^2)^k, whose 13 terms reach double
// precision there. 0 at inf.
Value erfcx_nonnegative(Builder& b, Value x) {
  Value small = chebyshev_series(b, series::kErfcxSmall, b.sub(x, c(b, 1, x)));
  Value middle = chebyshev_series(b, series::kErfcxMiddle, scaled(b, x, 0.25, -1.5));
  Value u = b.div(c(b, 0.5, x), b.mul(x, x));
  constexpr int kTerms = 13;
  double coefficients[kTerms];
  coefficients[0] = 1;
  for (int k = 1; k < kTerms; ++k) coefficients[k] = -coefficients[k - 1] * (2 * k - 1);
  Value sum = c(b, coefficients[kTerms - 1], x);
  for (int k = kTerms - 2; k >= 0; --k) sum = b.add(c(b, coefficients[k], x), b.mul(u, sum));
  Value asymptotic = b.div(sum, b.mul(x, c(b, std::sqrt(kPi), x)));
  return b.select(le(b, x, 2), small, b.select(le(b, x, 10), middle, asymptotic));
}

// Below 0, erfcx(x) = 2 exp(x^2) - erfcx(-x): inf once exp(x^2) overflows.
Value erfcx(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  Value positive = erfcx_nonnegative(b, a);
  Value reflected = b.sub(b.mul(c(b, 2, x), b.unary(UnaryOp::kExp, b.mul(x, x))), positive);
  return b.select(lt(b, x, 0), reflected, positive);
}

// --- log_ndtr(x) = log(Phi(x)) ------------------------------------------------

// log1p(-erfc(t)/2) while Phi is not small; below x = -1, log(erfcx(-t)/2) -
// t^2, which stays finite as Phi underflows.
Value log_ndtr(Builder& b, Value x) {
  Value t = b.mul(x, c(b, 1 / std::numbers::sqrt2, x));
  Value upper = b.unary(UnaryOp::kLog1p, b.mul(b.unary(UnaryOp::kErfc, t), c(b, -0.5, x)));
  Value lower =
      b.sub(b.unary(UnaryOp::kLog, b.mul(erfcx(b, b.unary(UnaryOp::kNegate, t)), c(b, 0.5, x))),
            b.mul(t, t));
  return b.select(lt(b, x, -1), lower, upper);
}

// --- ndtri(p), the inverse of Phi ---------------------------------------------

// Central part |p - 1/2| <= 0.425: (p - 1/2) times a series in (p - 1/2)^2.
// Tails: a series in r = sqrt(-log(min(p, 1 - p))), on [r(0.075), 5] and [5,
// 27.5] (r of the smallest f64 subnormal is 27.3). +-inf at 1 and 0, NaN
// outside [0, 1].
constexpr double kCentralHalfWidth = 0.425;

Value ndtri(Builder& b, Value p) {
  const double near_low = std::sqrt(-std::log(0.5 - kCentralHalfWidth));
  Value q = b.sub(p, c(b, 0.5, p));
  const double w2 = kCentralHalfWidth * kCentralHalfWidth;
  Value central =
      b.mul(q, chebyshev_series(b, series::kNdtriCentral, scaled(b, b.mul(q, q), 2 / w2, -1)));
  Value lower_half = lt(b, p, 0.5);
  Value tail_p = b.select(lower_half, p, b.sub(c(b, 1, p), p));
  Value r = b.unary(UnaryOp::kSqrt, b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kLog, tail_p)));
  Value near =
      chebyshev_series(b, series::kNdtriTailNear,
                       scaled(b, r, 2 / (5 - near_low), -1 - 2 * near_low / (5 - near_low)));
  Value far = chebyshev_series(b, series::kNdtriTailFar, scaled(b, r, 2 / 22.5, -1 - 10 / 22.5));
  Value tail = b.select(le(b, r, 5), near, far);
  tail = b.select(lower_half, b.unary(UnaryOp::kNegate, tail), tail);
  Value result = b.select(le(b, b.unary(UnaryOp::kAbs, q), kCentralHalfWidth), central, tail);
  result = b.select(eq(b, p, 0), c(b, -kInf, p), result);
  result = b.select(eq(b, p, 1), c(b, kInf, p), result);
  Value outside = b.binary(stablehlo::BinaryOp::kOr, lt(b, p, 0), gt(b, p, 1));
  return b.select(outside, c(b, kNaN, p), result);
}

// --- Airy's Ai ------------------------------------------------------------------

// A series on [-8, 3]. Above 3, exp(-z) / (2 sqrt(pi) x^(1/4)) times a series
// in 1/z, z = 2/3 x^(3/2). Below -8, |x|^(-1/4) / sqrt(pi) (sin(z + pi/4) f -
// cos(z + pi/4) g) with f and z g series in 1/z. NaN at the infinities.
Value airy_ai(Builder& b, Value x) {
  Value a = b.unary(UnaryOp::kAbs, x);
  Value z = b.mul(c(b, 2.0 / 3, x), b.mul(a, b.unary(UnaryOp::kSqrt, a)));
  Value fourth_root = b.unary(UnaryOp::kSqrt, b.unary(UnaryOp::kSqrt, a));
  Value middle = chebyshev_series(b, series::kAiryMiddle, scaled(b, x, 2.0 / 11, 5.0 / 11));

  const double z3 = 2.0 / 3 * std::pow(3.0, 1.5);
  Value t3 = b.sub(b.div(c(b, 2 * z3, x), z), c(b, 1, x));
  Value positive = b.div(b.mul(chebyshev_series(b, series::kAiryPositive, t3),
                               b.unary(UnaryOp::kExp, b.unary(UnaryOp::kNegate, z))),
                         b.mul(fourth_root, c(b, 2 * std::sqrt(kPi), x)));

  const double z8 = 2.0 / 3 * std::pow(8.0, 1.5);
  Value t8 = b.sub(b.div(c(b, 2 * z8, x), z), c(b, 1, x));
  Value f = chebyshev_series(b, series::kAiryNegativeF, t8);
  Value g = b.div(chebyshev_series(b, series::kAiryNegativeG, t8), z);
  Value theta = b.add(z, c(b, kPi / 4, x));
  Value wave =
      b.sub(b.mul(b.unary(UnaryOp::kSin, theta), f), b.mul(b.unary(UnaryOp::kCos, theta), g));
  Value negative = b.div(wave, b.mul(fourth_root, c(b, std::sqrt(kPi), x)));

  Value result = b.select(lt(b, x, -8), negative, b.select(le(b, x, 3), middle, positive));
  return b.select(eq(b, a, kInf), c(b, kNaN, x), result);
}

// --- regularized incomplete gamma P(a, x) = igamma, Q(a, x) = igammac --------

// For x < a + 1 the series P = x^a e^-x / Gamma(a) sum_n x^n / (a (a+1) ...
// (a+n)), otherwise Legendre's continued fraction for Q (Lentz's method),
// iterated in one while loop until every element has converged. The other of
// P and Q is the complement. Edge values as on CPU: NaN for a < 0 or x < 0, P
// = 1 at a = 0 (x > 0), 0 at x = 0, 0 at a = inf (NaN when x is also inf), 1
// at x = inf.
constexpr int kMaxIncompleteGammaSteps = 10000;

// log(x^a e^-x / Gamma(a)) for a, x > 0. Directly, a log x - x - lgamma(a)
// loses about a log(x) ulps to cancellation; for a >= 10 Stirling's series
// lgamma(a) = (a - 1/2) log a - a + log(2 pi)/2 + sum_k B_2k / (2k (2k-1)
// a^(2k-1)) turns it into a (log1p(u) - u) + log(a)/2 - log(2 pi)/2 - sum,
// u = (x - a) / a, whose error scales with |x - a| instead.
Value log_gamma_prefactor(Builder& b, Value a, Value x) {
  Value direct = b.sub(b.sub(b.mul(a, b.unary(UnaryOp::kLog, x)), x), b.unary(UnaryOp::kLgamma, a));
  // B_2k / (2k (2k - 1)) for k = 1..7; the next term is below 1e-17 at a = 10.
  constexpr double kStirling[] = {1.0 / 12,   -1.0 / 360,        1.0 / 1260, -1.0 / 1680,
                                  1.0 / 1188, -691.0 / 360360.0, 1.0 / 156};
  Value large_a = b.select(lt(b, a, 10), c(b, 10, a), a);  // keeps the unused lanes finite
  Value inverse_square = b.div(c(b, 1, a), b.mul(large_a, large_a));
  Value tail = c(b, kStirling[6], a);
  for (int k = 5; k >= 0; --k) tail = b.add(c(b, kStirling[k], a), b.mul(inverse_square, tail));
  tail = b.div(tail, large_a);
  Value u = b.div(b.sub(x, large_a), large_a);
  Value stirling = b.mul(large_a, b.sub(b.unary(UnaryOp::kLog1p, u), u));
  stirling = b.add(stirling, b.mul(c(b, 0.5, a), b.unary(UnaryOp::kLog, large_a)));
  stirling = b.sub(b.sub(stirling, c(b, 0.5 * std::log(2 * kPi), a)), tail);
  return b.select(lt(b, a, 10), direct, stirling);
}

std::vector<Value> incomplete_gamma(Builder& b, Value a, Value x) {
  const ElementType element = b.element_type(a);
  const bool is_f64 = element == ElementType::kF64;
  const double eps = is_f64 ? 0x1p-53 : 0x1p-24;
  const double tiny = is_f64 ? 1e-300 : 1e-30;
  auto both = [&](Value p, Value q) { return b.binary(stablehlo::BinaryOp::kAnd, p, q); };
  auto either = [&](Value p, Value q) { return b.binary(stablehlo::BinaryOp::kOr, p, q); };

  // Elements with an edge value take no part in the iteration.
  Value regular =
      both(both(gt(b, a, 0), gt(b, x, 0)), both(lt(b, a, kInf), lt(b, x, kInf)));  // false for NaN
  Value one = c(b, 1, a);
  Value sa = b.select(regular, a, one);
  Value sx = b.select(regular, x, one);
  Value use_series = b.compare(ComparisonDirection::kLT, sx, b.add(sa, one));

  Value inverse_a = b.div(one, sa);
  Value cf_b = b.sub(b.add(sx, one), sa);
  Value cf_d = b.div(one, cf_b);
  const TensorType scalar_type{element, {}};
  std::vector<int64_t> dims(b.dims(a).size());
  for (size_t d = 0; d < dims.size(); ++d) dims[d] = static_cast<int64_t>(d);
  // {step, a, x, series?, done, sum, term, a + n, cf_b, cf_c, cf_d, cf_h}
  std::vector<Value> loop = b.while_loop(
      {b.splat(1, scalar_type), sa, sx, use_series, b.unary(UnaryOp::kNot, regular), inverse_a,
       inverse_a, sa, cf_b, c(b, 1 / tiny, a), cf_d, cf_d},
      [&](Builder& rb, const std::vector<Value>& v) {
        Value pending = rb.reduce(
            rb.unary(UnaryOp::kNot, v[4]), rb.constant(0, ElementType::kPred), dims,
            [](Builder& r, const std::vector<Value>& acc) {
              return std::vector<Value>{r.binary(stablehlo::BinaryOp::kOr, acc[0], acc[1])};
            });
        Value in_budget = rb.compare(ComparisonDirection::kLE, v[0],
                                     rb.splat(kMaxIncompleteGammaSteps, rb.type(v[0])));
        return std::vector<Value>{rb.binary(stablehlo::BinaryOp::kAnd, pending, in_budget)};
      },
      [&](Builder& rb, const std::vector<Value>& v) {
        auto k = [&](double value) { return rb.splat(value, rb.type(v[1])); };
        auto abs = [&](Value t) { return rb.unary(UnaryOp::kAbs, t); };
        auto less = [&](Value p, Value q) { return rb.compare(ComparisonDirection::kLT, p, q); };
        Value step = rb.broadcast_in_dim(v[0], rb.dims(v[1]), {});
        Value active = rb.unary(UnaryOp::kNot, v[4]);
        // Series.
        Value ap = rb.add(v[7], k(1));
        Value term = rb.mul(v[6], rb.div(v[2], ap));
        Value sum = rb.add(v[5], term);
        Value series_done = less(abs(term), rb.mul(abs(sum), k(eps)));
        // Continued fraction.
        Value an = rb.mul(rb.unary(UnaryOp::kNegate, step), rb.sub(step, v[1]));
        Value cb = rb.add(v[8], k(2));
        Value d = rb.add(rb.mul(an, v[10]), cb);
        d = rb.select(less(abs(d), k(tiny)), k(tiny), d);
        Value cc = rb.add(cb, rb.div(an, v[9]));
        cc = rb.select(less(abs(cc), k(tiny)), k(tiny), cc);
        d = rb.div(k(1), d);
        Value delta = rb.mul(d, cc);
        Value h = rb.mul(v[11], delta);
        Value cf_done = less(abs(rb.sub(delta, k(1))), k(eps));

        Value series_active = rb.binary(stablehlo::BinaryOp::kAnd, active, v[3]);
        Value cf_active =
            rb.binary(stablehlo::BinaryOp::kAnd, active, rb.unary(UnaryOp::kNot, v[3]));
        Value done = rb.select(v[3], series_done, cf_done);
        return std::vector<Value>{rb.add(v[0], rb.splat(1, rb.type(v[0]))),
                                  v[1],
                                  v[2],
                                  v[3],
                                  rb.binary(stablehlo::BinaryOp::kOr, v[4], done),
                                  rb.select(series_active, sum, v[5]),
                                  rb.select(series_active, term, v[6]),
                                  rb.select(series_active, ap, v[7]),
                                  rb.select(cf_active, cb, v[8]),
                                  rb.select(cf_active, cc, v[9]),
                                  rb.select(cf_active, d, v[10]),
                                  rb.select(cf_active, h, v[11])};
      });
  Value prefactor = b.unary(UnaryOp::kExp, log_gamma_prefactor(b, sa, sx));
  Value series_p = b.mul(prefactor, loop[5]);
  Value fraction_q = b.mul(prefactor, loop[11]);
  Value p = b.select(use_series, series_p, b.sub(one, fraction_q));
  Value q = b.select(use_series, b.sub(one, series_p), fraction_q);

  // Edge values, the later ones taking precedence as CPU checks them first.
  Value nan = c(b, kNaN, a);
  Value zero = c(b, 0, a);
  Value is_inf_x = eq(b, x, kInf);
  p = b.select(regular, p, nan);
  q = b.select(regular, q, nan);
  p = b.select(is_inf_x, one, p);
  q = b.select(is_inf_x, zero, q);
  Value inf_a = eq(b, a, kInf);
  p = b.select(inf_a, b.select(is_inf_x, nan, zero), p);
  q = b.select(inf_a, b.select(is_inf_x, nan, one), q);
  Value zero_x = eq(b, x, 0);
  p = b.select(zero_x, zero, p);
  q = b.select(zero_x, one, q);
  Value zero_a = eq(b, a, 0);
  Value positive_x = gt(b, x, 0);
  p = b.select(zero_a, b.select(positive_x, one, nan), p);
  q = b.select(zero_a, b.select(positive_x, zero, nan), q);
  Value negative = either(lt(b, a, 0), lt(b, x, 0));
  return {b.select(negative, nan, p), b.select(negative, nan, q)};
}

// igamma(a, x) / igammac(a, x): floating types only, halves in f32.
template <bool complement>
std::vector<Value> incomplete_gamma_rule(Builder& b, const OpCall& call) {
  const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
  if (!stablehlo::is_floating(type)) {
    throw_no_kernel(complement ? "igammac_cpu" : "igamma_cpu", type);
  }
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, opmath_type(type));
  std::vector<Value> pq = incomplete_gamma(b, v[0], v[1]);
  return {b.convert(pq[complement ? 1 : 0], type)};
}

template <SpecialFunction f>
std::vector<Value> unary_rule(Builder& b, const OpCall& call) {
  std::string kernel(call.name);
  if (kernel.starts_with("special_")) kernel = kernel.substr(8);
  return lower_unary_special(b, call, f, kernel + "_cpu", false);
}

}  // namespace

void add_special_function_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("special_erfcx", &unary_rule<erfcx>);
  add("special_log_ndtr", &unary_rule<log_ndtr>);
  add("special_ndtri", &unary_rule<ndtri>);
  add("special_airy_ai", &unary_rule<airy_ai>);
  add("igamma", &incomplete_gamma_rule<false>);
  add("igammac", &incomplete_gamma_rule<true>);
}

}  // namespace torch_pjrt::lowering
