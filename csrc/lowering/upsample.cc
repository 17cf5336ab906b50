// Upsampling (nearest, nearest-exact, linear, bilinear, trilinear, bicubic)
// and its backward over the trailing 1-3 spatial dims of N C spatial...
//
// Every mode is separable: along each spatial dim an output is a weighted sum
// of a few input taps whose indices and weights depend only on the sizes and
// scales, so they are computed here as PyTorch's CPU kernel computes them (in
// float, or double for f64 inputs) and become constants. The backward
// scatter-adds the weighted gradient through the same taps, last dim first.

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

enum class Mode { kNearest, kNearestExact, kLinear, kCubic };

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

std::vector<Tap> taps_for(ElementType type, Mode mode, int64_t in, int64_t out, bool align_corners,
                          std::optional<double> scale) {
  return type == ElementType::kF64 ? taps_in<double>(mode, in, out, align_corners, scale)
                                   : taps_in<float>(mode, in, out, align_corners, scale);
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
  // PyTorch's CPU kernels take bytes (images) for nearest, else floats only.
  if (!stablehlo::is_floating(type) && !(nearest && type == ElementType::kU8)) {
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
}

}  // namespace torch_pjrt::lowering
