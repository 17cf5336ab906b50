// QR family: geqrf (Householder reflectors as LAPACK stores them),
// linalg_householder_product (orgqr), ormqr and linalg_qr on top of them.
//
// One reflector per stablehlo.while iteration. Each is built as LAPACK's
// larfg builds it, so Q and R carry LAPACK's signs (R's diagonal may be
// negative) and match CPU: for the column x = (alpha, x2), beta =
// -sign(re alpha) * |x|, tau = (beta - alpha) / beta, v = (1, x2 / (alpha -
// beta)), and a column with x2 = 0 (and real alpha) gets tau = 0, H = I.

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
using stablehlo::UnaryOp;

constexpr ElementType kS32 = ElementType::kS32;

Value sum_over(Builder& b, Value x, int64_t dimension) {
  const ElementType type = b.element_type(x);
  Value zero =
      stablehlo::is_complex(type) ? b.splat_complex(0, 0, {type, {}}) : b.constant(0, type);
  return b.reduce(x, zero, {dimension}, [](Builder& r, const std::vector<Value>& v) {
    return std::vector<Value>{r.add(v[0], v[1])};
  });
}

Value fill_like(Builder& b, double value, const TensorType& type) {
  if (stablehlo::is_complex(type.element)) return b.splat_complex(value, 0, type);
  return b.splat(value, type);
}

// The reflector stored in column i of a [B, m, c] batch: 1 at row i, the
// stored entries below, zeros above.
Value reflector(Builder& r, Value stored, Value i) {
  const std::vector<int64_t>& dims = r.dims(stored);
  const int64_t batch = dims[0], m = dims[1];
  Value zero = r.constant_int(0, kS32);
  Value column = r.reshape(r.dynamic_slice(stored, {zero, zero, i}, {batch, m, 1}), {batch, m});
  const TensorType rows{kS32, {batch, m}};
  Value row = r.iota(rows, 1);
  Value i_rows = r.broadcast_in_dim(i, rows.dims, {});
  Value v = r.select(r.compare(ComparisonDirection::kGT, row, i_rows), column,
                     fill_like(r, 0, r.type(column)));
  return r.select(r.compare(ComparisonDirection::kEQ, row, i_rows), fill_like(r, 1, r.type(column)),
                  v);
}

// (I - t v v^H) c for c [B, m, p], v [B, m], t [B].
Value reflect_left(Builder& r, Value c, Value v, Value t) {
  const std::vector<int64_t>& dims = r.dims(c);
  Value vc = r.broadcast_in_dim(matrix::conj(r, v), dims, {0, 1});
  Value w = sum_over(r, r.mul(vc, c), 1);  // v^H c, [B, p]
  Value tv = r.mul(r.broadcast_in_dim(t, r.dims(v), {0}), v);
  return r.sub(c, r.mul(r.broadcast_in_dim(tv, dims, {0, 1}), r.broadcast_in_dim(w, dims, {0, 2})));
}

// c (I - t v v^H) for c [B, p, m].
Value reflect_right(Builder& r, Value c, Value v, Value t) {
  const std::vector<int64_t>& dims = r.dims(c);
  Value w = sum_over(r, r.mul(r.broadcast_in_dim(v, dims, {0, 2}), c), 2);  // c v, [B, p]
  Value tv = r.mul(r.broadcast_in_dim(t, r.dims(v), {0}), matrix::conj(r, v));
  return r.sub(c, r.mul(r.broadcast_in_dim(w, dims, {0, 1}), r.broadcast_in_dim(tv, dims, {0, 2})));
}

Value tau_at(Builder& r, Value tau, Value i) {
  const int64_t batch = r.dims(tau)[0];
  return r.reshape(r.dynamic_slice(tau, {r.constant_int(0, kS32), i}, {batch, 1}), {batch});
}

Value loop_bound(Builder& r, Value i, int64_t bound, bool upward) {
  return r.compare(upward ? ComparisonDirection::kLT : ComparisonDirection::kGE, i,
                   r.constant_int(upward ? bound : 0, kS32));
}

// geqrf on a [B, m, n] batch: (reflectors and R packed, tau [B, min(m, n)]).
std::pair<Value, Value> householder_qr(Builder& b, Value a) {
  const std::vector<int64_t> dims = b.dims(a);
  const int64_t batch = dims[0], m = dims[1], n = dims[2], steps = std::min(m, n);
  const ElementType type = b.element_type(a);
  Value tau = b.zeros({type, {batch, steps}});
  if (batch == 0 || steps == 0) return {a, tau};
  std::vector<Value> state = b.while_loop(
      {b.constant_int(0, kS32), a, tau},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{loop_bound(r, v[0], steps, true)};
      },
      [&](Builder& r, const std::vector<Value>& v) {
        Value k = v[0], x = v[1], taus = v[2];
        Value zero = r.constant_int(0, kS32);
        const TensorType rows{kS32, {batch, m}};
        Value row = r.iota(rows, 1);
        Value k_rows = r.broadcast_in_dim(k, rows.dims, {});
        Value column = r.reshape(r.dynamic_slice(x, {zero, zero, k}, {batch, m, 1}), {batch, m});
        Value below = r.compare(ComparisonDirection::kGT, row, k_rows);
        Value tail = r.select(below, column, fill_like(r, 0, r.type(column)));
        Value alpha = r.reshape(r.dynamic_slice(x, {zero, k, k}, {batch, 1, 1}), {batch});
        const bool complex = stablehlo::is_complex(type);
        Value tail_abs = r.unary(UnaryOp::kAbs, tail);
        Value tail_norm2 = sum_over(r, r.mul(tail_abs, tail_abs), 1);
        Value alpha_re = complex ? r.unary(UnaryOp::kReal, alpha) : alpha;
        Value alpha_im = complex ? r.unary(UnaryOp::kImag, alpha) : r.zeros(r.type(alpha));
        const TensorType real_batch = r.type(alpha_re);
        Value norm =
            r.unary(UnaryOp::kSqrt,
                    r.add(r.add(r.mul(alpha_re, alpha_re), r.mul(alpha_im, alpha_im)), tail_norm2));
        // -sign(re alpha) * norm, with sign(0) = +1 as LAPACK's SIGN gives.
        Value negative = r.compare(ComparisonDirection::kLT, alpha_re, r.zeros(real_batch));
        Value beta = r.select(negative, norm, r.unary(UnaryOp::kNegate, norm));
        Value identity = r.compare(ComparisonDirection::kEQ, tail_norm2, r.zeros(real_batch));
        if (complex) {
          identity = r.binary(BinaryOp::kAnd, identity,
                              r.compare(ComparisonDirection::kEQ, alpha_im, r.zeros(real_batch)));
        }
        Value beta_t = complex ? r.binary(BinaryOp::kComplex, beta, r.zeros(real_batch)) : beta;
        Value t = r.div(r.sub(beta_t, alpha), beta_t);
        Value scale = r.div(fill_like(r, 1, r.type(alpha)), r.sub(alpha, beta_t));
        t = r.select(identity, r.zeros(r.type(t)), t);
        scale = r.select(identity, fill_like(r, 1, r.type(alpha)), scale);
        Value new_beta = r.select(identity, alpha, beta_t);
        Value v_tail = r.mul(tail, r.broadcast_in_dim(scale, rows.dims, {0}));
        Value is_k = r.compare(ComparisonDirection::kEQ, row, k_rows);
        Value reflector_v = r.select(is_k, fill_like(r, 1, r.type(column)), v_tail);
        // Apply H^H = I - conj(tau) v v^H to the columns right of k.
        Value updated = reflect_left(r, x, reflector_v, matrix::conj(r, t));
        const TensorType full{kS32, dims};
        Value right =
            r.compare(ComparisonDirection::kGT, r.iota(full, 2), r.broadcast_in_dim(k, dims, {}));
        x = r.select(right, updated, x);
        Value stored = r.select(is_k, r.broadcast_in_dim(new_beta, rows.dims, {0}),
                                r.select(below, v_tail, column));
        x = r.dynamic_update_slice(x, r.reshape(stored, {batch, m, 1}), {zero, zero, k});
        taus = r.dynamic_update_slice(taus, r.reshape(t, {batch, 1}), {zero, k});
        return std::vector<Value>{r.add(k, r.constant_int(1, kS32)), x, taus};
      });
  return {state[1], state[2]};
}

// Applies Q = H_0 H_1 ... H_{k-1} (or Q^H) from `reflectors` [B, q, c] and
// tau [B, k] to `target`: from the left ([B, q, p]) or right ([B, p, q]).
Value apply_q(Builder& b, Value reflectors, Value tau, Value target, bool left, bool adjoint) {
  const int64_t steps = b.dims(tau)[1];
  if (steps == 0 || b.type(target).numel() == 0) return target;
  // Q c = H_0 (H_1 (... c)): the last reflector first; Q^H c: the first first.
  // c Q: the first first; c Q^H: the last first.
  const bool upward = left == adjoint;
  std::vector<Value> state = b.while_loop(
      {b.constant_int(upward ? 0 : steps - 1, kS32), target, reflectors, tau},
      [&](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{loop_bound(r, v[0], steps, upward)};
      },
      [&](Builder& r, const std::vector<Value>& v) {
        Value i = v[0];
        Value reflector_v = reflector(r, v[2], i);
        Value t = tau_at(r, v[3], i);
        if (adjoint) t = matrix::conj(r, t);
        Value c =
            left ? reflect_left(r, v[1], reflector_v, t) : reflect_right(r, v[1], reflector_v, t);
        Value step = r.constant_int(upward ? 1 : -1, kS32);
        return std::vector<Value>{r.add(i, step), c, v[2], v[3]};
      });
  return state[1];
}

Value flatten(Builder& b, Value x, int64_t keep) {
  const std::vector<int64_t>& dims = b.dims(x);
  std::vector<int64_t> flat{matrix::product({dims.begin(), dims.end() - keep})};
  flat.insert(flat.end(), dims.end() - keep, dims.end());
  return b.reshape(x, flat);
}

std::vector<int64_t> with_tail(std::vector<int64_t> batch, int64_t last) {
  batch.push_back(last);
  return batch;
}

std::vector<Value> geqrf_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  if (b.rank(a) < 2) {
    throw InvalidArgument("torch.geqrf: input must have at least 2 dimensions.");
  }
  matrix::check_floating_or_complex(b, a, "torch.geqrf");
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t m = b.dims(a)[b.rank(a) - 2], n = b.dims(a).back();
  auto [packed, tau] = householder_qr(b, flatten(b, a, 2));
  return {b.reshape(packed, b.dims(a)), b.reshape(tau, with_tail(batch, std::min(m, n)))};
}

// Q's first n columns, Q = H_0 ... H_{k-1}, from reflectors [.., m, n], tau [.., k].
Value householder_product(Builder& b, Value reflectors, Value tau) {
  const std::vector<int64_t> batch = matrix::batch_dims(b, reflectors);
  const int64_t m = b.dims(reflectors)[b.rank(reflectors) - 2], n = b.dims(reflectors).back();
  const int64_t count = matrix::product(batch);
  Value q = matrix::identity(b, {b.element_type(reflectors), {count, m, n}});
  q = apply_q(b, flatten(b, reflectors, 2), flatten(b, tau, 1), q, true, false);
  return b.reshape(q, b.dims(reflectors));
}

std::vector<Value> householder_product_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "torch.linalg.householder_product";
  const Value reflectors = call.tensor(0).value, tau = call.tensor(1).value;
  if (b.rank(reflectors) < 2)
    throw InvalidArgument(std::string(kOp) + ": input must have at least 2 dimensions.");
  const int64_t m = b.dims(reflectors)[b.rank(reflectors) - 2], n = b.dims(reflectors).back();
  if (m < n) {
    throw InvalidArgument(std::string(kOp) +
                          ": input.shape[-2] must be greater than or equal to input.shape[-1]");
  }
  if (b.rank(tau) != b.rank(reflectors) - 1) {
    throw InvalidArgument(std::string(kOp) +
                          ": input.dim() must be greater than or equal to tau.dim()");
  }
  if (b.dims(tau).back() > n) {
    throw InvalidArgument(std::string(kOp) +
                          ": input.shape[-1] must be greater than or equal to tau.shape[-1]");
  }
  if (matrix::batch_dims(b, reflectors) !=
      std::vector<int64_t>(b.dims(tau).begin(), b.dims(tau).end() - 1)) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected batch dimensions of tau to be equal to "
                          "input.shape[:-2]");
  }
  if (b.element_type(tau) != b.element_type(reflectors))
    throw InvalidArgument(std::string(kOp) + ": tau dtype does not match input dtype");
  matrix::check_floating_or_complex(b, reflectors, kOp);
  return {householder_product(b, reflectors, tau)};
}

// ormqr(input, input2 (tau), input3 (other), left=True, transpose=False)
std::vector<Value> ormqr_rule(Builder& b, const OpCall& call) {
  constexpr const char* kOp = "torch.ormqr";
  const Value reflectors = call.tensor(0).value, tau = call.tensor(1).value;
  const Value other = call.tensor(2).value;
  const bool left = call.bool_at(3), transpose = call.bool_at(4);
  if (b.rank(reflectors) < 2 || b.rank(other) < 2)
    throw InvalidArgument(std::string(kOp) + ": input and other must have at least 2 dimensions.");
  const int64_t q_size = b.dims(reflectors)[b.rank(reflectors) - 2];
  const std::vector<int64_t>& od = b.dims(other);
  if ((left ? od[od.size() - 2] : od.back()) != q_size) {
    throw InvalidArgument(std::string(kOp) + ": other.shape[" + (left ? "-2" : "-1") +
                          "] must be equal to input.shape[-2]");
  }
  if (b.dims(tau).back() > b.dims(reflectors).back()) {
    throw InvalidArgument(std::string(kOp) +
                          ": tau.shape[-1] must be less than or equal to input.shape[-1]");
  }
  if (matrix::batch_dims(b, reflectors) != matrix::batch_dims(b, other) ||
      matrix::batch_dims(b, reflectors) !=
          std::vector<int64_t>(b.dims(tau).begin(), b.dims(tau).end() - 1)) {
    throw InvalidArgument(std::string(kOp) +
                          ": Expected batch dimensions of input, tau and other to be equal");
  }
  if (b.element_type(tau) != b.element_type(reflectors) ||
      b.element_type(other) != b.element_type(reflectors))
    throw InvalidArgument(std::string(kOp) + ": input, tau and other must have the same dtype");
  matrix::check_floating_or_complex(b, reflectors, kOp);
  Value result = apply_q(b, flatten(b, reflectors, 2), flatten(b, tau, 1), flatten(b, other, 2),
                         left, transpose);
  return {b.reshape(result, od)};
}

// linalg_qr(A, mode='reduced') -> (Q, R)
std::vector<Value> qr_rule(Builder& b, const OpCall& call) {
  const Value a = call.tensor(0).value;
  const std::string mode(call.string_at(1));
  if (mode != "reduced" && mode != "complete" && mode != "r") {
    throw InvalidArgument("qr received unrecognized mode '" + mode +
                          "' but expected one of 'reduced' (default), 'r', or 'complete'");
  }
  if (b.rank(a) < 2) {
    throw InvalidArgument("linalg.qr: The input tensor A must have at least 2 dimensions.");
  }
  matrix::check_floating_or_complex(b, a, "linalg.qr");
  const std::vector<int64_t> batch = matrix::batch_dims(b, a);
  const int64_t m = b.dims(a)[b.rank(a) - 2], n = b.dims(a).back(), k = std::min(m, n);
  const int64_t count = matrix::product(batch);
  auto [packed, tau] = householder_qr(b, flatten(b, a, 2));
  const int64_t r_rows = mode == "complete" ? m : k;
  Value r = b.slice(packed, {0, 0, 0}, {count, r_rows, n});
  r = b.reshape(matrix::keep_triangle(b, r, false), matrix::with_matrix(batch, r_rows, n));
  if (mode == "r") return {b.zeros({b.element_type(a), {0}}), r};
  const int64_t q_cols = mode == "complete" ? m : k;
  Value reflectors = q_cols <= n ? b.slice(packed, {0, 0, 0}, {count, m, q_cols})
                                 : b.pad(packed, fill_like(b, 0, {b.element_type(a), {}}),
                                         {0, 0, 0}, {0, 0, q_cols - n});
  Value q = matrix::identity(b, {b.element_type(a), {count, m, q_cols}});
  q = apply_q(b, reflectors, tau, q, true, false);
  return {b.reshape(q, matrix::with_matrix(batch, m, q_cols)), r};
}

}  // namespace

std::pair<Value, Value> matrix::householder_qr(Builder& b, Value a) {
  return lowering::householder_qr(b, a);
}

Value matrix::apply_householder(Builder& b, Value reflectors, Value tau, Value target, bool left,
                                bool adjoint) {
  return apply_q(b, reflectors, tau, target, left, adjoint);
}

void add_qr_rules(RuleTable& table) {
  table.add("geqrf", {&geqrf_rule, {}});
  table.add("linalg_householder_product", {&householder_product_rule, {}});
  table.add("ormqr", {&ormqr_rule, {}});
  table.add("linalg_qr", {&qr_rule, {}});
}

}  // namespace torch_pjrt::lowering
