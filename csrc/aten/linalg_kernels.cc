// Linear algebra ops whose CPU kernels are compositions of other linalg ops
// and whose results depend on more than the values a lowering rule sees, or
// that raise from values only the device knows:
//
// - _linalg_det and _linalg_slogdet factor A^T instead of A when A is a
//   contiguous real tensor (CPU's LAPACK wants column-major input) and return
//   that factorization; their backward formulas test the same contiguity to
//   decide how to use it. Only the tensor, not the lowering, knows the
//   strides, so these are composed here as CPU composes them, from ops with
//   lowering rules (linalg_lu_factor_ex, prod, ...).
// - _linalg_solve_ex with check_errors, the legacy cholesky and
//   cholesky_inverse raise when the input is singular / not positive-definite,
//   which needs the info on the host (_linalg_check_errors reads it); so do
//   linalg_cholesky_ex, linalg_lu_factor_ex, linalg_inv_ex and
//   linalg_ldl_factor_ex when called with
//   check_errors=True.
// - linalg_lstsq with the gelsd and gelss drivers returns residuals only when
//   every matrix has full rank, a shape only the rank on the host decides.
#include <ATen/ATen.h>
#include <ATen/native/Resize.h>
#include <torch/library.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "aten/op_dispatch.h"
#include "aten/out_checks.h"

namespace torch_pjrt::aten {

namespace {

void check_square(const at::Tensor& a, const char* op) {
  TORCH_CHECK(a.dim() >= 2, op, ": The input tensor A must have at least 2 dimensions.");
  TORCH_CHECK(a.size(-1) == a.size(-2), op, ": A must be batches of square matrices, but they are ",
              a.size(-2), " by ", a.size(-1), " matrices");
}

void check_floating_or_complex(const at::Tensor& a, const char* op) {
  const at::ScalarType type = a.scalar_type();
  TORCH_CHECK(at::isFloatingType(type) || at::isComplexType(type), op,
              ": Expected a floating point or complex tensor as input. Got ", type);
}

// Whether CPU factors A^T rather than A (see above).
bool factors_transpose(const at::Tensor& a) { return a.is_contiguous() && !a.is_complex(); }

// det(P) of the permutation that 1-based row interchanges describe: -1 to the
// number of rows that moved.
at::Tensor permutation_sign(const at::Tensor& pivots) {
  at::Tensor positions = at::arange(1, pivots.size(-1) + 1, pivots.options());
  return positions.ne(pivots).sum(-1, false, at::kLong).remainder(2).mul(-2).add(1);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> determinant(const at::Tensor& a) {
  check_square(a, "linalg.det");
  check_floating_or_complex(a, "linalg.det");
  auto [lu, pivots, info] = at::linalg_lu_factor_ex(factors_transpose(a) ? a.mH() : a);
  at::Tensor det = at::mul(permutation_sign(pivots), at::prod(lu.diagonal(0, -2, -1), -1));
  return {det.to(a.scalar_type()), lu, pivots};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> log_determinant(const at::Tensor& a) {
  check_square(a, "linalg.slogdet");
  check_floating_or_complex(a, "linalg.slogdet");
  auto [lu, pivots, info] = at::linalg_lu_factor_ex(factors_transpose(a) ? a.mH() : a);
  at::Tensor diagonal = lu.diagonal(0, -2, -1);
  at::Tensor sign = at::mul(diagonal.sgn().prod(-1), permutation_sign(pivots)).to(a.scalar_type());
  at::Tensor logabsdet = diagonal.abs().log().sum(-1);
  return {sign, logabsdet, lu, pivots};
}

// B is a (batch of) vector(s) rather than matrices, as numpy.linalg.solve decides.
bool is_vector_rhs(const at::Tensor& a, const at::Tensor& b) {
  return b.dim() == 1 || (a.dim() - 1 == b.dim() && b.sizes() == a.sizes().slice(0, a.dim() - 1));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> solve(const at::Tensor& a,
                                                                 const at::Tensor& b, bool left,
                                                                 bool check_errors) {
  check_floating_or_complex(a, "linalg.solve");
  TORCH_CHECK(a.scalar_type() == b.scalar_type(),
              "linalg.solve: Expected A and B to have the same dtype, but found A of type ",
              a.scalar_type(), " and B of type ", b.scalar_type(), " instead");
  const bool vector_case = is_vector_rhs(a, b);
  at::Tensor rhs = vector_case ? b.unsqueeze(-1) : b;
  check_square(a, "linalg.solve");
  TORCH_CHECK(rhs.dim() >= 2, "linalg.solve: The input tensor B must have at least 2 dimensions.");
  TORCH_CHECK(left ? a.size(-2) == rhs.size(-2) : a.size(-1) == rhs.size(-1),
              "linalg.solve: Incompatible shapes of A and B for the equation ",
              left ? "AX = B" : "XA = B", " (", a.size(-2), "x", a.size(-1), " and ", rhs.size(-2),
              "x", rhs.size(-1), ")");
  TORCH_CHECK(left || !vector_case,
              "linalg.solve: Vector broadcasting of the left hand side is not supported for "
              "left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)");
  auto [lu, pivots, info] = at::linalg_lu_factor_ex(a);
  if (check_errors) at::_linalg_check_errors(info, "torch.linalg.solve_ex", a.dim() == 2);
  at::Tensor result = at::linalg_lu_solve(lu, pivots, rhs, left, false);
  if (vector_case) result = result.squeeze(-1);
  return {result, lu, pivots, info};
}

at::Tensor legacy_cholesky(const at::Tensor& self, bool upper) {
  if (self.numel() == 0) return at::empty_like(self);
  check_square(self, "cholesky");
  auto [factor, info] = at::linalg_cholesky_ex(self, upper, false);
  at::_linalg_check_errors(info, "cholesky", self.dim() == 2);
  return factor;
}

// The lowering rule computes the inverse; LAPACK's potri reports the first
// zero diagonal entry of the factor, and CPU raises on it.
at::Tensor checked_cholesky_inverse(const at::Tensor& factor, bool upper) {
  static const c10::OperatorHandle op =
      c10::Dispatcher::singleton().findSchemaOrThrow("aten::cholesky_inverse", "");
  torch::jit::Stack stack{factor, upper};
  call_boxed_fallback(op, &stack);
  at::Tensor inverse = stack.back().toTensor();
  if (factor.numel() > 0) {
    const int64_t n = factor.size(-1);
    at::Tensor order = at::arange(1, n + 1, factor.options().dtype(at::kInt));
    at::Tensor first = at::where(factor.diagonal(0, -2, -1).eq(0), order, n + 1).amin(-1);
    at::Tensor info = at::where(first.eq(n + 1), 0, first).to(at::kInt).contiguous();
    at::_linalg_check_errors(info, "cholesky_inverse", factor.dim() == 2);
  }
  return inverse;
}

// Runs `name`'s lowering rule on `arguments`, returning its outputs.
std::vector<at::Tensor> lowered(const char* name, const char* overload, torch::jit::Stack stack) {
  const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
  call_boxed_fallback(op, &stack);
  std::vector<at::Tensor> results;
  for (const c10::IValue& value : stack) results.push_back(value.toTensor());
  return results;
}

c10::IValue optional_string(std::optional<c10::string_view> text) {
  if (!text) return {};
  return c10::IValue(std::string(*text));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> lstsq(
    const at::Tensor& a, const at::Tensor& b, std::optional<double> rcond,
    std::optional<c10::string_view> driver) {
  std::vector<at::Tensor> r =
      lowered("aten::linalg_lstsq", "", {a, b, rcond, optional_string(driver)});
  const bool rank_revealing = driver && (*driver == "gelsd" || *driver == "gelss");
  // The rule returns residuals whenever m > n; CPU keeps them only at full rank.
  if (rank_revealing && r[1].numel() > 0 &&
      r[2].sum().item<int64_t>() != r[2].numel() * a.size(-1)) {
    r[1] = at::empty({0}, r[1].options());
  }
  return {r[0], r[1], r[2], r[3]};
}

std::tuple<at::Tensor, at::Tensor> cholesky_ex(const at::Tensor& a, bool upper, bool check_errors) {
  std::vector<at::Tensor> r = lowered("aten::linalg_cholesky_ex", "", {a, upper, false});
  if (check_errors) at::_linalg_check_errors(r[1], "linalg.cholesky_ex", a.dim() == 2);
  return {r[0], r[1]};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> lu_factor_ex(const at::Tensor& a, bool pivot,
                                                            bool check_errors) {
  std::vector<at::Tensor> r = lowered("aten::linalg_lu_factor_ex", "", {a, pivot, false});
  if (check_errors) at::_linalg_check_errors(r[2], "torch.linalg.lu_factor_ex", a.dim() == 2);
  return {r[0], r[1], r[2]};
}

std::tuple<at::Tensor, at::Tensor> inv_ex(const at::Tensor& a, bool check_errors) {
  std::vector<at::Tensor> r = lowered("aten::linalg_inv_ex", "", {a, false});
  if (check_errors) at::_linalg_check_errors(r[1], "linalg.inv_ex", a.dim() == 2);
  return {r[0], r[1]};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> ldl_factor_ex(const at::Tensor& a, bool hermitian,
                                                             bool check_errors) {
  std::vector<at::Tensor> r = lowered("aten::linalg_ldl_factor_ex", "", {a, hermitian, false});
  if (check_errors) at::_linalg_check_errors(r[2], "torch.linalg.ldl_factor_ex", a.dim() == 2);
  return {r[0], r[1], r[2]};
}

void write(at::Tensor& out, const at::Tensor& value) {
  at::native::resize_output(out, value.sizes());
  out.copy_(value);
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&> linalg_det_out(const at::Tensor& a,
                                                                 at::Tensor& det, at::Tensor& lu,
                                                                 at::Tensor& pivots) {
  check_out_arguments("aten::_linalg_det", "result", a, det, lu, pivots);
  auto results = determinant(a);
  write(det, std::get<0>(results));
  write(lu, std::get<1>(results));
  write(pivots, std::get<2>(results));
  return {det, lu, pivots};
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&, at::Tensor&> linalg_slogdet_out(
    const at::Tensor& a, at::Tensor& sign, at::Tensor& logabsdet, at::Tensor& lu,
    at::Tensor& pivots) {
  check_out_arguments("aten::_linalg_slogdet", "sign", a, sign, logabsdet, lu, pivots);
  auto results = log_determinant(a);
  write(sign, std::get<0>(results));
  write(logabsdet, std::get<1>(results));
  write(lu, std::get<2>(results));
  write(pivots, std::get<3>(results));
  return {sign, logabsdet, lu, pivots};
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&, at::Tensor&> linalg_solve_ex_out(
    const at::Tensor& a, const at::Tensor& b, bool left, bool check_errors, at::Tensor& result,
    at::Tensor& lu, at::Tensor& pivots, at::Tensor& info) {
  check_out_arguments("aten::_linalg_solve_ex", "result", a, b, left, check_errors, result, lu,
                      pivots, info);
  auto results = solve(a, b, left, check_errors);
  write(result, std::get<0>(results));
  write(lu, std::get<1>(results));
  write(pivots, std::get<2>(results));
  write(info, std::get<3>(results));
  return {result, lu, pivots, info};
}

at::Tensor& cholesky_inverse_out(const at::Tensor& factor, bool upper, at::Tensor& out) {
  check_out_arguments("aten::cholesky_inverse", "out", factor, upper, out);
  write(out, checked_cholesky_inverse(factor, upper));
  return out;
}

at::Tensor& cholesky_out(const at::Tensor& self, bool upper, at::Tensor& out) {
  check_out_arguments("aten::cholesky", "out", self, upper, out);
  write(out, legacy_cholesky(self, upper));
  return out;
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&, at::Tensor&> lstsq_out(
    const at::Tensor& a, const at::Tensor& b, std::optional<double> rcond,
    std::optional<c10::string_view> driver, at::Tensor& solution, at::Tensor& residuals,
    at::Tensor& rank, at::Tensor& singular_values) {
  check_out_arguments("aten::linalg_lstsq", "out", a, b, rcond, driver, solution, residuals, rank,
                      singular_values);
  auto results = lstsq(a, b, rcond, driver);
  write(solution, std::get<0>(results));
  write(residuals, std::get<1>(results));
  write(rank, std::get<2>(results));
  write(singular_values, std::get<3>(results));
  return {solution, residuals, rank, singular_values};
}

std::tuple<at::Tensor&, at::Tensor&> cholesky_ex_out(const at::Tensor& a, bool upper,
                                                     bool check_errors, at::Tensor& factor,
                                                     at::Tensor& info) {
  check_out_arguments("aten::linalg_cholesky_ex", "L", a, upper, check_errors, factor, info);
  auto results = cholesky_ex(a, upper, check_errors);
  write(factor, std::get<0>(results));
  write(info, std::get<1>(results));
  return {factor, info};
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&> lu_factor_ex_out(const at::Tensor& a, bool pivot,
                                                                   bool check_errors,
                                                                   at::Tensor& lu,
                                                                   at::Tensor& pivots,
                                                                   at::Tensor& info) {
  check_out_arguments("aten::linalg_lu_factor_ex", "out", a, pivot, check_errors, lu, pivots, info);
  auto results = lu_factor_ex(a, pivot, check_errors);
  write(lu, std::get<0>(results));
  write(pivots, std::get<1>(results));
  write(info, std::get<2>(results));
  return {lu, pivots, info};
}

std::tuple<at::Tensor&, at::Tensor&> inv_ex_out(const at::Tensor& a, bool check_errors,
                                                at::Tensor& inverse, at::Tensor& info) {
  check_out_arguments("aten::linalg_inv_ex", "inverse", a, check_errors, inverse, info);
  auto results = inv_ex(a, check_errors);
  write(inverse, std::get<0>(results));
  write(info, std::get<1>(results));
  return {inverse, info};
}

std::tuple<at::Tensor&, at::Tensor&, at::Tensor&> ldl_factor_ex_out(
    const at::Tensor& a, bool hermitian, bool check_errors, at::Tensor& ld, at::Tensor& pivots,
    at::Tensor& info) {
  check_out_arguments("aten::linalg_ldl_factor_ex", "out", a, hermitian, check_errors, ld, pivots,
                      info);
  auto results = ldl_factor_ex(a, hermitian, check_errors);
  write(ld, std::get<0>(results));
  write(pivots, std::get<1>(results));
  write(info, std::get<2>(results));
  return {ld, pivots, info};
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("_linalg_det", &determinant);
  m.impl("_linalg_det.result", &linalg_det_out);
  m.impl("_linalg_slogdet", &log_determinant);
  m.impl("_linalg_slogdet.sign", &linalg_slogdet_out);
  m.impl("_linalg_solve_ex", &solve);
  m.impl("_linalg_solve_ex.result", &linalg_solve_ex_out);
  m.impl("cholesky", &legacy_cholesky);
  m.impl("cholesky.out", &cholesky_out);
  m.impl("cholesky_inverse", &checked_cholesky_inverse);
  m.impl("cholesky_inverse.out", &cholesky_inverse_out);
  m.impl("linalg_lstsq", &lstsq);
  m.impl("linalg_lstsq.out", &lstsq_out);
  m.impl("linalg_cholesky_ex", &cholesky_ex);
  m.impl("linalg_cholesky_ex.L", &cholesky_ex_out);
  m.impl("linalg_lu_factor_ex", &lu_factor_ex);
  m.impl("linalg_lu_factor_ex.out", &lu_factor_ex_out);
  m.impl("linalg_inv_ex", &inv_ex);
  m.impl("linalg_inv_ex.inverse", &inv_ex_out);
  m.impl("linalg_ldl_factor_ex", &ldl_factor_ex);
  m.impl("linalg_ldl_factor_ex.out", &ldl_factor_ex_out);
}

}  // namespace torch_pjrt::aten
