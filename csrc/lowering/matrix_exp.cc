// Matrix exponential (linalg_matrix_exp, behind matrix_exp and its backward)
// by scaling and squaring with diagonal Padé approximants, as Higham (2005,
// "The scaling and squaring method for the matrix exponential revisited")
// chooses them: each matrix uses the lowest degree m whose bound theta_m
// covers its 1-norm; a matrix above the largest bound is scaled by 2^-s into
// it and the result squared s times. The degree and s differ per batch
// element: every degree's numerator and denominator are formed (they share
// the powers of A) and the right one selected, then one solve, then a
// squaring loop that runs until the largest s, squaring each matrix only
// while its own s lasts.
//
// Every dtype is computed in float64 (complex128) and rounded. CPU's float16
// and bfloat16 results overflow to inf (it evaluates in those types); these
// do not. A matrix with an infinite or NaN entry comes out all NaN, as on CPU.

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/decompositions.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;

struct Degree {
  int degree;
  double theta;  // the largest 1-norm for which degree m meets the unit roundoff
};

// Higham (2005), Table 2.3: the bounds theta_m for double precision.
constexpr std::array<Degree, 5> kDoubleDegrees{{{3, 1.495585217958292e-2},
                                                {5, 2.539398330063230e-1},
                                                {7, 9.504178996162932e-1},
                                                {9, 2.097847961257068e0},
                                                {13, 5.371920351148152e0}}};

// The coefficients of the [m/m] Padé numerator p(x) = sum_j c_j x^j of e^x:
// c_j = (2m - j)! m! / ((2m)! j! (m - j)!), from the recurrence
// c_{j+1} = c_j (m - j) / ((2m - j) (j + 1)).
std::vector<double> pade_coefficients(int m) {
  std::vector<double> c{1.0};
  for (int j = 0; j < m; ++j) c.push_back(c.back() * (m - j) / ((2.0 * m - j) * (j + 1)));
  return c;
}

Value scalar_times(Builder& b, double factor, Value x) {
  const ElementType type = b.element_type(x);
  Value f = stablehlo::is_complex(type) ? b.splat_complex(factor, 0, b.type(x))
                                        : b.splat(factor, b.type(x));
  return b.mul(f, x);
}

// sum_i factors[i] * terms[i]
Value combination(Builder& b, const std::vector<double>& factors, const std::vector<Value>& terms) {
  Value sum = scalar_times(b, factors[0], terms[0]);
  for (size_t i = 1; i < factors.size(); ++i)
    sum = b.add(sum, scalar_times(b, factors[i], terms[i]));
  return sum;
}

// The odd part U and even part V of the degree-m numerator at A, with
// powers = {I, A^2, A^4, A^6, A^8} (as far as m needs): p(A) = V + U and
// q(A) = V - U.
std::pair<Value, Value> pade_parts(Builder& b, int m, Value a, const std::vector<Value>& powers) {
  const std::vector<double> c = pade_coefficients(m);
  if (m == 13) {
    // Evaluated as Higham does to need only A^2, A^4, A^6.
    const Value &i = powers[0], &a2 = powers[1], &a4 = powers[2], &a6 = powers[3];
    Value u_high = combination(b, {c[13], c[11], c[9]}, {a6, a4, a2});
    Value u = b.add(matrix::matmul(b, a6, u_high),
                    combination(b, {c[7], c[5], c[3], c[1]}, {a6, a4, a2, i}));
    u = matrix::matmul(b, a, u);
    Value v_high = combination(b, {c[12], c[10], c[8]}, {a6, a4, a2});
    Value v = b.add(matrix::matmul(b, a6, v_high),
                    combination(b, {c[6], c[4], c[2], c[0]}, {a6, a4, a2, i}));
    return {u, v};
  }
  std::vector<double> odd, even;
  std::vector<Value> terms;
  for (int j = 0; 2 * j <= m; ++j) {
    even.push_back(c[2 * j]);
    odd.push_back(c[2 * j + 1]);
    terms.push_back(powers[j]);
  }
  return {matrix::matmul(b, a, combination(b, odd, terms)), combination(b, even, terms)};
}

// exp of a [C, n, n] batch of float64 or complex128 matrices, C, n > 0.
Value exponential(Builder& b, Value a) {
  const std::vector<int64_t> dims = b.dims(a);
  const int64_t count = dims[0];
  const ElementType type = b.element_type(a);
  const ElementType real = stablehlo::real_part_type(type);
  const bool complex = stablehlo::is_complex(type);
  const std::vector<Degree> degrees(kDoubleDegrees.begin(), kDoubleDegrees.end());
  const TensorType batch_type{real, {count}};
  auto add_reduce = [](Builder& r, const std::vector<Value>& v) {
    return std::vector<Value>{r.add(v[0], v[1])};
  };
  auto max_reduce = [](Builder& r, const std::vector<Value>& v) {
    return std::vector<Value>{r.max(v[0], v[1])};
  };
  Value column_sums = b.reduce(b.unary(UnaryOp::kAbs, a), b.constant(0, real), {1}, add_reduce);
  // Accumulated with select so a NaN column is not skipped by max.
  Value norm = b.reduce(column_sums, b.constant(0, real), {1}, max_reduce);
  Value finite =
      b.binary(BinaryOp::kAnd, b.unary(UnaryOp::kIsFinite, norm),
               b.reduce(b.unary(UnaryOp::kIsFinite, column_sums), b.constant(1, ElementType::kPred),
                        {1}, [](Builder& r, const std::vector<Value>& v) {
                          return std::vector<Value>{r.binary(BinaryOp::kAnd, v[0], v[1])};
                        }));
  const double theta_max = degrees.back().theta;
  Value above = b.compare(ComparisonDirection::kGT, norm, b.splat(theta_max, batch_type));
  Value log2_ratio = b.div(b.unary(UnaryOp::kLog, b.div(norm, b.splat(theta_max, batch_type))),
                           b.splat(std::log(2.0), batch_type));
  // Bounded so that an infinite norm (its result is NaN anyway) stops the loop.
  Value squarings = b.min(b.unary(UnaryOp::kCeil, log2_ratio), b.splat(64, batch_type));
  squarings = b.select(b.binary(BinaryOp::kAnd, above, finite), squarings, b.zeros(batch_type));
  Value scale =
      b.binary(BinaryOp::kPower, b.splat(2, batch_type), b.unary(UnaryOp::kNegate, squarings));
  if (complex) scale = b.convert(scale, type);
  Value scaled = b.mul(a, b.broadcast_in_dim(scale, dims, {0}));

  const int top = degrees.back().degree;
  std::vector<Value> powers{matrix::identity(b, b.type(a)), matrix::matmul(b, scaled, scaled)};
  powers.push_back(matrix::matmul(b, powers[1], powers[1]));
  if (top >= 7) powers.push_back(matrix::matmul(b, powers[2], powers[1]));
  if (top >= 9) powers.push_back(matrix::matmul(b, powers[2], powers[2]));
  auto [u, v] = pade_parts(b, top, scaled, powers);
  for (auto d = degrees.rbegin() + 1; d != degrees.rend(); ++d) {
    auto [u_low, v_low] = pade_parts(b, d->degree, scaled, powers);
    Value within = b.broadcast_in_dim(
        b.compare(ComparisonDirection::kLE, norm, b.splat(d->theta, batch_type)), dims, {0});
    u = b.select(within, u_low, u);
    v = b.select(within, v_low, v);
  }
  Value result = matrix::solve(b, b.sub(v, u), b.add(v, u));

  Value counts = b.convert(squarings, kS32);
  Value most =
      b.reduce(counts, b.constant_int(0, kS32), {0}, [](Builder& r, const std::vector<Value>& x) {
        return std::vector<Value>{r.max(x[0], x[1])};
      });
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, kS32), result, counts, most},
      [&](Builder& r, const std::vector<Value>& s) {
        return std::vector<Value>{r.compare(ComparisonDirection::kLT, s[0], s[3])};
      },
      [&](Builder& r, const std::vector<Value>& s) {
        Value squared = matrix::matmul(r, s[1], s[1]);
        Value pending =
            r.compare(ComparisonDirection::kLT, r.broadcast_in_dim(s[0], {count}, {}), s[2]);
        Value x = r.select(r.broadcast_in_dim(pending, dims, {0}), squared, s[1]);
        return std::vector<Value>{r.add(s[0], r.constant_int(1, kS32)), x, s[2], s[3]};
      });
  Value nan = complex ? b.splat_complex(NAN, NAN, b.type(a)) : b.splat(NAN, b.type(a));
  return b.select(b.broadcast_in_dim(finite, dims, {0}), state[1], nan);
}

// linalg_matrix_exp(self)
std::vector<Value> matrix_exp_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  constexpr const char* kOp = "linalg.matrix_exp";
  const ElementType type = b.element_type(a);
  if (b.rank(a) < 2)
    throw InvalidArgument(std::string(kOp) +
                          ": The input tensor A must have at least 2 dimensions.");
  matrix::check_square(b, a, kOp);
  if (!stablehlo::is_floating(type) && !stablehlo::is_complex(type)) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected a floating point or complex tensor as input. Got " +
                          std::string(scalar_type_name(type)));
  }
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t n = b.dims(a).back(), count = matrix::product(batch);
  if (count == 0 || n == 0) return {b.zeros(b.type(a))};
  // Computed in double precision: the squarings multiply the approximation's
  // relative error by up to 2^s, and CPU's single-precision results are
  // within an ulp or two of exact.
  const ElementType wide = stablehlo::is_complex(type) ? ElementType::kC128 : ElementType::kF64;
  Value x = b.reshape(a, {count, n, n});
  if (type != wide) x = b.convert(x, wide);
  Value result = exponential(b, x);
  if (type != wide) result = b.convert(result, type);
  return {b.reshape(result, b.dims(a))};
}

}  // namespace

void add_matrix_exp_rules(RuleTable& table) {
  table.add("linalg_matrix_exp", {&matrix_exp_rule, {}});
}

}  // namespace torch_pjrt::lowering
