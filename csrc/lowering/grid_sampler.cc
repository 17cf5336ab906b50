// grid_sampler_2d and its backward, bilinear and nearest, with zeros, border
// and reflection padding (F.grid_sample on 4-D inputs).
//
// The sample points depend on the grid's values, so the taps are gathered at
// run time: each corner's (n, y, x) indexes the input, corners outside it
// read zero, and the backward scatter-adds the weighted gradient through the
// same indices. Coordinates follow PyTorch's CPU kernel: unnormalize, then
// clip or reflect, each step carrying its derivative for the grid gradient.
// The work layout is [N, Ho, Wo, C] (channels last, as the gather yields).

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

// One corner: its clamped (n, y, x) index [N, Ho, Wo, 3], whether it lies
// inside the input, and its interpolation weight [N, Ho, Wo].
struct Corner {
  Value index, inside, weight;
};

Corner corner(Builder& b, Value y, Value x, Value weight, int64_t height, int64_t width) {
  const std::vector<int64_t> dims = b.dims(x);
  auto in_range = [&](Value v, int64_t size) {
    return b.binary(
        BinaryOp::kAnd, b.compare(ComparisonDirection::kGE, v, splat_like(b, 0, v)),
        b.compare(ComparisonDirection::kLE, v, splat_like(b, static_cast<double>(size - 1), v)));
  };
  Value inside = b.binary(BinaryOp::kAnd, in_range(y, height), in_range(x, width));
  auto as_index = [&](Value v, int64_t size) {
    Value clamped =
        b.clamp(splat_like(b, 0, v), v, splat_like(b, static_cast<double>(size - 1), v));
    return b.reshape(b.convert(clamped, ElementType::kS64), {dims[0], dims[1], dims[2], 1});
  };
  Value n = b.iota(TensorType{ElementType::kS64, {dims[0], dims[1], dims[2], 1}}, 0);
  return {b.concatenate({n, as_index(y, height), as_index(x, width)}, 3), inside, weight};
}

stablehlo::GatherDimensions corner_gather() {
  stablehlo::GatherDimensions dn;
  dn.offset_dims = {3};
  dn.collapsed_slice_dims = {0, 2, 3};
  dn.start_index_map = {0, 2, 3};
  dn.index_vector_dim = 3;
  return dn;
}

// The corners of every sample and the pieces the grid gradient needs.
struct Samples {
  std::vector<Corner> corners;
  // Bilinear only: for each corner, d(weight)/dx and d(weight)/dy.
  std::vector<Value> dweight_dx, dweight_dy;
  Coordinate x, y;
};

struct Call {
  Value input, grid;
  int64_t interpolation, padding;
  bool align_corners;
  ElementType type, acc;
};

Call read_call(Builder& b, const OpCall& call, size_t first, const std::string& op) {
  Call c{call.tensor(first).value,
         call.tensor(first + 1).value,
         call.int_at(first + 2),
         call.int_at(first + 3),
         call.bool_at(first + 4),
         {},
         {}};
  const std::vector<int64_t>& in = b.dims(c.input);
  const std::vector<int64_t>& grid = b.dims(c.grid);
  if (in.size() != 4 || grid.size() != 4 || grid[3] != 2 || grid[0] != in[0]) {
    throw InvalidArgument(op + ": expected a 4-D input and a grid of size [N, H, W, 2] with the " +
                          "input's batch size, but got input " + b.type(c.input).to_string() +
                          " and grid " + b.type(c.grid).to_string());
  }
  c.type = b.element_type(c.input);
  if (b.element_type(c.grid) != c.type) {
    throw InvalidArgument(op + ": expected grid and input to have same dtype, but input has " +
                          std::string(scalar_type_name(c.type)) + " and grid has " +
                          std::string(scalar_type_name(b.element_type(c.grid))));
  }
  if (!stablehlo::is_floating(c.type)) throw_no_kernel(op, c.type);
  if (c.interpolation == kBicubic) throw Unsupported(op + ": bicubic interpolation");
  if (c.interpolation != kBilinear && c.interpolation != kNearest) {
    throw InvalidArgument(op + ": unknown interpolation mode " + std::to_string(c.interpolation));
  }
  if (c.padding < kZeros || c.padding > kReflection) {
    throw InvalidArgument(op + ": unknown padding mode " + std::to_string(c.padding));
  }
  if (in[2] == 0 || in[3] == 0) {
    throw InvalidArgument(op +
                          ": expected input to have non-empty spatial dimensions, but input "
                          "has sizes " +
                          b.type(c.input).to_string());
  }
  c.acc = opmath_type(c.type);
  return c;
}

Samples samples(Builder& b, const Call& c) {
  const std::vector<int64_t> g = b.dims(c.grid);
  const int64_t height = b.dims(c.input)[2], width = b.dims(c.input)[3];
  Value grid = b.convert(c.grid, c.acc);
  auto component = [&](int64_t k) {
    return b.reshape(b.slice(grid, {0, 0, 0, k}, {g[0], g[1], g[2], k + 1}), {g[0], g[1], g[2]});
  };
  Samples s;
  s.x = source_coordinate(b, component(0), width, c.padding, c.align_corners);
  s.y = source_coordinate(b, component(1), height, c.padding, c.align_corners);
  if (c.interpolation == kNearest) {
    Value x = b.unary(UnaryOp::kRoundNearestEven, s.x.at);
    Value y = b.unary(UnaryOp::kRoundNearestEven, s.y.at);
    s.corners.push_back(corner(b, y, x, splat_like(b, 1, x), height, width));
    return s;
  }
  Value west = b.unary(UnaryOp::kFloor, s.x.at), north = b.unary(UnaryOp::kFloor, s.y.at);
  Value east = b.add(west, splat_like(b, 1, west)), south = b.add(north, splat_like(b, 1, north));
  Value to_east = b.sub(east, s.x.at), from_west = b.sub(s.x.at, west);
  Value to_south = b.sub(south, s.y.at), from_north = b.sub(s.y.at, north);
  Value one = splat_like(b, 1, west), minus = splat_like(b, -1, west);
  // (y, x, weight, dweight/dx, dweight/dy) per corner: nw, ne, sw, se.
  s.corners.push_back(corner(b, north, west, b.mul(to_east, to_south), height, width));
  s.corners.push_back(corner(b, north, east, b.mul(from_west, to_south), height, width));
  s.corners.push_back(corner(b, south, west, b.mul(to_east, from_north), height, width));
  s.corners.push_back(corner(b, south, east, b.mul(from_west, from_north), height, width));
  s.dweight_dx = {b.mul(minus, to_south), b.mul(one, to_south), b.mul(minus, from_north),
                  from_north};
  s.dweight_dy = {b.mul(minus, to_east), b.mul(minus, from_west), to_east, from_west};
  return s;
}

// The input's values at a corner, zero outside: [N, Ho, Wo, C].
Value corner_values(Builder& b, Value input, const Corner& k) {
  const int64_t channels = b.dims(input)[1];
  Value v = b.gather(input, k.index, corner_gather(), {1, channels, 1, 1});
  Value inside = b.broadcast_in_dim(k.inside, b.dims(v), {0, 1, 2});
  return b.select(inside, v, b.zeros(b.type(v)));
}

Value per_sample(Builder& b, Value v, const std::vector<int64_t>& dims) {
  return b.broadcast_in_dim(v, dims, {0, 1, 2});
}

// grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners)
std::vector<Value> grid_sampler_rule(Builder& b, const OpCall& call) {
  const Call c = read_call(b, call, 0, "grid_sampler_2d");
  Value input = b.convert(c.input, c.acc);
  const Samples s = samples(b, c);
  std::optional<Value> out;
  for (const Corner& k : s.corners) {
    Value v = corner_values(b, input, k);
    Value term = b.mul(v, per_sample(b, k.weight, b.dims(v)));
    out = out ? b.add(*out, term) : term;
  }
  return {b.convert(b.transpose(*out, {0, 3, 1, 2}), c.type)};
}

// grid_sampler_2d_backward(grad_output, input, grid, interpolation_mode,
// padding_mode, align_corners, output_mask) -> (grad_input, grad_grid)
std::vector<Value> grid_sampler_backward_rule(Builder& b, const OpCall& call) {
  const Call c = read_call(b, call, 1, "grid_sampler_2d_backward");
  const std::vector<int64_t> mask = call.ints(6);
  Value input = b.convert(c.input, c.acc);
  Value grad = b.transpose(b.convert(call.tensor(0).value, c.acc), {0, 2, 3, 1});
  const std::vector<int64_t> dims = b.dims(grad);
  const Samples s = samples(b, c);

  Value grad_input = b.zeros(b.type(input));
  if (mask.empty() || mask[0]) {
    stablehlo::ScatterDimensions dn;
    dn.update_window_dims = {3};
    dn.inserted_window_dims = {0, 2, 3};
    dn.scatter_dims_to_operand_dims = {0, 2, 3};
    dn.index_vector_dim = 3;
    for (const Corner& k : s.corners) {
      Value share = b.mul(grad, per_sample(b, k.weight, dims));
      share = b.select(per_sample(b, k.inside, dims), share, b.zeros(b.type(share)));
      grad_input =
          b.scatter(grad_input, k.index, share, dn, [](Builder& r, const std::vector<Value>& args) {
            return std::vector<Value>{r.add(args[0], args[1])};
          });
    }
  }
  const std::vector<int64_t>& g = b.dims(c.grid);
  Value grad_grid = b.zeros(TensorType{c.acc, g});
  if ((mask.size() < 2 || mask[1]) && c.interpolation == kBilinear) {
    Value dx = b.zeros(TensorType{c.acc, {g[0], g[1], g[2]}}), dy = dx;
    for (size_t i = 0; i < s.corners.size(); ++i) {
      Value v = corner_values(b, input, s.corners[i]);
      Value along_c = b.reduce(b.mul(v, grad), b.constant(0, c.acc), {3},
                               [](Builder& r, const std::vector<Value>& args) {
                                 return std::vector<Value>{r.add(args[0], args[1])};
                               });
      dx = b.add(dx, b.mul(along_c, s.dweight_dx[i]));
      dy = b.add(dy, b.mul(along_c, s.dweight_dy[i]));
    }
    const std::vector<int64_t> column{g[0], g[1], g[2], 1};
    grad_grid = b.concatenate(
        {b.reshape(b.mul(dx, s.x.grad), column), b.reshape(b.mul(dy, s.y.grad), column)}, 3);
  }
  return {b.convert(grad_input, c.type), b.convert(grad_grid, c.type)};
}

}  // namespace

void add_grid_sampler_rules(RuleTable& table) {
  table.add("grid_sampler_2d", RuleInfo{&grid_sampler_rule, {}});
  table.add("grid_sampler_2d_backward", RuleInfo{&grid_sampler_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
