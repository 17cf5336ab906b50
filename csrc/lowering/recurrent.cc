// The fused LSTM and GRU cells. PyTorch's nn.LSTM / nn.GRU call these on every
// device but the CPU (RNN.cpp picks them for CUDA, XPU and PrivateUse1): the
// gate pre-activations come in from two matmuls, the cell does the pointwise
// rest and saves a workspace of activated gates for its backward. The
// formulas are those of PyTorch's composite cells, which CPU runs, so results
// agree with CPU to rounding; half types compute in f32 as CUDA's kernels do.
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::UnaryOp;

Value one_like(Builder& b, Value like) { return b.splat(1.0, b.type(like)); }
Value one_minus(Builder& b, Value x) { return b.sub(one_like(b, x), x); }

// Columns [k*width, (k+1)*width) of a [batch, n*width] matrix.
Value chunk(Builder& b, Value x, int64_t k, int64_t width) {
  const int64_t rows = b.dims(x)[0];
  return b.slice(x, {0, k * width}, {rows, (k + 1) * width});
}

// The gate matrix [batch, gates*hidden], checked against the state [batch, hidden].
int64_t hidden_size(Builder& b, const char* op, Value gates, Value state, int64_t count) {
  const auto& g = b.dims(gates);
  const auto& s = b.dims(state);
  if (g.size() != 2 || s.size() != 2 || g[0] != s[0] || g[1] != count * s[1]) {
    throw InvalidArgument(std::string(op) + ": expected gates of shape [batch, " +
                          std::to_string(count) + " * hidden] and a state of shape [batch, " +
                          "hidden], got " + b.type(gates).to_string() + " and " +
                          b.type(state).to_string());
  }
  return s[1];
}

// input_gates + hidden_gates, plus the optional biases broadcast over the batch.
Value gate_sum(Builder& b, const OpCall& call, ElementType compute) {
  Value gates =
      b.add(b.convert(call.tensor(0).value, compute), b.convert(call.tensor(1).value, compute));
  for (size_t i : {3, 4}) {
    if (auto bias = call.optional_tensor(i)) {
      gates = b.add(gates, broadcast_to(b, b.convert(bias->value, compute), b.dims(gates)));
    }
  }
  return gates;
}

Value sigmoid(Builder& b, Value x) { return b.unary(UnaryOp::kLogistic, x); }
Value tanh(Builder& b, Value x) { return b.unary(UnaryOp::kTanh, x); }

Value column_sum(Builder& b, Value x) {
  return b.reduce(x, b.constant(0, b.element_type(x)), {0},
                  [](Builder& r, const std::vector<Value>& a) {
                    return std::vector<Value>{r.add(a[0], a[1])};
                  });
}

// _thnn_fused_lstm_cell(input_gates, hidden_gates, cx, input_bias?, hidden_bias?)
//   -> (hy, cy, workspace): gates in PyTorch's order input, forget, cell, output;
// the workspace holds them activated, [batch, 4 * hidden].
std::vector<Value> lstm_cell_rule(Builder& b, const OpCall& call) {
  Value cx = call.tensor(2).value;
  const ElementType type = b.element_type(cx);
  const ElementType compute = opmath_type(type);
  const int64_t h = hidden_size(b, "_thnn_fused_lstm_cell", call.tensor(0).value, cx, 4);
  Value gates = gate_sum(b, call, compute);
  Value in = sigmoid(b, chunk(b, gates, 0, h));
  Value forget = sigmoid(b, chunk(b, gates, 1, h));
  Value cell = tanh(b, chunk(b, gates, 2, h));
  Value out = sigmoid(b, chunk(b, gates, 3, h));
  Value cy = b.add(b.mul(forget, b.convert(cx, compute)), b.mul(in, cell));
  Value hy = b.mul(out, tanh(b, cy));
  Value workspace = b.concatenate({in, forget, cell, out}, 1);
  return {b.convert(hy, type), b.convert(cy, type), b.convert(workspace, type)};
}

// _thnn_fused_lstm_cell_backward_impl(grad_hy?, grad_cy?, cx, cy, workspace,
// has_bias) -> (grad_gates, grad_cx, grad_bias). Without a bias the third
// result is zeros: autograd drops it, as the bias input is None.
std::vector<Value> lstm_cell_backward_rule(Builder& b, const OpCall& call) {
  Value cx_in = call.tensor(2).value;
  const ElementType type = b.element_type(cx_in);
  const ElementType compute = opmath_type(type);
  Value workspace = call.tensor(4).value;
  const int64_t h = hidden_size(b, "_thnn_fused_lstm_cell_backward", workspace, cx_in, 4);
  Value cx = b.convert(cx_in, compute);
  Value cy = b.convert(call.tensor(3).value, compute);
  Value ws = b.convert(workspace, compute);
  auto grad_or_zero = [&](size_t i) {
    auto g = call.optional_tensor(i);
    return g ? b.convert(g->value, compute) : b.zeros(b.type(cx));
  };
  Value grad_hy = grad_or_zero(0);
  Value grad_cy = grad_or_zero(1);
  Value in = chunk(b, ws, 0, h), forget = chunk(b, ws, 1, h);
  Value cell = chunk(b, ws, 2, h), out = chunk(b, ws, 3, h);
  Value tanh_cy = tanh(b, cy);
  Value grad_c = b.add(b.mul(b.mul(grad_hy, out), one_minus(b, b.mul(tanh_cy, tanh_cy))), grad_cy);
  Value grad_in = b.mul(b.mul(grad_c, cell), b.mul(one_minus(b, in), in));
  Value grad_forget = b.mul(b.mul(grad_c, cx), b.mul(one_minus(b, forget), forget));
  Value grad_cell = b.mul(b.mul(grad_c, in), one_minus(b, b.mul(cell, cell)));
  Value grad_out = b.mul(b.mul(grad_hy, tanh_cy), b.mul(one_minus(b, out), out));
  Value grad_gates = b.concatenate({grad_in, grad_forget, grad_cell, grad_out}, 1);
  Value grad_cx = b.mul(grad_c, forget);
  Value grad_bias =
      call.bool_at(5) ? column_sum(b, grad_gates) : b.zeros(TensorType{compute, {4 * h}});
  return {b.convert(grad_gates, type), b.convert(grad_cx, type), b.convert(grad_bias, type)};
}

// _thnn_fused_gru_cell(input_gates, hidden_gates, hx, input_bias?, hidden_bias?)
//   -> (hy, workspace): gates in PyTorch's order reset, update, new; the
// workspace is [reset, update, new, hx, hidden new-gate part], [batch, 5 * hidden].
std::vector<Value> gru_cell_rule(Builder& b, const OpCall& call) {
  Value hx_in = call.tensor(2).value;
  const ElementType type = b.element_type(hx_in);
  const ElementType compute = opmath_type(type);
  const int64_t h = hidden_size(b, "_thnn_fused_gru_cell", call.tensor(0).value, hx_in, 3);
  auto biased = [&](size_t gates, size_t bias) {
    Value g = b.convert(call.tensor(gates).value, compute);
    if (auto bv = call.optional_tensor(bias)) {
      g = b.add(g, broadcast_to(b, b.convert(bv->value, compute), b.dims(g)));
    }
    return g;
  };
  Value input = biased(0, 3);
  Value hidden = biased(1, 4);
  Value hx = b.convert(hx_in, compute);
  Value reset = sigmoid(b, b.add(chunk(b, input, 0, h), chunk(b, hidden, 0, h)));
  Value update = sigmoid(b, b.add(chunk(b, input, 1, h), chunk(b, hidden, 1, h)));
  Value hidden_new = chunk(b, hidden, 2, h);
  Value fresh = tanh(b, b.add(chunk(b, input, 2, h), b.mul(reset, hidden_new)));
  Value hy = b.add(fresh, b.mul(update, b.sub(hx, fresh)));
  Value workspace = b.concatenate({reset, update, fresh, hx, hidden_new}, 1);
  return {b.convert(hy, type), b.convert(workspace, type)};
}

// _thnn_fused_gru_cell_backward(grad_hy, workspace, has_bias) -> (grad_input_gates,
// grad_hidden_gates, grad_hx, grad_input_bias, grad_hidden_bias).
std::vector<Value> gru_cell_backward_rule(Builder& b, const OpCall& call) {
  Value grad_in = call.tensor(0).value;
  const ElementType type = b.element_type(grad_in);
  const ElementType compute = opmath_type(type);
  Value workspace = call.tensor(1).value;
  const int64_t h = hidden_size(b, "_thnn_fused_gru_cell_backward", workspace, grad_in, 5);
  Value grad_hy = b.convert(grad_in, compute);
  Value ws = b.convert(workspace, compute);
  Value reset = chunk(b, ws, 0, h), update = chunk(b, ws, 1, h), fresh = chunk(b, ws, 2, h);
  Value hx = chunk(b, ws, 3, h), hidden_new = chunk(b, ws, 4, h);
  Value grad_update = b.mul(b.mul(grad_hy, b.sub(hx, fresh)), b.mul(one_minus(b, update), update));
  Value grad_hx = b.mul(grad_hy, update);
  Value grad_fresh = b.mul(b.mul(grad_hy, one_minus(b, update)), one_minus(b, b.mul(fresh, fresh)));
  Value grad_hidden_new = b.mul(grad_fresh, reset);
  Value grad_reset = b.mul(b.mul(grad_fresh, hidden_new), b.mul(one_minus(b, reset), reset));
  Value grad_input_gates = b.concatenate({grad_reset, grad_update, grad_fresh}, 1);
  Value grad_hidden_gates = b.concatenate({grad_reset, grad_update, grad_hidden_new}, 1);
  const bool has_bias = call.bool_at(2);
  auto bias_grad = [&](Value g) {
    return has_bias ? column_sum(b, g) : b.zeros(TensorType{compute, {3 * h}});
  };
  return {b.convert(grad_input_gates, type), b.convert(grad_hidden_gates, type),
          b.convert(grad_hx, type), b.convert(bias_grad(grad_input_gates), type),
          b.convert(bias_grad(grad_hidden_gates), type)};
}

}  // namespace

void add_recurrent_rules(RuleTable& table) {
  table.add("_thnn_fused_lstm_cell", RuleInfo{&lstm_cell_rule});
  table.add("_thnn_fused_lstm_cell_backward_impl", RuleInfo{&lstm_cell_backward_rule});
  table.add("_thnn_fused_gru_cell", RuleInfo{&gru_cell_rule});
  table.add("_thnn_fused_gru_cell_backward", RuleInfo{&gru_cell_backward_rule});
}

}  // namespace torch_pjrt::lowering
