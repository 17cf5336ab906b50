// Sliding windows copied out of a tensor and their adjoints: im2col
// (nn.functional.unfold) and col2im (nn.functional.fold), which are each
// other's gradients, and unfold_backward (the gradient of Tensor.unfold).
// Every window position is known when lowering, so the copies are gathers
// and scatter-adds with constant index tables.
#include <cstdint>
#include <string>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

std::string pair_text(const std::vector<int64_t>& v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
}

struct Windows {
  std::vector<int64_t> kernel, dilation, padding, stride;
  // Per spatial dim, the padded input row of window element i at block o,
  // laid out as i * blocks + o.
  std::vector<std::vector<int64_t>> taps;
  std::vector<int64_t> blocks;  // sliding blocks per spatial dim
};

const std::vector<int64_t>& two(const OpCall& call, size_t i, const char* what) {
  const std::vector<int64_t>& v = call.ints(i);
  if (v.size() != 2) {
    throw InvalidArgument(std::string("It is expected ") + what + " equals to 2, but got size " +
                          std::to_string(v.size()));
  }
  return v;
}

// Arguments (kernel_size, dilation, padding, stride) at `first`, checked as
// CPU checks them, and the windows over `spatial` (the unpadded sizes).
Windows windows(const OpCall& call, size_t first, const std::vector<int64_t>& spatial) {
  Windows w;
  w.kernel = two(call, first, "kernel_size");
  w.dilation = two(call, first + 1, "dilation");
  w.padding = two(call, first + 2, "padding");
  w.stride = two(call, first + 3, "stride");
  if (w.kernel[0] <= 0 || w.kernel[1] <= 0) {
    throw InvalidArgument("kernel size should be greater than zero, but got kernel_height: " +
                          std::to_string(w.kernel[0]) +
                          " kernel_width: " + std::to_string(w.kernel[1]));
  }
  if (w.stride[0] <= 0 || w.stride[1] <= 0) {
    throw InvalidArgument("stride should be greater than zero, but got dH: " +
                          std::to_string(w.stride[0]) + " dW: " + std::to_string(w.stride[1]));
  }
  if (w.dilation[0] <= 0 || w.dilation[1] <= 0) {
    throw InvalidArgument("dilation should be greater than zero, but got dilation_height: " +
                          std::to_string(w.dilation[0]) +
                          " dilation_width: " + std::to_string(w.dilation[1]));
  }
  if (w.padding[0] < 0 || w.padding[1] < 0) {
    throw InvalidArgument(
        "padding should be non-negative, but got pad_height: " + std::to_string(w.padding[0]) +
        " pad_width: " + std::to_string(w.padding[1]));
  }
  for (int d = 0; d < 2; ++d) {
    const int64_t span = w.dilation[d] * (w.kernel[d] - 1) + 1;
    w.blocks.push_back((spatial[d] + 2 * w.padding[d] - span) / w.stride[d] + 1);
  }
  if (w.blocks[0] < 1 || w.blocks[1] < 1) {
    throw InvalidArgument("Given input with spatial size " + pair_text(spatial) + ", kernel_size=" +
                          pair_text(w.kernel) + ", dilation=" + pair_text(w.dilation) +
                          ", padding=" + pair_text(w.padding) +
                          ", calculated shape of the array of sliding blocks as " +
                          pair_text(w.blocks) + ", but its components must be at least one.");
  }
  for (int d = 0; d < 2; ++d) {
    std::vector<int64_t> taps;
    for (int64_t i = 0; i < w.kernel[d]; ++i) {
      for (int64_t o = 0; o < w.blocks[d]; ++o) taps.push_back(i * w.dilation[d] + o * w.stride[d]);
    }
    w.taps.push_back(taps);
  }
  return w;
}

// im2col(self [N?, C, H, W], kernel_size, dilation, padding, stride)
//   -> [N?, C * kh * kw, blocks_h * blocks_w]
std::vector<Value> im2col_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const std::vector<int64_t> dims = b.dims(x);
  const bool batched = dims.size() == 4;
  bool valid = dims.size() == 3 || batched;
  for (size_t d = batched ? 1 : 0; valid && d < dims.size(); ++d) valid = dims[d] != 0;
  if (!valid) {
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    throw InvalidArgument(
        "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
        "dimensions for input, but got: " +
        text + "]");
  }
  if (!batched) x = b.reshape(x, {1, dims[0], dims[1], dims[2]});
  const std::vector<int64_t> in = b.dims(x);
  const Windows w = windows(call, 1, {in[2], in[3]});
  if (stablehlo::is_integral(b.element_type(x)))
    throw_no_kernel("im2col_out_cpu", b.element_type(x));
  Value zero = b.constant(0, b.element_type(x));
  Value padded = b.pad(x, zero, {0, 0, w.padding[0], w.padding[1]},
                       {0, 0, w.padding[0], w.padding[1]}, {0, 0, 0, 0});
  // [N, C, kh * bh, kw * bw] -> [N, C, kh, bh, kw, bw] -> [N, C, kh, kw, bh, bw]
  Value taken = take_along(b, take_along(b, padded, 2, w.taps[0]), 3, w.taps[1]);
  taken = b.reshape(taken, {in[0], in[1], w.kernel[0], w.blocks[0], w.kernel[1], w.blocks[1]});
  taken = b.transpose(taken, {0, 1, 2, 4, 3, 5});
  std::vector<int64_t> result{in[0], in[1] * w.kernel[0] * w.kernel[1], w.blocks[0] * w.blocks[1]};
  if (!batched) result.erase(result.begin());
  return {b.reshape(taken, result)};
}

// col2im(self [N?, C * kh * kw, L], output_size, kernel_size, dilation,
// padding, stride) -> [N?, C, H, W]: each column entry added back to the
// position it was copied from.
std::vector<Value> col2im_rule(Builder& b, const OpCall& call) {
  Value cols = call.tensor(0).value;
  const std::vector<int64_t> dims = b.dims(cols);
  const std::vector<int64_t>& output = two(call, 1, "output_size");
  const bool batched = dims.size() == 3;
  bool valid = dims.size() == 2 || batched;
  for (size_t d = batched ? 1 : 0; valid && d < dims.size(); ++d) valid = dims[d] != 0;
  if (!valid) {
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    throw InvalidArgument(
        "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero dimensions "
        "for input, but got: " +
        text + "]");
  }
  if (!batched) cols = b.reshape(cols, {1, dims[0], dims[1]});
  const std::vector<int64_t> in = b.dims(cols);
  const Windows w = windows(call, 2, output);
  const int64_t per_channel = w.kernel[0] * w.kernel[1];
  if (in[1] % per_channel != 0) {
    throw InvalidArgument(
        "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
        "got input.size(1)=" +
        std::to_string(in[1]) + " and kernel_size=" + pair_text(w.kernel));
  }
  if (in[2] != w.blocks[0] * w.blocks[1]) {
    throw InvalidArgument(
        "Given output_size=" + pair_text(output) + ", kernel_size=" + pair_text(w.kernel) +
        ", dilation=" + pair_text(w.dilation) + ", padding=" + pair_text(w.padding) +
        ", stride=" + pair_text(w.stride) +
        ", expected size of input's dimension 2 to match the calculated number of sliding blocks " +
        std::to_string(w.blocks[0]) + " * " + std::to_string(w.blocks[1]) + " = " +
        std::to_string(w.blocks[0] * w.blocks[1]) +
        ", but got input.size(2)=" + std::to_string(in[2]) + ".");
  }
  const int64_t channels = in[1] / per_channel;
  const ElementType type = b.element_type(cols);
  if (stablehlo::is_integral(type)) throw_no_kernel("col2im_out_cpu", type);
  const bool is_bool = type == ElementType::kPred;
  Value x = is_bool ? b.convert(cols, ElementType::kS32) : cols;
  x = b.reshape(x, {in[0], channels, w.kernel[0], w.kernel[1], w.blocks[0], w.blocks[1]});
  x = b.transpose(x, {0, 1, 2, 4, 3, 5});
  x = b.reshape(x, {in[0], channels, w.kernel[0] * w.blocks[0], w.kernel[1] * w.blocks[1]});
  const int64_t padded_h = output[0] + 2 * w.padding[0];
  const int64_t padded_w = output[1] + 2 * w.padding[1];
  Value placed =
      scatter_add_along(b, scatter_add_along(b, x, 3, w.taps[1], padded_w), 2, w.taps[0], padded_h);
  Value result =
      b.slice(placed, {0, 0, w.padding[0], w.padding[1]},
              {in[0], channels, w.padding[0] + output[0], w.padding[1] + output[1]}, {1, 1, 1, 1});
  if (is_bool) {
    result = b.compare(stablehlo::ComparisonDirection::kNE, result, b.zeros(b.type(result)));
  }
  if (!batched) result = b.reshape(result, {channels, output[0], output[1]});
  return {result};
}

// unfold_backward(grad_in, input_sizes, dim, size, step): grad_in has the
// input's shape with dim replaced by the window count and a trailing window
// dim of `size`; element (j, k) adds into input row j * step + k.
std::vector<Value> unfold_backward_rule(Builder& b, const OpCall& call) {
  Value grad = call.tensor(0).value;
  const std::vector<int64_t>& input_sizes = call.ints(1);
  const auto rank = static_cast<int64_t>(input_sizes.size());
  const int64_t dim = wrap_dim(call.int_at(2), rank);
  const int64_t size = call.int_at(3);
  const int64_t step = call.int_at(4);
  const ElementType type = b.element_type(grad);
  if (rank == 0) return {b.reshape(grad, {})};
  const int64_t count = b.dims(grad)[dim];
  // Move the window dim next to dim and merge them: [..., count * size, ...].
  std::vector<int64_t> order;
  for (int64_t d = 0; d <= rank; ++d) {
    if (d == rank) continue;
    order.push_back(d);
    if (d == dim) order.push_back(rank);
  }
  Value merged = b.transpose(grad, order);
  std::vector<int64_t> merged_dims = input_sizes;
  merged_dims[dim] = count * size;
  merged = b.reshape(merged, merged_dims);
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < count; ++j) {
    for (int64_t k = 0; k < size; ++k) rows.push_back(j * step + k);
  }
  if (rows.empty() || b.type(merged).numel() == 0) return {b.zeros(TensorType{type, input_sizes})};
  const bool is_bool = type == ElementType::kPred;
  Value summed = scatter_add_along(b, is_bool ? b.convert(merged, ElementType::kS32) : merged, dim,
                                   rows, input_sizes[dim]);
  if (is_bool) {
    summed = b.compare(stablehlo::ComparisonDirection::kNE, summed, b.zeros(b.type(summed)));
  }
  return {summed};
}

}  // namespace

void add_sliding_window_rules(RuleTable& table) {
  table.add("im2col", {&im2col_rule, {}});
  table.add("col2im", {&col2im_rule, {}});
  table.add("unfold_backward", {&unfold_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
