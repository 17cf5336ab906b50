// Cholesky family: linalg_cholesky_ex, cholesky_inverse, _cholesky_solve_helper
// (behind cholesky_solve). linalg.cholesky and the legacy cholesky raise from
// the info that linalg_cholesky_ex returns.
//
// The factorization is a right-looking column loop (a stablehlo.while) of our
// own rather than stablehlo.cholesky: XLA's expansion turns the whole result
// into NaN when any leading minor is not positive-definite, which loses
// LAPACK's info (the order of the first such minor). Here a batch element
// stops at its first non-positive pivot and reports its 1-based index.

#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/broadcast.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;

struct Factor {
  Value triangle;
  Value info;  // s32, the batch dims
};

// One column of the factorization of a [B, n, n] batch (lower triangle);
// state is (k, a, info, update). The rank-1 update of step k is subtracted at
// the start of step k + 1, from memory, so XLA cannot contract it into fused
// multiply-adds: CPU's LAPACK rounds each product, and a rank-deficient input
// must meet the same exact zero pivot.
std::vector<Value> cholesky_step(Builder& r, const std::vector<Value>& state) {
  Value k = state[0], a = state[1], info = state[2];
  const std::vector<int64_t> dims = r.dims(a);
  {
    const TensorType index_type{kS32, dims};
    Value previous = r.broadcast_in_dim(r.sub(k, r.constant_int(1, kS32)), dims, {});
    Value trailing = r.binary(BinaryOp::kAnd,
                              r.compare(ComparisonDirection::kGT, r.iota(index_type, 1), previous),
                              r.compare(ComparisonDirection::kGT, r.iota(index_type, 2), previous));
    a = r.select(trailing, r.sub(a, state[3]), a);
  }
  const int64_t batch = dims[0], n = dims[1];
  const ElementType type = r.element_type(a);
  const bool complex = stablehlo::is_complex(type);
  Value zero = r.constant_int(0, kS32);
  const TensorType batch_int{kS32, {batch}};
  Value column = r.reshape(r.dynamic_slice(a, {zero, zero, k}, {batch, n, 1}), {batch, n});
  Value pivot = r.reshape(r.dynamic_slice(a, {zero, k, k}, {batch, 1, 1}), {batch});
  if (complex) pivot = r.unary(UnaryOp::kReal, pivot);
  Value active = r.compare(ComparisonDirection::kEQ, info, r.zeros(batch_int));
  Value positive = r.compare(ComparisonDirection::kGT, pivot, r.zeros(r.type(pivot)));
  Value proceed = r.binary(BinaryOp::kAnd, active, positive);
  Value k_batch = r.broadcast_in_dim(k, {batch}, {});
  info = r.select(r.binary(BinaryOp::kAnd, active, r.unary(UnaryOp::kNot, positive)),
                  r.add(k_batch, r.splat(1, batch_int)), info);
  Value root = r.unary(UnaryOp::kSqrt, pivot);
  Value inverse = r.div(r.splat(1, r.type(root)), root);
  if (complex) {
    root = r.binary(BinaryOp::kComplex, root, r.zeros(r.type(root)));
    inverse = r.binary(BinaryOp::kComplex, inverse, r.zeros(r.type(inverse)));
  }
  const TensorType rows{kS32, {batch, n}};
  Value row = r.iota(rows, 1);
  Value k_rows = r.broadcast_in_dim(k, rows.dims, {});
  Value below = r.compare(ComparisonDirection::kGT, row, k_rows);
  Value scaled = r.mul(column, r.broadcast_in_dim(inverse, rows.dims, {0}));
  Value factor_column = r.select(below, scaled, column);
  factor_column = r.select(r.compare(ComparisonDirection::kEQ, row, k_rows),
                           r.broadcast_in_dim(root, rows.dims, {0}), factor_column);
  Value proceed_rows = r.broadcast_in_dim(proceed, rows.dims, {0});
  column = r.select(proceed_rows, factor_column, column);
  a = r.dynamic_update_slice(a, r.reshape(column, {batch, n, 1}), {zero, zero, k});
  // a[i, j] -= l_i conj(l_j) below and right of the pivot.
  Value multipliers = r.select(below, column, r.zeros(r.type(column)));
  Value update = r.mul(r.broadcast_in_dim(multipliers, dims, {0, 1}),
                       r.broadcast_in_dim(matrix::conj(r, multipliers), dims, {0, 2}));
  update = r.select(r.broadcast_in_dim(proceed, dims, {0}), update, r.zeros(r.type(update)));
  return {r.add(k, r.constant_int(1, kS32)), a, info, update};
}

Factor cholesky(Builder& b, Value a, bool upper) {
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t n = b.dims(a).back(), count = matrix::product(batch);
  const TensorType info_type{kS32, batch};
  if (b.type(a).numel() == 0) return {b.zeros(b.type(a)), b.zeros(info_type)};
  // The upper triangle of A is the lower triangle of A^H, and U = L^H.
  Value lower = b.reshape(upper ? matrix::adjoint(b, a) : a, {count, n, n});
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, kS32), lower, b.zeros({kS32, {count}}), b.zeros(b.type(lower))},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kLT, v[0], r.constant_int(n, kS32))};
      },
      &cholesky_step);
  Value factor = matrix::keep_triangle(b, state[1], true);
  if (upper) factor = matrix::adjoint(b, factor);
  return {b.reshape(factor, b.dims(a)), b.reshape(state[2], batch)};
}

// linalg_cholesky_ex(self, *, upper, check_errors) -> (L, info)
std::vector<Value> cholesky_ex_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  const bool upper = call.bool_at(1);
  matrix::check_square(b, a, "linalg.cholesky");
  matrix::check_floating_or_complex(b, a, "linalg.cholesky");
  if (call.bool_at(2))
    throw Unsupported("check_errors=True needs the info on the host; use linalg.cholesky");
  Factor factor = cholesky(b, a, upper);
  return {factor.triangle, factor.info};
}

// The inverse of A = L L^H (or U^H U) from its factor.
std::vector<Value> cholesky_inverse_rule(Builder& b, const OpCall& call) {
  const Value factor = call.tensor(0).value;
  const bool upper = call.bool_at(1);
  matrix::check_square(b, factor, "cholesky_inverse", "A");
  matrix::check_floating_or_complex(b, factor, "cholesky_inverse");
  if (b.type(factor).numel() == 0) return {b.zeros(b.type(factor))};
  Value inverse_factor = matrix::triangular_solve(b, factor, matrix::identity(b, b.type(factor)),
                                                  true, !upper, false, matrix::Transpose::kNone);
  if (upper) return {matrix::matmul(b, inverse_factor, matrix::adjoint(b, inverse_factor))};
  return {matrix::matmul(b, matrix::adjoint(b, inverse_factor), inverse_factor)};
}

// _cholesky_solve_helper(self, A, upper): self and A arrive with broadcast
// batch dims; A is the factor.
std::vector<Value> cholesky_solve_helper_rule(Builder& b, const OpCall& call) {
  const Value rhs = call.tensor(0).value, factor = call.tensor(1).value;
  const bool upper = call.bool_at(2);
  matrix::check_square(b, factor, "cholesky_solve", "A");
  matrix::check_is_matrix(b, rhs, "cholesky_solve", "B");
  matrix::check_floating_or_complex(b, factor, "cholesky_solve");
  if (b.element_type(rhs) != b.element_type(factor))
    throw InvalidArgument("cholesky_solve: Expected b and A to have the same dtype");
  if (matrix::batch_dims(b, rhs) != matrix::batch_dims(b, factor) ||
      b.dims(rhs)[b.rank(rhs) - 2] != b.dims(factor).back()) {
    throw InvalidArgument("cholesky_solve: Incompatible matrix sizes, A is " +
                          shape_text(b.dims(factor)) + " and B is " +
                          shape_text(b.dims(rhs)));
  }
  // A = L L^H: L y = b, then L^H x = y; A = U^H U: U^H y = b, then U x = y.
  const auto first = upper ? matrix::Transpose::kAdjoint : matrix::Transpose::kNone;
  const auto second = upper ? matrix::Transpose::kNone : matrix::Transpose::kAdjoint;
  Value y = matrix::triangular_solve(b, factor, rhs, true, !upper, false, first);
  return {matrix::triangular_solve(b, factor, y, true, !upper, false, second)};
}

}  // namespace

void add_cholesky_rules(RuleTable& table) {
  table.add("linalg_cholesky_ex", {&cholesky_ex_rule, {}});
  table.add("cholesky_inverse", {&cholesky_inverse_rule, {}});
  table.add("_cholesky_solve_helper", {&cholesky_solve_helper_rule, {}});
}

}  // namespace torch_pjrt::lowering
