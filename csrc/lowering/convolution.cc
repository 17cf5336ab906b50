// convolution and convolution_backward (1-d, 2-d and 3-d; strided, padded,
// dilated, grouped, transposed). Both are CompositeExplicitAutograd in
// PyTorch, so autograd calls convolution_backward with the gradients it needs.
//
// Every product is one stablehlo.convolution in PyTorch's N C spatial...
// layout. A transposed convolution is the regular one over the input dilated
// by the stride, with the kernel flipped and its feature dims swapped; the
// weight gradient is a convolution of the input with the output gradient
// whose batch and feature roles are exchanged (batch_group_count for groups).
// Half types multiply into f32 and round once; f32/f64 ask for the highest
// precision so a TPU matches CPU instead of taking one bf16 pass.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/promotion.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ConvDimensions;
using stablehlo::Precision;

using Pads = std::vector<std::pair<int64_t, int64_t>>;

std::string list_text(const std::vector<int64_t>& v) {
  std::string text = "[";
  for (size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
  return text + "]";
}

// The window arguments of one call, each with one entry per spatial dim.
struct ConvParams {
  std::vector<int64_t> stride, padding, dilation, output_padding;
  bool transposed = false;
  int64_t groups = 1;
};

// PyTorch accepts one value for every spatial dim as well as one per dim.
std::vector<int64_t> per_spatial_dim(const std::vector<int64_t>& v, size_t spatial,
                                     const char* what) {
  if (v.size() == spatial) return v;
  if (v.size() == 1) return std::vector<int64_t>(spatial, v[0]);
  throw InvalidArgument("convolution: expected " + std::string(what) + " to be a single integer " +
                        "value or a list of " + std::to_string(spatial) + " values to match " +
                        "the convolution dimensions, but got " + what + "=" + list_text(v));
}

ConvParams read_params(const OpCall& call, size_t first, size_t spatial) {
  ConvParams p;
  p.stride = per_spatial_dim(call.ints(first), spatial, "stride");
  p.padding = per_spatial_dim(call.ints(first + 1), spatial, "padding");
  p.dilation = per_spatial_dim(call.ints(first + 2), spatial, "dilation");
  p.transposed = call.bool_at(first + 3);
  p.output_padding = per_spatial_dim(call.ints(first + 4), spatial, "output_padding");
  p.groups = call.int_at(first + 5);
  for (size_t i = 0; i < spatial; ++i) {
    if (p.stride[i] <= 0)
      throw InvalidArgument("convolution: non-positive stride is not supported");
    if (p.padding[i] < 0) throw InvalidArgument("convolution: negative padding is not supported");
    if (p.dilation[i] <= 0) {
      throw InvalidArgument("convolution: dilation should be greater than zero");
    }
    if (p.output_padding[i] < 0) {
      throw InvalidArgument("convolution: negative output_padding is not supported");
    }
    if (p.transposed && p.output_padding[i] >= std::max(p.stride[i], p.dilation[i])) {
      throw InvalidArgument(
          "convolution: output padding must be smaller than either stride or dilation, got "
          "output_padding=" +
          list_text(p.output_padding));
    }
  }
  if (p.groups <= 0) throw InvalidArgument("convolution: non-positive groups is not supported");
  return p;
}

ConvDimensions layout(size_t spatial) {
  ConvDimensions d;
  for (size_t i = 0; i < spatial; ++i) {
    d.input_spatial_dimensions.push_back(static_cast<int64_t>(i) + 2);
    d.kernel_spatial_dimensions.push_back(static_cast<int64_t>(i) + 2);
    d.output_spatial_dimensions.push_back(static_cast<int64_t>(i) + 2);
  }
  return d;
}

void check_dtype(ElementType type) {
  if (type == ElementType::kPred || stablehlo::is_complex(type))
    throw_no_kernel("slow_conv2d_cpu", type);
}

// stablehlo.convolution in the accumulation type. Negative padding (a
// transposed convolution whose padding exceeds the kernel's reach, a weight
// gradient that skips the input's tail) crops the input first, since
// stablehlo's padding attribute must be a valid window.
Value convolve(Builder& b, Value lhs, Value rhs, const ConvDimensions& dims,
               const std::vector<int64_t>& strides, Pads pads,
               const std::vector<int64_t>& lhs_dilation, const std::vector<int64_t>& rhs_dilation,
               int64_t feature_groups, int64_t batch_groups) {
  const ElementType type = b.element_type(lhs);
  const ElementType acc = opmath_type(type);
  const Precision precision =
      acc == type && stablehlo::is_floating(type) ? Precision::kHighest : Precision::kDefault;
  std::vector<int64_t> lhs_dil =
      lhs_dilation.empty() ? std::vector<int64_t>(pads.size(), 1) : lhs_dilation;
  bool negative = false;
  for (const auto& [lo, hi] : pads) negative = negative || lo < 0 || hi < 0;
  if (negative) {
    const size_t spatial = pads.size();
    std::vector<int64_t> low(spatial + 2, 0), high(spatial + 2, 0), interior(spatial + 2, 0);
    for (size_t i = 0; i < spatial; ++i) {
      low[dims.input_spatial_dimensions[i]] = pads[i].first;
      high[dims.input_spatial_dimensions[i]] = pads[i].second;
      interior[dims.input_spatial_dimensions[i]] = lhs_dil[i] - 1;
      pads[i] = {0, 0};
      lhs_dil[i] = 1;
    }
    lhs = b.pad(lhs, b.constant(0, type), low, high, interior);
  }
  return b.convolution(lhs, rhs, dims, strides, pads, lhs_dil, rhs_dilation, feature_groups,
                       batch_groups, acc, precision);
}

// The regular (not transposed) convolution of input [N, C, S...] with weight
// [O, C / groups, K...].
Value forward_conv(Builder& b, Value input, Value weight, const ConvParams& p) {
  const size_t spatial = p.stride.size();
  Pads pads;
  for (size_t i = 0; i < spatial; ++i) pads.emplace_back(p.padding[i], p.padding[i]);
  return convolve(b, input, weight, layout(spatial), p.stride, pads, {}, p.dilation, p.groups, 1);
}

// The transposed convolution of input [N, C, S...] with weight
// [C, O / groups, K...]; output size (S - 1) * stride - 2 * padding +
// dilation * (K - 1) + output_padding + 1.
Value transposed_conv(Builder& b, Value input, Value weight, const ConvParams& p) {
  const size_t spatial = p.stride.size();
  const std::vector<int64_t> w = b.dims(weight);
  const int64_t g = p.groups;
  const int64_t in_per_group = w[0] / g, out_per_group = w[1];
  // [C, O/g, K] -> [g, C/g, O/g, K] -> [g, O/g, C/g, K] -> [O, C/g, K], flipped.
  std::vector<int64_t> grouped{g, in_per_group, out_per_group};
  std::vector<int64_t> permutation{0, 2, 1};
  std::vector<int64_t> flipped_dims;
  for (size_t i = 0; i < spatial; ++i) {
    grouped.push_back(w[i + 2]);
    permutation.push_back(static_cast<int64_t>(i) + 3);
    flipped_dims.push_back(static_cast<int64_t>(i) + 2);
  }
  std::vector<int64_t> kernel_dims{g * out_per_group, in_per_group};
  kernel_dims.insert(kernel_dims.end(), w.begin() + 2, w.end());
  Value kernel = b.reshape(b.transpose(b.reshape(weight, grouped), permutation), kernel_dims);
  kernel = b.reverse(kernel, flipped_dims);
  Pads pads;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t reach = p.dilation[i] * (w[i + 2] - 1);
    pads.emplace_back(reach - p.padding[i], reach - p.padding[i] + p.output_padding[i]);
  }
  return convolve(b, input, kernel, layout(spatial), std::vector<int64_t>(spatial, 1), pads,
                  p.stride, p.dilation, g, 1);
}

// CPU's f16 transposed 2-d convolution (slow_conv_transpose2d): a matrix
// product per input pixel and kernel tap, rounded to f16, then scattered onto
// the output tap by tap (kernel row-major), every addition rounded to f16.
// The result is f32 holding those f16 values (the bias is added once more).
Value transposed_conv2d_in_half(Builder& b, Value input, Value weight, const ConvParams& p) {
  const std::vector<int64_t> x = b.dims(input), w = b.dims(weight);
  const int64_t g = p.groups, n = x[0], in_per_group = w[0] / g, out_per_group = w[1];
  const int64_t kh = w[2], kw = w[3], h = x[2], wd = x[3];
  const ElementType f32 = ElementType::kF32;
  auto round = [&](Value v) { return b.convert(b.convert(v, ElementType::kF16), f32); };
  Value lhs = b.convert(b.reshape(input, {n, g, in_per_group, h, wd}), f32);
  Value rhs = b.convert(b.reshape(weight, {g, in_per_group, out_per_group, kh, kw}), f32);
  stablehlo::DotDimensions dn;
  dn.lhs_batch = {1};
  dn.rhs_batch = {0};
  dn.lhs_contracting = {2};
  dn.rhs_contracting = {1};
  // [g, N, H, W, O/g, KH, KW]
  Value columns = round(b.dot_general(lhs, rhs, dn, f32, Precision::kHighest));
  const int64_t out_h =
      (h - 1) * p.stride[0] - 2 * p.padding[0] + p.dilation[0] * (kh - 1) + p.output_padding[0] + 1;
  const int64_t out_w = (wd - 1) * p.stride[1] - 2 * p.padding[1] + p.dilation[1] * (kw - 1) +
                        p.output_padding[1] + 1;
  Value out = b.zeros(TensorType{f32, {g, n, out_h, out_w, out_per_group}});
  for (int64_t i = 0; i < kh; ++i) {
    for (int64_t j = 0; j < kw; ++j) {
      Value tap = b.reshape(
          b.slice(columns, {0, 0, 0, 0, 0, i, j}, {g, n, h, wd, out_per_group, i + 1, j + 1}),
          {g, n, h, wd, out_per_group});
      // Input pixel (r, c) lands on (r * stride - padding + i * dilation, ...).
      const int64_t top = i * p.dilation[0] - p.padding[0];
      const int64_t left = j * p.dilation[1] - p.padding[1];
      const int64_t bottom = out_h - top - ((h - 1) * p.stride[0] + 1);
      const int64_t right = out_w - left - ((wd - 1) * p.stride[1] + 1);
      // Padded on both sides as far as needed, then cropped to the output.
      Value spread = b.pad(tap, b.constant(0, f32),
                           {0, 0, std::max<int64_t>(top, 0), std::max<int64_t>(left, 0), 0},
                           {0, 0, std::max<int64_t>(bottom, 0), std::max<int64_t>(right, 0), 0},
                           {0, 0, p.stride[0] - 1, p.stride[1] - 1, 0});
      const int64_t row = std::max<int64_t>(-top, 0), col = std::max<int64_t>(-left, 0);
      Value placed =
          b.slice(spread, {0, 0, row, col, 0}, {g, n, row + out_h, col + out_w, out_per_group});
      out = round(b.add(out, placed));
    }
  }
  // [g, N, OH, OW, O/g] -> [N, g, O/g, OH, OW] -> [N, O, OH, OW]
  return b.reshape(b.transpose(out, {1, 0, 4, 2, 3}), {n, g * out_per_group, out_h, out_w});
}

// d(loss)/d(weight) of the regular convolution y = conv(x, w): a weight of
// [O, C/g, K...] from x [N, C, S...] and dy [N, O, T...]. The input plays the
// lhs with C as its batch, dy the kernel with N as its input feature.
Value weight_gradient(Builder& b, Value x, Value dy, const std::vector<int64_t>& kernel_sizes,
                      const ConvParams& p) {
  const size_t spatial = p.stride.size();
  ConvDimensions d = layout(spatial);
  d.input_batch_dimension = 1;
  d.input_feature_dimension = 0;
  d.kernel_input_feature_dimension = 0;
  d.kernel_output_feature_dimension = 1;
  d.output_batch_dimension = 1;
  d.output_feature_dimension = 0;
  const std::vector<int64_t>& xs = b.dims(x);
  const std::vector<int64_t>& ys = b.dims(dy);
  Pads pads;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t used = (kernel_sizes[i] - 1) * p.dilation[i] + (ys[i + 2] - 1) * p.stride[i] + 1;
    pads.emplace_back(p.padding[i], used - xs[i + 2] - p.padding[i]);
  }
  return convolve(b, x, dy, d, p.dilation, pads, {}, p.stride, 1, p.groups);
}

std::vector<int64_t> sum_dims_but_channel(int64_t rank) {
  std::vector<int64_t> dims{0};
  for (int64_t i = 2; i < rank; ++i) dims.push_back(i);
  return dims;
}

Value sum_over(Builder& b, Value x, const std::vector<int64_t>& dims) {
  return b.reduce(x, b.constant(0, b.element_type(x)), dims,
                  [](Builder& r, const std::vector<Value>& args) {
                    return std::vector<Value>{r.add(args[0], args[1])};
                  });
}

void check_shapes(Builder& b, Value input, Value weight, const ConvParams& p) {
  const std::vector<int64_t>& in = b.dims(input);
  const std::vector<int64_t>& w = b.dims(weight);
  const int64_t channels = in[1];
  if (p.transposed) {
    if (w[0] != channels) {
      throw InvalidArgument("Given transposed=1, weight of size " + list_text(w) +
                            ", expected input" + list_text(in) + " to have " +
                            std::to_string(w[0]) + " channels, but got " +
                            std::to_string(channels) + " channels instead");
    }
    if (w[0] % p.groups != 0) {
      throw InvalidArgument("Given groups=" + std::to_string(p.groups) + ", expected weight to " +
                            "be divisible by " + std::to_string(p.groups) +
                            " at dimension 0, but got weight of size " + list_text(w) + " instead");
    }
    return;
  }
  if (w[0] % p.groups != 0) {
    throw InvalidArgument("Given groups=" + std::to_string(p.groups) +
                          ", expected weight to be divisible by " + std::to_string(p.groups) +
                          " at dimension 0, but got weight of size " + list_text(w) + " instead");
  }
  if (w[1] * p.groups != channels) {
    throw InvalidArgument("Given groups=" + std::to_string(p.groups) + ", weight of size " +
                          list_text(w) + ", expected input" + list_text(in) + " to have " +
                          std::to_string(w[1] * p.groups) + " channels, but got " +
                          std::to_string(channels) + " channels instead");
  }
  for (size_t i = 2; i < in.size(); ++i) {
    const int64_t padded = in[i] + 2 * p.padding[i - 2];
    const int64_t reach = p.dilation[i - 2] * (w[i] - 1) + 1;
    if (padded < reach) {
      throw InvalidArgument("Calculated padded input size per channel: " + std::to_string(padded) +
                            ". Kernel size: " + std::to_string(reach) +
                            ". Kernel size can't be greater than actual input size");
    }
  }
}

// Validates input and weight (and returns their spatial rank).
size_t check_operands(Builder& b, Value input, Value weight) {
  const int64_t rank = b.rank(input);
  if (rank < 3 || rank > 5) {
    throw InvalidArgument("convolution: expected a 3-D, 4-D or 5-D (batched) input, got " +
                          b.type(input).to_string());
  }
  if (b.rank(weight) != rank) {
    throw InvalidArgument("Expected " + std::to_string(rank) + "-dimensional input for " +
                          std::to_string(rank) + "-dimensional weight " +
                          list_text(b.dims(weight)) + ", but got " +
                          std::to_string(b.rank(weight)) + "-dimensional input of size " +
                          list_text(b.dims(input)) + " instead");
  }
  const ElementType type = b.element_type(input);
  if (b.element_type(weight) != type) {
    throw InvalidArgument(
        "Input type (" + std::string(scalar_type_name(type)) + ") and weight type (" +
        std::string(scalar_type_name(b.element_type(weight))) + ") should be the same");
  }
  check_dtype(type);
  return static_cast<size_t>(rank - 2);
}

// convolution(input, weight, bias?, stride, padding, dilation, transposed,
// output_padding, groups)
std::vector<Value> convolution_rule(Builder& b, const OpCall& call) {
  const Value input = call.tensor(0).value;
  const Value weight = call.tensor(1).value;
  const size_t spatial = check_operands(b, input, weight);
  const ConvParams p = read_params(call, 3, spatial);
  check_shapes(b, input, weight, p);
  const ElementType type = b.element_type(input);
  // CPU's transposed kernels take the floating types and int64 only.
  if (p.transposed && !stablehlo::is_floating(type) && type != ElementType::kS64) {
    throw_no_kernel(
        spatial == 3 ? "slow_conv_transpose3d_out_cpu" : "slow_conv_transpose2d_out_cpu", type);
  }
  Value out;
  if (p.transposed && spatial == 2 && b.rank(input) == 4 && type == ElementType::kF16 &&
      b.element_type(weight) == type) {
    out = transposed_conv2d_in_half(b, input, weight, p);
  } else {
    out = p.transposed ? transposed_conv(b, input, weight, p) : forward_conv(b, input, weight, p);
  }
  if (std::optional<TensorArg> bias = call.optional_tensor(2)) {
    const int64_t channels = b.dims(out)[1];
    if (b.dims(bias->value) != std::vector<int64_t>{channels}) {
      throw InvalidArgument("Given weight of size " + list_text(b.dims(weight)) +
                            ", expected bias to be 1-dimensional with " + std::to_string(channels) +
                            " elements, but got bias of size " + list_text(b.dims(bias->value)) +
                            " instead");
    }
    if (b.element_type(bias->value) != type) {
      throw InvalidArgument(
          "Input type (" + std::string(scalar_type_name(type)) + ") and bias type (" +
          std::string(scalar_type_name(b.element_type(bias->value))) + ") should be the same");
    }
    Value bias_acc = b.convert(bias->value, b.element_type(out));
    out = b.add(out, b.broadcast_in_dim(bias_acc, b.dims(out), {1}));
  }
  return {b.convert(out, type)};
}

// convolution_backward(grad_output, input, weight, bias_sizes?, stride,
// padding, dilation, transposed, output_padding, groups, output_mask)
//   -> (grad_input, grad_weight, grad_bias); the dispatcher returns an
// unrequested one undefined, as CPU does.
std::vector<Value> convolution_backward_rule(Builder& b, const OpCall& call) {
  const Value grad_out = call.tensor(0).value;
  const Value input = call.tensor(1).value;
  const Value weight = call.tensor(2).value;
  const size_t spatial = check_operands(b, input, weight);
  const ConvParams p = read_params(call, 4, spatial);
  const std::vector<int64_t> mask = call.ints(10);
  const ElementType type = b.element_type(input);
  const std::vector<int64_t>& w = b.dims(weight);
  const std::vector<int64_t> kernel_sizes(w.begin() + 2, w.end());
  const int64_t out_channels = b.dims(grad_out)[1];

  Value grad_input, grad_weight, grad_bias;
  if (mask.size() > 0 && mask[0]) {
    if (p.transposed) {
      grad_input = forward_conv(b, grad_out, weight, p);
    } else {
      // The transposed convolution, with the output padding that restores the
      // input's size (rows a strided window never reached get zeros).
      ConvParams q = p;
      for (size_t i = 0; i < spatial; ++i) {
        const int64_t produced = (b.dims(grad_out)[i + 2] - 1) * p.stride[i] - 2 * p.padding[i] +
                                 p.dilation[i] * (kernel_sizes[i] - 1) + 1;
        q.output_padding[i] = b.dims(input)[i + 2] - produced;
      }
      grad_input = transposed_conv(b, grad_out, weight, q);
    }
    grad_input = b.convert(grad_input, type);
  } else {
    grad_input = b.zeros(b.type(input));
  }
  if (mask.size() > 1 && mask[1]) {
    grad_weight = p.transposed ? weight_gradient(b, grad_out, input, kernel_sizes, p)
                               : weight_gradient(b, input, grad_out, kernel_sizes, p);
    grad_weight = b.convert(grad_weight, type);
  } else {
    grad_weight = b.zeros(b.type(weight));
  }
  if (mask.size() > 2 && mask[2]) {
    Value acc = b.convert(grad_out, opmath_type(type));
    grad_bias = b.convert(sum_over(b, acc, sum_dims_but_channel(b.rank(grad_out))), type);
  } else {
    grad_bias = b.zeros(TensorType{type, {out_channels}});
  }
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace

void add_convolution_rules(RuleTable& table) {
  table.add("convolution", RuleInfo{&convolution_rule, {}});
  table.add("convolution_backward", RuleInfo{&convolution_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
