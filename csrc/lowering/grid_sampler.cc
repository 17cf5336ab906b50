// grid_sampler_2d / grid_sampler_3d and their backwards, (bi/tri)linear and
// nearest, with zeros, border and reflection padding (F.grid_sample on 4-D
// and 5-D inputs).
//
// The sample points depend on the grid's values, so the taps are gathered at
// run time: each corner's (n, y, x) indexes the input, corners outside it
// read zero, and the backward scatter-adds the weighted gradient through the
// same indices. Coordinates follow PyTorch's CPU kernel: unnormalize, then
// clip or reflect, each step carrying its derivative for the grid gradient.
// The work layout is [N, out..., C] (channels last, as the gather yields);
// spatial dims are handled outer first (depth, height, width), while the
// grid's last dim lists them inner first (x, y, z).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lowering/along_dim.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

enum Interpolation : int64_t { kBilinear = 0, kNearest = 1, kBicubic = 2 };
enum Padding : int64_t { kZeros = 0, kBorder = 1, kReflection = 2 };

// A coordinate in input pixels and d(coordinate)/d(grid value).
struct Coordinate {
  Value at, grad;
};

Value splat_like(Builder& b, double v, Value like) { return b.splat(v, b.type(like)); }

// Clamps to [0, size - 1]; the derivative is 0 where clamped.
Coordinate clip(Builder& b, Coordinate c, int64_t size) {
  Value low = splat_like(b, 0, c.at), high = splat_like(b, static_cast<double>(size - 1), c.at);
  Value inside = b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kGT, c.at, low),
                          b.compare(ComparisonDirection::kLT, c.at, high));
  return {b.clamp(low, c.at, high), b.select(inside, c.grad, b.zeros(b.type(c.grad)))};
}

// Reflects into [twice_low / 2, twice_high / 2] as reflect_coordinates does.
Coordinate reflect(Builder& b, Coordinate c, int64_t twice_low, int64_t twice_high) {
  if (twice_low == twice_high) return {b.zeros(b.type(c.at)), b.zeros(b.type(c.grad))};
  const double low = twice_low / 2.0, span = (twice_high - twice_low) / 2.0;
  Value shifted = b.sub(c.at, splat_like(b, low, c.at));
  Value negative = b.compare(ComparisonDirection::kLT, shifted, b.zeros(b.type(shifted)));
  Value sign = b.select(negative, splat_like(b, -1, shifted), splat_like(b, 1, shifted));
  Value distance = b.unary(UnaryOp::kAbs, shifted);
  Value extra = b.binary(BinaryOp::kRemainder, distance, splat_like(b, span, distance));
  Value flips = b.unary(UnaryOp::kFloor, b.div(distance, splat_like(b, span, distance)));
  Value even = b.compare(ComparisonDirection::kEQ,
                         b.binary(BinaryOp::kRemainder, flips, splat_like(b, 2, flips)),
                         b.zeros(b.type(flips)));
  Value at = b.select(even, b.add(extra, splat_like(b, low, extra)),
                      b.add(b.sub(splat_like(b, span, extra), extra), splat_like(b, low, extra)));
  Value grad = b.mul(c.grad, b.select(even, sign, b.unary(UnaryOp::kNegate, sign)));
  return {at, grad};
}

Coordinate source_coordinate(Builder& b, Value g, int64_t size, int64_t padding,
                             bool align_corners) {
  Coordinate c;
  const double n = static_cast<double>(size);
  if (align_corners) {
    c.at = b.mul(b.add(g, splat_like(b, 1, g)), splat_like(b, (n - 1) / 2, g));
    c.grad = splat_like(b, (n - 1) / 2, g);
  } else {
    c.at =
        b.div(b.sub(b.mul(b.add(g, splat_like(b, 1, g)), splat_like(b, n, g)), splat_like(b, 1, g)),
              splat_like(b, 2, g));
    c.grad = splat_like(b, n / 2, g);
  }
  if (padding == kBorder) return clip(b, c, size);
  if (padding == kReflection) {
    c = align_corners ? reflect(b, c, 0, 2 * (size - 1)) : reflect(b, c, -1, 2 * size - 1);
    return clip(b, c, size);
  }
  return c;
}

// A per-sample value [N, out...] broadcast over the channels of `dims`.
Value per_sample_of(Builder& b, Value v, const std::vector<int64_t>& dims) {
  std::vector<int64_t> kept(b.rank(v));
  for (size_t d = 0; d < kept.size(); ++d) kept[d] = static_cast<int64_t>(d);
  return b.broadcast_in_dim(v, dims, kept);
}

// One corner: its clamped (n, spatial...) index [N, out..., 1 + S], whether
// it lies inside the input, and its interpolation weight [N, out...].
struct Corner {
  Value index, inside, weight;
};

// `at` holds the corner's coordinate per input spatial dim (outer first).
Corner corner(Builder& b, const std::vector<Value>& at, Value weight,
              const std::vector<int64_t>& sizes) {
  std::vector<int64_t> column = b.dims(weight);
  column.push_back(1);
  const auto rank = static_cast<int64_t>(column.size()) - 1;
  Value inside;
  std::vector<Value> parts{b.iota(TensorType{ElementType::kS64, column}, 0)};
  for (size_t d = 0; d < at.size(); ++d) {
    Value v = at[d];
    Value high = splat_like(b, static_cast<double>(sizes[d] - 1), v);
    Value in_range =
        b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kGE, v, splat_like(b, 0, v)),
                 b.compare(ComparisonDirection::kLE, v, high));
    inside = d == 0 ? in_range : b.binary(BinaryOp::kAnd, inside, in_range);
    Value clamped = b.clamp(splat_like(b, 0, v), v, high);
    parts.push_back(b.reshape(b.convert(clamped, ElementType::kS64), column));
  }
  return {b.concatenate(parts, rank), inside, weight};
}

// The (n, spatial...) dims of an input of rank spatial + 2 (dim 1 is C).
std::vector<int64_t> indexed_dims(int64_t spatial) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 0; d < spatial; ++d) dims.push_back(d + 2);
  return dims;
}

stablehlo::GatherDimensions corner_gather(int64_t spatial) {
  stablehlo::GatherDimensions dn;
  dn.offset_dims = {spatial + 1};
  dn.collapsed_slice_dims = indexed_dims(spatial);
  dn.start_index_map = indexed_dims(spatial);
  dn.index_vector_dim = spatial + 1;
  return dn;
}

// The corners of every sample and the pieces the grid gradient needs.
struct Samples {
  std::vector<Corner> corners;
  // Linear only: per corner, d(weight)/d(coordinate) per input spatial dim.
  std::vector<std::vector<Value>> dweight;
  std::vector<Coordinate> at;  // per input spatial dim (outer first)
};

struct Call {
  Value input, grid;
  int64_t interpolation, padding;
  bool align_corners;
  ElementType type, acc;
  int64_t spatial;
};

Call read_call(Builder& b, const OpCall& call, size_t first, const std::string& op,
               int64_t spatial) {
  Call c{call.tensor(first).value,
         call.tensor(first + 1).value,
         call.int_at(first + 2),
         call.int_at(first + 3),
         call.bool_at(first + 4),
         {},
         {},
         spatial};
  const std::vector<int64_t>& in = b.dims(c.input);
  const std::vector<int64_t>& grid = b.dims(c.grid);
  const auto rank = static_cast<size_t>(spatial + 2);
  if (in.size() != rank || grid.size() != rank || grid.back() != spatial || grid[0] != in[0]) {
    const std::string sizes = spatial == 2 ? "[N, H, W, 2]" : "[N, D, H, W, 3]";
    throw InvalidArgument(op + ": expected a " + std::to_string(rank) +
                          "-D input and a grid of size " + sizes +
                          " with the input's batch size, but got input " +
                          b.type(c.input).to_string() + " and grid " + b.type(c.grid).to_string());
  }
  c.type = b.element_type(c.input);
  if (b.element_type(c.grid) != c.type) {
    throw InvalidArgument(op + ": expected grid and input to have same dtype, but input has " +
                          std::string(scalar_type_name(c.type)) + " and grid has " +
                          std::string(scalar_type_name(b.element_type(c.grid))));
  }
  if (!stablehlo::is_floating(c.type)) throw_no_kernel(op, c.type);
  if (c.interpolation == kBicubic) {
    if (spatial == 3) {
      throw InvalidArgument("grid_sampler(): bicubic interpolation only supports 4D input");
    }
    throw Unsupported(op + ": bicubic interpolation");
  }
  if (c.interpolation != kBilinear && c.interpolation != kNearest) {
    throw InvalidArgument(op + ": unknown interpolation mode " + std::to_string(c.interpolation));
  }
  if (c.padding < kZeros || c.padding > kReflection) {
    throw InvalidArgument(op + ": unknown padding mode " + std::to_string(c.padding));
  }
  for (size_t d = 2; d < rank; ++d) {
    if (in[d] == 0) {
      throw InvalidArgument(op +
                            ": expected input to have non-empty spatial dimensions, but input "
                            "has sizes " +
                            b.type(c.input).to_string());
    }
  }
  // CPU's kernels compute coordinates, weights and sums in the input's own
  // type (rounding each step in bfloat16 and half); so does this.
  c.acc = c.type;
  return c;
}

Samples samples(Builder& b, const Call& c) {
  const std::vector<int64_t> g = b.dims(c.grid);
  const int64_t spatial = c.spatial;
  const std::vector<int64_t> sizes(b.dims(c.input).begin() + 2, b.dims(c.input).end());
  const std::vector<int64_t> out(g.begin(), g.end() - 1);
  Value grid = b.convert(c.grid, c.acc);
  // Grid component k (x first) addresses input spatial dim spatial - 1 - k.
  Samples s;
  for (int64_t d = 0; d < spatial; ++d) {
    const int64_t k = spatial - 1 - d;
    std::vector<int64_t> start(g.size(), 0), limit = g;
    start.back() = k;
    limit.back() = k + 1;
    Value component = b.reshape(b.slice(grid, start, limit), out);
    s.at.push_back(source_coordinate(b, component, sizes[d], c.padding, c.align_corners));
  }
  if (c.interpolation == kNearest) {
    std::vector<Value> at;
    for (const Coordinate& a : s.at) at.push_back(b.unary(UnaryOp::kRoundNearestEven, a.at));
    s.corners.push_back(corner(b, at, splat_like(b, 1, at[0]), sizes));
    return s;
  }
  // Per dim, the low and high neighbours and the two linear weights.
  std::vector<Value> low, high, to_high, from_low;
  for (const Coordinate& a : s.at) {
    low.push_back(b.unary(UnaryOp::kFloor, a.at));
    high.push_back(b.add(low.back(), splat_like(b, 1, low.back())));
    to_high.push_back(b.sub(high.back(), a.at));
    from_low.push_back(b.sub(a.at, low.back()));
  }
  // Corner bits, outer dim first: for 2-D the order nw, ne, sw, se.
  for (int64_t bits = 0; bits < (int64_t{1} << spatial); ++bits) {
    std::vector<Value> at, factor;
    std::vector<bool> upper;
    for (int64_t d = 0; d < spatial; ++d) {
      const bool up = (bits >> (spatial - 1 - d)) & 1;
      upper.push_back(up);
      at.push_back(up ? high[d] : low[d]);
      factor.push_back(up ? from_low[d] : to_high[d]);
    }
    // Innermost factor first (x, then y, then z), CPU's rounding order.
    Value weight = factor[spatial - 1];
    for (int64_t d = spatial - 2; d >= 0; --d) weight = b.mul(weight, factor[d]);
    std::vector<Value> derivative;
    for (int64_t d = 0; d < spatial; ++d) {
      Value v = splat_like(b, upper[d] ? 1 : -1, weight);
      for (int64_t e = 0; e < spatial; ++e) {
        if (e != d) v = b.mul(v, factor[e]);
      }
      derivative.push_back(v);
    }
    s.corners.push_back(corner(b, at, weight, sizes));
    s.dweight.push_back(derivative);
  }
  return s;
}

// The input's values at a corner, zero outside: [N, out..., C].
Value corner_values(Builder& b, Value input, const Corner& k, int64_t spatial) {
  std::vector<int64_t> slice(spatial + 2, 1);
  slice[1] = b.dims(input)[1];
  Value v = b.gather(input, k.index, corner_gather(spatial), slice);
  return b.select(per_sample_of(b, k.inside, b.dims(v)), v, b.zeros(b.type(v)));
}

// [N, out..., C] <-> [N, C, out...]
std::vector<int64_t> channels_first(int64_t spatial) {
  std::vector<int64_t> order{0, spatial + 1};
  for (int64_t d = 1; d <= spatial; ++d) order.push_back(d);
  return order;
}
std::vector<int64_t> channels_last(int64_t spatial) {
  std::vector<int64_t> order{0};
  for (int64_t d = 2; d < spatial + 2; ++d) order.push_back(d);
  order.push_back(1);
  return order;
}

// grid_sampler_2d / grid_sampler_3d(input, grid, interpolation_mode,
// padding_mode, align_corners)
std::vector<Value> grid_sampler(Builder& b, const OpCall& call, int64_t spatial) {
  const Call c = read_call(b, call, 0, "grid_sampler_" + std::to_string(spatial) + "d", spatial);
  Value input = b.convert(c.input, c.acc);
  const Samples s = samples(b, c);
  std::optional<Value> out;
  for (const Corner& k : s.corners) {
    Value v = corner_values(b, input, k, spatial);
    Value term = b.mul(v, per_sample_of(b, k.weight, b.dims(v)));
    out = out ? b.add(*out, term) : term;
  }
  return {b.convert(b.transpose(*out, channels_first(spatial)), c.type)};
}

// grid_sampler_{2,3}d_backward(grad_output, input, grid, interpolation_mode,
// padding_mode, align_corners, output_mask) -> (grad_input, grad_grid)
std::vector<Value> grid_sampler_backward(Builder& b, const OpCall& call, int64_t spatial) {
  const Call c =
      read_call(b, call, 1, "grid_sampler_" + std::to_string(spatial) + "d_backward", spatial);
  const std::vector<int64_t> mask = call.ints(6);
  Value input = b.convert(c.input, c.acc);
  Value grad = b.transpose(b.convert(call.tensor(0).value, c.acc), channels_last(spatial));
  const std::vector<int64_t> dims = b.dims(grad);
  const Samples s = samples(b, c);

  Value grad_input = b.zeros(b.type(input));
  if (mask.empty() || mask[0]) {
    stablehlo::ScatterDimensions dn;
    dn.update_window_dims = {spatial + 1};
    dn.inserted_window_dims = indexed_dims(spatial);
    dn.scatter_dims_to_operand_dims = indexed_dims(spatial);
    dn.index_vector_dim = spatial + 1;
    for (const Corner& k : s.corners) {
      Value share = b.mul(grad, per_sample_of(b, k.weight, dims));
      share = b.select(per_sample_of(b, k.inside, dims), share, b.zeros(b.type(share)));
      grad_input =
          b.scatter(grad_input, k.index, share, dn, [](Builder& r, const std::vector<Value>& args) {
            return std::vector<Value>{r.add(args[0], args[1])};
          });
    }
  }
  const std::vector<int64_t>& g = b.dims(c.grid);
  Value grad_grid = b.zeros(TensorType{c.acc, g});
  if ((mask.size() < 2 || mask[1]) && c.interpolation == kBilinear) {
    const std::vector<int64_t> out(g.begin(), g.end() - 1);
    std::vector<Value> along(spatial, b.zeros(TensorType{c.acc, out}));
    for (size_t i = 0; i < s.corners.size(); ++i) {
      Value v = corner_values(b, input, s.corners[i], spatial);
      Value along_c = b.reduce(b.mul(v, grad), b.constant(0, c.acc), {spatial + 1},
                               [](Builder& r, const std::vector<Value>& args) {
                                 return std::vector<Value>{r.add(args[0], args[1])};
                               });
      for (int64_t d = 0; d < spatial; ++d) {
        along[d] = b.add(along[d], b.mul(along_c, s.dweight[i][d]));
      }
    }
    std::vector<int64_t> column = out;
    column.push_back(1);
    std::vector<Value> parts;
    for (int64_t k = 0; k < spatial; ++k) {
      const int64_t d = spatial - 1 - k;
      parts.push_back(b.reshape(b.mul(along[d], s.at[d].grad), column));
    }
    grad_grid = b.concatenate(parts, spatial + 1);
  }
  return {b.convert(grad_input, c.type), b.convert(grad_grid, c.type)};
}

std::vector<Value> grid_sampler_2d_rule(Builder& b, const OpCall& call) {
  return grid_sampler(b, call, 2);
}
std::vector<Value> grid_sampler_3d_rule(Builder& b, const OpCall& call) {
  return grid_sampler(b, call, 3);
}
std::vector<Value> grid_sampler_2d_backward_rule(Builder& b, const OpCall& call) {
  return grid_sampler_backward(b, call, 2);
}
std::vector<Value> grid_sampler_3d_backward_rule(Builder& b, const OpCall& call) {
  return grid_sampler_backward(b, call, 3);
}

}  // namespace

void add_grid_sampler_rules(RuleTable& table) {
  table.add("grid_sampler_2d", RuleInfo{&grid_sampler_2d_rule, {}});
  table.add("grid_sampler_2d_backward", RuleInfo{&grid_sampler_2d_backward_rule, {}});
  table.add("grid_sampler_3d", RuleInfo{&grid_sampler_3d_rule, {}});
  table.add("grid_sampler_3d_backward", RuleInfo{&grid_sampler_3d_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
