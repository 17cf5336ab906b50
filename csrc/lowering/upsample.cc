// Upsampling (nearest, nearest-exact, linear, bilinear, trilinear, bicubic)
// and its backward over the trailing 1-3 spatial dims of N C spatial...
//
// Every mode is separable: along each spatial dim an output is a weighted sum
// of a few input taps whose indices and weights depend only on the sizes and
// scales, so they are computed here as PyTorch's CPU kernel computes them (in
// float, or double for f64 inputs) and become constants. The backward
// scatter-adds the weighted gradient through the same taps, last dim first.
//
// The antialiased forms (_upsample_bilinear2d_aa, _upsample_bicubic2d_aa)
// widen the filter by the downscale factor and normalize each output's
// weights; uint8 images (antialiased or not) are resampled as CPU does them:
// width then height, each pass in 16-bit fixed point rounded back to bytes.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/promotion.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

enum class Mode { kNearest, kNearestExact, kLinear, kCubic, kLinearAntialias, kCubicAntialias };

bool is_antialias(Mode mode) {
  return mode == Mode::kLinearAntialias || mode == Mode::kCubicAntialias;
}
bool is_cubic(Mode mode) { return mode == Mode::kCubic || mode == Mode::kCubicAntialias; }

struct Tap {
  std::vector<int64_t> index;
  std::vector<double> weight;
};

// The scale from output to input coordinates, as compute_scales_value.
template <typename T>
T output_to_input(std::optional<double> scale, int64_t in, int64_t out) {
  return scale && *scale > 0 ? static_cast<T>(1.0 / *scale)
                             : static_cast<T>(in) / static_cast<T>(out);
}

template <typename T>
T area_scale(int64_t in, int64_t out, bool align_corners, std::optional<double> scale) {
  if (align_corners) return out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  return output_to_input<T>(scale, in, out);
}

template <typename T>
T source_index(T scale, int64_t o, bool align_corners, bool cubic) {
  if (align_corners) return scale * static_cast<T>(o);
  const T src = scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
  return !cubic && src < T(0) ? T(0) : src;
}

template <typename T>
T cubic_near(T x, T a) {  // |x| <= 1
  return ((a + 2) * x - (a + 3)) * x * x + 1;
}
template <typename T>
T cubic_far(T x, T a) {  // 1 < |x| < 2
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

template <typename T>
std::vector<Tap> taps_in(Mode mode, int64_t in, int64_t out, bool align_corners,
                         std::optional<double> scale) {
  std::vector<Tap> taps;
  auto add_tap = [&](size_t k, int64_t index, T weight) {
    if (taps.size() <= k) taps.resize(k + 1);
    taps[k].index.push_back(index);
    taps[k].weight.push_back(static_cast<double>(weight));
  };
  for (int64_t o = 0; o < out; ++o) {
    if (mode == Mode::kNearest || mode == Mode::kNearestExact) {
      int64_t i;
      if (mode == Mode::kNearest && out == in) {
        i = o;
      } else if (mode == Mode::kNearest && out == 2 * in) {
        i = o >> 1;
      } else {
        const float s = output_to_input<float>(scale, in, out);
        const float offset = mode == Mode::kNearestExact ? 0.5f : 0.0f;
        i = std::min(static_cast<int64_t>(std::floor((static_cast<float>(o) + offset) * s)),
                     in - 1);
      }
      add_tap(0, i, T(1));
    } else if (mode == Mode::kLinear && out == in) {
      // CPU copies rather than interpolating when the size is unchanged, even
      // where a scale factor would move the samples.
      add_tap(0, o, T(1));
      add_tap(1, o, T(0));
    } else if (mode == Mode::kLinear) {
      const T src =
          source_index<T>(area_scale<T>(in, out, align_corners, scale), o, align_corners, false);
      const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
      const int64_t step = i0 < in - 1 ? 1 : 0;
      const T lambda1 = src - static_cast<T>(i0);
      add_tap(0, i0, T(1) - lambda1);
      add_tap(1, i0 + step, lambda1);
    } else {
      const T src =
          source_index<T>(area_scale<T>(in, out, align_corners, scale), o, align_corners, true);
      const T floor_src = std::floor(src);
      const auto i0 = static_cast<int64_t>(floor_src);
      const T t = src - floor_src;
      const T a = T(-0.75);
      const T weights[4] = {cubic_far<T>(t + 1, a), cubic_near<T>(t, a), cubic_near<T>(1 - t, a),
                            cubic_far<T>(2 - t, a)};
      for (int64_t k = 0; k < 4; ++k) {
        add_tap(static_cast<size_t>(k), std::clamp<int64_t>(i0 - 1 + k, 0, in - 1), weights[k]);
      }
    }
  }
  return taps;
}

// The filters of the separable kernels: the triangle, and Keys' cubic with
// a = -0.5 when antialiasing (as PIL) or -0.75 otherwise.
template <typename T>
T filter(T x, bool cubic, bool antialias) {
  x = std::abs(x);
  if (!cubic) return x < T(1) ? T(1) - x : T(0);
  const T a = antialias ? T(-0.5) : T(-0.75);
  if (x < T(1)) return cubic_near<T>(x, a);
  if (x < T(2)) return cubic_far<T>(x, a);
  return T(0);
}

// Each output reads a window of consecutive inputs starting at `first`, with
// weights that sum to one. Antialiasing stretches the filter by the
// downscale factor so every input contributes. `corner_shift` is how CPU's
// separable byte kernel places align_corners samples without antialiasing.
template <typename T>
std::vector<Tap> window_taps(int64_t in, int64_t out, bool align_corners,
                             std::optional<double> scale, bool cubic, bool antialias) {
  const T s = area_scale<T>(in, out, align_corners, scale);
  const T half_width = cubic ? T(2) : T(1);
  const bool stretch = antialias && s >= T(1);
  const T support = stretch ? half_width * s : half_width;
  const T inverse_scale = stretch ? T(1) / s : T(1);
  const double shift = align_corners && !antialias ? 0.5 : 0.0;
  const auto widest = static_cast<int64_t>(std::ceil(static_cast<double>(support))) * 2 + 1;
  std::vector<Tap> taps(static_cast<size_t>(widest));
  std::vector<T> weights(static_cast<size_t>(widest));
  for (int64_t o = 0; o < out; ++o) {
    const auto center =
        static_cast<T>(static_cast<double>(s) * (static_cast<double>(o) + 0.5 - shift));
    const int64_t first = std::max<int64_t>(
        static_cast<int64_t>(static_cast<double>(center - support) + 0.5 + shift), 0);
    const int64_t end = std::min<int64_t>(
        static_cast<int64_t>(static_cast<double>(center + support) + 0.5 + shift), in);
    const int64_t count = std::clamp<int64_t>(end - first, 0, widest);
    T total = T(0);
    for (int64_t k = 0; k < count; ++k) {
      const auto offset =
          static_cast<T>(static_cast<double>(static_cast<T>(first + k) - center) + 0.5 - shift);
      weights[static_cast<size_t>(k)] = filter<T>(offset * inverse_scale, cubic, antialias);
      total += weights[static_cast<size_t>(k)];
    }
    for (int64_t k = 0; k < widest; ++k) {
      T w = T(0);
      if (k < count)
        w = total != T(0) ? weights[static_cast<size_t>(k)] / total
                          : weights[static_cast<size_t>(k)];
      taps[static_cast<size_t>(k)].index.push_back(std::min(first + k, in - 1));
      taps[static_cast<size_t>(k)].weight.push_back(static_cast<double>(w));
    }
  }
  return taps;
}

std::vector<Tap> taps_for(ElementType type, Mode mode, int64_t in, int64_t out, bool align_corners,
                          std::optional<double> scale) {
  if (is_antialias(mode)) {
    if (in == out) {  // CPU copies an unresized dim
      std::vector<Tap> identity(1);
      for (int64_t o = 0; o < out; ++o) {
        identity[0].index.push_back(o);
        identity[0].weight.push_back(1.0);
      }
      return identity;
    }
    return type == ElementType::kF64
               ? window_taps<double>(in, out, align_corners, scale, is_cubic(mode), true)
               : window_taps<float>(in, out, align_corners, scale, is_cubic(mode), true);
  }
  return type == ElementType::kF64 ? taps_in<double>(mode, in, out, align_corners, scale)
                                   : taps_in<float>(mode, in, out, align_corners, scale);
}

// Taps on distinct inputs: the clamped bicubic taps at a border read the same
// input more than once, and CPU's byte kernel rounds their summed weight.
std::vector<Tap> merge_repeated_inputs(const std::vector<Tap>& taps) {
  std::vector<Tap> merged(taps.size());
  const size_t outputs = taps.empty() ? 0 : taps[0].index.size();
  for (size_t o = 0; o < outputs; ++o) {
    size_t used = 0;
    for (const Tap& tap : taps) {
      size_t k = 0;
      while (k < used && merged[k].index[o] != tap.index[o]) ++k;
      if (k < used) {
        merged[k].weight[o] += tap.weight[o];
        continue;
      }
      merged[used].index.push_back(tap.index[o]);
      merged[used].weight.push_back(tap.weight[o]);
      ++used;
    }
    for (size_t k = used; k < merged.size(); ++k) {
      merged[k].index.push_back(merged[0].index[o]);
      merged[k].weight.push_back(0.0);
    }
  }
  return merged;
}

// uint8 taps in fixed point: weights become int16 with as many fraction bits
// as the largest one allows, as CPU's byte kernels round them.
struct FixedPointTaps {
  std::vector<Tap> taps;  // integer weights
  int precision = 0;
};

FixedPointTaps fixed_point_taps(Mode mode, int64_t in, int64_t out, bool align_corners,
                                std::optional<double> scale) {
  FixedPointTaps fixed;
  if (mode == Mode::kCubic) {
    fixed.taps = merge_repeated_inputs(taps_in<double>(mode, in, out, align_corners, scale));
  } else {
    fixed.taps =
        window_taps<double>(in, out, align_corners, scale, is_cubic(mode), is_antialias(mode));
  }
  double largest = 0.0;
  for (const Tap& tap : fixed.taps) {
    for (double w : tap.weight) largest = std::max(largest, w);
  }
  while (fixed.precision < 22 &&
         static_cast<int64_t>(0.5 +
                              largest * static_cast<double>(int64_t{1} << (fixed.precision + 1))) <
             (int64_t{1} << 15)) {
    ++fixed.precision;
  }
  const auto unit = static_cast<double>(int64_t{1} << fixed.precision);
  for (Tap& tap : fixed.taps) {
    for (double& w : tap.weight) {
      const double v = w * unit;
      w = static_cast<double>(static_cast<int64_t>(v < 0 ? v - 0.5 : v + 0.5));
    }
  }
  return fixed;
}

// One pass of CPU's byte kernel along `dim`: an int32 sum of the taps, a
// rounding half, the fraction bits shifted off, clamped to a byte.
Value fixed_point_pass(Builder& b, Value x, int64_t dim, const FixedPointTaps& fixed) {
  std::optional<Value> sum;
  for (const Tap& tap : fixed.taps) {
    Value taken = take_along(b, x, dim, tap.index);
    Value term = b.mul(taken, along(b, tap.weight, ElementType::kS32, b.dims(taken), dim));
    sum = sum ? b.add(*sum, term) : term;
  }
  const TensorType type = b.type(*sum);
  const int64_t half = fixed.precision > 0 ? int64_t{1} << (fixed.precision - 1) : 0;
  Value rounded = b.binary(stablehlo::BinaryOp::kShiftRightArithmetic,
                           b.add(*sum, b.splat(static_cast<double>(half), type)),
                           b.splat(static_cast<double>(fixed.precision), type));
  return b.clamp(b.splat(0.0, type), rounded, b.splat(255.0, type));
}

std::optional<double> optional_double(const OpCall& call, size_t i) {
  if (i >= call.size() || call.is_none(i)) return std::nullopt;
  return call.double_at(i);
}

std::string list_text(const std::vector<int64_t>& v) {
  std::string text = "[";
  for (size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
  return text + "]";
}

std::string op_name(Mode mode, size_t spatial) {
  switch (mode) {
    case Mode::kNearest:
      return "upsample_nearest" + std::to_string(spatial) + "d";
    case Mode::kNearestExact:
      return "_upsample_nearest_exact" + std::to_string(spatial) + "d";
    case Mode::kLinear:
      return spatial == 1 ? "upsample_linear1d"
                          : (spatial == 2 ? "upsample_bilinear2d" : "upsample_trilinear3d");
    case Mode::kCubic:
      return "upsample_bicubic2d";
    case Mode::kLinearAntialias:
      return "_upsample_bilinear2d_aa";
    case Mode::kCubicAntialias:
      return "_upsample_bicubic2d_aa";
  }
  return "upsample";
}

// The sizes and options of one call.
struct Upsample {
  std::vector<int64_t> in, out;  // spatial sizes
  bool align_corners = false;
  std::vector<std::optional<double>> scales;
};

void check_sizes(const std::vector<int64_t>& full_input, const std::vector<int64_t>& output_size,
                 size_t spatial, const std::string& op) {
  if (full_input.size() != spatial + 2) {
    throw InvalidArgument(op + ": Expected input to be " + std::to_string(spatial + 2) +
                          "-D (N, C, spatial...), got input of size " + list_text(full_input));
  }
  if (output_size.size() != spatial) {
    throw InvalidArgument(op + ": It is expected output_size equals to " + std::to_string(spatial) +
                          ", but got size " + std::to_string(output_size.size()));
  }
  bool positive = true;
  for (size_t i = 0; i < spatial; ++i) {
    positive = positive && full_input[i + 2] > 0 && output_size[i] > 0;
  }
  if (!positive) {
    throw InvalidArgument(op + ": Input and output sizes should be greater than 0, but got " +
                          "input (" + list_text(full_input) + ") and output (" +
                          list_text(output_size) + ")");
  }
}

Upsample read_call(const OpCall& call, size_t sizes_end, bool has_align, size_t spatial,
                   const std::vector<int64_t>& input, const std::string& op) {
  Upsample u;
  const std::vector<int64_t>& output_size = call.ints(1);
  check_sizes(input, output_size, spatial, op);
  u.in.assign(input.begin() + 2, input.end());
  u.out = output_size;
  size_t next = sizes_end;
  if (has_align) u.align_corners = call.bool_at(next++);
  for (size_t i = 0; i < spatial; ++i) u.scales.push_back(optional_double(call, next + i));
  return u;
}

void check_dtype(ElementType type, Mode mode, size_t spatial) {
  const bool nearest = mode == Mode::kNearest || mode == Mode::kNearestExact;
  // PyTorch's CPU kernels take bytes (images) for nearest and the 2-d
  // bilinear and bicubic forms, else floats only.
  const bool images = nearest || spatial == 2;
  if (!stablehlo::is_floating(type) && !(images && type == ElementType::kU8)) {
    throw_no_kernel(op_name(mode, spatial), type);
  }
}

std::vector<Value> forward(Builder& b, const OpCall& call, Mode mode, size_t spatial) {
  const std::string op = op_name(mode, spatial);
  const Value input = call.tensor(0).value;
  const ElementType type = b.element_type(input);
  const bool nearest = mode == Mode::kNearest || mode == Mode::kNearestExact;
  const Upsample u = read_call(call, 2, !nearest, spatial, b.dims(input), op);
  check_dtype(type, mode, spatial);
  if (!nearest && type == ElementType::kU8) {
    // Width first: each pass rounds to bytes, so the order shows.
    Value x = b.convert(input, ElementType::kS32);
    for (size_t i = spatial; i-- > 0;) {
      if (u.in[i] == u.out[i]) continue;
      x = fixed_point_pass(b, x, static_cast<int64_t>(i) + 2,
                           fixed_point_taps(mode, u.in[i], u.out[i], u.align_corners, u.scales[i]));
    }
    return {b.convert(x, type)};
  }
  const ElementType acc = nearest ? type : opmath_type(type);
  Value x = b.convert(input, acc);
  for (size_t i = 0; i < spatial; ++i) {
    const auto dim = static_cast<int64_t>(i) + 2;
    const std::vector<Tap> taps =
        taps_for(type, mode, u.in[i], u.out[i], u.align_corners, u.scales[i]);
    if (nearest) {
      x = take_along(b, x, dim, taps[0].index);
      continue;
    }
    std::optional<Value> sum;
    for (const Tap& tap : taps) {
      Value taken = take_along(b, x, dim, tap.index);
      Value term = b.mul(taken, along(b, tap.weight, acc, b.dims(taken), dim));
      sum = sum ? b.add(*sum, term) : term;
    }
    x = *sum;
  }
  return {b.convert(x, type)};
}

// *_backward(grad_output, output_size, input_size, [align_corners,] scales...)
std::vector<Value> backward(Builder& b, const OpCall& call, Mode mode, size_t spatial) {
  const std::string op = op_name(mode, spatial) + "_backward";
  const Value grad_out = call.tensor(0).value;
  const ElementType type = b.element_type(grad_out);
  const bool nearest = mode == Mode::kNearest || mode == Mode::kNearestExact;
  const std::vector<int64_t> input_size = call.ints(2);
  const Upsample u = read_call(call, 3, !nearest, spatial, input_size, op);
  if (!stablehlo::is_floating(type)) throw_no_kernel(op, type);
  std::vector<int64_t> expected(input_size.begin(), input_size.begin() + 2);
  expected.insert(expected.end(), u.out.begin(), u.out.end());
  if (b.dims(grad_out) != expected) {
    throw InvalidArgument(op + ": Expected grad_output to have the same shape as output; output " +
                          "size = " + list_text(expected) +
                          ", but got grad_output size = " + list_text(b.dims(grad_out)));
  }
  const ElementType acc = opmath_type(type);
  Value grad = b.convert(grad_out, acc);
  for (size_t i = spatial; i-- > 0;) {
    const auto dim = static_cast<int64_t>(i) + 2;
    const std::vector<Tap> taps =
        taps_for(type, mode, u.in[i], u.out[i], u.align_corners, u.scales[i]);
    std::optional<Value> sum;
    for (const Tap& tap : taps) {
      Value weighted = nearest ? grad : b.mul(grad, along(b, tap.weight, acc, b.dims(grad), dim));
      Value term = scatter_add_along(b, weighted, dim, tap.index, u.in[i]);
      sum = sum ? b.add(*sum, term) : term;
    }
    grad = *sum;
  }
  return {b.convert(grad, type)};
}

template <Mode M, size_t Spatial>
std::vector<Value> forward_rule(Builder& b, const OpCall& call) {
  return forward(b, call, M, Spatial);
}
template <Mode M, size_t Spatial>
std::vector<Value> backward_rule(Builder& b, const OpCall& call) {
  return backward(b, call, M, Spatial);
}

template <Mode M, size_t Spatial>
void add_pair(RuleTable& table) {
  const std::string name = op_name(M, Spatial);
  table.add(name, RuleInfo{&forward_rule<M, Spatial>, {}});
  table.add(name + "_backward", RuleInfo{&backward_rule<M, Spatial>, {}});
}

}  // namespace

void add_upsample_rules(RuleTable& table) {
  add_pair<Mode::kNearest, 1>(table);
  add_pair<Mode::kNearest, 2>(table);
  add_pair<Mode::kNearest, 3>(table);
  add_pair<Mode::kNearestExact, 1>(table);
  add_pair<Mode::kNearestExact, 2>(table);
  add_pair<Mode::kNearestExact, 3>(table);
  add_pair<Mode::kLinear, 1>(table);
  add_pair<Mode::kLinear, 2>(table);
  add_pair<Mode::kLinear, 3>(table);
  add_pair<Mode::kCubic, 2>(table);
  add_pair<Mode::kLinearAntialias, 2>(table);
  add_pair<Mode::kCubicAntialias, 2>(table);
}

}  // namespace torch_pjrt::lowering
