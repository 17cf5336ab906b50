// LU family: linalg_lu_factor_ex, linalg_lu, lu_unpack, linalg_lu_solve and
// linalg_inv_ex on top of them (linalg.lu_factor, lu, lu_solve, inv and
// tensorinv are PyTorch composites of these).
//
// The factorization is right-looking Gaussian elimination with partial
// pivoting, one column per iteration of a stablehlo.while, choosing the pivot
// as LAPACK's getrf does: the first entry of largest magnitude (|re| + |im|
// for complex) on or below the diagonal. A zero pivot leaves its column
// unscaled and sets info to its 1-based index, the first one only.

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

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::GatherDimensions;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;

Value and_(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kAnd, x, y); }

Value sum_ints(Builder& b, Value x, int64_t dimension) {
  return b.reduce(x, b.constant_int(0, b.element_type(x)), {dimension},
                  [](Builder& r, const std::vector<Value>& v) {
                    return std::vector<Value>{r.add(v[0], v[1])};
                  });
}

// How getrf ranks pivot candidates: |x| for reals, |re| + |im| for complex.
Value pivot_magnitude(Builder& b, Value x) {
  if (!stablehlo::is_complex(b.element_type(x))) return b.unary(UnaryOp::kAbs, x);
  return b.add(b.unary(UnaryOp::kAbs, b.unary(UnaryOp::kReal, x)),
               b.unary(UnaryOp::kAbs, b.unary(UnaryOp::kImag, x)));
}

// Row `row[b]` of each matrix of a [B, m, n] batch, as [B, n].
Value take_row(Builder& b, Value a, Value row) {
  const std::vector<int64_t>& dims = b.dims(a);
  Value flat = b.reshape(a, {dims[0] * dims[1], dims[2]});
  const TensorType index_type{kS32, {dims[0]}};
  Value start =
      b.add(row, b.mul(b.iota(index_type, 0), b.splat(static_cast<double>(dims[1]), index_type)));
  GatherDimensions gather;
  gather.offset_dims = {1};
  gather.collapsed_slice_dims = {0};
  gather.start_index_map = {0};
  gather.index_vector_dim = 1;
  return b.gather(flat, b.reshape(start, {dims[0], 1}), gather, {1, dims[2]});
}

struct LuFactors {
  Value lu;      // [..., m, n]
  Value pivots;  // s32 [..., min(m, n)], 1-based
  Value perm;    // s32 [..., m]: the row of A at each row of L U
  Value info;    // s32 [...]
};

// One elimination step on column k of a [B, m, n] batch; state is
// (k, a, pivots, perm, info, update). The rank-1 update of step k is
// subtracted at the start of step k + 1: the product then comes from memory,
// so XLA cannot contract the multiply and subtract into one fused
// multiply-add, which would leave residues such as 2e-16 where CPU's LAPACK
// (rounding the product first) finds an exact zero pivot and reports the
// matrix singular. The last step's update always covers an empty block.
std::vector<Value> elimination_step(Builder& r, const std::vector<Value>& state) {
  Value k = state[0], a = state[1], pivots = state[2], perm = state[3], info = state[4];
  const std::vector<int64_t> dims = r.dims(a);
  {
    const TensorType index_type{kS32, dims};
    Value previous = r.broadcast_in_dim(r.sub(k, r.constant_int(1, kS32)), dims, {});
    Value trailing = and_(r, r.compare(ComparisonDirection::kGT, r.iota(index_type, 1), previous),
                          r.compare(ComparisonDirection::kGT, r.iota(index_type, 2), previous));
    a = r.select(trailing, r.sub(a, state[5]), a);
  }
  const int64_t batch = dims[0], m = dims[1], n = dims[2];
  const ElementType type = r.element_type(a);
  Value zero = r.constant_int(0, kS32);
  Value one = r.constant_int(1, kS32);
  const TensorType column_type{kS32, {batch, m}};
  const TensorType full_type{kS32, dims};
  const TensorType batch_type{kS32, {batch}};

  // The pivot row: the first of the largest magnitudes at or below row k.
  Value column = r.reshape(r.dynamic_slice(a, {zero, zero, k}, {batch, m, 1}), {batch, m});
  Value row = r.iota(column_type, 1);
  Value k_column = r.broadcast_in_dim(k, column_type.dims, {});
  Value candidate = r.compare(ComparisonDirection::kGE, row, k_column);
  Value magnitude = pivot_magnitude(r, column);
  const ElementType real_type = r.element_type(magnitude);
  magnitude = r.select(candidate, magnitude, r.splat(-1, {real_type, {batch, m}}));
  Value largest = r.reduce(magnitude, r.constant(-1, real_type), {1},
                           [](Builder& s, const std::vector<Value>& v) {
                             return std::vector<Value>{s.max(v[0], v[1])};
                           });
  Value is_largest = and_(r, candidate,
                          r.compare(ComparisonDirection::kEQ, magnitude,
                                    r.broadcast_in_dim(largest, column_type.dims, {0})));
  Value pivot_row =
      r.reduce(r.select(is_largest, row, r.splat(m, column_type)), r.constant_int(m, kS32), {1},
               [](Builder& s, const std::vector<Value>& v) {
                 return std::vector<Value>{s.min(v[0], v[1])};
               });
  // No candidate compares equal when the column holds NaN: keep row k.
  Value k_batch = r.broadcast_in_dim(k, batch_type.dims, {});
  pivot_row = r.select(r.compare(ComparisonDirection::kEQ, pivot_row, r.splat(m, batch_type)),
                       k_batch, pivot_row);
  pivots = r.dynamic_update_slice(
      pivots, r.reshape(r.add(pivot_row, r.splat(1, batch_type)), {batch, 1}), {zero, k});

  // Interchange rows k and pivot_row (whole rows, as getrf does) and in perm.
  Value is_k_row =
      r.compare(ComparisonDirection::kEQ, r.iota(full_type, 1), r.broadcast_in_dim(k, dims, {}));
  Value is_pivot_row = r.compare(ComparisonDirection::kEQ, r.iota(full_type, 1),
                                 r.broadcast_in_dim(pivot_row, dims, {0}));
  Value row_k = r.reshape(r.dynamic_slice(a, {zero, k, zero}, {batch, 1, n}), {batch, n});
  Value row_pivot = take_row(r, a, pivot_row);
  a = r.select(is_k_row, r.broadcast_in_dim(row_pivot, dims, {0, 2}),
               r.select(is_pivot_row, r.broadcast_in_dim(row_k, dims, {0, 2}), a));
  Value perm_is_pivot = r.compare(ComparisonDirection::kEQ, row,
                                  r.broadcast_in_dim(pivot_row, column_type.dims, {0}));
  Value perm_is_k = r.compare(ComparisonDirection::kEQ, row, k_column);
  Value perm_k = r.reshape(r.dynamic_slice(perm, {zero, k}, {batch, 1}), {batch});
  Value perm_pivot = sum_ints(r, r.select(perm_is_pivot, perm, r.zeros(column_type)), 1);
  perm = r.select(perm_is_k, r.broadcast_in_dim(perm_pivot, column_type.dims, {0}),
                  r.select(perm_is_pivot, r.broadcast_in_dim(perm_k, column_type.dims, {0}), perm));

  // Scale the column below the pivot; a zero pivot is recorded instead.
  Value pivot = r.reshape(r.dynamic_slice(a, {zero, k, k}, {batch, 1, 1}), {batch});
  const TensorType value_batch{type, {batch}};
  Value nonzero = r.compare(ComparisonDirection::kNE, pivot, r.zeros(value_batch));
  Value first_zero = and_(r, r.unary(UnaryOp::kNot, nonzero),
                          r.compare(ComparisonDirection::kEQ, info, r.zeros(batch_type)));
  info = r.select(first_zero, r.add(k_batch, r.splat(1, batch_type)), info);
  column = r.reshape(r.dynamic_slice(a, {zero, zero, k}, {batch, m, 1}), {batch, m});
  Value pivot_column = r.broadcast_in_dim(pivot, column_type.dims, {0});
  // Like getrf: multiply by the reciprocal unless that would overflow.
  const double smallest = real_type == ElementType::kF64 ? std::numeric_limits<double>::min()
                                                         : std::numeric_limits<float>::min();
  Value reciprocal_safe = r.compare(ComparisonDirection::kGE, pivot_magnitude(r, pivot_column),
                                    r.splat(smallest, {real_type, {batch, m}}));
  Value ones = stablehlo::is_complex(type) ? r.splat_complex(1, 0, {type, {batch, m}})
                                           : r.splat(1, {type, {batch, m}});
  Value scaled = r.select(reciprocal_safe, r.mul(column, r.div(ones, pivot_column)),
                          r.div(column, pivot_column));
  Value below = r.compare(ComparisonDirection::kGT, row, k_column);
  Value multipliers =
      r.select(and_(r, below, r.broadcast_in_dim(nonzero, column_type.dims, {0})), scaled, column);
  a = r.dynamic_update_slice(a, r.reshape(multipliers, {batch, m, 1}), {zero, zero, k});

  // Rank-1 update of the trailing block.
  Value pivot_row_values =
      r.reshape(r.dynamic_slice(a, {zero, k, zero}, {batch, 1, n}), {batch, n});
  Value update = r.mul(r.broadcast_in_dim(multipliers, dims, {0, 1}),
                       r.broadcast_in_dim(pivot_row_values, dims, {0, 2}));
  return {r.add(k, one), a, pivots, perm, info, update};
}

LuFactors lu_factor(Builder& b, Value a) {
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t m = b.dims(a)[b.rank(a) - 2], n = b.dims(a).back();
  const int64_t steps = std::min(m, n);
  const int64_t count = matrix::product(batch);
  std::vector<int64_t> pivot_dims = batch, perm_dims = batch;
  pivot_dims.push_back(steps);
  perm_dims.push_back(m);
  const TensorType perm_type{kS32, perm_dims};
  if (count == 0 || steps == 0) {
    return {a,
            b.add(b.iota({kS32, pivot_dims}, static_cast<int64_t>(batch.size())),
                  b.splat(1, {kS32, pivot_dims})),
            b.iota(perm_type, static_cast<int64_t>(batch.size())), b.zeros({kS32, batch})};
  }
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, kS32), b.reshape(a, {count, m, n}), b.zeros({kS32, {count, steps}}),
       b.iota({kS32, {count, m}}, 1), b.zeros({kS32, {count}}),
       b.zeros({b.element_type(a), {count, m, n}})},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kLT, v[0], r.constant_int(steps, kS32))};
      },
      &elimination_step);
  return {b.reshape(state[1], b.dims(a)), b.reshape(state[2], pivot_dims),
          b.reshape(state[3], perm_dims), b.reshape(state[4], batch)};
}

void check_lu_input(Builder& b, Value a, std::string_view op) {
  if (b.rank(a) < 2) {
    throw InvalidArgument(std::string(op) +
                          ": Expected tensor with 2 or more dimensions. Got size: " +
                          shape_text(b.dims(a)) + " instead");
  }
  matrix::check_floating_or_complex(b, a, op);
}

// L (unit lower, m x k) and U (upper, k x n) of a packed m x n factorization.
std::pair<Value, Value> unpack_triangles(Builder& b, Value lu) {
  const std::vector<int64_t> batch = matrix::batch_dims(b, lu);
  const int64_t m = b.dims(lu)[b.rank(lu) - 2], n = b.dims(lu).back();
  const int64_t k = std::min(m, n);
  const auto rank = b.rank(lu);
  std::vector<int64_t> zeros(rank, 0);
  Value left = b.slice(lu, zeros, matrix::with_matrix(batch, m, k));
  Value top = b.slice(lu, zeros, matrix::with_matrix(batch, k, n));
  Value lower = matrix::with_unit_diagonal(b, matrix::keep_triangle(b, left, true, -1));
  if (b.type(lower).numel() == 0) lower = b.zeros(b.type(lower));
  Value upper = matrix::keep_triangle(b, top, false);
  return {lower, upper};
}

Value flatten_batch(Builder& b, Value x, int64_t keep) {
  const std::vector<int64_t>& dims = b.dims(x);
  std::vector<int64_t> flat{matrix::product({dims.begin(), dims.end() - keep})};
  flat.insert(flat.end(), dims.end() - keep, dims.end());
  return b.reshape(x, flat);
}

// linalg_lu_factor_ex(A, *, pivot=True, check_errors=False) -> (LU, pivots, info)
std::vector<Value> lu_factor_ex_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  check_lu_input(b, a, "torch.lu_factor");
  if (!call.bool_at(1))
    throw InvalidArgument("linalg.lu_factor: LU without pivoting is not implemented on the CPU");
  if (call.bool_at(2))
    throw Unsupported("check_errors=True needs the info on the host; use linalg.lu_factor");
  LuFactors factors = lu_factor(b, a);
  return {factors.lu, factors.pivots, factors.info};
}

// linalg_lu(A, *, pivot=True) -> (P, L, U)
std::vector<Value> lu_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  check_lu_input(b, a, "linalg.lu");
  if (!call.bool_at(1))
    throw InvalidArgument("linalg.lu: LU without pivoting is not implemented on the CPU");
  LuFactors factors = lu_factor(b, a);
  auto [lower, upper] = unpack_triangles(b, factors.lu);
  return {matrix::permutation_matrix(b, factors.perm, b.element_type(a)), lower, upper};
}

// lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True) -> (P, L, U)
std::vector<Value> lu_unpack_rule(Builder& b, const OpCall& call) {
  const Value lu = call.tensor(0).value, pivots = call.tensor(1).value;
  const bool unpack_data = call.bool_at(2), unpack_pivots = call.bool_at(3);
  if (b.rank(lu) < 2) {
    throw InvalidArgument("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: " +
                          shape_text(b.dims(lu)) + " instead");
  }
  const std::vector<int64_t> batch = matrix::batch_dims(b, lu);
  const int64_t m = b.dims(lu)[b.rank(lu) - 2], n = b.dims(lu).back();
  const ElementType type = b.element_type(lu);
  const TensorType empty{type, {0}};
  Value permutation = b.zeros(empty), lower = b.zeros(empty), upper = b.zeros(empty);
  if (unpack_pivots) {
    if (b.element_type(pivots) != kS32) {
      throw InvalidArgument(
          "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
          "dtype.\nNote: this function is intended to be used with the output produced by "
          "torch.linalg.lu_factor");
    }
    std::vector<int64_t> expected = batch;
    expected.push_back(std::min(m, n));
    if (b.dims(pivots) != expected) {
      throw InvalidArgument("torch.lu_unpack: Expected LU_pivots of shape " + shape_text(expected) +
                            ", got " + shape_text(b.dims(pivots)));
    }
    Value perm = matrix::permutation_from_pivots(b, flatten_batch(b, pivots, 1), m);
    std::vector<int64_t> perm_dims = batch;
    perm_dims.push_back(m);
    permutation = matrix::permutation_matrix(b, b.reshape(perm, perm_dims), type);
  }
  if (unpack_data) std::tie(lower, upper) = unpack_triangles(b, lu);
  return {permutation, lower, upper};
}

// Solves A X = B (or A^H X = B) for square A = P L U given as (lu, pivots);
// lu's and rhs's batch dims broadcast.
Value lu_solve(Builder& b, Value lu, Value pivots, Value rhs, bool adjoint) {
  const std::vector<int64_t> batch =
      broadcast_shapes(matrix::batch_dims(b, lu), matrix::batch_dims(b, rhs));
  const int64_t n = b.dims(lu).back(), k = b.dims(rhs).back();
  const std::vector<int64_t> result_dims = matrix::with_matrix(batch, n, k);
  const TensorType result_type{b.element_type(rhs), result_dims};
  const int64_t count = matrix::product(batch);
  if (count == 0 || n == 0 || k == 0) return b.zeros(result_type);
  lu = broadcast_to(b, lu, matrix::with_matrix(batch, n, n));
  rhs = broadcast_to(b, rhs, result_dims);
  std::vector<int64_t> perm_dims = b.dims(pivots);
  Value perm =
      b.reshape(matrix::permutation_from_pivots(b, flatten_batch(b, pivots, 1), n), perm_dims);
  std::vector<int64_t> full_perm_dims = batch;
  full_perm_dims.push_back(n);
  perm = b.reshape(broadcast_to(b, perm, full_perm_dims), {count, n});
  if (!adjoint) {
    // L U x = P^T b, and (P^T b)[i] = b[perm[i]].
    Value permuted =
        b.reshape(matrix::gather_rows(b, b.reshape(rhs, {count, n, k}), perm), result_dims);
    Value y = matrix::triangular_solve(b, lu, permuted, true, true, true, matrix::Transpose::kNone);
    return matrix::triangular_solve(b, lu, y, true, false, false, matrix::Transpose::kNone);
  }
  // U^H L^H P^T x = b: x = P (L^-H U^-H b), and (P z)[r] = z[inverse[r]].
  Value y = matrix::triangular_solve(b, lu, rhs, true, false, false, matrix::Transpose::kAdjoint);
  Value z = matrix::triangular_solve(b, lu, y, true, true, true, matrix::Transpose::kAdjoint);
  Value inverse = matrix::invert_permutation(b, perm);
  return b.reshape(matrix::gather_rows(b, b.reshape(z, {count, n, k}), inverse), result_dims);
}

// linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False)
std::vector<Value> lu_solve_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "torch.linalg.lu_solve";
  const Value lu = call.tensor(0).value, pivots = call.tensor(1).value;
  const Value rhs = call.tensor(2).value;
  const bool left = call.bool_at(3), adjoint = call.bool_at(4);
  matrix::check_square(b, lu, kOp, "LU");
  matrix::check_is_matrix(b, rhs, kOp, "B");
  const int64_t n = b.dims(lu).back();
  const std::vector<int64_t>& rd = b.dims(rhs);
  if ((left ? rd[rd.size() - 2] : rd.back()) != n) {
    throw InvalidArgument(std::string(kOp) + ": Incompatible shapes of A and B for the equation " +
                          (left ? "AX = B" : "XA = B") + " (" + std::to_string(n) + "x" +
                          std::to_string(n) + " and " + std::to_string(rd[rd.size() - 2]) + "x" +
                          std::to_string(rd.back()) + ")");
  }
  std::vector<int64_t> pivot_dims = matrix::batch_dims(b, lu);
  pivot_dims.push_back(n);
  if (b.dims(pivots) != pivot_dims) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected LU.shape[:-1] and pivots.shape to be the same, but got "
                          "pivots with shape " +
                          shape_text(b.dims(pivots)) + " instead");
  }
  if (b.element_type(pivots) != kS32)
    throw InvalidArgument(std::string(kOp) + ": Expected pivots to be integers. Got " +
                          std::string(scalar_type_name(b.element_type(pivots))));
  if (b.element_type(lu) != b.element_type(rhs)) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected LU and B to have the same dtype, but found " +
                          std::string(scalar_type_name(b.element_type(lu))) + " and " +
                          std::string(scalar_type_name(b.element_type(rhs))));
  }
  matrix::check_floating_or_complex(b, lu, kOp);
  if (left) return {lu_solve(b, lu, pivots, rhs, adjoint)};
  // X A = B is A^H X^H = B^H.
  return {matrix::adjoint(b, lu_solve(b, lu, pivots, matrix::adjoint(b, rhs), !adjoint))};
}

// linalg_inv_ex(A, *, check_errors=False) -> (inverse, info)
std::vector<Value> inv_ex_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  matrix::check_square(b, a, "linalg.inv");
  matrix::check_floating_or_complex(b, a, "linalg.inv");
  if (call.bool_at(1))
    throw Unsupported("check_errors=True needs the info on the host; use linalg.inv");
  LuFactors factors = lu_factor(b, a);
  Value inverse = lu_solve(b, factors.lu, factors.pivots, matrix::identity(b, b.type(a)), false);
  return {inverse, factors.info};
}

}  // namespace

Value matrix::solve(Builder& b, Value a, Value rhs) {
  LuFactors factors = lu_factor(b, a);
  return lu_solve(b, factors.lu, factors.pivots, rhs, false);
}

void add_lu_rules(RuleTable& table) {
  table.add("linalg_lu_factor_ex", {&lu_factor_ex_rule, {}});
  table.add("linalg_lu", {&lu_rule, {}});
  table.add("lu_unpack", {&lu_unpack_rule, {}});
  table.add("linalg_lu_solve", {&lu_solve_rule, {}});
  table.add("linalg_inv_ex", {&inv_ex_rule, {}});
}

}  // namespace torch_pjrt::lowering
