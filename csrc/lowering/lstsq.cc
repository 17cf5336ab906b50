// Least squares (linalg_lstsq) with the outputs CPU's LAPACK drivers give.
//
// - gels (full rank assumed): Householder QR of A (m >= n) or of A^H (m < n,
//   the minimum-norm solution), as LAPACK's gels. Residuals (m > n) are the
//   squared norms of the rows of Q^H B below n.
// - gelsy, gelsd, gelss (rank-revealing): the minimum-norm solution from the
//   SVD, dropping singular values at or below rcond times the largest one;
//   rank counts the ones kept. gelsy's own rank test (a condition estimate of
//   a pivoted QR) agrees with this one except for singular values right at
//   the threshold. Residuals (gelsd, gelss, m > n) are |B - A X|^2 per column;
//   CPU returns them only when every matrix has full rank, which only the
//   host can tell (aten/linalg_kernels.cc drops them otherwise).
//
// The factorizations run on A's own batch; rank and singular_values keep A's
// batch shape as CPU's do, while solution and residuals take the batch that A
// and B broadcast to.

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/broadcast.h"
#include "lowering/decompositions.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr const char* kOp = "torch.linalg.lstsq";

// x [Ca, ...] of A's flattened batch, as [C, ...] of the broadcast batch.
Value to_full_batch(Builder& b, Value x, const std::vector<int64_t>& a_batch,
                    const std::vector<int64_t>& batch) {
  std::vector<int64_t> tail(b.dims(x).begin() + 1, b.dims(x).end());
  std::vector<int64_t> own = a_batch, full = batch, flat{matrix::product(batch)};
  own.insert(own.end(), tail.begin(), tail.end());
  full.insert(full.end(), tail.begin(), tail.end());
  flat.insert(flat.end(), tail.begin(), tail.end());
  return b.reshape(broadcast_to(b, b.reshape(x, own), full), flat);
}

// Sum over rows of |x|^2 for x [C, r, k]: [C, k], real.
Value column_square_sums(Builder& b, Value x) {
  Value magnitude = b.unary(UnaryOp::kAbs, x);
  Value squares = b.mul(magnitude, magnitude);
  const ElementType real = b.element_type(squares);
  return b.reduce(squares, b.constant(0, real), {1}, [](Builder& r, const std::vector<Value>& v) {
    return std::vector<Value>{r.add(v[0], v[1])};
  });
}

// linalg_lstsq(self, b, rcond=None, *, driver=None)
//   -> (solution, residuals, rank, singular_values)
std::vector<Value> lstsq_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  Value rhs = call.tensor(1).value;
  if (b.rank(a) < 2)
    throw InvalidArgument(std::string(kOp) + ": input must have at least 2 dimensions.");
  const ElementType type = b.element_type(a);
  if (b.element_type(rhs) != type) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected input and other to have the same dtype, but got input's "
                          "dtype " +
                          std::string(scalar_type_name(type)) + " and other's dtype " +
                          std::string(scalar_type_name(b.element_type(rhs))));
  }
  if (type != ElementType::kF32 && type != ElementType::kF64 && type != ElementType::kC64 &&
      type != ElementType::kC128)
    throw InvalidArgument("This function doesn't handle types other than float and double");
  const int64_t dim_diff = static_cast<int64_t>(b.rank(a)) - static_cast<int64_t>(b.rank(rhs));
  if (dim_diff < 0 || dim_diff > 1) {
    throw InvalidArgument(std::string(kOp) +
                          ": input.dim() must be greater or equal to other.dim() and "
                          "(input.dim() - other.dim()) <= 1");
  }
  const std::vector<int64_t> a_batch = matrix::batch_dims(b, a);
  const int64_t m = b.dims(a)[b.rank(a) - 2], n = b.dims(a).back();
  // numpy's rule: B is a (batch of) vector(s) when it is A's shape without the last dim.
  const std::vector<int64_t> a_without_last(b.dims(a).begin(), b.dims(a).end() - 1);
  const bool vector_case = b.rank(rhs) == 1 || (dim_diff == 1 && b.dims(rhs) == a_without_last);
  if (vector_case) {
    std::vector<int64_t> column = b.dims(rhs);
    column.push_back(1);
    rhs = b.reshape(rhs, column);
  }
  if (b.rank(rhs) < 2 || b.dims(rhs)[b.rank(rhs) - 2] != m)
    throw InvalidArgument(std::string(kOp) + ": input.size(-2) should match other.size(-2)");
  const std::string driver =
      call.size() > 3 && !call.is_none(3) ? std::string(call.string_at(3)) : std::string("gelsy");
  if (driver != "gels" && driver != "gelsy" && driver != "gelsd" && driver != "gelss") {
    throw InvalidArgument(std::string(kOp) +
                          ": parameter `driver` should be one of (gels, gelsy, gelsd, gelss)");
  }
  const std::vector<int64_t> batch = broadcast_shapes(a_batch, matrix::batch_dims(b, rhs));
  const int64_t nrhs = b.dims(rhs).back(), k = std::min(m, n);
  const int64_t count = matrix::product(batch), a_count = matrix::product(a_batch);
  const ElementType real = stablehlo::real_part_type(type);
  const bool svd_driver = driver != "gels";
  const bool with_singular_values = driver == "gelsd" || driver == "gelss";
  const bool with_residuals = m > n && driver != "gelsy";

  rhs = b.reshape(broadcast_to(b, rhs, matrix::with_matrix(batch, m, nrhs)), {count, m, nrhs});
  Value flat_a = b.reshape(a, {a_count, m, n});
  Value solution = b.zeros({type, {count, n, nrhs}});
  Value residuals = b.zeros({real, {0}});
  Value rank = b.zeros({ElementType::kS64, {0}});
  Value singular_values = b.zeros({real, {0}});
  std::vector<int64_t> s_dims = a_batch;
  s_dims.push_back(k);
  if (svd_driver) rank = b.zeros({ElementType::kS64, a_batch});
  if (with_singular_values) singular_values = b.zeros({real, s_dims});
  const bool work = a_count > 0 && count > 0 && k > 0;

  if (work && !svd_driver && m >= n) {
    auto [packed, tau] = matrix::householder_qr(b, flat_a);
    packed = to_full_batch(b, packed, a_batch, batch);
    tau = to_full_batch(b, tau, a_batch, batch);
    Value projected = matrix::apply_householder(b, packed, tau, rhs, true, true);
    Value r = b.slice(packed, {0, 0, 0}, {count, n, n});
    solution = matrix::triangular_solve(b, r, b.slice(projected, {0, 0, 0}, {count, n, nrhs}), true,
                                        false, false, matrix::Transpose::kNone);
    if (with_residuals) {
      residuals = column_square_sums(b, b.slice(projected, {0, n, 0}, {count, m, nrhs}));
    }
  } else if (work && !svd_driver) {
    // A^H = Q R, so A = R^H Q^H and the minimum-norm X is Q [R^-H B; 0].
    auto [packed, tau] = matrix::householder_qr(b, matrix::adjoint(b, flat_a));
    packed = to_full_batch(b, packed, a_batch, batch);
    tau = to_full_batch(b, tau, a_batch, batch);
    Value r = b.slice(packed, {0, 0, 0}, {count, m, m});
    Value y = matrix::triangular_solve(b, r, rhs, true, false, false, matrix::Transpose::kAdjoint);
    y = b.pad(y, b.zeros({type, {}}), {0, 0, 0}, {0, n - m, 0});
    solution = matrix::apply_householder(b, packed, tau, y, true, false);
  } else if (work) {
    matrix::SvdFactors svd = matrix::thin_svd(b, flat_a, true);
    const double eps = real == ElementType::kF32 ? std::numeric_limits<float>::epsilon()
                                                 : std::numeric_limits<double>::epsilon();
    double rcond = call.size() > 2 && !call.is_none(2) ? call.double_at(2)
                                                       : eps * static_cast<double>(std::max(m, n));
    // LAPACK's drivers take a negative rcond as machine precision.
    if (rcond < 0) rcond = eps;
    const TensorType s_type = b.type(svd.s);
    Value largest = b.slice(svd.s, {0, 0}, {a_count, 1});
    Value threshold = b.broadcast_in_dim(
        b.mul(b.reshape(largest, {a_count}), b.splat(rcond, {real, {a_count}})), s_type.dims, {0});
    Value kept = b.compare(ComparisonDirection::kGT, svd.s, threshold);
    Value reciprocal = b.select(kept, b.div(b.splat(1, s_type), svd.s), b.zeros(s_type));
    rank = b.reshape(
        b.reduce(b.convert(kept, ElementType::kS64), b.constant_int(0, ElementType::kS64), {1},
                 [](Builder& r, const std::vector<Value>& v) {
                   return std::vector<Value>{r.add(v[0], v[1])};
                 }),
        a_batch);
    if (with_singular_values) singular_values = b.reshape(svd.s, s_dims);
    Value u = to_full_batch(b, svd.u, a_batch, batch);
    Value vh = to_full_batch(b, svd.vh, a_batch, batch);
    Value scale = to_full_batch(b, reciprocal, a_batch, batch);
    if (stablehlo::is_complex(type)) scale = b.convert(scale, type);
    Value coefficients = matrix::matmul(b, matrix::adjoint(b, u), rhs);  // [C, k, nrhs]
    coefficients = b.mul(coefficients, b.broadcast_in_dim(scale, {count, k, nrhs}, {0, 1}));
    solution = matrix::matmul(b, matrix::adjoint(b, vh), coefficients);
    if (with_residuals) {
      Value full_a = to_full_batch(b, flat_a, a_batch, batch);
      residuals = column_square_sums(b, b.sub(rhs, matrix::matmul(b, full_a, solution)));
    }
  } else if (with_residuals) {
    // No columns (n = 0): nothing is explained, the residual is all of B;
    // LAPACK's gels returns early on an empty A and CPU reports zeros.
    residuals = driver == "gels" ? b.zeros({real, {count, nrhs}}) : column_square_sums(b, rhs);
  }
  if (with_residuals) {
    std::vector<int64_t> residual_dims = batch;
    residual_dims.push_back(nrhs);
    residuals = b.reshape(residuals, residual_dims);
  }
  std::vector<int64_t> solution_dims = batch;
  solution_dims.push_back(n);
  if (!vector_case) solution_dims.push_back(nrhs);
  return {b.reshape(solution, solution_dims), residuals, rank, singular_values};
}

}  // namespace

void add_lstsq_rules(RuleTable& table) { table.add("linalg_lstsq", {&lstsq_rule, {}}); }

}  // namespace torch_pjrt::lowering
