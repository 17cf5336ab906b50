// Batch normalization forward and backward, as PyTorch's CPU kernels compute
// them: statistics over every dim but the channel dim (1), biased variance for
// normalizing and unbiased for the running estimate, half types computed in f32.
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {

namespace {

// The dims reduced for per-channel statistics, and how many elements each
// channel has.
struct ChannelLayout {
  std::vector<int64_t> reduced;
  int64_t per_channel = 1;
  int64_t channels = 0;
};

ChannelLayout channel_layout(const std::vector<int64_t>& dims) {
  if (dims.size() < 2) {
    throw InvalidArgument("batch_norm: expected an input with at least 2 dims (N, C, ...), got " +
                          std::to_string(dims.size()));
  }
  ChannelLayout layout;
  layout.channels = dims[1];
  for (size_t d = 0; d < dims.size(); ++d) {
    if (d == 1) continue;
    layout.reduced.push_back(static_cast<int64_t>(d));
    layout.per_channel *= dims[d];
  }
  return layout;
}

Value sum_per_channel(Builder& b, Value x, const ChannelLayout& layout) {
  ElementType type = b.element_type(x);
  return b.reduce(x, b.constant(0, type), layout.reduced,
                  [](Builder& r, const std::vector<Value>& args) {
                    return std::vector<Value>{r.add(args[0], args[1])};
                  });
}

// A per-channel vector [C] broadcast to the input's shape.
Value per_channel(Builder& b, Value v, const std::vector<int64_t>& dims) {
  return b.broadcast_in_dim(v, dims, {1});
}

// An optional per-channel parameter in `type`, or a splat of `fill`.
Value parameter_or(Builder& b, const std::optional<TensorArg>& arg, double fill, int64_t channels,
                   ElementType type) {
  if (!arg) return b.splat(fill, TensorType{type, {channels}});
  if (b.dims(arg->value) != std::vector<int64_t>{channels}) {
    throw InvalidArgument("batch_norm: expected a per-channel tensor of size " +
                          std::to_string(channels) + ", got " + b.type(arg->value).to_string());
  }
  return b.convert(arg->value, type);
}

Value splat_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

// native_batch_norm(input, weight?, bias?, running_mean?, running_var?,
// training, momentum, eps) -> (output, save_mean, save_invstd), followed by the
// new running_mean and running_var (written back into those arguments, which
// PyTorch's schema updates without declaring them mutable).
std::vector<Value> native_batch_norm_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(0).value;
  const std::vector<int64_t> dims = b.dims(input);
  const ChannelLayout layout = channel_layout(dims);
  const ElementType type = b.element_type(input);
  const ElementType compute = opmath_type(type);
  const std::optional<TensorArg> weight = call.optional_tensor(1);
  const std::optional<TensorArg> bias = call.optional_tensor(2);
  const std::optional<TensorArg> running_mean = call.optional_tensor(3);
  const std::optional<TensorArg> running_var = call.optional_tensor(4);
  const bool training = call.bool_at(5);
  const double momentum = call.double_at(6);
  const double eps = call.double_at(7);
  // Statistics come back in the parameters' type when it differs (mixed
  // precision), else in the input's.
  const ElementType stats_type = weight ? b.element_type(weight->value) : type;

  // bf16/f16 with parameters of the same type: CPU saves the mean and invstd
  // in that type and normalizes with the saved values. For bf16 it also keeps
  // the sum of squares, the variance and the running averages' every step in
  // bf16; f16 takes a path that computes those in f32.
  const bool saved_rounded = compute != type && stats_type == type;
  const bool rounded_stats = saved_rounded && type == ElementType::kBF16;
  auto round_saved = [&](Value v) {
    return saved_rounded ? b.convert(b.convert(v, type), compute) : v;
  };
  auto round = [&](Value v) { return rounded_stats ? b.convert(b.convert(v, type), compute) : v; };

  Value x = b.convert(input, compute);
  Value w = parameter_or(b, weight, 1.0, layout.channels, compute);
  Value beta = parameter_or(b, bias, 0.0, layout.channels, compute);
  Value mean, var;
  Value var_sum;  // of the rounded statistics
  if (training) {
    if (layout.per_channel == 0) {
      throw InvalidArgument("batch_norm: expected more than 0 values per channel in training");
    }
    Value count =
        b.splat(static_cast<double>(layout.per_channel), TensorType{compute, {layout.channels}});
    mean = b.div(sum_per_channel(b, x, layout), count);
    Value centered = b.sub(x, per_channel(b, mean, dims));
    var_sum = sum_per_channel(b, b.mul(centered, centered), layout);
    mean = round_saved(mean);
    var_sum = round(var_sum);
    var = round(b.div(var_sum, round(count)));
  } else {
    if (!running_mean || !running_var) {
      throw InvalidArgument("batch_norm: running_mean and running_var are required in eval mode");
    }
    mean = parameter_or(b, running_mean, 0.0, layout.channels, compute);
    var = parameter_or(b, running_var, 1.0, layout.channels, compute);
  }
  Value invstd = compute != type
                     ? b.div(splat_like(b, 1.0, var), b.unary(stablehlo::UnaryOp::kSqrt,
                                                              b.add(var, splat_like(b, eps, var))))
                     : b.unary(stablehlo::UnaryOp::kRsqrt, b.add(var, splat_like(b, eps, var)));
  if (training) invstd = round_saved(invstd);
  Value scale = b.mul(w, invstd);
  Value shift = b.sub(beta, b.mul(mean, scale));
  Value output =
      b.convert(b.add(b.mul(x, per_channel(b, scale, dims)), per_channel(b, shift, dims)), type);

  std::vector<Value> results{output};
  if (training) {
    results.push_back(b.convert(mean, stats_type));
    results.push_back(b.convert(invstd, stats_type));
  } else {
    results.push_back(b.zeros(TensorType{stats_type, {0}}));
    results.push_back(b.zeros(TensorType{stats_type, {0}}));
  }
  // New running statistics (unchanged in eval mode).
  for (int k = 0; k < 2; ++k) {
    const std::optional<TensorArg>& running = k == 0 ? running_mean : running_var;
    if (!running) {
      results.push_back(b.zeros(TensorType{stats_type, {layout.channels}}));
      continue;
    }
    if (!training) {
      results.push_back(running->value);
      continue;
    }
    ElementType running_type = b.element_type(running->value);
    Value old_value = b.convert(running->value, compute);
    if (rounded_stats) {
      // momentum * batch + (1 - momentum) * old, every product and sum
      // rounded (the unbiased variance's product is not).
      const double n = static_cast<double>(layout.per_channel);
      Value m = round(splat_like(b, momentum, old_value));
      Value keep = round(b.mul(round(b.sub(splat_like(b, 1.0, m), m)), old_value));
      Value fresh =
          k == 0 ? round(b.mul(m, mean))
                 : b.mul(m, round(b.div(var_sum, round(splat_like(b, n > 1 ? n - 1 : 0, m)))));
      results.push_back(b.convert(b.add(fresh, keep), running_type));
      continue;
    }
    Value batch_value = mean;
    if (k == 1 && saved_rounded) {
      const double n = static_cast<double>(layout.per_channel);
      batch_value = b.div(var_sum, splat_like(b, n > 1 ? n - 1 : 0, var_sum));
    } else if (k == 1) {
      const double n = static_cast<double>(layout.per_channel);
      batch_value = b.mul(var, splat_like(b, n > 1 ? n / (n - 1) : n, var));
    }
    Value updated = b.add(b.mul(old_value, splat_like(b, 1.0 - momentum, old_value)),
                          b.mul(batch_value, splat_like(b, momentum, batch_value)));
    results.push_back(b.convert(updated, running_type));
  }
  return results;
}

// The functional variants torch.export and AOTAutograd trace batch norm into;
// each is native_batch_norm with its arguments rearranged.

// _native_batch_norm_legit(input, weight?, bias?, running_mean!, running_var!,
// training, momentum, eps), or without the running statistics (no_stats).
std::vector<Value> native_batch_norm_legit_rule(Builder& b, const OpCall& call) {
  OpCall inner = call;
  const bool no_stats = call.size() == 6;
  if (no_stats) inner.args.insert(inner.args.begin() + 3, 2, NoneArg{});
  std::vector<Value> results = native_batch_norm_rule(b, inner);
  if (no_stats) results.resize(3);
  return results;
}

// _native_batch_norm_legit_no_training(input, weight?, bias?, running_mean,
// running_var, momentum, eps): eval mode, running statistics read only.
std::vector<Value> native_batch_norm_legit_no_training_rule(Builder& b, const OpCall& call) {
  OpCall inner = call;
  inner.args.insert(inner.args.begin() + 5, false);
  std::vector<Value> results = native_batch_norm_rule(b, inner);
  results.resize(3);
  return results;
}

// _batch_norm_with_update(input, weight?, bias?, running_mean!, running_var!,
// momentum, eps) -> (output, save_mean, save_invstd, reserve): training mode;
// reserve is cuDNN's workspace, empty elsewhere.
std::vector<Value> batch_norm_with_update_rule(Builder& b, const OpCall& call) {
  OpCall inner = call;
  inner.args.insert(inner.args.begin() + 5, true);
  std::vector<Value> results = native_batch_norm_rule(b, inner);
  results.insert(results.begin() + 3, b.zeros(TensorType{ElementType::kU8, {0}}));
  return results;
}

// native_batch_norm_backward(grad_out, input, weight?, running_mean?,
// running_var?, save_mean?, save_invstd?, train, eps, output_mask)
//   -> (grad_input, grad_weight, grad_bias)
std::vector<Value> native_batch_norm_backward_rule(Builder& b, const OpCall& call) {
  Value grad_out = call.tensor(0).value;
  Value input = call.tensor(1).value;
  const std::vector<int64_t> dims = b.dims(input);
  const ChannelLayout layout = channel_layout(dims);
  const ElementType type = b.element_type(input);
  const ElementType compute = opmath_type(type);
  const std::optional<TensorArg> weight = call.optional_tensor(2);
  const bool train = call.bool_at(7);
  const double eps = call.double_at(8);
  const ElementType param_type = weight ? b.element_type(weight->value) : type;

  Value dy = b.convert(grad_out, compute);
  Value x = b.convert(input, compute);
  Value w = parameter_or(b, weight, 1.0, layout.channels, compute);
  Value mean, invstd;
  if (train) {
    mean = parameter_or(b, call.optional_tensor(5), 0.0, layout.channels, compute);
    invstd = parameter_or(b, call.optional_tensor(6), 1.0, layout.channels, compute);
  } else {
    mean = parameter_or(b, call.optional_tensor(3), 0.0, layout.channels, compute);
    Value var = parameter_or(b, call.optional_tensor(4), 1.0, layout.channels, compute);
    invstd = b.unary(stablehlo::UnaryOp::kRsqrt, b.add(var, splat_like(b, eps, var)));
  }
  Value xhat = b.mul(b.sub(x, per_channel(b, mean, dims)), per_channel(b, invstd, dims));
  Value grad_bias = sum_per_channel(b, dy, layout);
  Value grad_weight = sum_per_channel(b, b.mul(dy, xhat), layout);
  Value grad_input;
  if (train) {
    // dx = w * invstd / N * (N * dy - sum(dy) - xhat * sum(dy * xhat))
    const double n = static_cast<double>(layout.per_channel);
    Value coefficient = b.div(b.mul(w, invstd), b.splat(n, b.type(w)));
    Value inner = b.sub(b.sub(b.mul(dy, splat_like(b, n, dy)), per_channel(b, grad_bias, dims)),
                        b.mul(xhat, per_channel(b, grad_weight, dims)));
    grad_input = b.mul(inner, per_channel(b, coefficient, dims));
  } else {
    grad_input = b.mul(dy, per_channel(b, b.mul(w, invstd), dims));
  }
  return {b.convert(grad_input, type), b.convert(grad_weight, param_type),
          b.convert(grad_bias, param_type)};
}

// batch_norm_backward(grad_out, input, weight, running_mean?, running_var?,
// save_mean?, save_invstd?, update, eps, output_mask, reserve): the backward
// of _batch_norm_with_update, native_batch_norm_backward with the reserve
// (cuDNN's workspace) dropped.
std::vector<Value> batch_norm_backward_rule(Builder& b, const OpCall& call) {
  OpCall inner = call;
  inner.args.pop_back();
  return native_batch_norm_backward_rule(b, inner);
}

}  // namespace

void add_normalization_rules(RuleTable& table) {
  RuleInfo forward{&native_batch_norm_rule, {}};
  forward.unlisted_mutated_args = {3, 4};
  table.add("native_batch_norm", forward);
  table.add("_native_batch_norm_legit", RuleInfo{&native_batch_norm_legit_rule, {}});
  table.add("_native_batch_norm_legit_no_training",
            RuleInfo{&native_batch_norm_legit_no_training_rule, {}});
  table.add("_batch_norm_with_update", RuleInfo{&batch_norm_with_update_rule, {}});
  table.add("batch_norm_backward", RuleInfo{&batch_norm_backward_rule, {}});
  table.add("native_batch_norm_backward", RuleInfo{&native_batch_norm_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
