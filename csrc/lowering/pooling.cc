// Max, average and adaptive pooling over 2 or 3 trailing spatial dims, with
// their backward: max_pool{2,3}d_with_indices, avg_pool{2,3}d,
// _adaptive_avg_pool{2,3}d, adaptive_max_pool{2,3}d. The 1-d forms and
// max_pool2d/adaptive_avg_pool2d are PyTorch composites over these.
//
// Max pooling reduces (value, flat spatial index) pairs in one reduce_window,
// picking as PyTorch's CPU loop does: the first maximum, or the last NaN. Its
// backward scatter-adds the gradient at the saved indices, so ties and
// overlapping windows match CPU exactly. Average pooling is a windowed sum
// divided by a per-position count known when lowering. Adaptive windows vary
// in size, so they are taken one tap at a time with gathers of constant
// indices (per spatial dim, since the windows are separable).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/dtype_names.h"
#include "lowering/max_pick.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

std::string list_text(const std::vector<int64_t>& v) {
  std::string text = "[";
  for (size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
  return text + "]";
}

// Which dims CPU's kernels require to be non-empty: plain pooling every dim
// but the batch (channels too, also of an unbatched input), adaptive max
// pooling every dim but the first, adaptive average pooling the spatial ones.
enum class PositiveDims { kAllButBatch, kAllButFirst, kSpatial };

// The input's spatial dims are its last `spatial`; before them come batch
// and channel (or channel alone, unbatched).
void check_input(Builder& b, Value input, size_t spatial, const std::string& op,
                 PositiveDims positive = PositiveDims::kAllButBatch) {
  const auto rank = static_cast<size_t>(b.rank(input));
  if (rank != spatial + 1 && rank != spatial + 2) {
    throw InvalidArgument(op + ": Expected " + std::to_string(spatial + 1) + "D or " +
                          std::to_string(spatial + 2) + "D input tensor, but got " +
                          b.type(input).to_string());
  }
  size_t first = rank - spatial;
  if (positive == PositiveDims::kAllButFirst) first = 1;
  if (positive == PositiveDims::kAllButBatch) first = rank == spatial + 2 ? 1 : 0;
  const std::vector<int64_t>& dims = b.dims(input);
  for (size_t d = first; d < rank; ++d) {
    if (dims[d] == 0) {
      throw InvalidArgument(op +
                            ": Expected input's non-batch dimensions to have positive length,"
                            " but input has a shape of " +
                            list_text(dims));
    }
  }
}

std::vector<int64_t> per_dim(const std::vector<int64_t>& v, size_t spatial, const char* what,
                             const std::string& op) {
  if (v.size() == spatial) return v;
  if (v.size() == 1) return std::vector<int64_t>(spatial, v[0]);
  throw InvalidArgument(op + ": " + what + " must either be a single int, or a tuple of " +
                        std::to_string(spatial) + " ints");
}

// One pooling window's geometry per spatial dim, and the output it makes.
struct Window {
  std::vector<int64_t> kernel, stride, padding, dilation;
  bool ceil_mode = false;
  std::vector<int64_t> in, out;
  // High padding that makes reduce_window produce `out` (ceil mode reaches
  // past the symmetric padding).
  std::vector<int64_t> high;
};

int64_t pooled_size(int64_t in, int64_t k, int64_t p, int64_t s, int64_t d, bool ceil_mode) {
  const int64_t span = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (span >= 0 ? span / s : -((-span + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

// kernel_size, stride, padding[, dilation], ceil_mode at `first`.
Window read_window(Builder& b, const OpCall& call, size_t first, Value input, size_t spatial,
                   bool has_dilation, const std::string& op) {
  Window w;
  w.kernel = per_dim(call.ints(first), spatial, "kernel_size", op);
  const std::vector<int64_t>& stride = call.ints(first + 1);
  w.stride = stride.empty() ? w.kernel : per_dim(stride, spatial, "stride", op);
  w.padding = per_dim(call.ints(first + 2), spatial, "padding", op);
  w.dilation = has_dilation ? per_dim(call.ints(first + 3), spatial, "dilation", op)
                            : std::vector<int64_t>(spatial, 1);
  w.ceil_mode = call.bool_at(first + (has_dilation ? 4 : 3));
  const std::vector<int64_t>& dims = b.dims(input);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t k = w.kernel[i], s = w.stride[i], p = w.padding[i], d = w.dilation[i];
    if (k <= 0) {
      throw InvalidArgument(op + ": kernel size should be greater than zero, but got " +
                            list_text(w.kernel));
    }
    if (s <= 0) {
      throw InvalidArgument(op + ": stride should be greater than zero, but got " +
                            list_text(w.stride));
    }
    if (d <= 0) {
      throw InvalidArgument(op + ": dilation should be greater than zero, but got " +
                            list_text(w.dilation));
    }
    if (p < 0 || p > k / 2) {
      throw InvalidArgument(op +
                            ": pad should be at most half of effective kernel size, but got "
                            "pad=" +
                            std::to_string(p) + ", kernel_size=" + std::to_string(k));
    }
    const int64_t in = dims[dims.size() - spatial + i];
    const int64_t out = pooled_size(in, k, p, s, d, w.ceil_mode);
    if (out < 1) {
      throw InvalidArgument(op + ": Given input size " + list_text(dims) +
                            ", the calculated output size is too small (" + std::to_string(out) +
                            " in spatial dim " + std::to_string(i) + ")");
    }
    w.in.push_back(in);
    w.out.push_back(out);
    w.high.push_back(std::max(p, (out - 1) * s + d * (k - 1) + 1 - in - p));
  }
  return w;
}

// Window arguments of reduce_window over the whole rank (1 on leading dims).
struct FullWindow {
  std::vector<int64_t> window, strides, dilations;
  std::vector<std::pair<int64_t, int64_t>> padding;
};

FullWindow full_window(const Window& w, int64_t rank) {
  const auto lead = static_cast<size_t>(rank) - w.kernel.size();
  FullWindow f{std::vector<int64_t>(lead, 1), std::vector<int64_t>(lead, 1),
               std::vector<int64_t>(lead, 1), std::vector<std::pair<int64_t, int64_t>>(lead)};
  for (size_t i = 0; i < w.kernel.size(); ++i) {
    f.window.push_back(w.kernel[i]);
    f.strides.push_back(w.stride[i]);
    f.dilations.push_back(w.dilation[i]);
    f.padding.emplace_back(w.padding[i], w.high[i]);
  }
  return f;
}

// --- max pooling ------------------------------------------------------------------

// The lowest value of a type, which every element beats.
Value lowest(Builder& b, ElementType type) {
  if (stablehlo::is_floating(type)) {
    return b.constant(-std::numeric_limits<double>::infinity(), type);
  }
  switch (type) {
    case ElementType::kS8:
      return b.constant_int(std::numeric_limits<int8_t>::min(), type);
    case ElementType::kS16:
      return b.constant_int(std::numeric_limits<int16_t>::min(), type);
    case ElementType::kS32:
      return b.constant_int(std::numeric_limits<int32_t>::min(), type);
    case ElementType::kS64:
      return b.constant_int(std::numeric_limits<int64_t>::min(), type);
    default:
      return b.constant_int(0, type);  // unsigned and bool
  }
}

}  // namespace

std::pair<Value, Value> pick_max(Builder& b, Value av, Value ai, Value bv, Value bi) {
  auto cmp = [&](ComparisonDirection dir, Value x, Value y) { return b.compare(dir, x, y); };
  Value a_wins = b.binary(stablehlo::BinaryOp::kOr, cmp(ComparisonDirection::kGT, av, bv),
                          b.binary(stablehlo::BinaryOp::kAnd, cmp(ComparisonDirection::kEQ, av, bv),
                                   cmp(ComparisonDirection::kLT, ai, bi)));
  if (stablehlo::is_floating(b.element_type(av))) {
    Value a_nan = cmp(ComparisonDirection::kNE, av, av);
    Value b_nan = cmp(ComparisonDirection::kNE, bv, bv);
    Value later = cmp(ComparisonDirection::kGT, ai, bi);
    // a NaN: wins unless b is a later NaN. a a number: wins if b is no NaN.
    Value if_a_nan = b.binary(stablehlo::BinaryOp::kOr, b.unary(UnaryOp::kNot, b_nan), later);
    Value if_a_num = b.binary(stablehlo::BinaryOp::kAnd, b.unary(UnaryOp::kNot, b_nan), a_wins);
    a_wins = b.select(a_nan, if_a_nan, if_a_num);
  }
  return {b.select(a_wins, av, bv), b.select(a_wins, ai, bi)};
}

Value spatial_index(Builder& b, const std::vector<int64_t>& dims, size_t spatial) {
  const std::vector<int64_t> plane(dims.end() - static_cast<int64_t>(spatial), dims.end());
  int64_t count = 1;
  for (int64_t d : plane) count *= d;
  Value flat = b.reshape(b.iota(TensorType{ElementType::kS64, {count}}, 0), plane);
  std::vector<int64_t> mapping;
  for (size_t i = 0; i < spatial; ++i)
    mapping.push_back(static_cast<int64_t>(dims.size() - spatial + i));
  return b.broadcast_in_dim(flat, dims, mapping);
}

namespace {

void check_max_pool_dtype(ElementType type, const char* kernel) {
  if (type == ElementType::kPred || stablehlo::is_complex(type)) throw_no_kernel(kernel, type);
}

std::vector<Value> max_pool(Builder& b, const OpCall& call, size_t spatial, const char* op) {
  const Value input = call.tensor(0).value;
  check_input(b, input, spatial, op);
  check_max_pool_dtype(b.element_type(input), op);
  const Window w = read_window(b, call, 1, input, spatial, true, op);
  const FullWindow f = full_window(w, b.rank(input));
  const ElementType type = b.element_type(input);
  const std::vector<Value> picked = b.reduce_window(
      {input, spatial_index(b, b.dims(input), spatial)},
      {lowest(b, type), b.constant_int(std::numeric_limits<int64_t>::max(), ElementType::kS64)},
      f.window, f.strides, {}, f.dilations, f.padding,
      [](Builder& r, const std::vector<Value>& args) {
        auto [v, i] = pick_max(r, args[0], args[1], args[2], args[3]);
        return std::vector<Value>{v, i};
      });
  return {picked[0], picked[1]};
}

std::vector<Value> max_pool2d_with_indices_rule(Builder& b, const OpCall& call) {
  return max_pool(b, call, 2, "max_pool2d");
}
std::vector<Value> max_pool3d_with_indices_rule(Builder& b, const OpCall& call) {
  return max_pool(b, call, 3, "max_pool3d");
}

// grad_input: the gradient of each output added at its saved flat spatial
// index within its (batch, channel) plane.
Value scatter_at_indices(Builder& b, Value grad_out, Value indices, Value input, size_t spatial,
                         const std::string& op) {
  const std::vector<int64_t>& in_dims = b.dims(input);
  if (b.dims(grad_out) != b.dims(indices)) {
    throw InvalidArgument(op + ": expected grad_output " + b.type(grad_out).to_string() +
                          " and indices " + b.type(indices).to_string() + " of one shape");
  }
  const size_t lead = in_dims.size() - spatial;
  int64_t planes = 1, plane = 1, outputs = 1;
  for (size_t d = 0; d < in_dims.size(); ++d) (d < lead ? planes : plane) *= in_dims[d];
  for (size_t d = lead; d < in_dims.size(); ++d) outputs *= b.dims(grad_out)[d];
  const ElementType type = b.element_type(input);
  const ElementType acc = opmath_type(type);
  Value updates = b.reshape(b.convert(grad_out, acc), {planes, outputs});
  Value rows = b.iota(TensorType{ElementType::kS64, {planes, outputs, 1}}, 0);
  Value cols = b.reshape(b.convert(indices, ElementType::kS64), {planes, outputs, 1});
  stablehlo::ScatterDimensions dn;
  dn.inserted_window_dims = {0, 1};
  dn.scatter_dims_to_operand_dims = {0, 1};
  dn.index_vector_dim = 2;
  Value grad = b.scatter(b.zeros(TensorType{acc, {planes, plane}}), b.concatenate({rows, cols}, 2),
                         updates, dn, [](Builder& r, const std::vector<Value>& args) {
                           return std::vector<Value>{r.add(args[0], args[1])};
                         });
  return b.convert(b.reshape(grad, in_dims), type);
}

// max_pool{2,3}d_with_indices_backward(grad_output, self, kernel_size, stride,
// padding, dilation, ceil_mode, indices)
std::vector<Value> max_pool_backward(Builder& b, const OpCall& call, size_t spatial,
                                     const char* op) {
  const Value input = call.tensor(1).value;
  check_input(b, input, spatial, op);
  return {scatter_at_indices(b, call.tensor(0).value, call.tensor(7).value, input, spatial, op)};
}
std::vector<Value> max_pool2d_backward_rule(Builder& b, const OpCall& call) {
  return max_pool_backward(b, call, 2, "max_pool2d_with_indices_backward");
}
std::vector<Value> max_pool3d_backward_rule(Builder& b, const OpCall& call) {
  return max_pool_backward(b, call, 3, "max_pool3d_with_indices_backward");
}

// --- average pooling --------------------------------------------------------------

struct AvgOptions {
  bool count_include_pad = true;
  std::optional<int64_t> divisor_override;
};

AvgOptions read_avg_options(const OpCall& call, size_t first, const std::string& op) {
  AvgOptions o{call.bool_at(first), call.optional_int(first + 1)};
  if (o.divisor_override && *o.divisor_override == 0) {
    throw InvalidArgument(op + ": divisor must be not zero");
  }
  return o;
}

// Per output position along one spatial dim, how many elements its window
// counts (PyTorch's pool_size, clipped to the input unless count_include_pad);
// the divisor of a position is the product over dims.
std::vector<double> window_counts(const Window& w, size_t i, bool count_include_pad) {
  std::vector<double> counts;
  for (int64_t o = 0; o < w.out[i]; ++o) {
    int64_t start = o * w.stride[i] - w.padding[i];
    int64_t end = std::min(start + w.kernel[i], w.in[i] + w.padding[i]);
    const int64_t with_pad = end - start;
    start = std::max<int64_t>(start, 0);
    end = std::min(end, w.in[i]);
    counts.push_back(
        static_cast<double>(count_include_pad ? with_pad : std::max<int64_t>(end - start, 0)));
  }
  return counts;
}

// The divisor of every output position, in `type`, of shape `dims`. An empty
// window divides its zero sum by 1, as CPU writes 0 there.
Value divisors(Builder& b, const Window& w, const AvgOptions& o, const std::vector<int64_t>& dims,
               ElementType type) {
  const TensorType t{type, dims};
  if (o.divisor_override) return b.splat(static_cast<double>(*o.divisor_override), t);
  Value product = b.splat(1.0, t);
  Value nonempty = b.splat(1.0, t);
  const size_t lead = dims.size() - w.kernel.size();
  for (size_t i = 0; i < w.kernel.size(); ++i) {
    const auto dim = static_cast<int64_t>(lead + i);
    product = b.mul(product, along(b, window_counts(w, i, o.count_include_pad), type, dims, dim));
    std::vector<double> clipped = window_counts(w, i, false);
    for (double& c : clipped) c = c > 0 ? 1.0 : 0.0;
    nonempty = b.mul(nonempty, along(b, clipped, type, dims, dim));
  }
  Value is_empty = b.compare(ComparisonDirection::kEQ, nonempty, b.zeros(t));
  return b.select(is_empty, b.splat(1.0, t), product);
}

void check_avg_pool_dtype(ElementType type, const char* kernel) {
  if (type == ElementType::kPred || stablehlo::is_complex(type) ||
      (!stablehlo::is_floating(type) && type != ElementType::kS64)) {
    throw_no_kernel(kernel, type);
  }
}

Value window_sum(Builder& b, Value x, const FullWindow& f,
                 const std::vector<int64_t>& base_dilations = {}) {
  return b.reduce_window({x}, {b.constant(0, b.element_type(x))}, f.window, f.strides,
                         base_dilations, f.dilations, f.padding,
                         [](Builder& r, const std::vector<Value>& args) {
                           return std::vector<Value>{r.add(args[0], args[1])};
                         })[0];
}

// avg_pool{2,3}d(self, kernel_size, stride, padding, ceil_mode,
// count_include_pad, divisor_override?)
std::vector<Value> avg_pool(Builder& b, const OpCall& call, size_t spatial, const char* op) {
  const Value input = call.tensor(0).value;
  check_input(b, input, spatial, op);
  const ElementType type = b.element_type(input);
  check_avg_pool_dtype(type, op);
  const Window w = read_window(b, call, 1, input, spatial, false, op);
  const AvgOptions o = read_avg_options(call, 5, op);
  const ElementType acc = opmath_type(type);
  Value sum = window_sum(b, b.convert(input, acc), full_window(w, b.rank(input)));
  return {b.convert(b.div(sum, divisors(b, w, o, b.dims(sum), acc)), type)};
}
std::vector<Value> avg_pool2d_rule(Builder& b, const OpCall& call) {
  return avg_pool(b, call, 2, "avg_pool2d");
}
std::vector<Value> avg_pool3d_rule(Builder& b, const OpCall& call) {
  return avg_pool(b, call, 3, "avg_pool3d");
}

// avg_pool{2,3}d_backward(grad_output, self, kernel_size, stride, padding,
// ceil_mode, count_include_pad, divisor_override?): every input element gets
// the sum of grad / divisor over the windows that cover it, a stride-1
// window sum over the scaled gradient spread out by the stride.
std::vector<Value> avg_pool_backward(Builder& b, const OpCall& call, size_t spatial,
                                     const char* op) {
  const Value input = call.tensor(1).value;
  check_input(b, input, spatial, op);
  const ElementType type = b.element_type(input);
  check_avg_pool_dtype(type, op);
  const Window w = read_window(b, call, 2, input, spatial, false, op);
  const AvgOptions o = read_avg_options(call, 6, op);
  const ElementType acc = opmath_type(type);
  Value grad = b.convert(call.tensor(0).value, acc);
  const std::vector<int64_t> out_dims = b.dims(grad);
  grad = b.div(grad, divisors(b, w, o, out_dims, acc));
  const int64_t rank = b.rank(input);
  const size_t lead = static_cast<size_t>(rank) - spatial;
  FullWindow f{std::vector<int64_t>(rank, 1), std::vector<int64_t>(rank, 1),
               std::vector<int64_t>(rank, 1), std::vector<std::pair<int64_t, int64_t>>(rank)};
  std::vector<int64_t> low(rank, 0), high(rank, 0), interior(rank, 0);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t k = w.kernel[i], s = w.stride[i];
    const int64_t spread = (w.out[i] - 1) * s + 1;
    low[lead + i] = k - 1 - w.padding[i];
    high[lead + i] = w.in[i] + k - 1 - low[lead + i] - spread;
    interior[lead + i] = s - 1;
    f.window[lead + i] = k;
  }
  grad = b.pad(grad, b.constant(0, acc), low, high, interior);
  return {b.convert(window_sum(b, grad, f), type)};
}
std::vector<Value> avg_pool2d_backward_rule(Builder& b, const OpCall& call) {
  return avg_pool_backward(b, call, 2, "avg_pool2d_backward");
}
std::vector<Value> avg_pool3d_backward_rule(Builder& b, const OpCall& call) {
  return avg_pool_backward(b, call, 3, "avg_pool3d_backward");
}

// --- adaptive pooling -------------------------------------------------------------

// Output o of an adaptive window over `in` elements covers
// [floor(o * in / out), ceil((o + 1) * in / out)).
struct AdaptiveTaps {
  std::vector<int64_t> start, count;
  int64_t max_count = 0;
  // Index of tap j for every output (clamped to the window's last element).
  std::vector<int64_t> index(int64_t j) const {
    std::vector<int64_t> idx;
    for (size_t o = 0; o < start.size(); ++o) idx.push_back(start[o] + std::min(j, count[o] - 1));
    return idx;
  }
  std::vector<double> valid(int64_t j) const {
    std::vector<double> v;
    for (int64_t c : count) v.push_back(j < c ? 1.0 : 0.0);
    return v;
  }
};

AdaptiveTaps adaptive_taps(int64_t in, int64_t out) {
  AdaptiveTaps t;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = (o * in) / out;
    const int64_t end = ((o + 1) * in + out - 1) / out;
    t.start.push_back(start);
    t.count.push_back(end - start);
    t.max_count = std::max(t.max_count, end - start);
  }
  return t;
}

std::vector<int64_t> read_output_size(Builder& b, const OpCall& call, Value input, size_t spatial,
                                      const std::string& op, PositiveDims positive) {
  check_input(b, input, spatial, op, positive);
  const std::vector<int64_t>& size = call.ints(1);
  if (size.size() != spatial) {
    throw InvalidArgument(op + ": output_size must be " + std::to_string(spatial) + ", got " +
                          list_text(size));
  }
  for (int64_t s : size) {
    if (s < 0) throw InvalidArgument(op + ": elements of output_size must be non-negative");
  }
  return size;
}

Value is_valid(Builder& b, const AdaptiveTaps& taps, int64_t j, const std::vector<int64_t>& dims,
               int64_t dim) {
  Value v = along(b, taps.valid(j), ElementType::kF32, dims, dim);
  return b.compare(ComparisonDirection::kNE, v, b.zeros(b.type(v)));
}

// CPU's adaptive_avg_pool3d kernel sums a window in the input's own type
// (bf16/f16 round after every addition, depth then height then width) and
// divides by the window's depth, height and width in turn, rounding each time.
// Windows of more taps than this are averaged in f32 instead.
constexpr int64_t kMaxRoundedWindow = 512;

std::optional<Value> adaptive_avg_pool3d_rounded(Builder& b, Value input,
                                                 const std::vector<int64_t>& size) {
  const ElementType type = b.element_type(input);
  if (type != ElementType::kBF16 && type != ElementType::kF16) return std::nullopt;
  const int64_t lead = b.rank(input) - 3;
  std::vector<AdaptiveTaps> taps;
  int64_t window = 1;
  for (size_t i = 0; i < 3; ++i) {
    taps.push_back(adaptive_taps(b.dims(input)[lead + static_cast<int64_t>(i)], size[i]));
    window *= taps.back().max_count;
  }
  if (window > kMaxRoundedWindow || window == 0) return std::nullopt;
  const ElementType acc = ElementType::kF32;
  auto rounded = [&](Value v) { return b.convert(b.convert(v, type), acc); };
  Value x = b.convert(input, acc);
  std::vector<int64_t> dims = b.dims(input);
  for (size_t i = 0; i < 3; ++i) dims[lead + static_cast<int64_t>(i)] = size[i];
  const int64_t d_dim = lead, h_dim = lead + 1, w_dim = lead + 2;
  Value sum = b.zeros(TensorType{acc, dims});
  for (int64_t jd = 0; jd < taps[0].max_count; ++jd) {
    Value along_d = take_along(b, x, d_dim, taps[0].index(jd));
    for (int64_t jh = 0; jh < taps[1].max_count; ++jh) {
      Value along_h = take_along(b, along_d, h_dim, taps[1].index(jh));
      for (int64_t jw = 0; jw < taps[2].max_count; ++jw) {
        Value tap = take_along(b, along_h, w_dim, taps[2].index(jw));
        Value valid =
            b.binary(stablehlo::BinaryOp::kAnd, is_valid(b, taps[0], jd, dims, d_dim),
                     b.binary(stablehlo::BinaryOp::kAnd, is_valid(b, taps[1], jh, dims, h_dim),
                              is_valid(b, taps[2], jw, dims, w_dim)));
        sum = b.select(valid, rounded(b.add(sum, tap)), sum);
      }
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    std::vector<double> counts(taps[i].count.begin(), taps[i].count.end());
    sum = rounded(b.div(sum, along(b, counts, acc, dims, lead + static_cast<int64_t>(i))));
  }
  return b.convert(sum, type);
}

// _adaptive_avg_pool{2,3}d(self, output_size)
std::vector<Value> adaptive_avg_pool(Builder& b, const OpCall& call, size_t spatial,
                                     const char* op) {
  const Value input = call.tensor(0).value;
  const std::vector<int64_t> size =
      read_output_size(b, call, input, spatial, op, PositiveDims::kSpatial);
  const ElementType type = b.element_type(input);
  if (!stablehlo::is_floating(type)) throw_no_kernel(op, type);
  if (spatial == 3) {
    if (std::optional<Value> pooled = adaptive_avg_pool3d_rounded(b, input, size)) return {*pooled};
  }
  const ElementType acc = opmath_type(type);
  Value x = b.convert(input, acc);
  const int64_t lead = b.rank(input) - static_cast<int64_t>(spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t dim = lead + static_cast<int64_t>(i);
    const AdaptiveTaps taps = adaptive_taps(b.dims(x)[dim], size[i]);
    std::vector<int64_t> dims = b.dims(x);
    dims[dim] = size[i];
    Value sum = b.zeros(TensorType{acc, dims});
    for (int64_t j = 0; j < taps.max_count; ++j) {
      Value tap = take_along(b, x, dim, taps.index(j));
      sum = b.add(sum, b.select(is_valid(b, taps, j, dims, dim), tap, b.zeros(b.type(tap))));
    }
    std::vector<double> counts(taps.count.begin(), taps.count.end());
    x = b.div(sum, along(b, counts, acc, dims, dim));
  }
  return {b.convert(x, type)};
}
std::vector<Value> adaptive_avg_pool2d_rule(Builder& b, const OpCall& call) {
  return adaptive_avg_pool(b, call, 2, "adaptive_avg_pool2d");
}
std::vector<Value> adaptive_avg_pool3d_rule(Builder& b, const OpCall& call) {
  return adaptive_avg_pool(b, call, 3, "adaptive_avg_pool3d");
}

// _adaptive_avg_pool{2,3}d_backward(grad_output, self): each tap's share of
// the gradient scattered back, last spatial dim first.
std::vector<Value> adaptive_avg_pool_backward(Builder& b, const OpCall& call, size_t spatial,
                                              const char* op) {
  const Value input = call.tensor(1).value;
  check_input(b, input, spatial, op);
  const ElementType type = b.element_type(input);
  const ElementType acc = opmath_type(type);
  Value grad = b.convert(call.tensor(0).value, acc);
  const int64_t lead = b.rank(input) - static_cast<int64_t>(spatial);
  for (size_t i = spatial; i-- > 0;) {
    const int64_t dim = lead + static_cast<int64_t>(i);
    const int64_t in = b.dims(input)[dim];
    const AdaptiveTaps taps = adaptive_taps(in, b.dims(grad)[dim]);
    const std::vector<int64_t> dims = b.dims(grad);
    std::vector<double> counts(taps.count.begin(), taps.count.end());
    Value share = b.div(grad, along(b, counts, acc, dims, dim));
    std::vector<int64_t> in_dims = dims;
    in_dims[dim] = in;
    Value total = b.zeros(TensorType{acc, in_dims});
    for (int64_t j = 0; j < taps.max_count; ++j) {
      Value masked = b.select(is_valid(b, taps, j, dims, dim), share, b.zeros(b.type(share)));
      total = b.add(total, scatter_add_along(b, masked, dim, taps.index(j), in));
    }
    grad = total;
  }
  return {b.convert(grad, type)};
}
std::vector<Value> adaptive_avg_pool2d_backward_rule(Builder& b, const OpCall& call) {
  return adaptive_avg_pool_backward(b, call, 2, "adaptive_avg_pool2d_backward");
}
std::vector<Value> adaptive_avg_pool3d_backward_rule(Builder& b, const OpCall& call) {
  return adaptive_avg_pool_backward(b, call, 3, "adaptive_avg_pool3d_backward");
}

// adaptive_max_pool{2,3}d(self, output_size) -> (values, flat indices)
std::vector<Value> adaptive_max_pool(Builder& b, const OpCall& call, size_t spatial,
                                     const char* op) {
  const Value input = call.tensor(0).value;
  const std::vector<int64_t> size =
      read_output_size(b, call, input, spatial, op, PositiveDims::kAllButFirst);
  if (!stablehlo::is_floating(b.element_type(input))) throw_no_kernel(op, b.element_type(input));
  Value values = input;
  Value indices = spatial_index(b, b.dims(input), spatial);
  const int64_t lead = b.rank(input) - static_cast<int64_t>(spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t dim = lead + static_cast<int64_t>(i);
    const AdaptiveTaps taps = adaptive_taps(b.dims(values)[dim], size[i]);
    if (taps.max_count == 0) {
      std::vector<int64_t> dims = b.dims(values);
      dims[dim] = size[i];
      values = b.zeros(TensorType{b.element_type(values), dims});
      indices = b.zeros(TensorType{ElementType::kS64, dims});
      continue;
    }
    Value best_v = take_along(b, values, dim, taps.index(0));
    Value best_i = take_along(b, indices, dim, taps.index(0));
    for (int64_t j = 1; j < taps.max_count; ++j) {
      // A clamped tap repeats the window's last element, which cannot change
      // the pick.
      std::tie(best_v, best_i) =
          pick_max(b, best_v, best_i, take_along(b, values, dim, taps.index(j)),
                   take_along(b, indices, dim, taps.index(j)));
    }
    values = best_v;
    indices = best_i;
  }
  return {values, indices};
}
std::vector<Value> adaptive_max_pool2d_rule(Builder& b, const OpCall& call) {
  return adaptive_max_pool(b, call, 2, "adaptive_max_pool2d");
}
std::vector<Value> adaptive_max_pool3d_rule(Builder& b, const OpCall& call) {
  return adaptive_max_pool(b, call, 3, "adaptive_max_pool3d");
}

// adaptive_max_pool{2,3}d_backward(grad_output, self, indices)
std::vector<Value> adaptive_max_pool_backward(Builder& b, const OpCall& call, size_t spatial,
                                              const char* op) {
  const Value input = call.tensor(1).value;
  check_input(b, input, spatial, op);
  return {scatter_at_indices(b, call.tensor(0).value, call.tensor(2).value, input, spatial, op)};
}
std::vector<Value> adaptive_max_pool2d_backward_rule(Builder& b, const OpCall& call) {
  return adaptive_max_pool_backward(b, call, 2, "adaptive_max_pool2d_backward");
}
std::vector<Value> adaptive_max_pool3d_backward_rule(Builder& b, const OpCall& call) {
  return adaptive_max_pool_backward(b, call, 3, "adaptive_max_pool3d_backward");
}

}  // namespace

void add_pooling_rules(RuleTable& table) {
  table.add("max_pool2d_with_indices", RuleInfo{&max_pool2d_with_indices_rule, {}});
  table.add("max_pool3d_with_indices", RuleInfo{&max_pool3d_with_indices_rule, {}});
  table.add("max_pool2d_with_indices_backward", RuleInfo{&max_pool2d_backward_rule, {}});
  table.add("max_pool3d_with_indices_backward", RuleInfo{&max_pool3d_backward_rule, {}});
  table.add("avg_pool2d", RuleInfo{&avg_pool2d_rule, {}});
  table.add("avg_pool3d", RuleInfo{&avg_pool3d_rule, {}});
  table.add("avg_pool2d_backward", RuleInfo{&avg_pool2d_backward_rule, {}});
  table.add("avg_pool3d_backward", RuleInfo{&avg_pool3d_backward_rule, {}});
  table.add("_adaptive_avg_pool2d", RuleInfo{&adaptive_avg_pool2d_rule, {}});
  table.add("_adaptive_avg_pool3d", RuleInfo{&adaptive_avg_pool3d_rule, {}});
  table.add("_adaptive_avg_pool2d_backward", RuleInfo{&adaptive_avg_pool2d_backward_rule, {}});
  table.add("_adaptive_avg_pool3d_backward", RuleInfo{&adaptive_avg_pool3d_backward_rule, {}});
  table.add("adaptive_max_pool2d", RuleInfo{&adaptive_max_pool2d_rule, {}});
  table.add("adaptive_max_pool3d", RuleInfo{&adaptive_max_pool3d_rule, {}});
  table.add("adaptive_max_pool2d_backward", RuleInfo{&adaptive_max_pool2d_backward_rule, {}});
  table.add("adaptive_max_pool3d_backward", RuleInfo{&adaptive_max_pool3d_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
