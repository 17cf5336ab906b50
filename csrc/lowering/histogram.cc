// histogram (bin count or bin edges) and histogramdd's pieces
// (_histogramdd_bin_edges, _histogramdd_from_bin_cts,
// _histogramdd_from_bin_tensors).
//
// Everything stays on the device: the data's range (when none is given), the
// evenly spaced edges, and the bin of every point. CPU finds the bin of a
// point among evenly spaced edges by (x - first) * bins / (last - first),
// then corrects it against the neighbouring edges; among given edges it
// searches them all. Both are reproduced, so a point on an edge lands where
// CPU puts it; the last bin also holds its right edge, and points outside
// the edges (or NaN) are dropped. A data range that is not finite cannot be
// reported from here (CPU raises; it would need a device-side check), so
// such data gives NaN edges instead, as histc does.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/nan_extremum.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

std::optional<std::vector<double>> optional_doubles(const OpCall& call, size_t i) {
  if (i >= call.size() || call.is_none(i)) return std::nullopt;
  if (const auto* values = std::get_if<std::vector<double>>(&call.args[i])) return *values;
  throw InvalidArgument("torch.histogramdd: range must be a list of floats");
}

Value s64_splat(Builder& b, int64_t value, const std::vector<int64_t>& dims) {
  return b.splat(static_cast<double>(value), TensorType{ElementType::kS64, dims});
}

// edges[k] for each k of the s64 vector `index` (clamped into range).
Value gather_edges(Builder& b, Value edges, Value index) {
  const int64_t count = b.dims(index)[0];
  const int64_t last = b.dims(edges)[0] - 1;
  index = b.clamp(s64_splat(b, 0, {count}), index, s64_splat(b, last, {count}));
  stablehlo::GatherDimensions dn;
  dn.collapsed_slice_dims = {0};
  dn.start_index_map = {0};
  dn.index_vector_dim = 1;
  return b.gather(edges, b.reshape(index, {count, 1}), dn, {1});
}

Value element(Builder& b, Value vector, int64_t i) {
  return b.reshape(b.slice(vector, {i}, {i + 1}, {1}), {});
}

// The validated inputs of one histogramdd call: points as [N, D].
struct Points {
  Value points;
  int64_t count = 0, dims = 0;
  ElementType type = ElementType::kF32;
  std::optional<Value> weight;  // [N]
};

Points read_points(Builder& b, const OpCall& call, size_t weight_at, bool one_dimensional) {
  Value input = call.tensor(0).value;
  Points p;
  p.type = b.element_type(input);
  if (p.type != ElementType::kF32 && p.type != ElementType::kF64) {
    throw_no_kernel("histogramdd", p.type);
  }
  std::vector<int64_t> shape = b.dims(input);
  if (one_dimensional) {
    shape = {b.type(input).numel(), 1};
  } else if (shape.empty()) {
    throw InvalidArgument("torch.histogramdd: input tensor should have at least 1 dimension");
  }
  p.dims = shape.back();
  p.count = p.dims == 0 ? 0 : b.type(input).numel() / p.dims;
  p.points = b.reshape(input, {p.count, p.dims});
  const std::optional<TensorArg> weight = call.optional_tensor(weight_at);
  if (weight) {
    const std::vector<int64_t> expected(shape.begin(), shape.end() - 1);
    const std::vector<int64_t>& got = b.dims(weight->value);
    const bool fits = one_dimensional ? b.type(weight->value).numel() == p.count : got == expected;
    if (!fits) {
      throw InvalidArgument(
          "torch.histogramdd: if weight tensor is provided it should have the same shape as the "
          "input tensor excluding its innermost dimension, but got input with shape " +
          shape_text(shape) + " and weight with shape " + shape_text(got));
    }
    if (b.element_type(weight->value) != p.type) {
      throw InvalidArgument(
          "torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
          "should have the same dtype, but got input(" +
          std::string(type_meta_name(p.type)) + "), and weight(" +
          std::string(type_meta_name(b.element_type(weight->value))) + ")");
    }
    p.weight = b.reshape(weight->value, {p.count});
  }
  return p;
}

Value column(Builder& b, const Points& p, int64_t d) {
  return b.reshape(b.slice(p.points, {0, d}, {p.count, d + 1}, {1, 1}), {p.count});
}

void check_bin_counts(const std::vector<int64_t>& bins, int64_t dims) {
  if (static_cast<int64_t>(bins.size()) != dims) {
    throw InvalidArgument(
        "histogramdd: The size of bins must be equal to the innermost dimension of the input.");
  }
  for (size_t d = 0; d < bins.size(); ++d) {
    if (bins[d] <= 0) {
      throw InvalidArgument("torch.histogram(): bins must be > 0, but got " +
                            std::to_string(bins[d]) + " for dimension " + std::to_string(d));
    }
  }
}

// `bins + 1` evenly spaced edges per dim over the given range, else over the
// data's (0..1 for no data); an empty range widens by a half each way. The
// ramp is linspace's: up from the first edge, then down from the last.
std::vector<Value> even_edges(Builder& b, const Points& p, const std::vector<int64_t>& bins,
                              const std::optional<std::vector<double>>& range) {
  check_bin_counts(bins, p.dims);
  if (range && static_cast<int64_t>(range->size()) != 2 * p.dims) {
    throw InvalidArgument("torch.histogramdd: for a " + std::to_string(p.dims) +
                          "-dimensional histogram range should have " + std::to_string(2 * p.dims) +
                          " elements, but got " + std::to_string(range->size()));
  }
  std::vector<Value> edges;
  for (int64_t d = 0; d < p.dims; ++d) {
    Value low, high;
    if (range) {
      const double lo = (*range)[2 * d], hi = (*range)[2 * d + 1];
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        throw InvalidArgument("torch.histogramdd: dimension " + std::to_string(d) + "'s range [" +
                              format_double(lo) + ", " + format_double(hi) + "] is not finite");
      }
      if (lo > hi) {
        throw InvalidArgument("torch.histogramdd: min should not exceed max, but got min " +
                              format_double(lo) + " max " + format_double(hi) + " for dimension " +
                              std::to_string(d));
      }
      low = b.constant(lo, p.type);
      high = b.constant(hi, p.type);
    } else if (p.count == 0) {
      low = b.constant(0.0, p.type);
      high = b.constant(1.0, p.type);
    } else {
      Value x = column(b, p, d);
      auto extreme = [&](BinaryOp op, double init) {
        return b.reduce(x, b.constant(init, p.type), {0},
                        [op](Builder& r, const std::vector<Value>& a) {
                          return std::vector<Value>{nan_propagating(r, op, a[0], a[1])};
                        });
      };
      low = extreme(BinaryOp::kMinimum, INFINITY);
      high = extreme(BinaryOp::kMaximum, -INFINITY);
    }
    Value same = b.compare(ComparisonDirection::kEQ, low, high);
    Value half = b.constant(0.5, p.type);
    low = b.select(same, b.sub(low, half), low);
    high = b.select(same, b.add(high, half), high);

    const int64_t steps = bins[static_cast<size_t>(d)] + 1;
    const TensorType ramp{p.type, {steps}};
    Value index = b.iota(TensorType{ElementType::kS64, {steps}}, 0);
    Value from_end = b.sub(s64_splat(b, steps - 1, {steps}), index);
    Value low_all = b.broadcast_in_dim(low, {steps}, {});
    Value high_all = b.broadcast_in_dim(high, {steps}, {});
    Value step = b.div(b.sub(high_all, low_all), b.splat(static_cast<double>(steps - 1), ramp));
    Value up = b.add(low_all, b.mul(step, b.convert(index, p.type)));
    Value down = b.sub(high_all, b.mul(step, b.convert(from_end, p.type)));
    edges.push_back(b.select(
        b.compare(ComparisonDirection::kLT, index, s64_splat(b, steps / 2, {steps})), up, down));
  }
  return edges;
}

std::vector<Value> given_edges(Builder& b, const Points& p, const std::vector<TensorArg>& bins) {
  if (static_cast<int64_t>(bins.size()) != p.dims) {
    throw InvalidArgument(
        "histogramdd: The size of bins must be equal to the innermost dimension of the input.");
  }
  std::vector<Value> edges;
  for (size_t d = 0; d < bins.size(); ++d) {
    const Value e = bins[d].value;
    if (b.element_type(e) != p.type) {
      throw InvalidArgument(
          "torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
          "input with dtype " +
          std::string(type_meta_name(p.type)) + " and bins for dimension " + std::to_string(d) +
          " with dtype " + std::string(type_meta_name(b.element_type(e))));
    }
    if (b.rank(e) != 1) {
      throw InvalidArgument("torch.histogramdd: bins tensor should have one dimension, but got " +
                            std::to_string(b.rank(e)) +
                            " dimensions in the bins tensor for dimension " + std::to_string(d));
    }
    if (b.dims(e)[0] == 0) {
      throw InvalidArgument(
          "torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in "
          "the bins tensor for dimension " +
          std::to_string(d));
    }
    edges.push_back(e);
  }
  return edges;
}

// The histogram of the points over `edges` (one vector per dim); `evenly`
// says the edges are a linspace (CPU then divides instead of searching).
Value bin_points(Builder& b, const Points& p, const std::vector<Value>& edges, bool evenly,
                 bool density) {
  std::vector<int64_t> shape;
  int64_t cells = 1;
  for (const Value& e : edges) {
    shape.push_back(std::max<int64_t>(b.dims(e)[0] - 1, 0));
    cells *= shape.back();
  }
  Value hist = b.zeros(TensorType{p.type, shape});
  if (cells == 0) return hist;
  if (p.count > 0) {
    const std::vector<int64_t> n{p.count};
    Value inside = b.splat(1.0, TensorType{ElementType::kPred, n});
    Value cell = s64_splat(b, 0, n);
    int64_t stride = cells;
    for (size_t d = 0; d < edges.size(); ++d) {
      const Value e = edges[d];
      const int64_t count = b.dims(e)[0];
      stride /= shape[d];
      Value x = column(b, p, static_cast<int64_t>(d));
      Value first = b.broadcast_in_dim(element(b, e, 0), n, {});
      Value last = b.broadcast_in_dim(element(b, e, count - 1), n, {});
      inside = b.binary(BinaryOp::kAnd, inside,
                        b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kGE, x, first),
                                 b.compare(ComparisonDirection::kLE, x, last)));
      Value pos;
      if (evenly) {
        // The division's guess, then the edges at guess-1..guess+1 decide:
        // the bin is the last of them that is <= x.
        Value scaled =
            b.div(b.mul(b.sub(x, first), b.splat(static_cast<double>(count - 1), b.type(x))),
                  b.sub(last, first));
        Value guess = b.clamp(s64_splat(b, 0, n), b.convert(scaled, ElementType::kS64),
                              s64_splat(b, count - 1, n));
        Value low = b.max(s64_splat(b, 0, n), b.sub(guess, s64_splat(b, 1, n)));
        Value high = b.min(b.add(guess, s64_splat(b, 2, n)), s64_splat(b, count, n));
        pos = b.sub(low, s64_splat(b, 1, n));
        for (int64_t k = 0; k < 3; ++k) {
          Value at = b.add(low, s64_splat(b, k, n));
          Value counts = b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kLT, at, high),
                                  b.compare(ComparisonDirection::kLE, gather_edges(b, e, at), x));
          pos = b.add(pos, b.convert(counts, ElementType::kS64));
        }
      } else {
        // upper_bound over all edges: how many are <= x.
        const std::vector<int64_t> grid{p.count, count};
        Value below = b.compare(ComparisonDirection::kLE, b.broadcast_in_dim(e, grid, {1}),
                                b.broadcast_in_dim(x, grid, {0}));
        pos = b.sub(
            b.reduce(b.convert(below, ElementType::kS64), b.constant_int(0, ElementType::kS64), {1},
                     [](Builder& r, const std::vector<Value>& a) {
                       return std::vector<Value>{r.add(a[0], a[1])};
                     }),
            s64_splat(b, 1, n));
      }
      // The last bin holds its right edge.
      pos = b.min(pos, s64_splat(b, count - 2, n));
      cell = b.add(cell, b.mul(pos, s64_splat(b, stride, n)));
    }
    // Points outside go to one extra cell that is cut off.
    cell = b.select(inside, cell, s64_splat(b, cells, n));
    Value updates = p.weight ? *p.weight : b.splat(1.0, TensorType{p.type, n});
    stablehlo::ScatterDimensions s;
    s.inserted_window_dims = {0};
    s.scatter_dims_to_operand_dims = {0};
    s.index_vector_dim = 1;
    Value flat = b.scatter(b.zeros(TensorType{p.type, {cells + 1}}), b.reshape(cell, {p.count, 1}),
                           updates, s, [](Builder& r, const std::vector<Value>& a) {
                             return std::vector<Value>{r.add(a[0], a[1])};
                           });
    hist = b.reshape(b.slice(flat, {0}, {cells}, {1}), shape);
  }
  if (!density) return hist;
  // Divided by the total, then by each bin's width along every dim.
  Value total = b.reduce(
      hist, b.constant(0.0, p.type),
      [&] {
        std::vector<int64_t> all(shape.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
        return all;
      }(),
      [](Builder& r, const std::vector<Value>& a) {
        return std::vector<Value>{r.add(a[0], a[1])};
      });
  hist = b.div(hist, b.broadcast_in_dim(total, shape, {}));
  for (size_t d = 0; d < edges.size(); ++d) {
    const int64_t bins_d = shape[d];
    Value width =
        b.sub(b.slice(edges[d], {1}, {bins_d + 1}, {1}), b.slice(edges[d], {0}, {bins_d}, {1}));
    hist = b.div(hist, b.broadcast_in_dim(width, shape, {static_cast<int64_t>(d)}));
  }
  return hist;
}

// histogram.bin_ct(self, bins, *, range, weight, density) and
// histogram.bins_tensor(self, bins, *, weight, density): (hist, bin_edges).
std::vector<Value> histogram_rule(Builder& b, const OpCall& call) {
  const bool edges_given = std::holds_alternative<TensorArg>(call.args[1]);
  const size_t weight_at = edges_given ? 2 : 3;
  const Points p = read_points(b, call, weight_at, true);
  const bool density = call.bool_at(weight_at + 1);
  if (edges_given) {
    const std::vector<Value> edges = given_edges(b, p, {call.tensor(1)});
    return {bin_points(b, p, edges, false, density), edges[0]};
  }
  const std::vector<Value> edges = even_edges(b, p, {call.int_at(1)}, optional_doubles(call, 2));
  return {bin_points(b, p, edges, true, density), edges[0]};
}

// _histogramdd_bin_edges(self, bins, *, range, weight, density)
std::vector<Value> histogramdd_bin_edges_rule(Builder& b, const OpCall& call) {
  const Points p = read_points(b, call, 3, false);
  return even_edges(b, p, call.ints(1), optional_doubles(call, 2));
}

// _histogramdd_from_bin_cts(self, bins, *, range, weight, density)
std::vector<Value> histogramdd_from_bin_cts_rule(Builder& b, const OpCall& call) {
  const Points p = read_points(b, call, 3, false);
  const std::vector<Value> edges = even_edges(b, p, call.ints(1), optional_doubles(call, 2));
  return {bin_points(b, p, edges, true, call.bool_at(4))};
}

// _histogramdd_from_bin_tensors(self, bins, *, weight, density)
std::vector<Value> histogramdd_from_bin_tensors_rule(Builder& b, const OpCall& call) {
  const Points p = read_points(b, call, 2, false);
  const std::vector<Value> edges = given_edges(b, p, call.tensors(1));
  return {bin_points(b, p, edges, false, call.bool_at(3))};
}

}  // namespace

void add_histogram_rules(RuleTable& table) {
  table.add("histogram", RuleInfo{&histogram_rule, {}});
  table.add("_histogramdd_bin_edges", RuleInfo{&histogramdd_bin_edges_rule, {}});
  table.add("_histogramdd_from_bin_cts", RuleInfo{&histogramdd_from_bin_cts_rule, {}});
  table.add("_histogramdd_from_bin_tensors", RuleInfo{&histogramdd_from_bin_tensors_rule, {}});
}

}  // namespace torch_pjrt::lowering
