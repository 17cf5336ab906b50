// Pairwise p-norm distances: _cdist_forward / _cdist_backward between the rows
// of two batched matrices, _pdist_forward / _pdist_backward between the rows
// of one matrix (each unordered pair once, in row-major order of (i, j), i < j).
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

Value splat_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

Value sum_last(Builder& b, Value x, BinaryOp op = BinaryOp::kAdd) {
  return b.reduce(x, b.constant(0, b.element_type(x)), {b.rank(x) - 1},
                  [op](Builder& r, const std::vector<Value>& args) {
                    return std::vector<Value>{r.binary(op, args[0], args[1])};
                  });
}

// The p-norm of `diff` along its last dim, computed the way CPU's kernels
// do for each p (a count for 0, a maximum for infinity).
Value norm_last(Builder& b, Value diff, double p) {
  Value magnitude = b.unary(UnaryOp::kAbs, diff);
  if (p == 0) {
    return sum_last(
        b, b.convert(b.compare(ComparisonDirection::kNE, magnitude, splat_like(b, 0, magnitude)),
                     b.element_type(diff)));
  }
  if (p == 1) return sum_last(b, magnitude);
  if (p == 2) return b.unary(UnaryOp::kSqrt, sum_last(b, b.mul(magnitude, magnitude)));
  if (std::isinf(p)) return sum_last(b, magnitude, BinaryOp::kMaximum);
  Value sum = sum_last(b, b.binary(BinaryOp::kPower, magnitude, splat_like(b, p, magnitude)));
  return b.binary(BinaryOp::kPower, sum, splat_like(b, 1.0 / p, sum));
}

// d dist / d diff for one pair, times the pair's incoming gradient, with
// CPU's conventions where the derivative does not exist (0 at dist == 0).
Value norm_gradient(Builder& b, Value diff, Value dist, Value grad, double p) {
  Value zero = splat_like(b, 0, diff);
  if (p == 0) return zero;
  Value sign = b.unary(UnaryOp::kSign, diff);
  Value magnitude = b.unary(UnaryOp::kAbs, diff);
  if (p == 1) return b.mul(sign, grad);
  if (std::isinf(p)) {
    Value at_max = b.compare(ComparisonDirection::kEQ, magnitude, dist);
    return b.select(at_max, b.mul(sign, grad), zero);
  }
  Value dist_zero = b.compare(ComparisonDirection::kEQ, dist, zero);
  Value value;
  if (p == 2) {
    value = b.div(b.mul(diff, grad), dist);
  } else if (p < 2) {
    Value scaled = b.binary(BinaryOp::kPower, magnitude, splat_like(b, p - 1, magnitude));
    value = b.div(b.mul(b.mul(sign, scaled), grad),
                  b.binary(BinaryOp::kPower, dist, splat_like(b, p - 1, dist)));
    if (p < 1) {
      dist_zero =
          b.binary(BinaryOp::kOr, dist_zero, b.compare(ComparisonDirection::kEQ, diff, zero));
    }
  } else {
    Value scaled = b.binary(BinaryOp::kPower, magnitude, splat_like(b, p - 2, magnitude));
    value = b.div(b.mul(b.mul(diff, scaled), grad),
                  b.binary(BinaryOp::kPower, dist, splat_like(b, p - 1, dist)));
  }
  return b.select(dist_zero, zero, value);
}

void check_floating(Builder& b, Value x, const char* name) {
  const ElementType type = b.element_type(x);
  if (type != ElementType::kF32 && type != ElementType::kF64) {
    throw InvalidArgument(std::string("cdist only supports floating-point dtypes, ") + name +
                          " got: " + std::string(scalar_type_name(type)));
  }
}

// Both operands with their batch dims broadcast and flattened: [B, rows, M].
struct Batched {
  Value x1, x2;
  std::vector<int64_t> batch;  // the broadcast batch dims
};

Batched batch_operands(Builder& b, Value x1, Value x2) {
  const std::vector<int64_t>& d1 = b.dims(x1);
  const std::vector<int64_t>& d2 = b.dims(x2);
  if (d1.size() < 2 || d2.size() < 2) {
    throw InvalidArgument(
        "cdist only supports at least 2D tensors, X1 got: " + std::to_string(d1.size()) + "D");
  }
  const int64_t m = d1.back();
  if (d2.back() != m) {
    throw InvalidArgument("X1 and X2 must have the same number of columns. X1: " +
                          std::to_string(m) + " X2: " + std::to_string(d2.back()));
  }
  Batched out;
  out.batch = broadcast_shapes(std::vector<int64_t>(d1.begin(), d1.end() - 2),
                               std::vector<int64_t>(d2.begin(), d2.end() - 2));
  int64_t count = 1;
  for (int64_t d : out.batch) count *= d;
  auto flatten = [&](Value x, const std::vector<int64_t>& dims) {
    std::vector<int64_t> full = out.batch;
    full.push_back(dims[dims.size() - 2]);
    full.push_back(m);
    return b.reshape(broadcast_to(b, x, full), {count, dims[dims.size() - 2], m});
  };
  out.x1 = flatten(x1, d1);
  out.x2 = flatten(x2, d2);
  return out;
}

// [B, P, M] and [B, R, M] -> x1[b, i] - x2[b, j] as [B, P, R, M].
Value pairwise_difference(Builder& b, Value x1, Value x2) {
  const std::vector<int64_t>& d1 = b.dims(x1);
  const std::vector<int64_t>& d2 = b.dims(x2);
  const std::vector<int64_t> dims{d1[0], d1[1], d2[1], d1[2]};
  return b.sub(b.broadcast_in_dim(x1, dims, {0, 1, 3}), b.broadcast_in_dim(x2, dims, {0, 2, 3}));
}

// CPU's matrix-product form of p = 2 (|a|^2 + |b|^2 - 2 a.b, clamped at 0),
// which it picks for more than 25 rows per side or when asked to.
Value euclidean_by_product(Builder& b, Value x1, Value x2, const OpCall& call) {
  auto augmented = [&](Value x, bool first) {
    Value norm = b.reshape(sum_last(b, b.mul(x, x)), {b.dims(x)[0], b.dims(x)[1], 1});
    Value ones = splat_like(b, 1, norm);
    if (first) return b.concatenate({b.mul(x, splat_like(b, -2, x)), norm, ones}, 2);
    return b.concatenate({x, ones, norm}, 2);
  };
  const stablehlo::Precision precision = b.element_type(x1) == ElementType::kF32
                                             ? call.f32_matmul_precision
                                             : stablehlo::Precision::kHighest;
  Value product =
      b.dot_general(augmented(x1, true), augmented(x2, false),
                    stablehlo::DotDimensions{{0}, {0}, {2}, {2}}, std::nullopt, precision);
  return b.unary(UnaryOp::kSqrt, b.max(product, splat_like(b, 0, product)));
}

std::vector<int64_t> with_rows(std::vector<int64_t> batch, int64_t rows, int64_t columns) {
  batch.push_back(rows);
  batch.push_back(columns);
  return batch;
}

// _cdist_forward(x1, x2, p, compute_mode?) -> [batch..., P, R].
std::vector<Value> cdist_forward_rule(Builder& b, const OpCall& call) {
  Value x1 = call.tensor(0).value;
  Value x2 = call.tensor(1).value;
  const double p = call.double_at(2);
  const std::optional<int64_t> mode = call.optional_int(3);
  check_floating(b, x1, "X1");
  check_floating(b, x2, "X2");
  if (p < 0) throw InvalidArgument("cdist only supports non-negative p values");
  Batched in = batch_operands(b, x1, x2);
  const int64_t rows1 = b.dims(in.x1)[1];
  const int64_t rows2 = b.dims(in.x2)[1];
  const std::vector<int64_t> result_dims = with_rows(in.batch, rows1, rows2);
  if (rows1 == 0 || rows2 == 0 || b.type(in.x1).numel() == 0) {
    return {b.zeros(TensorType{b.element_type(x1), result_dims})};
  }
  const bool by_product =
      p == 2 && mode.value_or(0) != 2 && (mode.value_or(0) == 1 || rows1 > 25 || rows2 > 25);
  Value dist = by_product ? euclidean_by_product(b, in.x1, in.x2, call)
                          : norm_last(b, pairwise_difference(b, in.x1, in.x2), p);
  return {b.reshape(dist, result_dims)};
}

// _cdist_backward(grad, x1, x2, p, cdist) -> the gradient for x1 (autograd
// gets x2's by swapping the operands), with x1's broadcast batch dims.
std::vector<Value> cdist_backward_rule(Builder& b, const OpCall& call) {
  Value grad = call.tensor(0).value;
  Value x1 = call.tensor(1).value;
  Value x2 = call.tensor(2).value;
  const double p = call.double_at(3);
  Value cdist = call.tensor(4).value;
  Batched in = batch_operands(b, x1, x2);
  const std::vector<int64_t>& d1 = b.dims(in.x1);
  const int64_t rows2 = b.dims(in.x2)[1];
  const std::vector<int64_t> result_dims = with_rows(in.batch, d1[1], d1[2]);
  if (b.type(in.x1).numel() == 0 || rows2 == 0) {
    return {b.zeros(TensorType{b.element_type(x1), result_dims})};
  }
  const std::vector<int64_t> pair_dims{d1[0], d1[1], rows2};
  const std::vector<int64_t> dims{d1[0], d1[1], rows2, d1[2]};
  auto per_pair = [&](Value v) {
    Value flat = b.reshape(broadcast_to(b, v, with_rows(in.batch, d1[1], rows2)), pair_dims);
    return b.broadcast_in_dim(flat, dims, {0, 1, 2});
  };
  Value diff = pairwise_difference(b, in.x1, in.x2);
  Value term = norm_gradient(b, diff, per_pair(cdist), per_pair(grad), p);
  Value summed = b.reduce(term, b.constant(0, b.element_type(term)), {2},
                          [](Builder& r, const std::vector<Value>& args) {
                            return std::vector<Value>{r.add(args[0], args[1])};
                          });
  return {b.reshape(summed, result_dims)};
}

// The (i, j), i < j, pairs of n rows in pdist's order.
std::pair<std::vector<int64_t>, std::vector<int64_t>> row_pairs(int64_t n) {
  std::vector<int64_t> first, second;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      first.push_back(i);
      second.push_back(j);
    }
  }
  return {first, second};
}

void check_pdist(Builder& b, Value x, double p) {
  if (b.rank(x) != 2) {
    throw InvalidArgument("pdist only supports 2D tensors, got: " + std::to_string(b.rank(x)) +
                          "D");
  }
  if (!stablehlo::is_floating(b.element_type(x))) {
    throw InvalidArgument("pdist only supports floating-point dtypes");
  }
  if (p < 0) throw InvalidArgument("pdist only supports non-negative p values");
}

// _pdist_forward(self [N, M], p) -> [N (N - 1) / 2].
std::vector<Value> pdist_forward_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const double p = call.double_at(1);
  check_pdist(b, x, p);
  const auto [first, second] = row_pairs(b.dims(x)[0]);
  const auto pairs = static_cast<int64_t>(first.size());
  if (pairs == 0 || b.dims(x)[1] == 0) {
    return {b.zeros(TensorType{b.element_type(x), {pairs}})};
  }
  Value diff = b.sub(take_along(b, x, 0, first), take_along(b, x, 0, second));
  return {norm_last(b, diff, p)};
}

// _pdist_backward(grad, self, p, pdist) -> the gradient for self: each pair's
// term goes to its first row and, negated, to its second.
std::vector<Value> pdist_backward_rule(Builder& b, const OpCall& call) {
  Value grad = call.tensor(0).value;
  Value x = call.tensor(1).value;
  const double p = call.double_at(2);
  Value pdist = call.tensor(3).value;
  const std::vector<int64_t>& dims = b.dims(x);
  const auto [first, second] = row_pairs(dims[0]);
  const auto pairs = static_cast<int64_t>(first.size());
  if (pairs == 0 || dims[1] == 0) return {b.zeros(b.type(x))};
  Value diff = b.sub(take_along(b, x, 0, first), take_along(b, x, 0, second));
  const std::vector<int64_t> pair_dims{pairs, dims[1]};
  Value term = norm_gradient(b, diff, b.broadcast_in_dim(pdist, pair_dims, {0}),
                             b.broadcast_in_dim(grad, pair_dims, {0}), p);
  return {b.sub(scatter_add_along(b, term, 0, first, dims[0]),
                scatter_add_along(b, term, 0, second, dims[0]))};
}

}  // namespace

void add_distance_rules(RuleTable& table) {
  table.add("_cdist_forward", {&cdist_forward_rule, {}});
  table.add("_cdist_backward", {&cdist_backward_rule, {}});
  table.add("_pdist_forward", {&pdist_forward_rule, {}});
  table.add("_pdist_backward", {&pdist_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
