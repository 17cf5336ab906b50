#include "lowering/batched_matrix.h"

#include <limits>
#include <numeric>
#include <utility>

#include "lowering/dtype_names.h"

namespace torch_pjrt::lowering::matrix {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::DotDimensions;
using stablehlo::GatherDimensions;
using stablehlo::Precision;
using stablehlo::UnaryOp;

std::vector<int64_t> batch_dims(const Builder& b, Value x) {
  const std::vector<int64_t>& dims = b.dims(x);
  return {dims.begin(), dims.end() - 2};
}

std::vector<int64_t> with_matrix(std::vector<int64_t> batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

int64_t product(const std::vector<int64_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
}

void check_is_matrix(const Builder& b, Value x, std::string_view op, std::string_view arg) {
  if (b.rank(x) < 2) {
    throw InvalidArgument(std::string(op) + ": The input tensor " + std::string(arg) +
                          " must have at least 2 dimensions.");
  }
}

void check_square(const Builder& b, Value x, std::string_view op, std::string_view arg) {
  check_is_matrix(b, x, op, arg);
  const std::vector<int64_t>& dims = b.dims(x);
  const int64_t rows = dims[dims.size() - 2], cols = dims.back();
  if (rows != cols) {
    throw InvalidArgument(std::string(op) + ": " + std::string(arg) +
                          " must be batches of square matrices, but they are " +
                          std::to_string(rows) + " by " + std::to_string(cols) + " matrices");
  }
}

void check_floating_or_complex(const Builder& b, Value x, std::string_view op) {
  const ElementType type = b.element_type(x);
  if (!stablehlo::is_floating(type) && !stablehlo::is_complex(type)) {
    throw InvalidArgument(std::string(op) +
                          ": Expected a floating point or complex tensor as input. Got " +
                          std::string(scalar_type_name(type)));
  }
  if (type != ElementType::kF32 && type != ElementType::kF64 && type != ElementType::kC64 &&
      type != ElementType::kC128) {
    throw InvalidArgument(std::string(op) + ": Low precision dtypes not supported. Got " +
                          std::string(scalar_type_name(type)));
  }
}

namespace {

Value fill(Builder& b, double value, const TensorType& type) {
  if (stablehlo::is_complex(type.element)) return b.splat_complex(value, 0, type);
  return b.splat(value, type);
}

Value row_minus_col(Builder& b, const std::vector<int64_t>& dims) {
  const auto rank = static_cast<int64_t>(dims.size());
  const TensorType index{ElementType::kS64, dims};
  return b.sub(b.iota(index, rank - 1), b.iota(index, rank - 2));
}

}  // namespace

Value triangle_mask(Builder& b, const std::vector<int64_t>& dims, bool lower, int64_t offset) {
  Value col_minus_row = row_minus_col(b, dims);
  Value bound = b.splat(static_cast<double>(offset), b.type(col_minus_row));
  return b.compare(lower ? ComparisonDirection::kLE : ComparisonDirection::kGE, col_minus_row,
                   bound);
}

Value keep_triangle(Builder& b, Value x, bool lower, int64_t offset) {
  return b.select(triangle_mask(b, b.dims(x), lower, offset), x, fill(b, 0, b.type(x)));
}

Value identity(Builder& b, const TensorType& type) {
  Value on_diagonal = b.compare(ComparisonDirection::kEQ, row_minus_col(b, type.dims),
                                b.splat(0, {ElementType::kS64, type.dims}));
  return b.select(on_diagonal, fill(b, 1, type), fill(b, 0, type));
}

Value with_unit_diagonal(Builder& b, Value x) {
  Value on_diagonal = b.compare(ComparisonDirection::kEQ, row_minus_col(b, b.dims(x)),
                                b.splat(0, {ElementType::kS64, b.dims(x)}));
  return b.select(on_diagonal, fill(b, 1, b.type(x)), x);
}

Value conj(Builder& b, Value x) {
  if (!stablehlo::is_complex(b.element_type(x))) return x;
  return b.binary(BinaryOp::kComplex, b.unary(UnaryOp::kReal, x),
                  b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kImag, x)));
}

Value transpose(Builder& b, Value x) {
  const auto rank = static_cast<int64_t>(b.rank(x));
  std::vector<int64_t> permutation(rank);
  std::iota(permutation.begin(), permutation.end(), 0);
  std::swap(permutation[rank - 1], permutation[rank - 2]);
  return b.transpose(x, permutation);
}

Value adjoint(Builder& b, Value x) { return conj(b, transpose(b, x)); }

Value diagonal(Builder& b, Value x) {
  std::vector<int64_t> dims = b.dims(x);
  const auto rank = static_cast<int64_t>(dims.size());
  const int64_t k = std::min(dims[rank - 2], dims[rank - 1]);
  std::vector<int64_t> limit = with_matrix(batch_dims(b, x), k, k);
  Value square = b.slice(x, std::vector<int64_t>(rank, 0), limit);
  Value on_diagonal = b.compare(ComparisonDirection::kEQ, row_minus_col(b, limit),
                                b.splat(0, {ElementType::kS64, limit}));
  // -0 is the identity of addition, so the sum is exactly the diagonal entry.
  const bool complex = stablehlo::is_complex(b.element_type(x));
  const TensorType scalar{b.element_type(x), {}};
  Value neutral = complex ? b.splat_complex(-0.0, -0.0, scalar) : b.splat(-0.0, scalar);
  Value kept = b.select(on_diagonal, square, b.broadcast_in_dim(neutral, limit, {}));
  return b.reduce(kept, neutral, {rank - 1}, [](Builder& r, const std::vector<Value>& a) {
    return std::vector<Value>{r.add(a[0], a[1])};
  });
}

Value matmul(Builder& b, Value a, Value x) {
  const auto rank = static_cast<int64_t>(b.rank(a));
  std::vector<int64_t> batch(rank - 2);
  std::iota(batch.begin(), batch.end(), 0);
  return b.dot_general(a, x, DotDimensions{batch, batch, {rank - 1}, {rank - 2}}, std::nullopt,
                       Precision::kHighest);
}

Value triangular_solve(Builder& b, Value a, Value rhs, bool left, bool lower, bool unit_diagonal,
                       Transpose op) {
  if (b.type(rhs).numel() == 0) return b.zeros(b.type(rhs));
  // The expander may read the other triangle; PyTorch never does.
  Value triangle = keep_triangle(b, a, lower);
  if (unit_diagonal) triangle = with_unit_diagonal(b, triangle);
  std::string attributes = std::string("left_side = ") + (left ? "true" : "false") +
                           ", lower = " + (lower ? "true" : "false") +
                           ", unit_diagonal = " + (unit_diagonal ? "true" : "false") +
                           ", transpose_a = #stablehlo<transpose ";
  attributes += op == Transpose::kNone        ? "NO_TRANSPOSE>"
                : op == Transpose::kTranspose ? "TRANSPOSE>"
                                              : "ADJOINT>";
  return b.emit("stablehlo.triangular_solve", {triangle, rhs}, {b.type(rhs)}, attributes)[0];
}

Value gather_rows(Builder& b, Value x, Value index) {
  const std::vector<int64_t>& dims = b.dims(x);
  const int64_t batch = dims[0], rows = dims[1], cols = dims[2];
  const int64_t count = b.dims(index)[1];
  Value flat = b.reshape(x, {batch * rows, cols});
  const TensorType index_type{ElementType::kS32, {batch, count}};
  Value offset = b.mul(b.iota(index_type, 0), b.splat(static_cast<double>(rows), index_type));
  Value starts = b.reshape(b.add(index, offset), {batch, count, 1});
  GatherDimensions gather;
  gather.offset_dims = {2};
  gather.collapsed_slice_dims = {0};
  gather.start_index_map = {0};
  gather.index_vector_dim = 2;
  return b.gather(flat, starts, gather, {1, cols});
}

Value invert_permutation(Builder& b, Value perm) {
  const std::vector<int64_t>& dims = b.dims(perm);
  const int64_t batch = dims[0], m = dims[1];
  const TensorType square{ElementType::kS32, {batch, m, m}};
  // inverse[r] = the c with perm[c] == r.
  Value hit = b.compare(ComparisonDirection::kEQ, b.broadcast_in_dim(perm, square.dims, {0, 2}),
                        b.iota(square, 1));
  Value source = b.select(hit, b.iota(square, 2), b.zeros(square));
  return b.reduce(source, b.constant_int(0, ElementType::kS32), {2},
                  [](Builder& r, const std::vector<Value>& a) {
                    return std::vector<Value>{r.add(a[0], a[1])};
                  });
}

Value permutation_from_pivots(Builder& b, Value pivots, int64_t rows) {
  const int64_t batch = b.dims(pivots)[0], steps = b.dims(pivots)[1];
  const TensorType perm_type{ElementType::kS32, {batch, rows}};
  Value perm = b.iota(perm_type, 1);
  if (steps == 0 || batch == 0 || rows == 0) return perm;
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, ElementType::kS32), perm, pivots},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kLT, v[0], r.constant_int(steps, ElementType::kS32))};
      },
      [&](Builder& r, const std::vector<Value>& v) {
        Value i = v[0], current = v[1];
        Value zero = r.constant_int(0, ElementType::kS32);
        Value target = r.reshape(r.dynamic_slice(v[2], {zero, i}, {batch, 1}), {batch});
        target = r.clamp(zero, r.sub(target, r.splat(1, r.type(target))),
                         r.constant_int(rows - 1, ElementType::kS32));
        Value position = r.iota(perm_type, 1);
        Value is_target = r.compare(ComparisonDirection::kEQ, position,
                                    r.broadcast_in_dim(target, perm_type.dims, {0}));
        Value is_i = r.compare(ComparisonDirection::kEQ, position,
                               r.broadcast_in_dim(i, perm_type.dims, {}));
        Value at_i = r.reshape(r.dynamic_slice(current, {zero, i}, {batch, 1}), {batch});
        Value at_target = r.reduce(r.select(is_target, current, r.zeros(perm_type)), zero, {1},
                                   [](Builder& s, const std::vector<Value>& a) {
                                     return std::vector<Value>{s.add(a[0], a[1])};
                                   });
        Value swapped =
            r.select(is_i, r.broadcast_in_dim(at_target, perm_type.dims, {0}),
                     r.select(is_target, r.broadcast_in_dim(at_i, perm_type.dims, {0}), current));
        return std::vector<Value>{r.add(i, r.constant_int(1, ElementType::kS32)), swapped, v[2]};
      });
  return state[1];
}

Value permutation_matrix(Builder& b, Value perm, ElementType type) {
  std::vector<int64_t> dims = b.dims(perm);
  const auto rank = static_cast<int64_t>(dims.size());
  dims.push_back(dims.back());
  std::vector<int64_t> mapping(rank);
  std::iota(mapping.begin(), mapping.end(), 0);
  mapping.back() = rank;
  Value hit = b.compare(ComparisonDirection::kEQ, b.broadcast_in_dim(perm, dims, mapping),
                        b.iota({ElementType::kS32, dims}, rank - 1));
  const TensorType result{type, dims};
  return b.select(hit, fill(b, 1, result), fill(b, 0, result));
}

std::pair<Value, Value> jacobi_rotation(Builder& b, Value app, Value aqq, Value apq) {
  const TensorType type = b.type(app);
  Value zeros = b.zeros(type), ones = b.splat(1, type);
  // t = tan of the angle, the smaller root of t^2 + 2 tau t - 1 = 0.
  Value skip = b.compare(ComparisonDirection::kEQ, apq, zeros);
  Value safe_apq = b.select(skip, ones, apq);
  Value tau = b.div(b.sub(aqq, app), b.mul(b.splat(2, type), safe_apq));
  Value sign = b.select(b.compare(ComparisonDirection::kLT, tau, zeros), b.splat(-1, type), ones);
  Value root = b.unary(UnaryOp::kSqrt, b.add(ones, b.mul(tau, tau)));
  Value t = b.div(sign, b.add(b.unary(UnaryOp::kAbs, tau), root));
  t = b.select(skip, zeros, t);
  Value c = b.unary(UnaryOp::kRsqrt, b.add(ones, b.mul(t, t)));
  return {c, b.mul(t, c)};
}

Value rotate_pair(Builder& b, Value x, Value p, Value q, Value c, Value s, bool columns) {
  const std::vector<int64_t> dims = b.dims(x);
  Value zero = b.constant_int(0, ElementType::kS32);
  const std::vector<int64_t> size = columns ? std::vector<int64_t>{dims[0], dims[1], 1}
                                            : std::vector<int64_t>{dims[0], 1, dims[2]};
  auto start = [&](Value i) {
    return columns ? std::vector<Value>{zero, zero, i} : std::vector<Value>{zero, i, zero};
  };
  Value xp = b.dynamic_slice(x, start(p), size);
  Value xq = b.dynamic_slice(x, start(q), size);
  if (stablehlo::is_complex(b.element_type(x))) {
    c = b.binary(BinaryOp::kComplex, c, b.zeros(b.type(c)));
    s = b.binary(BinaryOp::kComplex, s, b.zeros(b.type(s)));
  }
  Value cb = b.broadcast_in_dim(c, size, {0});
  Value sb = b.broadcast_in_dim(s, size, {0});
  x = b.dynamic_update_slice(x, b.sub(b.mul(cb, xp), b.mul(sb, xq)), start(p));
  return b.dynamic_update_slice(x, b.add(b.mul(sb, xp), b.mul(cb, xq)), start(q));
}

Value unit_phase(Builder& b, Value z) {
  Value magnitude = b.unary(UnaryOp::kAbs, z);
  Value zero = b.compare(ComparisonDirection::kEQ, magnitude, b.zeros(b.type(magnitude)));
  Value safe = b.select(zero, b.splat(1, b.type(magnitude)), magnitude);
  Value phase = b.div(z, b.binary(BinaryOp::kComplex, safe, b.zeros(b.type(safe))));
  return b.select(zero, fill(b, 1, b.type(z)), phase);
}

Value scale_slice(Builder& b, Value x, Value i, Value factor, bool column) {
  const std::vector<int64_t>& dims = b.dims(x);
  Value zero = b.constant_int(0, ElementType::kS32);
  const std::vector<int64_t> size = column ? std::vector<int64_t>{dims[0], dims[1], 1}
                                           : std::vector<int64_t>{dims[0], 1, dims[2]};
  const std::vector<Value> start =
      column ? std::vector<Value>{zero, zero, i} : std::vector<Value>{zero, i, zero};
  Value slice = b.dynamic_slice(x, start, size);
  return b.dynamic_update_slice(x, b.mul(slice, b.broadcast_in_dim(factor, size, {0})), start);
}

Value any_off_diagonal(Builder& b, Value a) {
  auto add_all = [&](Value x, const std::vector<int64_t>& dimensions) {
    return b.reduce(x, b.constant(0, b.element_type(x)), dimensions,
                    [](Builder& r, const std::vector<Value>& v) {
                      return std::vector<Value>{r.add(v[0], v[1])};
                    });
  };
  Value squares = stablehlo::is_complex(b.element_type(a))
                      ? b.unary(UnaryOp::kReal, b.mul(a, conj(b, a)))
                      : b.mul(a, a);
  Value total = add_all(squares, {1, 2});
  // Summed apart, not as total - diagonal, which cancels to rounding noise.
  Value on_diagonal = b.compare(ComparisonDirection::kEQ, row_minus_col(b, b.dims(a)),
                                b.splat(0, {ElementType::kS64, b.dims(a)}));
  Value off = add_all(b.select(on_diagonal, b.zeros(b.type(squares)), squares), {1, 2});
  const double eps = b.element_type(total) == ElementType::kF64
                         ? std::numeric_limits<double>::epsilon()
                         : std::numeric_limits<float>::epsilon();
  Value open =
      b.compare(ComparisonDirection::kGT, off, b.mul(total, b.splat(eps * eps, b.type(total))));
  return b.reduce(open, b.constant(0, ElementType::kPred), {0},
                  [](Builder& r, const std::vector<Value>& v) {
                    return std::vector<Value>{r.binary(BinaryOp::kOr, v[0], v[1])};
                  });
}

}  // namespace torch_pjrt::lowering::matrix
