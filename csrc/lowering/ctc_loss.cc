// _ctc_loss and its backward: the connectionist temporal classification loss
// by the forward (alpha) recursion over time, in log space, as a while loop;
// the gradient by the backward (beta) recursion. Alignments run over the
// extended target l' = blank, t1, blank, t2, ..., blank of length 2 S + 1.
//
// The lengths are int[] arguments, so everything that depends on them (where
// each sample's targets start, which time steps and positions are live) is a
// constant of the program. The Tensor-lengths overloads read the lengths on
// the host first (csrc/aten), as CPU's kernel does.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr ElementType kS64 = ElementType::kS64;

struct Problem {
  int64_t steps = 0;    // T
  int64_t batch = 0;    // N
  int64_t classes = 0;  // C
  int64_t width = 0;    // L = 2 * max target length + 1
  std::vector<int64_t> input_lengths, target_lengths;
  ElementType type = ElementType::kF32;
  Value labels;       // s64 [N, L]: l', blank beyond each target
  Value log_probs_l;  // [T, N, L]: log_probs at l'
  Value skip;         // pred [N, L]: alpha may come from s - 2
  Value gather_at;    // s64 [T, N, L, 3]: (t, n, l'[n, s]) into log_probs
};

std::string tensor_type_text(ElementType type) {
  return "torch." + std::string(scalar_type_name(type)) + "Tensor";
}

// CPU's argument checks, and the extended targets.
Problem read_problem(Builder& b, Value log_probs, Value targets,
                     const std::vector<int64_t>& input_lengths,
                     const std::vector<int64_t>& target_lengths, int64_t blank) {
  const char* where = " (while checking arguments for ctc_loss_allocate_outputs)";
  Problem p;
  p.type = b.element_type(log_probs);
  if (p.type != ElementType::kF32 && p.type != ElementType::kF64) {
    throw_no_kernel("ctc_loss_cpu", p.type);
  }
  if (b.rank(log_probs) != 3) {
    throw InvalidArgument("Expected 3-dimensional tensor, but got " +
                          std::to_string(b.rank(log_probs)) +
                          "-dimensional tensor for argument #1 'log_probs'" + where);
  }
  const ElementType target_type = b.element_type(targets);
  if (target_type != ElementType::kS32 && target_type != ElementType::kS64) {
    throw InvalidArgument(
        "Expected tensor for argument #2 'targets' to have scalar type Int; but got " +
        tensor_type_text(target_type) + " instead" + where);
  }
  p.steps = b.dims(log_probs)[0];
  p.batch = b.dims(log_probs)[1];
  p.classes = b.dims(log_probs)[2];
  if (blank < 0 || blank >= p.classes) throw InvalidArgument("blank must be in label range");
  if (static_cast<int64_t>(input_lengths.size()) != p.batch) {
    throw InvalidArgument("input_lengths must be of size batch_size");
  }
  if (static_cast<int64_t>(target_lengths.size()) != p.batch) {
    throw InvalidArgument("target_lengths must be of size batch_size");
  }
  p.input_lengths = input_lengths;
  p.target_lengths = target_lengths;
  // Where sample n's k-th target sits in the flattened targets.
  std::vector<int64_t> starts(p.batch, 0);
  int64_t stride = 0;
  int64_t max_target = 0;
  if (b.rank(targets) == 1) {
    int64_t total = 0;
    for (int64_t n = 0; n < p.batch; ++n) {
      if (target_lengths[n] < 0) {
        throw InvalidArgument("Expected target_lengths to have value at least 0, but got value " +
                              std::to_string(target_lengths[n]) + where);
      }
      starts[n] = total;
      total += target_lengths[n];
      max_target = std::max(max_target, target_lengths[n]);
    }
    if (b.dims(targets)[0] != total) {
      throw InvalidArgument("Expected tensor to have size " + std::to_string(total) +
                            " at dimension 0, but got size " + std::to_string(b.dims(targets)[0]) +
                            " for argument #2 'targets'" + where);
    }
  } else {
    if (b.rank(targets) != 2 || b.dims(targets)[0] != p.batch) {
      throw InvalidArgument("Expected tensor to have size " + std::to_string(p.batch) +
                            " at dimension 0, but got size " +
                            std::to_string(b.rank(targets) > 0 ? b.dims(targets)[0] : 0) +
                            " for argument #2 'targets'" + where);
    }
    stride = b.dims(targets)[1];
    max_target = stride;
    for (int64_t n = 0; n < p.batch; ++n) {
      if (target_lengths[n] < 0) {
        throw InvalidArgument("Expected target_lengths to have value at least 0, but got value " +
                              std::to_string(target_lengths[n]) + where);
      }
      if (target_lengths[n] > stride) {
        throw InvalidArgument("Expected tensor to have size at least " +
                              std::to_string(target_lengths[n]) + " at dimension 1, but got size " +
                              std::to_string(stride) + " for argument #2 'targets'" + where);
      }
      starts[n] = n * stride;
    }
  }
  for (int64_t n = 0; n < p.batch; ++n) {
    if (input_lengths[n] < 0) {
      throw InvalidArgument("Expected input_lengths to have value at least 0, but got value " +
                            std::to_string(input_lengths[n]) + where);
    }
    if (input_lengths[n] > p.steps) {
      throw InvalidArgument("Expected input_lengths to have value at most " +
                            std::to_string(p.steps) + ", but got value " +
                            std::to_string(input_lengths[n]) + where);
    }
  }
  p.width = 2 * max_target + 1;
  const int64_t flat_count = b.type(targets).numel();
  // Odd positions read targets; even positions and positions past a target
  // read the appended blank.
  std::vector<int64_t> source(p.batch * p.width, flat_count);
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t k = 0; k < target_lengths[n]; ++k) {
      source[n * p.width + 2 * k + 1] = starts[n] + k;
    }
  }
  Value flat = b.concatenate({b.reshape(b.convert(targets, kS64), {flat_count}),
                              b.constant_ints({blank}, TensorType{kS64, {1}})},
                             0);
  stablehlo::GatherDimensions dn;
  dn.collapsed_slice_dims = {0};
  dn.start_index_map = {0};
  dn.index_vector_dim = 1;
  p.labels = b.reshape(
      b.gather(flat, b.constant_ints(source, TensorType{kS64, {p.batch * p.width, 1}}), dn, {1}),
      {p.batch, p.width});
  // l'[s] may be reached from s - 2 when it is a label unlike l'[s - 2].
  if (p.width > 2) {
    Value two_back = b.slice(p.labels, {0, 0}, {p.batch, p.width - 2});
    Value here = b.slice(p.labels, {0, 2}, {p.batch, p.width});
    Value differs =
        b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kNE, here, two_back),
                 b.compare(ComparisonDirection::kNE, here,
                           b.broadcast_in_dim(b.constant_int(blank, kS64), b.dims(here), {})));
    p.skip = b.concatenate({b.splat(0, TensorType{ElementType::kPred, {p.batch, 2}}), differs}, 1);
  } else {
    p.skip = b.splat(0, TensorType{ElementType::kPred, {p.batch, p.width}});
  }
  const std::vector<int64_t> grid{p.steps, p.batch, p.width};
  Value t_index = b.iota(TensorType{kS64, grid}, 0);
  Value n_index = b.iota(TensorType{kS64, grid}, 1);
  Value label_index = b.broadcast_in_dim(p.labels, grid, {1, 2});
  std::vector<int64_t> column{p.steps, p.batch, p.width, 1};
  p.gather_at = b.concatenate(
      {b.reshape(t_index, column), b.reshape(n_index, column), b.reshape(label_index, column)}, 3);
  stablehlo::GatherDimensions at;
  at.collapsed_slice_dims = {0, 1, 2};
  at.start_index_map = {0, 1, 2};
  at.index_vector_dim = 3;
  p.log_probs_l = b.gather(log_probs, p.gather_at, at, {1, 1, 1});
  return p;
}

// log(exp(a) + exp(b) + exp(c)), -inf when all are.
Value log_add_exp3(Builder& b, Value x, Value y, Value z) {
  const TensorType type = b.type(x);
  Value top = b.max(b.max(x, y), z);
  Value lowest = b.splat(-INFINITY, type);
  Value none = b.compare(ComparisonDirection::kEQ, top, lowest);
  Value safe_top = b.select(none, b.zeros(type), top);
  Value sum = b.add(
      b.add(b.unary(UnaryOp::kExp, b.sub(x, safe_top)), b.unary(UnaryOp::kExp, b.sub(y, safe_top))),
      b.unary(UnaryOp::kExp, b.sub(z, safe_top)));
  return b.select(none, lowest, b.add(safe_top, b.unary(UnaryOp::kLog, sum)));
}

// A per-sample constant spread over [N, L].
Value per_sample(Builder& b, const std::vector<int64_t>& values, int64_t width) {
  const int64_t batch = static_cast<int64_t>(values.size());
  return b.broadcast_in_dim(b.constant_ints(values, TensorType{kS64, {batch}}), {batch, width},
                            {0});
}

// pred [N, L]: position s lies on sample n's extended target.
Value live_positions(Builder& b, const Problem& p) {
  std::vector<int64_t> ends(p.batch);
  for (int64_t n = 0; n < p.batch; ++n) ends[n] = 2 * p.target_lengths[n] + 1;
  return b.compare(ComparisonDirection::kLT, b.iota(TensorType{kS64, {p.batch, p.width}}, 1),
                   per_sample(b, ends, p.width));
}

Value row_at(Builder& b, Value all, Value t) {
  const std::vector<int64_t>& dims = b.dims(all);
  Value zero = b.constant_int(0, kS64);
  return b.reshape(b.dynamic_slice(all, {t, zero, zero}, {1, dims[1], dims[2]}),
                   {dims[1], dims[2]});
}

Value set_row(Builder& b, Value all, Value row, Value t) {
  const std::vector<int64_t>& dims = b.dims(all);
  Value zero = b.constant_int(0, kS64);
  return b.dynamic_update_slice(all, b.reshape(row, {1, dims[1], dims[2]}), {t, zero, zero});
}

// Shifts [N, L] rows by `by` positions toward higher s (by > 0) or lower s
// (by < 0), filling with -inf.
Value shifted(Builder& b, Value rows, int64_t by) {
  const int64_t batch = b.dims(rows)[0];
  const int64_t width = b.dims(rows)[1];
  const int64_t amount = std::min<int64_t>(std::abs(by), width);
  Value fill = b.constant(-INFINITY, b.element_type(rows));
  if (by > 0) {
    return b.pad(b.slice(rows, {0, 0}, {batch, width - amount}), fill, {0, amount}, {0, 0});
  }
  return b.pad(b.slice(rows, {0, amount}, {batch, width}), fill, {0, 0}, {0, amount});
}

// log alpha [T, N, L]: -inf off the live region (t < input length, s on the
// extended target).
Value alphas(Builder& b, const Problem& p) {
  const std::vector<int64_t> grid{p.steps, p.batch, p.width};
  Value lowest = b.splat(-INFINITY, TensorType{p.type, grid});
  if (p.steps == 0) return lowest;
  Value live = live_positions(b, p);
  Value first_two =
      b.compare(ComparisonDirection::kLT, b.iota(TensorType{kS64, {p.batch, p.width}}, 1),
                b.splat(2, TensorType{kS64, {p.batch, p.width}}));
  Value running = b.compare(ComparisonDirection::kGT, per_sample(b, p.input_lengths, p.width),
                            b.zeros(TensorType{kS64, {p.batch, p.width}}));
  Value start_mask = b.binary(BinaryOp::kAnd, b.binary(BinaryOp::kAnd, live, first_two), running);
  Value first = b.select(start_mask, row_at(b, p.log_probs_l, b.constant_int(0, kS64)),
                         b.splat(-INFINITY, TensorType{p.type, {p.batch, p.width}}));
  Value all = set_row(b, lowest, first, b.constant_int(0, kS64));
  const std::vector<int64_t> input_lengths = p.input_lengths;
  std::vector<int64_t> ends(p.batch);
  for (int64_t n = 0; n < p.batch; ++n) ends[n] = 2 * p.target_lengths[n] + 1;
  const int64_t steps = p.steps;
  const int64_t width = p.width;
  std::vector<Value> state = b.while_loop(
      {b.constant_int(1, kS64), all, p.log_probs_l, p.skip},
      [steps](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kLT, v[0], r.constant_int(steps, kS64))};
      },
      [&input_lengths, &ends, width](Builder& r, const std::vector<Value>& v) {
        const Value t = v[0];
        const Value previous = row_at(r, v[1], r.sub(t, r.constant_int(1, kS64)));
        const TensorType row_type = r.type(previous);
        Value from_two = r.select(v[3], shifted(r, previous, 2), r.splat(-INFINITY, row_type));
        Value next =
            r.add(log_add_exp3(r, previous, shifted(r, previous, 1), from_two), row_at(r, v[2], t));
        Value positions = r.iota(TensorType{kS64, row_type.dims}, 1);
        Value live =
            r.binary(BinaryOp::kAnd,
                     r.compare(ComparisonDirection::kLT, positions, per_sample(r, ends, width)),
                     r.compare(ComparisonDirection::kLT, r.broadcast_in_dim(t, row_type.dims, {}),
                               per_sample(r, input_lengths, width)));
        next = r.select(live, next, r.splat(-INFINITY, row_type));
        return std::vector<Value>{r.add(t, r.constant_int(1, kS64)), set_row(r, v[1], next, t),
                                  v[2], v[3]};
      });
  return state[1];
}

// Each sample's values of `all` [T, N, L] at (t_n, n, s_n), given as constants.
Value pick(Builder& b, Value all, const std::vector<int64_t>& t, const std::vector<int64_t>& s) {
  const int64_t batch = static_cast<int64_t>(t.size());
  std::vector<int64_t> where;
  for (int64_t n = 0; n < batch; ++n) {
    where.insert(where.end(), {t[n], n, s[n]});
  }
  stablehlo::GatherDimensions dn;
  dn.collapsed_slice_dims = {0, 1, 2};
  dn.start_index_map = {0, 1, 2};
  dn.index_vector_dim = 1;
  return b.gather(all, b.constant_ints(where, TensorType{kS64, {batch, 3}}), dn, {1, 1, 1});
}

// -log p(target | input) per sample from the alphas at each input's last step.
Value negative_log_likelihood(Builder& b, const Problem& p, Value log_alpha) {
  const TensorType type{p.type, {p.batch}};
  if (p.batch == 0) return b.zeros(type);
  std::vector<int64_t> last_t(p.batch), last_s(p.batch), before_s(p.batch);
  std::vector<double> empty_value(p.batch);
  std::vector<int64_t> has_input(p.batch), has_target(p.batch);
  for (int64_t n = 0; n < p.batch; ++n) {
    last_t[n] = std::max<int64_t>(p.input_lengths[n] - 1, 0);
    last_s[n] = 2 * p.target_lengths[n];
    before_s[n] = std::max<int64_t>(last_s[n] - 1, 0);
    has_input[n] = p.input_lengths[n] > 0;
    has_target[n] = p.target_lengths[n] > 0;
    // No input: the empty target is certain (-0, as CPU negates a zero),
    // any other impossible.
    empty_value[n] = p.target_lengths[n] == 0 ? -0.0 : INFINITY;
  }
  const Value lowest = b.splat(-INFINITY, type);
  if (p.steps == 0) return b.constant_doubles(empty_value, type);
  Value last = pick(b, log_alpha, last_t, last_s);
  Value before = b.select(
      b.compare(ComparisonDirection::kNE, b.constant_ints(has_target, TensorType{kS64, {p.batch}}),
                b.zeros(TensorType{kS64, {p.batch}})),
      pick(b, log_alpha, last_t, before_s), lowest);
  Value nll = b.unary(UnaryOp::kNegate, log_add_exp3(b, last, before, lowest));
  return b.select(
      b.compare(ComparisonDirection::kNE, b.constant_ints(has_input, TensorType{kS64, {p.batch}}),
                b.zeros(TensorType{kS64, {p.batch}})),
      nll, b.constant_doubles(empty_value, type));
}

// _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
// -> (neg_log_likelihood, log_alpha)
std::vector<Value> ctc_loss_rule(Builder& b, const OpCall& call) {
  if (!std::holds_alternative<std::vector<int64_t>>(call.args[2])) {
    throw Unsupported("_ctc_loss with tensor lengths is read on the host first");
  }
  const Value log_probs = call.tensor(0).value;
  const Problem p =
      read_problem(b, log_probs, call.tensor(1).value, call.ints(2), call.ints(3), call.int_at(4));
  Value log_alpha = alphas(b, p);
  // CPU's log_alpha is [N, T, L].
  return {negative_log_likelihood(b, p, log_alpha), b.transpose(log_alpha, {1, 0, 2})};
}

// log beta [T, N, L], the backward recursion from each input's last step.
Value betas(Builder& b, const Problem& p) {
  const std::vector<int64_t> grid{p.steps, p.batch, p.width};
  Value lowest = b.splat(-INFINITY, TensorType{p.type, grid});
  if (p.steps == 0) return lowest;
  // beta may come from s + 2 when l'[s + 2] may be reached from s.
  Value skip_ahead = p.width > 2 ? b.pad(b.slice(p.skip, {0, 2}, {p.batch, p.width}),
                                         b.constant(0, ElementType::kPred), {0, 0}, {0, 2})
                                 : b.splat(0, TensorType{ElementType::kPred, {p.batch, p.width}});
  const std::vector<int64_t> input_lengths = p.input_lengths;
  std::vector<int64_t> ends(p.batch);
  for (int64_t n = 0; n < p.batch; ++n) ends[n] = 2 * p.target_lengths[n] + 1;
  const int64_t steps = p.steps;
  const int64_t width = p.width;
  std::vector<Value> state = b.while_loop(
      {b.constant_int(steps - 1, kS64), lowest, p.log_probs_l, skip_ahead},
      [](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kGE, v[0], r.constant_int(0, kS64))};
      },
      [&input_lengths, &ends, width, steps](Builder& r, const std::vector<Value>& v) {
        const Value t = v[0];
        const Value after = row_at(
            r, v[1], r.min(r.add(t, r.constant_int(1, kS64)), r.constant_int(steps - 1, kS64)));
        const TensorType row_type = r.type(after);
        const Value here = row_at(r, v[2], t);
        Value from_two = r.select(v[3], shifted(r, after, -2), r.splat(-INFINITY, row_type));
        Value next = r.add(log_add_exp3(r, after, shifted(r, after, -1), from_two), here);
        Value positions = r.iota(TensorType{kS64, row_type.dims}, 1);
        Value ends_row = per_sample(r, ends, width);
        Value on_target = r.compare(ComparisonDirection::kLT, positions, ends_row);
        Value t_row = r.broadcast_in_dim(t, row_type.dims, {});
        Value last_step = r.compare(ComparisonDirection::kEQ,
                                    r.add(t_row, r.splat(1, TensorType{kS64, row_type.dims})),
                                    per_sample(r, input_lengths, width));
        Value before_last = r.compare(ComparisonDirection::kLT,
                                      r.add(t_row, r.splat(1, TensorType{kS64, row_type.dims})),
                                      per_sample(r, input_lengths, width));
        // At the last step only the final blank and the final label start.
        Value final_two = r.binary(
            BinaryOp::kAnd, on_target,
            r.compare(ComparisonDirection::kGE,
                      r.add(positions, r.splat(2, TensorType{kS64, row_type.dims})), ends_row));
        Value lowest_row = r.splat(-INFINITY, row_type);
        Value value = r.select(r.binary(BinaryOp::kAnd, before_last, on_target), next, lowest_row);
        value = r.select(last_step, r.select(final_two, here, lowest_row), value);
        return std::vector<Value>{r.sub(t, r.constant_int(1, kS64)), set_row(r, v[1], value, t),
                                  v[2], v[3]};
      });
  return state[1];
}

// log sum over s with l'[s] == c of exp(log_alpha_beta[t, n, s]): [T, N, C].
// Accumulated one position at a time in descending s, in log space, as CPU's
// kernel does: a float32 sum near -200 rounds at 1.5e-5, so another order
// (or a linear-space sum) moves the gradient by about that much.
Value alpha_beta_per_class(Builder& b, const Problem& p, Value log_alpha_beta) {
  const std::vector<int64_t> full{p.steps, p.batch, p.classes};
  const int64_t steps = p.steps;
  const int64_t batch = p.batch;
  const int64_t width = p.width;
  std::vector<Value> state = b.while_loop(
      {b.constant_int(width - 1, kS64), b.splat(-INFINITY, TensorType{p.type, full}),
       log_alpha_beta, p.labels},
      [](Builder& r, const std::vector<Value>& v) {
        return std::vector<Value>{
            r.compare(ComparisonDirection::kGE, v[0], r.constant_int(0, kS64))};
      },
      [steps, batch](Builder& r, const std::vector<Value>& v) {
        const Value s = v[0];
        const Value zero = r.constant_int(0, kS64);
        const std::vector<int64_t> plane{steps, batch};
        Value column = r.reshape(r.dynamic_slice(v[2], {zero, zero, s}, {steps, batch, 1}), plane);
        Value label = r.reshape(r.dynamic_slice(v[3], {zero, s}, {batch, 1}), {batch});
        const std::vector<int64_t> where_dims{steps, batch, 1};
        Value where = r.concatenate({r.reshape(r.iota(TensorType{kS64, plane}, 0), where_dims),
                                     r.reshape(r.iota(TensorType{kS64, plane}, 1), where_dims),
                                     r.reshape(r.broadcast_in_dim(label, plane, {1}), where_dims)},
                                    2);
        stablehlo::GatherDimensions gd;
        gd.collapsed_slice_dims = {0, 1, 2};
        gd.start_index_map = {0, 1, 2};
        gd.index_vector_dim = 2;
        Value current = r.gather(v[1], where, gd, {1, 1, 1});
        const TensorType plane_type = r.type(column);
        Value top = r.max(current, column);
        Value sum = r.add(r.unary(UnaryOp::kExp, r.sub(current, top)),
                          r.unary(UnaryOp::kExp, r.sub(column, top)));
        Value combined = r.add(r.unary(UnaryOp::kLog, sum), top);
        Value empty = r.compare(ComparisonDirection::kEQ, current, r.splat(-INFINITY, plane_type));
        combined = r.select(empty, column, combined);
        stablehlo::ScatterDimensions sd;
        sd.inserted_window_dims = {0, 1, 2};
        sd.scatter_dims_to_operand_dims = {0, 1, 2};
        sd.index_vector_dim = 2;
        Value updated = r.scatter(
            v[1], where, combined, sd,
            [](Builder& q, const std::vector<Value>& args) { return std::vector<Value>{args[1]}; });
        return std::vector<Value>{r.sub(s, r.constant_int(1, kS64)), updated, v[2], v[3]};
      });
  return state[1];
}

// _ctc_loss_backward(grad, log_probs, targets, input_lengths, target_lengths,
// neg_log_likelihood, log_alpha, blank, zero_infinity)
std::vector<Value> ctc_loss_backward_rule(Builder& b, const OpCall& call) {
  if (!std::holds_alternative<std::vector<int64_t>>(call.args[3])) {
    throw Unsupported("_ctc_loss_backward with tensor lengths is read on the host first");
  }
  const Value grad = call.tensor(0).value;
  const Value log_probs = call.tensor(1).value;
  const Problem p =
      read_problem(b, log_probs, call.tensor(2).value, call.ints(3), call.ints(4), call.int_at(7));
  const bool zero_infinity = call.bool_at(8);
  const Value nll = b.convert(b.reshape(call.tensor(5).value, {p.batch}), p.type);
  const Value log_alpha_in = call.tensor(6).value;
  const std::vector<int64_t> full{p.steps, p.batch, p.classes};
  if (b.type(log_probs).numel() == 0) return {b.zeros(TensorType{p.type, full})};
  if (b.dims(log_alpha_in) != std::vector<int64_t>{p.batch, p.steps, p.width}) {
    throw InvalidArgument("_ctc_loss_backward: log_alpha has shape " +
                          shape_text(b.dims(log_alpha_in)) + ", expected " +
                          shape_text({p.batch, p.steps, p.width}));
  }
  Value log_alpha = b.transpose(b.convert(log_alpha_in, p.type), {1, 0, 2});
  Value log_beta = betas(b, p);
  // Per class, log of the sum over the positions s carrying it of
  // alpha * beta; the gradient is exp(lp) - exp(that + nll - lp), the label's
  // own probability being counted in both alpha and beta.
  Value per_class_log = alpha_beta_per_class(b, p, b.add(log_alpha, log_beta));
  Value nll_full = b.broadcast_in_dim(nll, full, {1});
  Value per_class = b.unary(UnaryOp::kExp, b.sub(b.add(per_class_log, nll_full), log_probs));
  Value result = b.sub(b.unary(UnaryOp::kExp, log_probs), per_class);
  // An impossible target: CPU's formula gives NaN (inf - inf), or zero with
  // zero_infinity.
  Value impossible = b.broadcast_in_dim(is_inf(b, nll), full, {1});
  Value blocked = b.splat(zero_infinity ? 0.0 : NAN, TensorType{p.type, full});
  result = b.select(impossible, blocked, result);
  Value g = b.convert(grad, p.type);
  if (b.rank(g) == 0) {
    g = b.broadcast_in_dim(g, full, {});
  } else {
    g = b.broadcast_in_dim(b.reshape(g, {p.batch}), full, {1});
  }
  result = b.mul(result, g);
  // Steps past each input's end get no gradient.
  Value running = b.compare(
      ComparisonDirection::kLT, b.iota(TensorType{kS64, full}, 0),
      b.broadcast_in_dim(b.constant_ints(p.input_lengths, TensorType{kS64, {p.batch}}), full, {1}));
  return {b.select(running, result, b.zeros(TensorType{p.type, full}))};
}

}  // namespace

void add_ctc_loss_rules(RuleTable& table) {
  table.add("_ctc_loss", {&ctc_loss_rule, {}});
  table.add("_ctc_loss_backward", {&ctc_loss_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
