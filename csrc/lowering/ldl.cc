// LDL^T (LDL^H) factorization with Bunch-Kaufman pivoting (linalg_ldl_factor_ex)
// and the solve with it (linalg_ldl_solve), following LAPACK's unblocked
// sytf2 / hetf2 and sytrs / hetrs for the lower triangle step by step, so LD,
// pivots and info equal CPU's (whose sytrf runs unblocked at these sizes).
//
// The factorization walks the columns k = 0..n-1 in a stablehlo.while. Each
// batch element picks a 1x1 or 2x2 pivot block; after a 2x2 block that element
// skips the next column. The trailing matrix is kept symmetric (Hermitian) in
// full, its upper triangle refreshed from the lower after every step, so
// LAPACK's interchange of rows and columns kk and kp within the trailing
// matrix is one gather of rows and columns; the L columns already computed
// are not permuted, as in LAPACK.
//
// Pivot magnitudes are LAPACK's: |x| for real, |re| + |im| for complex (and
// |re| of a Hermitian diagonal entry).

#include <cmath>
#include <string>
#include <vector>

#include "lowering/batched_matrix.h"
#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;

Value and_(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kAnd, x, y); }
Value or_(Builder& b, Value x, Value y) { return b.binary(BinaryOp::kOr, x, y); }
Value not_(Builder& b, Value x) { return b.unary(UnaryOp::kNot, x); }

Value compare(Builder& b, ComparisonDirection direction, Value x, Value y) {
  return b.compare(direction, x, y);
}

// One column [B, n] of x [B, n, n] at the 0-d index j.
Value column_at(Builder& r, Value x, Value j) {
  const std::vector<int64_t>& dims = r.dims(x);
  Value zero = r.constant_int(0, kS32);
  return r.reshape(r.dynamic_slice(x, {zero, zero, j}, {dims[0], dims[1], 1}), {dims[0], dims[1]});
}

// Entry i [B] of rows x [B, n] at the 0-d index i, or per batch at index [B].
Value entry_at(Builder& r, Value x, Value i) {
  const std::vector<int64_t>& dims = r.dims(x);
  const TensorType positions{kS32, dims};
  Value index = r.rank(i) == 0 ? r.broadcast_in_dim(i, dims, {}) : r.broadcast_in_dim(i, dims, {0});
  Value hit = compare(r, ComparisonDirection::kEQ, r.iota(positions, 1), index);
  const ElementType type = r.element_type(x);
  Value zero =
      stablehlo::is_complex(type) ? r.splat_complex(0, 0, {type, {}}) : r.constant(0, type);
  return r.reduce(r.select(hit, x, r.broadcast_in_dim(zero, dims, {})), zero, {1},
                  [](Builder& s, const std::vector<Value>& v) {
                    return std::vector<Value>{s.add(v[0], v[1])};
                  });
}

// LAPACK's pivot magnitude of each entry (real).
Value magnitude(Builder& r, Value x) {
  if (!stablehlo::is_complex(r.element_type(x))) return r.unary(UnaryOp::kAbs, x);
  return r.add(r.unary(UnaryOp::kAbs, r.unary(UnaryOp::kReal, x)),
               r.unary(UnaryOp::kAbs, r.unary(UnaryOp::kImag, x)));
}

Value conj_if(Builder& r, Value x, bool hermitian) { return hermitian ? matrix::conj(r, x) : x; }

// The matrix x [B, n, n] with its upper triangle the transpose (adjoint) of
// its lower one; for Hermitian, a real diagonal.
Value symmetric_from_lower(Builder& r, Value x, bool hermitian) {
  Value lower_mask = matrix::triangle_mask(r, r.dims(x), true, 0);
  Value mirrored = hermitian ? matrix::adjoint(r, x) : matrix::transpose(r, x);
  Value full = r.select(lower_mask, x, mirrored);
  if (!hermitian || !stablehlo::is_complex(r.element_type(x))) return full;
  Value diagonal = and_(r, lower_mask, matrix::triangle_mask(r, r.dims(x), false, 0));
  Value real = r.unary(UnaryOp::kReal, full);
  return r.select(diagonal, r.binary(BinaryOp::kComplex, real, r.zeros(r.type(real))), full);
}

// Rows and columns a and b (per batch, [B] s32) of x [B, n, n] exchanged where
// both the row and the column are at least k.
Value interchange(Builder& r, Value x, Value k, Value a, Value p) {
  const std::vector<int64_t>& dims = r.dims(x);
  const TensorType positions{kS32, {dims[0], dims[1]}};
  Value i = r.iota(positions, 1);
  Value a_b = r.broadcast_in_dim(a, positions.dims, {0});
  Value p_b = r.broadcast_in_dim(p, positions.dims, {0});
  Value perm = r.select(compare(r, ComparisonDirection::kEQ, i, a_b), p_b,
                        r.select(compare(r, ComparisonDirection::kEQ, i, p_b), a_b, i));
  Value rows = matrix::gather_rows(r, x, perm);
  Value both = matrix::transpose(r, matrix::gather_rows(r, matrix::transpose(r, rows), perm));
  const TensorType full{kS32, dims};
  Value k_full = r.broadcast_in_dim(k, dims, {});
  Value trailing = and_(r, compare(r, ComparisonDirection::kGE, r.iota(full, 1), k_full),
                        compare(r, ComparisonDirection::kGE, r.iota(full, 2), k_full));
  return r.select(trailing, both, x);
}

Value splat_like(Builder& r, double value, const TensorType& type) {
  if (stablehlo::is_complex(type.element)) return r.splat_complex(value, 0, type);
  return r.splat(value, type);
}

Value real_as(Builder& r, Value real, ElementType type) {
  return stablehlo::is_complex(type) ? r.convert(real, type) : real;
}

// One column of sytf2 / hetf2; state (k, a, pivots, info, skip).
std::vector<Value> factor_step(Builder& r, const std::vector<Value>& state, bool hermitian) {
  Value k = state[0], a = state[1], pivots = state[2], info = state[3], skip = state[4];
  const std::vector<int64_t> dims = r.dims(a);
  const int64_t batch = dims[0], n = dims[1];
  const ElementType type = r.element_type(a);
  const bool complex = stablehlo::is_complex(type);
  const bool real_diagonal = hermitian && complex;
  const TensorType rows_type{kS32, {batch, n}};
  const TensorType real_batch{stablehlo::real_part_type(type), {batch}};
  Value one = r.constant_int(1, kS32);
  Value k_batch = r.broadcast_in_dim(k, {batch}, {});
  Value row = r.iota(rows_type, 1);
  Value k_rows = r.broadcast_in_dim(k, rows_type.dims, {});
  auto diagonal_magnitude = [&](Value x) {
    return real_diagonal ? r.unary(UnaryOp::kAbs, r.unary(UnaryOp::kReal, x)) : magnitude(r, x);
  };

  // The pivot search.
  Value column = column_at(r, a, k);
  Value absakk = diagonal_magnitude(entry_at(r, column, k));
  Value below = compare(r, ComparisonDirection::kGT, row, k_rows);
  Value minus_one = r.splat(-1, {real_batch.element, rows_type.dims});
  Value column_magnitudes = r.select(below, magnitude(r, column), minus_one);
  auto max_rows = [&](Value x) {
    return r.reduce(x, r.constant(-1, real_batch.element), {1},
                    [](Builder& s, const std::vector<Value>& v) {
                      return std::vector<Value>{s.max(v[0], v[1])};
                    });
  };
  Value colmax = r.max(max_rows(column_magnitudes), r.zeros(real_batch));
  // The first row of the largest magnitude, as idamax.
  Value at_max = and_(r, below,
                      compare(r, ComparisonDirection::kEQ, column_magnitudes,
                              r.broadcast_in_dim(colmax, rows_type.dims, {0})));
  Value imax = r.reduce(r.select(at_max, row, r.splat(n, rows_type)), r.constant_int(n, kS32), {1},
                        [](Builder& s, const std::vector<Value>& v) {
                          return std::vector<Value>{s.min(v[0], v[1])};
                        });
  imax = r.min(imax, r.splat(n - 1, {kS32, {batch}}));
  Value zero_column =
      or_(r, compare(r, ComparisonDirection::kEQ, r.max(absakk, colmax), r.zeros(real_batch)),
          compare(r, ComparisonDirection::kNE, absakk, absakk));
  Value imax_row = r.reshape(matrix::gather_rows(r, a, r.reshape(imax, {batch, 1})), {batch, n});
  Value in_row = and_(
      r, compare(r, ComparisonDirection::kGE, row, k_rows),
      compare(r, ComparisonDirection::kNE, row, r.broadcast_in_dim(imax, rows_type.dims, {0})));
  Value rowmax = max_rows(r.select(in_row, magnitude(r, imax_row), minus_one));
  Value aii = diagonal_magnitude(entry_at(r, imax_row, imax));
  Value alpha = r.splat((1 + std::sqrt(17.0)) / 8, real_batch);
  Value alpha_colmax = r.mul(alpha, colmax);
  Value keep_k =
      or_(r, compare(r, ComparisonDirection::kGE, absakk, alpha_colmax),
          compare(r, ComparisonDirection::kGE, absakk, r.mul(alpha_colmax, r.div(colmax, rowmax))));
  keep_k = or_(r, keep_k, zero_column);
  Value single_imax = compare(r, ComparisonDirection::kGE, aii, r.mul(alpha, rowmax));
  Value two = and_(r, not_(r, keep_k), not_(r, single_imax));
  Value kp = r.select(keep_k, k_batch, imax);
  Value kk = r.select(two, r.add(k_batch, r.broadcast_in_dim(one, {batch}, {})), k_batch);

  // Interchange, then eliminate with the pivot block.
  Value x = interchange(r, a, k, kk, kp);
  Value c0 = column_at(r, x, k);
  Value k1 = r.min(r.add(k, one), r.constant_int(n - 1, kS32));
  Value c1 = column_at(r, x, k1);
  const TensorType full{kS32, dims};
  Value i_full = r.iota(full, 1), j_full = r.iota(full, 2);
  auto outer = [&](Value u, Value v) {
    return r.mul(r.broadcast_in_dim(u, dims, {0, 1}), r.broadcast_in_dim(v, dims, {0, 2}));
  };
  auto batch_full = [&](Value v) { return r.broadcast_in_dim(v, dims, {0}); };
  auto batch_rows = [&](Value v) { return r.broadcast_in_dim(v, rows_type.dims, {0}); };

  // 1x1: A22 -= x x^T / d, and the column below k becomes x / d.
  Value d = entry_at(r, c0, k);
  if (real_diagonal) d = real_as(r, r.unary(UnaryOp::kReal, d), type);
  Value reciprocal = r.div(splat_like(r, 1, r.type(d)), d);
  Value scaled = r.mul(c0, batch_rows(reciprocal));
  Value k_full = r.broadcast_in_dim(k, dims, {});
  Value trailing1 = and_(r, compare(r, ComparisonDirection::kGT, i_full, k_full),
                         compare(r, ComparisonDirection::kGT, j_full, k_full));
  Value single = r.sub(x, outer(c0, conj_if(r, scaled, hermitian)));
  single = r.select(trailing1, single, x);
  Value column_k = and_(r, compare(r, ComparisonDirection::kEQ, j_full, k_full),
                        compare(r, ComparisonDirection::kGT, i_full, k_full));
  single = r.select(column_k, r.broadcast_in_dim(scaled, dims, {0, 1}), single);

  // 2x2 with D = [[a_kk, conj(d21)], [d21, a_k1k1]]: W = [c0 c1] D^-1 by
  // LAPACK's formulas, A22 -= c0 w0^T + c1 w1^T.
  Value d21 = entry_at(r, c0, k1);
  Value d22v = entry_at(r, c0, k), d11v = entry_at(r, c1, k1);
  Value w0, w1;
  if (hermitian && complex) {
    Value dabs = r.unary(UnaryOp::kAbs, d21);
    Value d11 = r.div(r.unary(UnaryOp::kReal, d11v), dabs);
    Value d22 = r.div(r.unary(UnaryOp::kReal, d22v), dabs);
    Value t = r.div(r.splat(1, r.type(d11)), r.sub(r.mul(d11, d22), r.splat(1, r.type(d11))));
    Value unit = r.div(d21, real_as(r, dabs, type));
    Value factor = real_as(r, r.div(t, dabs), type);
    Value d11c = real_as(r, d11, type), d22c = real_as(r, d22, type);
    w0 = r.mul(batch_rows(factor), r.sub(r.mul(batch_rows(d11c), c0), r.mul(batch_rows(unit), c1)));
    w1 = r.mul(batch_rows(factor),
               r.sub(r.mul(batch_rows(d22c), c1), r.mul(batch_rows(matrix::conj(r, unit)), c0)));
  } else {
    Value d11 = r.div(d11v, d21), d22 = r.div(d22v, d21);
    Value ones = splat_like(r, 1, r.type(d11));
    Value t = r.div(ones, r.sub(r.mul(d11, d22), ones));
    Value factor = r.div(t, d21);
    w0 = r.mul(batch_rows(factor), r.sub(r.mul(batch_rows(d11), c0), c1));
    w1 = r.mul(batch_rows(factor), r.sub(r.mul(batch_rows(d22), c1), c0));
  }
  Value k2_full = r.add(k_full, r.broadcast_in_dim(one, dims, {}));
  Value trailing2 = and_(r, compare(r, ComparisonDirection::kGT, i_full, k2_full),
                         compare(r, ComparisonDirection::kGT, j_full, k2_full));
  Value pair =
      r.sub(x, r.add(outer(c0, conj_if(r, w0, hermitian)), outer(c1, conj_if(r, w1, hermitian))));
  pair = r.select(trailing2, pair, x);
  Value below_pair = compare(r, ComparisonDirection::kGT, i_full, k2_full);
  pair = r.select(and_(r, below_pair, compare(r, ComparisonDirection::kEQ, j_full, k_full)),
                  r.broadcast_in_dim(w0, dims, {0, 1}), pair);
  pair = r.select(and_(r, below_pair, compare(r, ComparisonDirection::kEQ, j_full, k2_full)),
                  r.broadcast_in_dim(w1, dims, {0, 1}), pair);

  Value active = not_(r, skip);
  Value eliminate = and_(r, active, not_(r, zero_column));
  Value next = r.select(batch_full(two), pair, single);
  next = symmetric_from_lower(r, r.select(batch_full(eliminate), next, a), hermitian);

  // ipiv: kp + 1 for a 1x1 block, -(kp + 1) on both columns of a 2x2 one.
  Value stored =
      r.select(two, r.unary(UnaryOp::kNegate, r.add(kp, r.broadcast_in_dim(one, {batch}, {}))),
               r.add(kp, r.broadcast_in_dim(one, {batch}, {})));
  Value mark = and_(r, batch_rows(active),
                    or_(r, compare(r, ComparisonDirection::kEQ, row, k_rows),
                        and_(r, batch_rows(two),
                             compare(r, ComparisonDirection::kEQ, row,
                                     r.add(k_rows, r.broadcast_in_dim(one, rows_type.dims, {}))))));
  pivots = r.select(mark, batch_rows(stored), pivots);
  Value first_failure = and_(r, and_(r, active, zero_column),
                             compare(r, ComparisonDirection::kEQ, info, r.zeros({kS32, {batch}})));
  info = r.select(first_failure, r.add(k_batch, r.broadcast_in_dim(one, {batch}, {})), info);
  return {r.add(k, one), next, pivots, info, and_(r, active, two)};
}

// linalg_ldl_factor_ex(self, *, hermitian=False, check_errors=False) -> (LD, pivots, info)
std::vector<Value> ldl_factor_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "torch.linalg.ldl_factor_ex";
  const Value a = call.tensor(0).value;
  const bool hermitian = call.bool_at(1);
  if (call.bool_at(2))
    throw Unsupported("check_errors=True needs the info on the host; use linalg.ldl_factor_ex");
  matrix::check_square(b, a, kOp);
  matrix::check_floating_or_complex(b, a, kOp);
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t n = b.dims(a).back(), count = matrix::product(batch);
  std::vector<int64_t> pivot_dims = batch;
  pivot_dims.push_back(n);
  if (count == 0 || n == 0) {
    return {b.zeros(b.type(a)), b.zeros({kS32, pivot_dims}), b.zeros({kS32, batch})};
  }
  Value start = symmetric_from_lower(b, b.reshape(a, {count, n, n}), hermitian);
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, kS32), start, b.zeros({kS32, {count, n}}), b.zeros({kS32, {count}}),
       b.zeros({ElementType::kPred, {count}})},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            compare(r, ComparisonDirection::kLT, v[0], r.constant_int(n, kS32))};
      },
      [&](Builder& r, const std::vector<Value>& v) { return factor_step(r, v, hermitian); });
  Value ld = matrix::keep_triangle(b, state[1], true);
  return {b.reshape(ld, b.dims(a)), b.reshape(state[2], pivot_dims), b.reshape(state[3], batch)};
}

// Rows a and p (per batch [B]) of x [B, n, r] exchanged.
Value swap_rows(Builder& r, Value x, Value a, Value p) {
  const std::vector<int64_t>& dims = r.dims(x);
  const TensorType positions{kS32, {dims[0], dims[1]}};
  Value i = r.iota(positions, 1);
  Value a_b = r.broadcast_in_dim(a, positions.dims, {0});
  Value p_b = r.broadcast_in_dim(p, positions.dims, {0});
  Value perm = r.select(compare(r, ComparisonDirection::kEQ, i, a_b), p_b,
                        r.select(compare(r, ComparisonDirection::kEQ, i, p_b), a_b, i));
  return matrix::gather_rows(r, x, perm);
}

// Row i (0-d) of x [B, n, r] as [B, r].
Value row_at(Builder& r, Value x, Value i) {
  const std::vector<int64_t>& dims = r.dims(x);
  Value zero = r.constant_int(0, kS32);
  return r.reshape(r.dynamic_slice(x, {zero, i, zero}, {dims[0], 1, dims[2]}), {dims[0], dims[2]});
}

Value with_row(Builder& r, Value x, Value i, Value values) {
  const std::vector<int64_t>& dims = r.dims(x);
  Value zero = r.constant_int(0, kS32);
  return r.dynamic_update_slice(x, r.reshape(values, {dims[0], 1, dims[2]}), {zero, i, zero});
}

// sytrs / hetrs with the lower factor: ld [B, n, n], pivots [B, n], rhs [B, n, r].
Value ldl_solve(Builder& b, Value ld, Value pivots, Value rhs, bool hermitian) {
  const std::vector<int64_t> dims = b.dims(rhs);
  const int64_t batch = dims[0], n = dims[1];
  const ElementType type = b.element_type(rhs);
  const bool real_diagonal = hermitian && stablehlo::is_complex(type);
  Value l = matrix::keep_triangle(b, ld, true, -1);
  const TensorType batch_s32{kS32, {batch}};
  // The loop bodies see the factors only through their state.
  auto pivot_at = [&](Builder& r, Value pivots_in, Value k) {
    return r.reshape(r.dynamic_slice(pivots_in, {r.constant_int(0, kS32), k}, {batch, 1}), {batch});
  };
  auto batch_full = [&](Builder& r, Value v) { return r.broadcast_in_dim(v, dims, {0}); };
  auto per_row = [&](Builder& r, Value v) { return r.broadcast_in_dim(v, {batch, dims[2]}, {0}); };
  auto entry = [&](Builder& r, Value ld_in, Value i, Value j) {
    return r.reshape(r.dynamic_slice(ld_in, {r.constant_int(0, kS32), i, j}, {batch, 1, 1}),
                     {batch});
  };
  auto diagonal_entry = [&](Builder& r, Value ld_in, Value i) {
    Value d = entry(r, ld_in, i, i);
    if (real_diagonal) d = real_as(r, r.unary(UnaryOp::kReal, d), type);
    return d;
  };

  // L D X = P-interleaved B, columns 0..n-1.
  std::vector<Value> forward = b.while_loop(
      {b.constant_int(0, kS32), rhs, b.zeros({ElementType::kPred, {batch}}), ld, l, pivots},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            compare(r, ComparisonDirection::kLT, v[0], r.constant_int(n, kS32))};
      },
      [&](Builder& r, const std::vector<Value>& v) {
        Value k = v[0], x = v[1], skip = v[2], ld_in = v[3], l = v[4];
        Value one = r.constant_int(1, kS32);
        Value k1 = r.min(r.add(k, one), r.constant_int(n - 1, kS32));
        Value piv = pivot_at(r, v[5], k);
        Value active = not_(r, skip);
        Value two = and_(r, active, compare(r, ComparisonDirection::kLT, piv, r.zeros(batch_s32)));
        Value k_batch = r.broadcast_in_dim(k, {batch}, {});
        Value a = r.select(two, r.broadcast_in_dim(k1, {batch}, {}), k_batch);
        Value p = r.sub(r.select(two, r.unary(UnaryOp::kNegate, piv), piv),
                        r.broadcast_in_dim(one, {batch}, {}));
        p = r.select(active, p, a);
        Value swapped = swap_rows(r, x, a, p);
        Value lk = column_at(r, l, k), lk1 = column_at(r, l, k1);
        Value xk = row_at(r, swapped, k), xk1 = row_at(r, swapped, k1);
        auto outer = [&](Value col, Value row_values) {
          return r.mul(r.broadcast_in_dim(col, dims, {0, 1}),
                       r.broadcast_in_dim(row_values, dims, {0, 2}));
        };
        const TensorType rows_full{kS32, dims};
        Value i_full = r.iota(rows_full, 1);
        // 1x1: eliminate below k, then divide row k by d.
        Value single = r.sub(swapped, outer(lk, xk));
        single = with_row(r, single, k, r.div(xk, per_row(r, diagonal_entry(r, ld_in, k))));
        // 2x2: eliminate below k + 1 with both columns, then solve with D.
        Value below2 =
            compare(r, ComparisonDirection::kGT, i_full, r.broadcast_in_dim(k1, dims, {}));
        Value pair =
            r.select(below2, r.sub(r.sub(swapped, outer(lk, xk)), outer(lk1, xk1)), swapped);
        Value akm1k = entry(r, ld_in, k1, k);
        Value akm1 = r.div(diagonal_entry(r, ld_in, k), conj_if(r, akm1k, hermitian));
        Value ak = r.div(diagonal_entry(r, ld_in, k1), akm1k);
        Value denom = r.sub(r.mul(akm1, ak), splat_like(r, 1, r.type(ak)));
        Value bkm1 = r.div(xk, per_row(r, conj_if(r, akm1k, hermitian)));
        Value bk = r.div(xk1, per_row(r, akm1k));
        Value new_k = r.div(r.sub(r.mul(per_row(r, ak), bkm1), bk), per_row(r, denom));
        Value new_k1 = r.div(r.sub(r.mul(per_row(r, akm1), bk), bkm1), per_row(r, denom));
        pair = with_row(r, with_row(r, pair, k, new_k), k1, new_k1);
        Value next = r.select(batch_full(r, two), pair, single);
        next = r.select(batch_full(r, active), next, x);
        return std::vector<Value>{r.add(k, one), next, two, ld_in, l, v[5]};
      });

  // L^T (L^H) X = Y, columns n-1..0, undoing the interchanges.
  std::vector<Value> backward = b.while_loop(
      {b.constant_int(n - 1, kS32), forward[1], b.zeros({ElementType::kPred, {batch}}), l, pivots},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            compare(r, ComparisonDirection::kGE, v[0], r.constant_int(0, kS32))};
      },
      [&](Builder& r, const std::vector<Value>& v) {
        Value k = v[0], x = v[1], skip = v[2], l = v[3];
        Value one = r.constant_int(1, kS32);
        Value km1 = r.max(r.sub(k, one), r.constant_int(0, kS32));
        Value piv = pivot_at(r, v[4], k);
        Value active = not_(r, skip);
        Value two = and_(r, active, compare(r, ComparisonDirection::kLT, piv, r.zeros(batch_s32)));
        auto dot_below = [&](Value column) {
          // sum_i f(l[i]) x[i, :] over [B, r]
          Value weights = r.broadcast_in_dim(conj_if(r, column, hermitian), dims, {0, 1});
          const ElementType t = r.element_type(x);
          Value zero = stablehlo::is_complex(t) ? r.splat_complex(0, 0, {t, {}}) : r.constant(0, t);
          return r.reduce(r.mul(weights, x), zero, {1},
                          [](Builder& s, const std::vector<Value>& w) {
                            return std::vector<Value>{s.add(w[0], w[1])};
                          });
        };
        // Column k of l is zero at and above k, so the sums run over rows below k.
        Value lk = column_at(r, l, k), lkm1 = column_at(r, l, km1);
        Value updated = with_row(r, x, k, r.sub(row_at(r, x, k), dot_below(lk)));
        // For a 2x2 block (k - 1, k), row k - 1 only takes rows below k.
        Value below_k = compare(r, ComparisonDirection::kGT, r.iota({kS32, {batch, n}}, 1),
                                r.broadcast_in_dim(k, {batch, n}, {}));
        Value lkm1_below = r.select(
            below_k, lkm1,
            r.broadcast_in_dim(splat_like(r, 0, {r.element_type(lkm1), {}}), {batch, n}, {}));
        Value pair = with_row(r, updated, km1, r.sub(row_at(r, x, km1), dot_below(lkm1_below)));
        Value next = r.select(batch_full(r, two), pair, updated);
        Value k_batch = r.broadcast_in_dim(k, {batch}, {});
        Value p = r.sub(r.select(two, r.unary(UnaryOp::kNegate, piv), piv),
                        r.broadcast_in_dim(one, {batch}, {}));
        p = r.select(active, p, k_batch);
        next = swap_rows(r, next, k_batch, p);
        next = r.select(batch_full(r, active), next, x);
        return std::vector<Value>{r.sub(k, one), next, two, l, v[4]};
      });
  return backward[1];
}

// linalg_ldl_solve(LD, pivots, B, *, hermitian=False)
std::vector<Value> ldl_solve_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "torch.linalg.ldl_solve";
  const Value ld = call.tensor(0).value, pivots = call.tensor(1).value;
  const Value rhs = call.tensor(2).value;
  const bool hermitian = call.bool_at(3);
  matrix::check_square(b, ld, kOp, "LD");
  if (b.rank(rhs) < 2)
    throw IndexOutOfRange(
        "Dimension out of range (expected to be in range of [-1, 0], but got -2)");
  matrix::check_floating_or_complex(b, ld, kOp);
  const int64_t n = b.dims(ld).back();
  const std::vector<int64_t> ld_without_last(b.dims(ld).begin(), b.dims(ld).end() - 1);
  if (b.dims(pivots) != ld_without_last) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected LD.shape[:-1] and pivots.shape to be the same, but got "
                          "pivots with shape " +
                          shape_text(b.dims(pivots)) + " instead");
  }
  if (!stablehlo::is_integral(b.element_type(pivots)))
    throw InvalidArgument(std::string(kOp) + ": Expected pivots to be integers. Got " +
                          std::string(scalar_type_name(b.element_type(pivots))));
  if (b.element_type(rhs) != b.element_type(ld)) {
    throw InvalidArgument("Expected b and A to have the same dtype, but found b of type " +
                          std::string(scalar_type_name(b.element_type(rhs))) + " and A of type " +
                          std::string(scalar_type_name(b.element_type(ld))) + " instead.");
  }
  const int64_t rows = b.dims(rhs)[b.rank(rhs) - 2], nrhs = b.dims(rhs).back();
  if (rows != n) {
    throw InvalidArgument(
        "Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is " +
        std::to_string(n) + " by " + std::to_string(n) + " but each b matrix is " +
        std::to_string(rows) + " by " + std::to_string(nrhs));
  }
  const std::vector<int64_t> batch =
      broadcast_shapes(matrix::batch_dims(b, ld), matrix::batch_dims(b, rhs));
  const std::vector<int64_t> result_dims = matrix::with_matrix(batch, n, nrhs);
  const int64_t count = matrix::product(batch);
  if (count == 0 || n == 0 || nrhs == 0) return {b.zeros({b.element_type(rhs), result_dims})};
  std::vector<int64_t> pivot_dims = batch;
  pivot_dims.push_back(n);
  Value flat_ld = b.reshape(broadcast_to(b, ld, matrix::with_matrix(batch, n, n)), {count, n, n});
  Value flat_pivots = b.reshape(broadcast_to(b, b.convert(pivots, kS32), pivot_dims), {count, n});
  Value flat_rhs = b.reshape(broadcast_to(b, rhs, result_dims), {count, n, nrhs});
  return {b.reshape(ldl_solve(b, flat_ld, flat_pivots, flat_rhs, hermitian), result_dims)};
}

}  // namespace

void add_ldl_rules(RuleTable& table) {
  table.add("linalg_ldl_factor_ex", {&ldl_factor_rule, {}});
  table.add("linalg_ldl_solve", {&ldl_solve_rule, {}});
}

}  // namespace torch_pjrt::lowering
