#pragma once

// Building blocks shared by the matrix decompositions (cholesky.cc,
// triangular_solve.cc, lu.cc): every operand is a batch of matrices in its
// last two dimensions, with any number of leading batch dimensions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/op_call.h"

namespace torch_pjrt::lowering::matrix {

enum class Transpose { kNone, kTranspose, kAdjoint };

// The leading (batch) dimensions of a matrix batch.
std::vector<int64_t> batch_dims(const Builder& b, Value x);
// dims with the last two replaced by rows, cols.
std::vector<int64_t> with_matrix(std::vector<int64_t> batch, int64_t rows, int64_t cols);
int64_t product(const std::vector<int64_t>& dims);

// PyTorch's checks of linalg inputs, with its messages.
void check_is_matrix(const Builder& b, Value x, std::string_view op, std::string_view arg);
void check_square(const Builder& b, Value x, std::string_view op, std::string_view arg = "A");
// float32, float64, complex64, complex128; other floats raise "Low precision
// dtypes not supported", the rest "Expected a floating point or complex tensor".
void check_floating_or_complex(const Builder& b, Value x, std::string_view op);

// Element (i, j) is true where j - i <= offset (lower) or j - i >= offset (upper).
Value triangle_mask(Builder& b, const std::vector<int64_t>& dims, bool lower, int64_t offset);
// x with the other triangle replaced by zeros (selected, so inf/NaN there vanish).
Value keep_triangle(Builder& b, Value x, bool lower, int64_t offset = 0);
// x with its diagonal replaced by ones.
Value with_unit_diagonal(Builder& b, Value x);
// The identity matrix of x's type and shape (also for non-square shapes).
Value identity(Builder& b, const TensorType& type);
Value conj(Builder& b, Value x);
Value transpose(Builder& b, Value x);  // swaps the last two dims
Value adjoint(Builder& b, Value x);    // conjugate transpose
// [..., min(m, n)] diagonal of a matrix batch.
Value diagonal(Builder& b, Value x);
// a @ x for equal batch dims, at the highest precision.
Value matmul(Builder& b, Value a, Value x);
// Solves op(a) x = rhs (left) or x op(a) = rhs (right) for a triangular `a`,
// reading only its `lower` or upper triangle (and not its diagonal when
// `unit_diagonal`). a and rhs must share their batch dims.
Value triangular_solve(Builder& b, Value a, Value rhs, bool left, bool lower, bool unit_diagonal,
                       Transpose op);
// rows[b, i, :] = x[b, index[b, i], :] for x [B, m, k] and s32 index [B, r].
Value gather_rows(Builder& b, Value x, Value index);
// The inverse of a permutation given per batch row ([B, m] s32).
Value invert_permutation(Builder& b, Value perm);
// The permutation that LAPACK-style 1-based row interchanges (pivots[i]:
// swap rows i and pivots[i] - 1, in order) apply to the rows 0..m-1: the row
// of the original that ends up at each position. pivots [B, k] s32.
Value permutation_from_pivots(Builder& b, Value pivots, int64_t rows);
// P with P[r, c] = (perm[c] == r), of element type `type`: A = P (P^T A).
Value permutation_matrix(Builder& b, Value perm, ElementType type);

// The Jacobi rotation (c, s) that zeroes the off-diagonal entry of the
// symmetric 2x2 [[app, apq], [apq, aqq]] (the smaller of the two angles);
// (1, 0) where apq is 0. All operands are [B].
std::pair<Value, Value> jacobi_rotation(Builder& b, Value app, Value aqq, Value apq);
// Rows (or columns) p and q of x [B, r, c] replaced by (c x_p - s x_q,
// s x_p + c x_q); p, q are 0-d s32, c, s are real [B] (also for complex x).
Value rotate_pair(Builder& b, Value x, Value p, Value q, Value c, Value s, bool columns);

// z / |z| for a complex [B], and 1 where z is 0.
Value unit_phase(Builder& b, Value z);
// Row (or column) i of x [B, r, c] multiplied by factor [B]; i is 0-d s32.
Value scale_slice(Builder& b, Value x, Value i, Value factor, bool column);

// Whether any matrix of the symmetric batch a [B, n, n] has an off-diagonal
// part above epsilon times the whole (Frobenius norms): the end of Jacobi sweeps.
Value any_off_diagonal(Builder& b, Value a);

}  // namespace torch_pjrt::lowering::matrix
