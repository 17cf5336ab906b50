// Symmetric / Hermitian eigendecomposition (_linalg_eigh, behind linalg.eigh
// and linalg.eigvalsh) by cyclic Jacobi rotations.
//
// A sweep rotates every pair (p, q), p < q, once, each rotation zeroing
// A[p, q]; sweeps repeat (a stablehlo.while) until the off-diagonal part is
// negligible against the whole matrix in every batch element, at most
// kMaxSweeps times. Jacobi converges quadratically, so small matrices take a
// handful of sweeps. Eigenvalues come out ascending, as LAPACK's; the sign of
// each eigenvector (its phase, for complex) is not unique and need not match
// LAPACK's. For Hermitian input, a diagonal unitary scaling first makes each
// pivot entry real, and the rotation is then the real one.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;
constexpr int64_t kMaxSweeps = 30;

Value element(Builder& r, Value x, Value i, Value j) {
  const int64_t batch = r.dims(x)[0];
  return r.reshape(r.dynamic_slice(x, {r.constant_int(0, kS32), i, j}, {batch, 1, 1}), {batch});
}

// One rotation of the pair number v[1] of a sweep; state (sweep, pair, a, v).
std::vector<Value> rotation_step(Builder& r, const std::vector<Value>& state, int64_t n) {
  std::vector<int64_t> first, second;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t q = p + 1; q < n; ++q) first.push_back(p), second.push_back(q);
  const auto pairs = static_cast<int64_t>(first.size());
  Value pair = state[1], a = state[2], vectors = state[3];
  Value p = r.reshape(r.dynamic_slice(r.constant_ints(first, {kS32, {pairs}}), {pair}, {1}), {});
  Value q = r.reshape(r.dynamic_slice(r.constant_ints(second, {kS32, {pairs}}), {pair}, {1}), {});
  Value app = element(r, a, p, p), aqq = element(r, a, q, q), apq = element(r, a, p, q);
  if (stablehlo::is_complex(r.element_type(a))) {
    // A unitary diagonal scaling of q first makes a[p, q] real: column q
    // times conj(phase), row q times phase.
    Value phase = matrix::unit_phase(r, apq);
    Value phase_conj = matrix::conj(r, phase);
    a = matrix::scale_slice(r, a, q, phase_conj, true);
    a = matrix::scale_slice(r, a, q, phase, false);
    vectors = matrix::scale_slice(r, vectors, q, phase_conj, true);
    app = r.unary(UnaryOp::kReal, app);
    aqq = r.unary(UnaryOp::kReal, aqq);
    apq = r.unary(UnaryOp::kAbs, apq);
  }
  auto [c, s] = matrix::jacobi_rotation(r, app, aqq, apq);
  a = matrix::rotate_pair(r, a, p, q, c, s, false);
  a = matrix::rotate_pair(r, a, p, q, c, s, true);
  vectors = matrix::rotate_pair(r, vectors, p, q, c, s, true);
  Value next = r.add(pair, r.constant_int(1, kS32));
  Value wrapped = r.compare(ComparisonDirection::kEQ, next, r.constant_int(pairs, kS32));
  Value sweep = r.select(wrapped, r.add(state[0], r.constant_int(1, kS32)), state[0]);
  return {sweep, r.select(wrapped, r.constant_int(0, kS32), next), a, vectors};
}

// _linalg_eigh(A, UPLO="L", compute_v=True) -> (eigenvalues, eigenvectors)
std::vector<Value> eigh_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  const std::string uplo(call.string_at(1));
  const bool compute_v = call.bool_at(2);
  matrix::check_square(b, a, "linalg.eigh");
  matrix::check_floating_or_complex(b, a, "linalg.eigh");
  if (uplo != "L" && uplo != "U" && uplo != "l" && uplo != "u")
    throw InvalidArgument("Expected UPLO argument to be 'L' or 'U', but got " + uplo);
  const ElementType type = b.element_type(a);
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t n = b.dims(a).back(), count = matrix::product(batch);
  const ElementType real_type = stablehlo::real_part_type(type);
  std::vector<int64_t> value_dims = batch;
  value_dims.push_back(n);
  const TensorType empty{type, {0}};
  if (count == 0 || n == 0) {
    return {b.zeros({real_type, value_dims}), compute_v ? b.zeros(b.type(a)) : b.zeros(empty)};
  }
  // The symmetric matrix the chosen triangle describes.
  const bool lower = uplo == "L" || uplo == "l";
  Value triangle = matrix::keep_triangle(b, b.reshape(a, {count, n, n}), lower);
  Value strict = matrix::keep_triangle(b, triangle, lower, lower ? -1 : 1);
  Value symmetric = b.add(triangle, matrix::adjoint(b, strict));
  if (stablehlo::is_complex(type)) {
    // As LAPACK, ignore the imaginary part of the diagonal.
    Value real = b.unary(UnaryOp::kReal, symmetric);
    Value real_only = b.binary(BinaryOp::kComplex, real, b.zeros(b.type(real)));
    Value diagonal = b.binary(BinaryOp::kAnd, matrix::triangle_mask(b, b.dims(symmetric), true, 0),
                              matrix::triangle_mask(b, b.dims(symmetric), false, 0));
    symmetric = b.select(diagonal, real_only, symmetric);
  }
  Value values, vectors = matrix::identity(b, {type, {count, n, n}});
  if (n == 1) {
    values = b.reshape(symmetric, {count, 1});
  } else {
    std::vector<Value> state = b.while_loop(
        {b.constant_int(0, kS32), b.constant_int(0, kS32), symmetric, vectors},
        [&](Builder& r, const std::vector<Value>& v) {
          Value more_sweeps =
              r.compare(ComparisonDirection::kLT, v[0], r.constant_int(kMaxSweeps, kS32));
          // Only look at convergence between sweeps.
          Value mid_sweep = r.compare(ComparisonDirection::kNE, v[1], r.constant_int(0, kS32));
          Value go_on = r.binary(BinaryOp::kOr, mid_sweep, matrix::any_off_diagonal(r, v[2]));
          return std::vector<Value>{r.binary(BinaryOp::kAnd, more_sweeps, go_on)};
        },
        [&](Builder& r, const std::vector<Value>& v) { return rotation_step(r, v, n); });
    values = matrix::diagonal(b, state[2]);
    vectors = state[3];
  }
  if (stablehlo::is_complex(type)) values = b.unary(UnaryOp::kReal, values);
  // Ascending eigenvalues; the eigenvectors (columns) follow.
  const TensorType order_type{kS32, {count, n}};
  std::vector<Value> sorted =
      b.sort({values, b.iota(order_type, 1)}, 1, true, [](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{r.compare(ComparisonDirection::kLT, v[0], v[1])};
      });
  Value result_values = b.reshape(sorted[0], value_dims);
  if (!compute_v) return {result_values, b.zeros(empty)};
  Value columns = matrix::gather_rows(b, matrix::transpose(b, vectors), sorted[1]);
  return {result_values, b.reshape(matrix::transpose(b, columns), b.dims(a))};
}

}  // namespace

void add_eigh_rules(RuleTable& table) { table.add("_linalg_eigh", {&eigh_rule, {}}); }

}  // namespace torch_pjrt::lowering
