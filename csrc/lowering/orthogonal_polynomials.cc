// The classical orthogonal polynomials of torch.special, P_n(x) with a
// (possibly fractional, possibly tensor) degree n: Chebyshev T/U/V/W and their
// shifted forms on [0, 1], Hermite H and He, Laguerre L and Legendre P.
//
// Each is evaluated by its three-term recurrence in a while loop that runs up
// to the largest degree present, masking the elements whose degree is
// reached, so one program serves every n. As on CPU, a Chebyshev polynomial
// inside (-1, 1) with a high degree uses its trigonometric closed form, and
// the end points have closed values, so neither needs the loop.
#include <cmath>
#include <string>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

enum class Family {
  kChebyshevT,
  kChebyshevU,
  kChebyshevV,
  kChebyshevW,
  kHermiteH,
  kHermiteHe,
  kLaguerre,
  kLegendre
};

bool is_chebyshev(Family f) {
  return f == Family::kChebyshevT || f == Family::kChebyshevU || f == Family::kChebyshevV ||
         f == Family::kChebyshevW;
}

// Elementwise helpers on values of one floating type.
struct Ops {
  Builder& b;
  Value c(double v, Value like) const { return b.splat(v, b.type(like)); }
  Value cmp(ComparisonDirection d, Value x, double v) const { return b.compare(d, x, c(v, x)); }
  Value both(Value p, Value q) const { return b.binary(BinaryOp::kAnd, p, q); }
  Value either(Value p, Value q) const { return b.binary(BinaryOp::kOr, p, q); }
  Value twice(Value x) const { return b.add(x, x); }
};

// The degree as CPU's kernels see it, static_cast<int64_t>(n): truncated
// toward zero; NaN, infinities and values out of int64's range become
// INT64_MIN on x86, a negative degree. Returned as a float holding the
// integer, -1 standing for every negative degree.
Value integer_degree(const Ops& o, Value n) {
  Builder& b = o.b;
  Value truncated = b.select(o.cmp(ComparisonDirection::kLT, n, 0), b.unary(UnaryOp::kCeil, n),
                             b.unary(UnaryOp::kFloor, n));
  Value in_range = o.cmp(ComparisonDirection::kLT, b.unary(UnaryOp::kAbs, n), 0x1p63);
  Value degree = b.select(in_range, truncated, o.c(-1, n));
  return b.select(o.cmp(ComparisonDirection::kLT, degree, 0), o.c(-1, n), degree);
}

// (-1)^n for an integer-valued n >= 0.
Value alternating_sign(const Ops& o, Value n) {
  Builder& b = o.b;
  Value half = b.unary(UnaryOp::kFloor, b.mul(n, o.c(0.5, n)));
  Value odd = b.compare(ComparisonDirection::kNE, o.twice(half), n);
  return b.select(odd, o.c(-1, n), o.c(1, n));
}

// P_1: the first polynomial of each recurrence.
Value degree_one(const Ops& o, Family f, Value y) {
  Builder& b = o.b;
  switch (f) {
    case Family::kChebyshevT:
    case Family::kHermiteHe:
    case Family::kLegendre:
      return y;
    case Family::kChebyshevU:
    case Family::kHermiteH:
      return o.twice(y);
    case Family::kChebyshevV:
      return b.sub(o.twice(y), o.c(1, y));
    case Family::kChebyshevW:
      return b.add(o.twice(y), o.c(1, y));
    case Family::kLaguerre:
      return b.sub(o.c(1, y), y);
  }
  return y;
}

// P_{k+1} from P_{k-1} (p) and P_k (q).
Value next_degree(const Ops& o, Family f, Value k, Value y, Value p, Value q) {
  Builder& b = o.b;
  switch (f) {
    case Family::kChebyshevT:
    case Family::kChebyshevU:
    case Family::kChebyshevV:
    case Family::kChebyshevW:
      return b.sub(b.mul(o.twice(y), q), p);
    case Family::kHermiteH:
      return b.sub(b.mul(o.twice(y), q), b.mul(o.twice(k), p));
    case Family::kHermiteHe:
      return b.sub(b.mul(y, q), b.mul(k, p));
    case Family::kLaguerre: {
      Value odd = b.add(o.twice(k), o.c(1, k));
      return b.div(b.sub(b.mul(b.sub(odd, y), q), b.mul(k, p)), b.add(k, o.c(1, k)));
    }
    case Family::kLegendre: {
      Value odd = b.add(o.twice(k), o.c(1, k));
      return b.div(b.sub(b.mul(b.mul(odd, y), q), b.mul(k, p)), b.add(k, o.c(1, k)));
    }
  }
  return q;
}

// The Chebyshev polynomials at y = cos(theta): T = cos(n theta), U = sin((n +
// 1) theta) / sin(theta), V = cos((n + 1/2) theta) / cos(theta / 2), W =
// sin((n + 1/2) theta) / sin(theta / 2). Accurate where the recurrence loses
// digits, for |y| < 1.
Value trigonometric_form(const Ops& o, Family f, Value y, Value n) {
  Builder& b = o.b;
  Value theta = b.unary(UnaryOp::kAcos, y);
  auto angle = [&](double offset) { return b.mul(b.add(n, o.c(offset, n)), theta); };
  Value half_theta = b.mul(theta, o.c(0.5, theta));
  switch (f) {
    case Family::kChebyshevT:
      return b.unary(UnaryOp::kCos, b.mul(n, theta));
    case Family::kChebyshevU:
      return b.div(b.unary(UnaryOp::kSin, angle(1)), b.unary(UnaryOp::kSin, theta));
    case Family::kChebyshevV:
      return b.div(b.unary(UnaryOp::kCos, angle(0.5)), b.unary(UnaryOp::kCos, half_theta));
    default:
      return b.div(b.unary(UnaryOp::kSin, angle(0.5)), b.unary(UnaryOp::kSin, half_theta));
  }
}

// The Chebyshev polynomials at y = 1 and y = -1 (sign = 1 or -1 there).
Value chebyshev_end_value(const Ops& o, Family f, Value at_plus_one, Value n) {
  Builder& b = o.b;
  Value sign = alternating_sign(o, n);
  Value n_plus_one = b.add(n, o.c(1, n));
  Value odd_count = b.add(o.twice(n), o.c(1, n));
  Value one = o.c(1, n);
  switch (f) {
    case Family::kChebyshevT:
      return b.select(at_plus_one, one, sign);
    case Family::kChebyshevU:
      return b.select(at_plus_one, n_plus_one, b.mul(sign, n_plus_one));
    case Family::kChebyshevV:
      return b.select(at_plus_one, one, b.mul(sign, odd_count));
    default:
      return b.select(at_plus_one, odd_count, sign);
  }
}

// Above this degree, Chebyshev values inside (-1, 1) come from the closed form.
double trigonometric_threshold(Family f) { return f == Family::kChebyshevT ? 6 : 8; }

std::vector<int64_t> all_dims(const Builder& b, Value x) {
  std::vector<int64_t> dims(b.dims(x).size());
  for (size_t d = 0; d < dims.size(); ++d) dims[d] = static_cast<int64_t>(d);
  return dims;
}

// P_n(y) for every element whose degree needs the recurrence (loop_degree >=
// 2, else 0): q holds P_k, p P_{k-1}, for k = 1, 2, ... up to the largest
// degree. Other elements come out unchanged, their values chosen later.
Value recurrence(Builder& b, Family f, Value y, Value loop_degree) {
  Ops o{b};
  const TensorType& type = b.type(y);
  const TensorType scalar_type{type.element, {}};
  Value limit = b.reduce(loop_degree, b.constant(0, type.element), all_dims(b, loop_degree),
                         [](Builder& rb, const std::vector<Value>& a) {
                           return std::vector<Value>{rb.max(a[0], a[1])};
                         });
  Value first = degree_one(o, f, y);
  std::vector<Value> loop = b.while_loop(
      {b.splat(1, scalar_type), limit, y, loop_degree, b.splat(1, type), first},
      [](Builder& rb, const std::vector<Value>& v) {
        return std::vector<Value>{rb.compare(ComparisonDirection::kLT, v[0], v[1])};
      },
      [f](Builder& rb, const std::vector<Value>& v) {
        Ops ro{rb};
        Value k = rb.broadcast_in_dim(v[0], rb.dims(v[2]), {});
        Value active = rb.compare(ComparisonDirection::kLT, k, v[3]);
        Value r = next_degree(ro, f, k, v[2], v[4], v[5]);
        Value p = rb.select(active, v[5], v[4]);
        Value q = rb.select(active, r, v[5]);
        return std::vector<Value>{rb.add(v[0], ro.c(1, v[0])), v[1], v[2], v[3], p, q};
      });
  return loop[5];
}

struct Polynomial {
  Family family;
  bool shifted;  // on [0, 1]: P(2x - 1)
  const char* kernel;
};

constexpr Polynomial kPolynomials[] = {
    {Family::kChebyshevT, false, "chebyshev_polynomial_t_cpu"},
    {Family::kChebyshevU, false, "chebyshev_polynomial_u_cpu"},
    {Family::kChebyshevV, false, "chebyshev_polynomial_v_cpu"},
    {Family::kChebyshevW, false, "chebyshev_polynomial_w_cpu"},
    {Family::kChebyshevT, true, "shifted_chebyshev_polynomial_t_cpu"},
    {Family::kChebyshevU, true, "shifted_chebyshev_polynomial_u_cpu"},
    {Family::kChebyshevV, true, "shifted_chebyshev_polynomial_v_cpu"},
    {Family::kChebyshevW, true, "shifted_chebyshev_polynomial_w_cpu"},
    {Family::kHermiteH, false, "hermite_polynomial_h_cpu"},
    {Family::kHermiteHe, false, "hermite_polynomial_he_cpu"},
    {Family::kLaguerre, false, "laguerre_polynomial_l_cpu"},
    {Family::kLegendre, false, "legendre_polynomial_p_cpu"},
};

// (x, n), either of which may be a Python number; integers and bool compute
// in the default float type. CPU has kernels for f32 and f64 only.
template <int index>
std::vector<Value> polynomial_rule(Builder& b, const OpCall& call) {
  const Polynomial& poly = kPolynomials[index];
  const Family f = poly.family;
  const ElementType type = to_floating(
      result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float), call.default_float);
  if (type != ElementType::kF32 && type != ElementType::kF64) throw_no_kernel(poly.kernel, type);
  std::vector<Value> v =
      promote_and_broadcast(b, {call.tensor(0).value, call.tensor(1).value}, type);
  Ops o{b};
  Value x = v[0];
  Value n = integer_degree(o, v[1]);
  Value y = poly.shifted ? b.sub(o.twice(x), o.c(1, x)) : x;

  Value negative = o.cmp(ComparisonDirection::kLT, n, 0);
  Value closed = o.cmp(ComparisonDirection::kLT, n, 2);  // n in {-1, 0, 1}
  Value closed_value =
      b.select(negative, o.c(0, n),
               b.select(o.cmp(ComparisonDirection::kEQ, n, 0), o.c(1, n), degree_one(o, f, y)));
  // Values with a closed form that would otherwise need a long loop.
  Value abs_y = b.unary(UnaryOp::kAbs, y);
  if (is_chebyshev(f)) {
    Value at_end = o.cmp(ComparisonDirection::kEQ, abs_y, 1);
    Value end_value = chebyshev_end_value(o, f, o.cmp(ComparisonDirection::kGT, y, 0), n);
    Value inside = o.both(o.cmp(ComparisonDirection::kLT, abs_y, 1),
                          o.cmp(ComparisonDirection::kGT, n, trigonometric_threshold(f)));
    Value high = trigonometric_form(o, f, y, n);
    closed_value = b.select(closed, closed_value,
                            b.select(at_end, end_value, b.select(inside, high, closed_value)));
    closed = o.either(closed, o.either(at_end, inside));
  } else if (f == Family::kLegendre) {
    Value at_end = o.cmp(ComparisonDirection::kEQ, abs_y, 1);
    Value sign = alternating_sign(o, n);
    Value end_value = b.select(o.cmp(ComparisonDirection::kGT, y, 0), o.c(1, n), sign);
    closed_value = b.select(closed, closed_value, end_value);
    closed = o.either(closed, at_end);
  } else if (f == Family::kLaguerre) {
    Value at_zero = o.cmp(ComparisonDirection::kEQ, y, 0);
    closed_value = b.select(closed, closed_value, o.c(1, n));
    closed = o.either(closed, at_zero);
  }
  Value loop_degree = b.select(closed, o.c(0, n), n);
  Value result = b.select(closed, closed_value, recurrence(b, f, y, loop_degree));
  return {result};
}

}  // namespace

void add_orthogonal_polynomial_rules(RuleTable& table) {
  auto add = [&](std::string name, Rule rule) { table.add(std::move(name), RuleInfo{rule, {}}); };
  add("special_chebyshev_polynomial_t", &polynomial_rule<0>);
  add("special_chebyshev_polynomial_u", &polynomial_rule<1>);
  add("special_chebyshev_polynomial_v", &polynomial_rule<2>);
  add("special_chebyshev_polynomial_w", &polynomial_rule<3>);
  add("special_shifted_chebyshev_polynomial_t", &polynomial_rule<4>);
  add("special_shifted_chebyshev_polynomial_u", &polynomial_rule<5>);
  add("special_shifted_chebyshev_polynomial_v", &polynomial_rule<6>);
  add("special_shifted_chebyshev_polynomial_w", &polynomial_rule<7>);
  add("special_hermite_polynomial_h", &polynomial_rule<8>);
  add("special_hermite_polynomial_he", &polynomial_rule<9>);
  add("special_laguerre_polynomial_l", &polynomial_rule<10>);
  add("special_legendre_polynomial_p", &polynomial_rule<11>);
}

}  // namespace torch_pjrt::lowering
