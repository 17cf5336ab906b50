// Singular value decomposition (_linalg_svd, behind linalg.svd, svdvals,
// svd, pinv, matrix_rank and cond) by one-sided Jacobi rotations.
//
// Rotating pairs of columns of a tall matrix (A, or A^H when A is wide) until
// they are mutually orthogonal leaves A V = U S: the column norms are the
// singular values, the normalized columns U, the accumulated rotations V.
// Sweeps repeat (a stablehlo.while) until the Gram matrix of the columns is
// diagonal to working precision. Singular values come out descending; the
// signs (phases) of singular vectors are not unique and need not match
// LAPACK's. Complex columns are first scaled by a phase that makes each pair's
// inner product real, then rotated as real ones.
// full_matrices=True for non-square inputs completes U (or V) to a unitary
// basis; the completing columns are arbitrary, as LAPACK's are.

#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/decompositions.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;
constexpr int64_t kMaxSweeps = 30;

Value column_dot(Builder& r, Value u, Value p, Value q) {
  const std::vector<int64_t>& dims = r.dims(u);
  Value zero = r.constant_int(0, kS32);
  Value up = r.dynamic_slice(u, {zero, zero, p}, {dims[0], dims[1], 1});
  Value uq = r.dynamic_slice(u, {zero, zero, q}, {dims[0], dims[1], 1});
  const ElementType type = r.element_type(u);
  Value zero_value =
      stablehlo::is_complex(type) ? r.splat_complex(0, 0, {type, {}}) : r.constant(0, type);
  return r.reduce(r.mul(matrix::conj(r, up), uq), zero_value, {1, 2},
                  [](Builder& s, const std::vector<Value>& v) {
                    return std::vector<Value>{s.add(v[0], v[1])};
                  });
}

// One rotation of the pair number v[1] of a sweep; state (sweep, pair, u, v).
std::vector<Value> rotation_step(Builder& r, const std::vector<Value>& state, int64_t n) {
  std::vector<int64_t> first, second;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t q = p + 1; q < n; ++q) first.push_back(p), second.push_back(q);
  const auto pairs = static_cast<int64_t>(first.size());
  Value pair = state[1], u = state[2], v = state[3];
  Value p = r.reshape(r.dynamic_slice(r.constant_ints(first, {kS32, {pairs}}), {pair}, {1}), {});
  Value q = r.reshape(r.dynamic_slice(r.constant_ints(second, {kS32, {pairs}}), {pair}, {1}), {});
  Value alpha = column_dot(r, u, p, p), beta = column_dot(r, u, q, q);
  Value gamma = column_dot(r, u, p, q);
  if (stablehlo::is_complex(r.element_type(u))) {
    // Scaling column q by conj(phase of gamma) first makes u_p^H u_q real.
    Value phase_conj = matrix::conj(r, matrix::unit_phase(r, gamma));
    u = matrix::scale_slice(r, u, q, phase_conj, true);
    v = matrix::scale_slice(r, v, q, phase_conj, true);
    alpha = r.unary(UnaryOp::kReal, alpha);
    beta = r.unary(UnaryOp::kReal, beta);
    gamma = r.unary(UnaryOp::kAbs, gamma);
  }
  auto [c, s] = matrix::jacobi_rotation(r, alpha, beta, gamma);
  u = matrix::rotate_pair(r, u, p, q, c, s, true);
  v = matrix::rotate_pair(r, v, p, q, c, s, true);
  Value next = r.add(pair, r.constant_int(1, kS32));
  Value wrapped = r.compare(ComparisonDirection::kEQ, next, r.constant_int(pairs, kS32));
  Value sweep = r.select(wrapped, r.add(state[0], r.constant_int(1, kS32)), state[0]);
  return {sweep, r.select(wrapped, r.constant_int(0, kS32), next), u, v};
}

// Thin SVD of a [B, m, n] batch with B, m, n > 0.
matrix::SvdFactors jacobi_svd(Builder& b, Value a, bool compute_uv) {
  const std::vector<int64_t> dims = b.dims(a);
  const int64_t count = dims[0], m = dims[1], n = dims[2], k = std::min(m, n);
  const ElementType type = b.element_type(a);
  const bool complex = stablehlo::is_complex(type);
  const ElementType real_type = stablehlo::real_part_type(type);
  const bool wide = m < n;
  Value tall = wide ? matrix::adjoint(b, a) : a;
  const int64_t rows = std::max(m, n);
  Value u = tall, v = matrix::identity(b, {type, {count, k, k}});
  if (k > 1) {
    std::vector<Value> state = b.while_loop(
        {b.constant_int(0, kS32), b.constant_int(0, kS32), u, v},
        [&](Builder& r, const std::vector<Value>& s) {
          Value more_sweeps =
              r.compare(ComparisonDirection::kLT, s[0], r.constant_int(kMaxSweeps, kS32));
          Value mid_sweep = r.compare(ComparisonDirection::kNE, s[1], r.constant_int(0, kS32));
          Value gram = matrix::matmul(r, matrix::adjoint(r, s[2]), s[2]);
          Value go_on = r.binary(BinaryOp::kOr, mid_sweep, matrix::any_off_diagonal(r, gram));
          return std::vector<Value>{r.binary(BinaryOp::kAnd, more_sweeps, go_on)};
        },
        [&](Builder& r, const std::vector<Value>& s) { return rotation_step(r, s, k); });
    u = state[2];
    v = state[3];
  }
  Value squares = complex ? b.unary(UnaryOp::kReal, b.mul(u, matrix::conj(b, u))) : b.mul(u, u);
  Value norms = b.unary(UnaryOp::kSqrt, b.reduce(squares, b.constant(0, real_type), {1},
                                                 [](Builder& r, const std::vector<Value>& x) {
                                                   return std::vector<Value>{r.add(x[0], x[1])};
                                                 }));
  // Descending singular values; the columns of U and V follow.
  const TensorType order_type{kS32, {count, k}};
  std::vector<Value> sorted =
      b.sort({norms, b.iota(order_type, 1)}, 1, true, [](Builder& r, const std::vector<Value>& x) {
        return std::vector<Value>{r.compare(ComparisonDirection::kGT, x[0], x[1])};
      });
  if (!compute_uv) return {Value{}, sorted[0], Value{}};
  // A zero column stays zero (its singular vector is arbitrary, and a NaN there
  // would leak into pinv, which multiplies it by zero).
  const TensorType u_flat{type, {count, rows, k}};
  Value scale = sorted[0];
  if (complex) scale = b.binary(BinaryOp::kComplex, scale, b.zeros(b.type(scale)));
  scale = b.broadcast_in_dim(scale, u_flat.dims, {0, 2});
  Value u_sorted = matrix::transpose(b, matrix::gather_rows(b, matrix::transpose(b, u), sorted[1]));
  Value zero_column = b.compare(ComparisonDirection::kEQ, scale, b.zeros(u_flat));
  u_sorted = b.select(zero_column, b.zeros(u_flat), b.div(u_sorted, scale));
  Value v_sorted = matrix::transpose(b, matrix::gather_rows(b, matrix::transpose(b, v), sorted[1]));
  // tall = U S V^H; for a wide A, A = V S U^H.
  Value left = wide ? v_sorted : u_sorted;
  Value right = wide ? u_sorted : v_sorted;
  return {left, sorted[0], matrix::adjoint(b, right)};
}

// The columns of thin [B, m, k] (orthonormal, or zero where a singular value
// is zero) completed to a unitary [B, m, m]. Householder QR of thin gives Q
// with thin = Q R, R diagonal with entries of modulus 1 (0 for a zero
// column); scaling Q's first k columns by R's diagonal phases gives back the
// nonzero columns of thin, and Q's other columns are the complement.
Value complete_basis(Builder& b, Value thin) {
  const std::vector<int64_t> dims = b.dims(thin);
  const int64_t count = dims[0], m = dims[1], k = dims[2];
  const ElementType type = b.element_type(thin);
  auto [packed, tau] = matrix::householder_qr(b, thin);
  Value reflectors = b.pad(packed, b.zeros({type, {}}), {0, 0, 0}, {0, 0, m - k});
  Value q = matrix::apply_householder(b, reflectors, tau,
                                      matrix::identity(b, {type, {count, m, m}}), true, false);
  Value r_diagonal = matrix::diagonal(b, packed);  // [B, k]
  Value phase;
  if (stablehlo::is_complex(type)) {
    phase = matrix::unit_phase(b, r_diagonal);
  } else {
    Value negative = b.compare(ComparisonDirection::kLT, r_diagonal, b.zeros(b.type(r_diagonal)));
    phase = b.select(negative, b.splat(-1, b.type(r_diagonal)), b.splat(1, b.type(r_diagonal)));
  }
  Value ones =
      stablehlo::is_complex(type) ? b.splat_complex(1, 0, {type, {}}) : b.constant(1, type);
  phase = b.pad(phase, ones, {0, 0}, {0, m - k});
  return b.mul(q, b.broadcast_in_dim(phase, {count, m, m}, {0, 2}));
}

// _linalg_svd(A, full_matrices=False, compute_uv=True, *, driver=None) -> (U, S, Vh)
std::vector<Value> svd_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  const bool full_matrices = call.bool_at(1), compute_uv = call.bool_at(2);
  matrix::check_is_matrix(b, a, "linalg.svd", "A");
  matrix::check_floating_or_complex(b, a, "linalg.svd");
  const ElementType type = b.element_type(a);
  const ElementType real_type = stablehlo::real_part_type(type);
  if (call.size() > 3 && !call.is_none(3))
    throw InvalidArgument(
        "torch.linalg.svd: keyword argument `driver=` is only supported on "
        "CUDA inputs with cuSOLVER backend.");
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t m = b.dims(a)[b.rank(a) - 2], n = b.dims(a).back(), k = std::min(m, n);
  const bool full = compute_uv && full_matrices;
  const int64_t count = matrix::product(batch);
  std::vector<int64_t> s_dims = batch;
  s_dims.push_back(k);
  const TensorType empty{type, {0}};
  const TensorType u_type{type, matrix::with_matrix(batch, m, full ? m : k)};
  const TensorType vh_type{type, matrix::with_matrix(batch, full ? n : k, n)};
  if (count == 0 || k == 0) {
    if (!compute_uv) return {b.zeros(empty), b.zeros({real_type, s_dims}), b.zeros(empty)};
    return {matrix::identity(b, u_type), b.zeros({real_type, s_dims}),
            matrix::identity(b, vh_type)};
  }
  matrix::SvdFactors svd = jacobi_svd(b, b.reshape(a, {count, m, n}), compute_uv);
  Value singular = b.reshape(svd.s, s_dims);
  if (!compute_uv) return {b.zeros(empty), singular, b.zeros(empty)};
  Value u = svd.u, vh = svd.vh;
  if (full && m > k) u = complete_basis(b, u);
  if (full && n > k) vh = matrix::adjoint(b, complete_basis(b, matrix::adjoint(b, vh)));
  return {b.reshape(u, u_type.dims), singular, b.reshape(vh, vh_type.dims)};
}

}  // namespace

matrix::SvdFactors matrix::thin_svd(Builder& b, Value a, bool compute_uv) {
  return jacobi_svd(b, a, compute_uv);
}

void add_svd_rules(RuleTable& table) { table.add("_linalg_svd", {&svd_rule, {}}); }

}  // namespace torch_pjrt::lowering
