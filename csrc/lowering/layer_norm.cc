// Layer and group normalization, forward and backward, as PyTorch's CPU
// kernels compute them: biased variance, half types computed in f32, the
// statistics in the input's type unless the parameters are f32 for a half
// input (mixed precision), and a normalized size of 0 giving mean 0, rstd NaN.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::UnaryOp;

bool is_half(ElementType t) { return t == ElementType::kBF16 || t == ElementType::kF16; }

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// The type of mean/rstd (and of the parameters' gradients without parameters),
// after PyTorch's mixed-type check: f32 parameters with a half input are
// allowed, any other mismatch is an error.
ElementType stats_type(Builder& b, std::string_view kernel, ElementType input,
                       const std::vector<std::optional<TensorArg>>& params) {
  if (!stablehlo::is_floating(input)) throw_no_kernel(kernel, input);
  bool mixed = false;
  for (const auto& p : params) {
    if (!p) continue;
    const ElementType t = b.element_type(p->value);
    if (t == input) continue;
    if (!is_half(input) || t != ElementType::kF32) {
      throw InvalidArgument("mixed dtype (CPU): all inputs must share same datatype.");
    }
    mixed = true;
  }
  return mixed ? ElementType::kF32 : input;
}

Value sum_over(Builder& b, Value x, const std::vector<int64_t>& dims) {
  const ElementType type = b.element_type(x);
  return b.reduce(x, b.constant(0, type), dims, [](Builder& r, const std::vector<Value>& args) {
    return std::vector<Value>{r.add(args[0], args[1])};
  });
}

Value splat_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

// Mean and rstd of x [groups..., count] over its last dim, shaped [groups...].
struct Moments {
  Value mean, rstd;
};

Moments row_moments(Builder& b, Value x, double eps) {
  std::vector<int64_t> dims = b.dims(x);
  const int64_t count = dims.back();
  const int64_t last = static_cast<int64_t>(dims.size()) - 1;
  std::vector<int64_t> stat_dims(dims.begin(), dims.end() - 1);
  const TensorType stat_type{b.element_type(x), stat_dims};
  if (count == 0) return {b.zeros(stat_type), b.splat(NAN, stat_type)};
  std::vector<int64_t> keep(stat_dims.size());
  for (size_t i = 0; i < keep.size(); ++i) keep[i] = static_cast<int64_t>(i);
  Value n = b.splat(static_cast<double>(count), stat_type);
  Value mean = b.div(sum_over(b, x, {last}), n);
  Value centered = b.sub(x, b.broadcast_in_dim(mean, dims, keep));
  Value var = b.div(sum_over(b, b.mul(centered, centered), {last}), n);
  Value rstd = b.unary(UnaryOp::kRsqrt, b.add(var, splat_like(b, eps, var)));
  return {mean, rstd};
}

// --- layer norm ---------------------------------------------------------------

// The input seen as [rows, row_size], and the [*, 1...] shape of mean/rstd.
struct RowLayout {
  int64_t rows = 1, row_size = 1;
  std::vector<int64_t> stat_shape;
};

RowLayout row_layout(Builder& b, Value input, const std::vector<int64_t>& normalized,
                     const std::vector<std::optional<TensorArg>>& params) {
  const std::vector<int64_t>& dims = b.dims(input);
  if (normalized.empty()) {
    throw InvalidArgument(
        "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
        "element, but got normalized_shape = []");
  }
  for (size_t k = 0; k < params.size(); ++k) {
    if (params[k] && b.dims(params[k]->value) != normalized) {
      throw InvalidArgument(std::string("Expected ") + (k == 0 ? "weight" : "bias") +
                            " to be of same shape as normalized_shape, but got " +
                            (k == 0 ? "weight" : "bias") + " of shape " +
                            shape_string(b.dims(params[k]->value)) +
                            " and normalized_shape = " + shape_string(normalized));
    }
  }
  const size_t axis = dims.size() - normalized.size();
  if (dims.size() < normalized.size() ||
      !std::equal(normalized.begin(), normalized.end(), dims.begin() + axis)) {
    std::string expected = "[*";
    for (int64_t d : normalized) expected += ", " + std::to_string(d);
    throw InvalidArgument("Given normalized_shape=" + shape_string(normalized) +
                          ", expected input with shape " + expected + "], but got input of size" +
                          shape_string(dims));
  }
  RowLayout layout;
  for (size_t d = 0; d < dims.size(); ++d) {
    (d < axis ? layout.rows : layout.row_size) *= dims[d];
    layout.stat_shape.push_back(d < axis ? dims[d] : 1);
  }
  return layout;
}

// A [size] parameter (flattened), or a splat of `fill`.
Value flat_parameter(Builder& b, const std::optional<TensorArg>& p, double fill, int64_t size,
                     ElementType type) {
  if (!p) return b.splat(fill, TensorType{type, {size}});
  return b.reshape(b.convert(p->value, type), {size});
}

// native_layer_norm(input, normalized_shape, weight?, bias?, eps) -> (out, mean, rstd)
std::vector<Value> native_layer_norm_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(0).value;
  const std::vector<std::optional<TensorArg>> params{call.optional_tensor(2),
                                                     call.optional_tensor(3)};
  const ElementType type = b.element_type(input);
  const ElementType stats = stats_type(b, "LayerNormKernelImpl", type, params);
  const RowLayout layout = row_layout(b, input, call.ints(1), params);
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> matrix{layout.rows, layout.row_size};

  Value x = b.reshape(b.convert(input, compute), matrix);
  Moments m = row_moments(b, x, call.double_at(4));
  Value w = flat_parameter(b, params[0], 1, layout.row_size, compute);
  Value beta = flat_parameter(b, params[1], 0, layout.row_size, compute);
  Value xhat = b.mul(b.sub(x, b.broadcast_in_dim(m.mean, matrix, {0})),
                     b.broadcast_in_dim(m.rstd, matrix, {0}));
  Value y =
      b.add(b.mul(xhat, b.broadcast_in_dim(w, matrix, {1})), b.broadcast_in_dim(beta, matrix, {1}));
  return {b.convert(b.reshape(y, b.dims(input)), type),
          b.convert(b.reshape(m.mean, layout.stat_shape), stats),
          b.convert(b.reshape(m.rstd, layout.stat_shape), stats)};
}

// native_layer_norm_backward(grad_out, input, normalized_shape, mean, rstd,
// weight?, bias?, output_mask) -> (grad_input, grad_weight, grad_bias). All
// three are computed whatever the mask; the dispatcher returns the unrequested
// ones undefined, as CPU does.
std::vector<Value> native_layer_norm_backward_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(1).value;
  const std::optional<TensorArg> weight = call.optional_tensor(5);
  const std::vector<std::optional<TensorArg>> params{weight, call.optional_tensor(6)};
  const ElementType type = b.element_type(input);
  const ElementType stats = stats_type(b, "LayerNormBackwardKernelImpl", type, params);
  const std::vector<int64_t>& normalized = call.ints(2);
  const RowLayout layout = row_layout(b, input, normalized, params);
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> matrix{layout.rows, layout.row_size};

  Value dy = b.reshape(b.convert(call.tensor(0).value, compute), matrix);
  Value x = b.reshape(b.convert(input, compute), matrix);
  Value mean = b.reshape(b.convert(call.tensor(3).value, compute), {layout.rows});
  Value rstd = b.reshape(b.convert(call.tensor(4).value, compute), {layout.rows});
  Value w = flat_parameter(b, weight, 1, layout.row_size, compute);
  Value xhat =
      b.mul(b.sub(x, b.broadcast_in_dim(mean, matrix, {0})), b.broadcast_in_dim(rstd, matrix, {0}));
  Value g = b.mul(dy, b.broadcast_in_dim(w, matrix, {1}));
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), means over each row.
  Value n = b.splat(static_cast<double>(layout.row_size), TensorType{compute, {layout.rows}});
  Value mean_g = b.div(sum_over(b, g, {1}), n);
  Value mean_gx = b.div(sum_over(b, b.mul(g, xhat), {1}), n);
  Value inner = b.sub(b.sub(g, b.broadcast_in_dim(mean_g, matrix, {0})),
                      b.mul(xhat, b.broadcast_in_dim(mean_gx, matrix, {0})));
  Value dx = b.mul(inner, b.broadcast_in_dim(rstd, matrix, {0}));
  const ElementType param_type = weight ? b.element_type(weight->value) : stats;
  Value dw = b.reshape(sum_over(b, b.mul(dy, xhat), {0}), normalized);
  Value db = b.reshape(sum_over(b, dy, {0}), normalized);
  return {b.convert(b.reshape(dx, b.dims(input)), type), b.convert(dw, param_type),
          b.convert(db, param_type)};
}

// --- group norm ---------------------------------------------------------------

// The input seen as [N, groups, channels per group, HxW].
struct GroupLayout {
  int64_t n, channels, hxw, groups;
  std::vector<int64_t> grouped() const { return {n, groups, channels / groups, hxw}; }
};

GroupLayout group_layout(Builder& b, Value input, const OpCall& call, size_t first,
                         const std::vector<std::optional<TensorArg>>& params) {
  GroupLayout l{call.int_at(first), call.int_at(first + 1), call.int_at(first + 2),
                call.int_at(first + 3)};
  const std::vector<int64_t>& dims = b.dims(input);
  if (l.groups <= 0 || l.channels % l.groups != 0) {
    throw InvalidArgument(
        "Expected number of channels in input to be divisible by num_groups, but got input of "
        "shape " +
        shape_string(dims) + " and num_groups=" + std::to_string(l.groups));
  }
  if (b.type(input).numel() != l.n * l.channels * l.hxw) {
    throw InvalidArgument("Expected input to have " + std::to_string(l.n * l.channels * l.hxw) +
                          " elements (N * C * HxW), got input of shape " + shape_string(dims));
  }
  for (size_t k = 0; k < params.size(); ++k) {
    if (params[k] && b.type(params[k]->value).numel() != l.channels) {
      const char* what = k == 0 ? "weight" : "bias";
      throw InvalidArgument(std::string("Expected ") + what +
                            " to be a vector of size equal to the number of channels in input, "
                            "but got " +
                            what + " of shape " + shape_string(b.dims(params[k]->value)) +
                            " and input of shape " + shape_string(dims));
    }
  }
  return l;
}

// A per-channel [C] parameter as [groups, C / groups], or a splat of `fill`.
Value group_parameter(Builder& b, const std::optional<TensorArg>& p, double fill,
                      const GroupLayout& l, ElementType type) {
  const std::vector<int64_t> shape{l.groups, l.channels / l.groups};
  if (!p) return b.splat(fill, TensorType{type, shape});
  return b.reshape(b.convert(p->value, type), shape);
}

// native_group_norm(input, weight?, bias?, N, C, HxW, group, eps) -> (out, mean [N, G], rstd)
std::vector<Value> native_group_norm_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(0).value;
  const std::vector<std::optional<TensorArg>> params{call.optional_tensor(1),
                                                     call.optional_tensor(2)};
  const ElementType type = b.element_type(input);
  const ElementType stats = stats_type(b, "GroupNormKernelImpl", type, params);
  const GroupLayout l = group_layout(b, input, call, 3, params);
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> grouped = l.grouped();

  Value x = b.convert(input, compute);
  Moments m = row_moments(b, b.reshape(x, {l.n, l.groups, (l.channels / l.groups) * l.hxw}),
                          call.double_at(7));
  Value xg = b.reshape(x, grouped);
  Value xhat = b.mul(b.sub(xg, b.broadcast_in_dim(m.mean, grouped, {0, 1})),
                     b.broadcast_in_dim(m.rstd, grouped, {0, 1}));
  Value w = group_parameter(b, params[0], 1, l, compute);
  Value beta = group_parameter(b, params[1], 0, l, compute);
  Value y = b.add(b.mul(xhat, b.broadcast_in_dim(w, grouped, {1, 2})),
                  b.broadcast_in_dim(beta, grouped, {1, 2}));
  return {b.convert(b.reshape(y, b.dims(input)), type), b.convert(m.mean, stats),
          b.convert(m.rstd, stats)};
}

// native_group_norm_backward(grad_out, input, mean, rstd, weight?, N, C, HxW,
// group, output_mask) -> (grad_input, grad_weight [C], grad_bias [C])
std::vector<Value> native_group_norm_backward_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(1).value;
  const std::optional<TensorArg> weight = call.optional_tensor(4);
  const ElementType type = b.element_type(input);
  const ElementType stats = stats_type(b, "GroupNormBackwardKernelImpl", type, {weight});
  const GroupLayout l = group_layout(b, input, call, 5, {weight});
  const ElementType compute = opmath_type(type);
  const std::vector<int64_t> grouped = l.grouped();
  const std::vector<int64_t> stat_shape{l.n, l.groups};

  Value dy = b.reshape(b.convert(call.tensor(0).value, compute), grouped);
  Value x = b.reshape(b.convert(input, compute), grouped);
  Value mean = b.reshape(b.convert(call.tensor(2).value, compute), stat_shape);
  Value rstd = b.reshape(b.convert(call.tensor(3).value, compute), stat_shape);
  Value rstd_full = b.broadcast_in_dim(rstd, grouped, {0, 1});
  Value xhat = b.mul(b.sub(x, b.broadcast_in_dim(mean, grouped, {0, 1})), rstd_full);
  Value g =
      b.mul(dy, b.broadcast_in_dim(group_parameter(b, weight, 1, l, compute), grouped, {1, 2}));
  Value n = b.splat(static_cast<double>((l.channels / l.groups) * l.hxw),
                    TensorType{compute, stat_shape});
  Value mean_g = b.div(sum_over(b, g, {2, 3}), n);
  Value mean_gx = b.div(sum_over(b, b.mul(g, xhat), {2, 3}), n);
  Value inner = b.sub(b.sub(g, b.broadcast_in_dim(mean_g, grouped, {0, 1})),
                      b.mul(xhat, b.broadcast_in_dim(mean_gx, grouped, {0, 1})));
  Value dx = b.mul(inner, rstd_full);
  const ElementType param_type = weight ? b.element_type(weight->value) : stats;
  Value dw = b.reshape(sum_over(b, b.mul(dy, xhat), {0, 3}), {l.channels});
  Value db = b.reshape(sum_over(b, dy, {0, 3}), {l.channels});
  return {b.convert(b.reshape(dx, b.dims(input)), type), b.convert(dw, param_type),
          b.convert(db, param_type)};
}

}  // namespace

void add_layer_norm_rules(RuleTable& table) {
  table.add("native_layer_norm", {&native_layer_norm_rule, {}});
  table.add("native_layer_norm_backward", {&native_layer_norm_backward_rule, {}});
  table.add("native_group_norm", {&native_group_norm_rule, {}});
  table.add("native_group_norm_backward", {&native_group_norm_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
