// Fractional max pooling over 2 or 3 trailing spatial dims and its backward:
// fractional_max_pool{2,3}d and fractional_max_pool{2,3}d_backward.
//
// The windows are as wide as kernel_size but start at pseudo-random offsets:
// the Python wrapper draws one sample u per (batch, channel, spatial dim)
// (`_random_samples`), and output position i < out - 1 of a dim starts at
// trunc((i + u) * alpha) - trunc(u * alpha), alpha = (in - k) / (out - 1), the
// last one at in - k. CPU computes that in the input's own dtype, rounding
// after every operation (bf16 and f16 too), so the rule does the same and the
// windows, values and indices equal CPU's for the same samples.
//
// The starts are run-time values, so each window is read one tap at a time
// with a gather per spatial dim, one dim after another (the max-pooling pick
// does not depend on the order). The backward scatter-adds the gradient at
// the saved indices in CPU's order and precision.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/max_pick.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::GatherDimensions;
using stablehlo::is_floating;
using stablehlo::ScatterDimensions;

// The names CPU's messages use: the 3-d kernel reports from its out= form.
struct PoolNames {
  size_t spatial;
  std::string op;          // "fractional_max_pool2d"
  std::string check;       // prefix of the shape checks
  std::string backward;    // prefix of the backward's checks
  std::string list_sizes;  // "Ints" / "three Ints"
};

PoolNames names(size_t spatial) {
  if (spatial == 2) {
    return {2, "fractional_max_pool2d", "fractional_max_pool2d()",
            "fractional_max_pool2d_backward()", "Ints"};
  }
  return {3, "fractional_max_pool3d", "fractional_max_pool3d_out()",
          "fractional_max_pool3d_backward_out()", "three Ints"};
}

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

void check_list_sizes(const PoolNames& n, const OpCall& call) {
  if (call.ints(1).size() != n.spatial) {
    throw InvalidArgument(n.op + ": kernel_size must either be a single Int or tuple of " +
                          n.list_sizes);
  }
  if (call.ints(2).size() != n.spatial) {
    throw InvalidArgument(n.op + ": output_size must either be a single Int or tuple of " +
                          n.list_sizes);
  }
}

const char* dim_word(size_t spatial, size_t d) {
  static const char* const planar[] = {"height", "width"};
  static const char* const volumetric[] = {"time", "height", "width"};
  return spatial == 2 ? planar[d] : volumetric[d];
}

// CPU's meta checks of the input, kernel and output sizes, in its order.
void check_geometry(Builder& b, const PoolNames& n, Value input, const std::vector<int64_t>& kernel,
                    const std::vector<int64_t>& out) {
  const std::vector<int64_t>& dims = b.dims(input);
  const auto rank = dims.size();
  if (rank != n.spatial + 1 && rank != n.spatial + 2) {
    throw InvalidArgument(n.check + ": Expected " + std::to_string(n.spatial + 1) + "D or " +
                          std::to_string(n.spatial + 2) + "D tensor, but got: " + shape_text(dims));
  }
  // Dim 0 is left unchecked even when it holds the channels (unbatched).
  for (size_t i = 1; i < rank; ++i) {
    if (dims[i] == 0) {
      throw InvalidArgument(n.check +
                            ": Expected input to have non-zero size for non-batch dimensions, "
                            "but got" +
                            shape_text(dims) + " with dimension " + std::to_string(i) +
                            " being empty.");
    }
  }
  const size_t lead = rank - n.spatial;
  // 2-d allows a window that ends at the input's edge; 3-d does not, and
  // checks time, width, height in that order.
  const std::vector<size_t> order =
      n.spatial == 2 ? std::vector<size_t>{0, 1} : std::vector<size_t>{0, 2, 1};
  for (size_t d : order) {
    const int64_t in = dims[lead + d];
    const int64_t end = out[d] + kernel[d] - 1;
    if (n.spatial == 2 ? end > in : end >= in) {
      throw InvalidArgument(n.check + ": pool " + dim_word(n.spatial, d) + " " +
                            std::to_string(kernel[d]) + " too large relative to input " +
                            dim_word(n.spatial, d) + " " + std::to_string(in));
    }
  }
  std::vector<int64_t> result(dims.begin(), dims.begin() + static_cast<int64_t>(lead));
  result.insert(result.end(), out.begin(), out.end());
  for (int64_t o : out) {
    if (o < 0) {
      throw InvalidArgument("Trying to create tensor with negative dimension " + std::to_string(o) +
                            ": " + shape_text(result));
    }
  }
}

// fractional_max_pool_check_shape: the samples' dtype and (N, C, spatial) shape.
void check_samples(Builder& b, Value input, Value samples, size_t spatial) {
  if (b.element_type(samples) != b.element_type(input)) {
    throw InvalidArgument("Expect _random_samples to have the same dtype as input");
  }
  const std::vector<int64_t>& s = b.dims(samples);
  if (s.size() != 3) {
    throw InvalidArgument("Expect _random_samples to have 3 dimensions, got " +
                          std::to_string(s.size()));
  }
  const std::vector<int64_t>& dims = b.dims(input);
  const bool batched = dims.size() == spatial + 2;
  const int64_t batch = batched ? dims[0] : 1;
  const int64_t channels = batched ? dims[1] : dims[0];
  if (s[0] < batch) {
    throw InvalidArgument("Expect _random_samples.size(0) no less then input batch size.");
  }
  if (s[1] != channels) {
    throw InvalidArgument("Expect _random_samples.size(1) equals to input channel size.");
  }
  if (s[2] != static_cast<int64_t>(spatial)) {
    throw InvalidArgument("Expect _random_samples.size(2) equals to " + std::to_string(spatial) +
                          "; got " + std::to_string(s[2]) + ".");
  }
}

// Arithmetic in `type` as CPU's scalar_t does it: half types compute in f32
// and round back after every operation.
class ScalarArithmetic {
 public:
  ScalarArithmetic(Builder& b, ElementType type)
      : b_(b),
        type_(type),
        compute_(type == ElementType::kBF16 || type == ElementType::kF16 ? ElementType::kF32
                                                                         : type) {}

  ElementType compute() const { return compute_; }
  Value round(Value v) const {
    return compute_ == type_ ? v : b_.convert(b_.convert(v, type_), compute_);
  }
  Value add(Value x, Value y) const { return round(b_.add(x, y)); }
  Value mul(Value x, Value y) const { return round(b_.mul(x, y)); }
  Value div(Value x, Value y) const { return round(b_.div(x, y)); }
  Value from_int(Value v) const { return round(b_.convert(v, compute_)); }
  Value constant(int64_t v, const std::vector<int64_t>& dims) const {
    return round(b_.splat(static_cast<double>(v), TensorType{compute_, dims}));
  }

 private:
  Builder& b_;
  ElementType type_;
  ElementType compute_;
};

// The window starts along one spatial dim for every plane: `sample` has the
// leading (batch, channel) dims; the result appends `out`, as s64.
Value window_starts(Builder& b, Value sample, int64_t in, int64_t out, int64_t kernel) {
  std::vector<int64_t> dims = b.dims(sample);
  const auto lead = static_cast<int64_t>(dims.size());
  dims.push_back(out);
  std::vector<int64_t> last_dims = dims;
  last_dims.back() = 1;
  const Value last =
      b.splat(static_cast<double>(in - kernel), TensorType{ElementType::kS64, last_dims});
  if (out <= 1) return out == 1 ? last : b.zeros(TensorType{ElementType::kS64, dims});
  const ScalarArithmetic s(b, b.element_type(sample));
  std::vector<int64_t> inner = dims;
  inner.back() = out - 1;
  const Value alpha = s.div(s.constant(in - kernel, inner), s.constant(out - 1, inner));
  std::vector<int64_t> mapping(static_cast<size_t>(lead));
  for (int64_t d = 0; d < lead; ++d) mapping[static_cast<size_t>(d)] = d;
  const Value u = b.broadcast_in_dim(b.convert(sample, s.compute()), inner, mapping);
  const Value i = s.from_int(b.iota(TensorType{ElementType::kS64, inner}, lead));
  // static_cast<int>: the fractional part is dropped, toward zero.
  const Value shifted = b.convert(s.mul(s.add(i, u), alpha), ElementType::kS64);
  const Value origin = b.convert(s.mul(u, alpha), ElementType::kS64);
  return b.concatenate({b.sub(shifted, origin), last}, lead);
}

// x with spatial dim `axis` replaced by x[..., at[..., j], ...]: `at` has x's
// leading (batch, channel) dims followed by the picked positions, so every
// plane picks its own.
Value take_per_plane(Builder& b, Value x, int64_t lead, int64_t axis, Value at) {
  const std::vector<int64_t>& at_dims = b.dims(at);
  std::vector<int64_t> column_dims = at_dims;
  column_dims.push_back(1);
  std::vector<Value> columns;
  for (int64_t d = 0; d < lead; ++d) {
    columns.push_back(b.reshape(b.iota(TensorType{ElementType::kS64, at_dims}, d), column_dims));
  }
  columns.push_back(b.reshape(at, column_dims));
  GatherDimensions dn;
  std::vector<int64_t> slice_sizes = b.dims(x);
  for (int64_t d = 0; d < b.rank(x); ++d) {
    if (d < lead || d == axis) {
      dn.collapsed_slice_dims.push_back(d);
      dn.start_index_map.push_back(d);
      slice_sizes[static_cast<size_t>(d)] = 1;
    } else {
      dn.offset_dims.push_back(d);
    }
  }
  dn.index_vector_dim = lead + 1;
  return b.gather(x, b.concatenate(columns, lead + 1), dn, slice_sizes);
}

// fractional_max_pool{2,3}d(self, kernel_size, output_size, random_samples)
// -> (values, flat spatial indices)
std::vector<Value> fractional_max_pool(Builder& b, const OpCall& call, size_t spatial) {
  const PoolNames n = names(spatial);
  const Value input = call.tensor(0).value;
  check_list_sizes(n, call);
  const std::vector<int64_t>& kernel = call.ints(1);
  const std::vector<int64_t>& out = call.ints(2);
  check_geometry(b, n, input, kernel, out);
  const Value samples = call.tensor(3).value;
  check_samples(b, input, samples, spatial);

  const std::vector<int64_t>& in_dims = b.dims(input);
  const auto lead = static_cast<int64_t>(in_dims.size() - spatial);
  std::vector<int64_t> out_dims(in_dims.begin(), in_dims.begin() + lead);
  out_dims.insert(out_dims.end(), out.begin(), out.end());
  const ElementType type = b.element_type(input);
  if (numel(out_dims) == 0) {
    return {b.zeros(TensorType{type, out_dims}), b.zeros(TensorType{ElementType::kS64, out_dims})};
  }
  if (!is_floating(type)) throw_no_kernel(n.op + "_out_frame", type);

  // One sample row per plane: the first batch rows of the samples, laid out
  // like the input's leading dims.
  const std::vector<int64_t> plane_dims(in_dims.begin(), in_dims.begin() + lead);
  const int64_t batch = lead == 2 ? in_dims[0] : 1;
  const std::vector<int64_t>& s = b.dims(samples);
  Value rows = b.slice(samples, {0, 0, 0}, {batch, s[1], s[2]});
  std::vector<int64_t> row_dims = plane_dims;
  row_dims.push_back(static_cast<int64_t>(spatial));
  rows = b.reshape(rows, row_dims);

  std::vector<Value> starts;
  bool empty_window = false;
  for (size_t d = 0; d < spatial; ++d) {
    // 2-d samples are (width, height); 3-d ones (time, height, width).
    const auto slot = static_cast<int64_t>(spatial == 2 ? 1 - d : d);
    std::vector<int64_t> low(row_dims.size(), 0), high = row_dims;
    low.back() = slot;
    high.back() = slot + 1;
    const Value u = b.reshape(b.slice(rows, low, high), plane_dims);
    const int64_t size = in_dims[static_cast<size_t>(lead) + d];
    starts.push_back(window_starts(b, u, size, out[d], kernel[d]));
    empty_window = empty_window || kernel[d] <= 0;
  }

  if (empty_window) {
    // CPU's loop never runs: -inf at the (possibly outside) window start.
    Value index = b.zeros(TensorType{ElementType::kS64, out_dims});
    int64_t stride = 1;
    for (size_t d = spatial; d-- > 0;) {
      std::vector<int64_t> mapping;
      for (int64_t l = 0; l < lead; ++l) mapping.push_back(l);
      mapping.push_back(lead + static_cast<int64_t>(d));
      const Value start = b.broadcast_in_dim(starts[d], out_dims, mapping);
      index = b.add(index, b.mul(start, b.splat(static_cast<double>(stride), b.type(start))));
      stride *= in_dims[static_cast<size_t>(lead) + d];
    }
    return {b.splat(-std::numeric_limits<double>::infinity(), TensorType{type, out_dims}), index};
  }

  for (size_t d = 0; d < spatial; ++d) {
    const int64_t size = in_dims[static_cast<size_t>(lead) + d];
    // CPU asserts that every window lies inside the input (samples outside
    // [0, 1) can move it out); the gathers below would clamp instead.
    call.check_on_device(check_in_range(
        b, starts[d], 0, size - kernel[d] + 1,
        CheckSite{CheckKind::kRuntime, n.op +
                                           "(): a pooling window starts at {}, outside the "
                                           "input " +
                                           std::string(dim_word(spatial, d)) + " " +
                                           std::to_string(size)}));
  }

  Value values = input;
  Value indices = spatial_index(b, in_dims, spatial);
  for (size_t d = 0; d < spatial; ++d) {
    const int64_t axis = lead + static_cast<int64_t>(d);
    Value best_v, best_i;
    for (int64_t j = 0; j < kernel[d]; ++j) {
      const Value at = b.add(starts[d], b.splat(static_cast<double>(j), b.type(starts[d])));
      const Value v = take_per_plane(b, values, lead, axis, at);
      const Value i = take_per_plane(b, indices, lead, axis, at);
      if (j == 0) {
        best_v = v;
        best_i = i;
      } else {
        std::tie(best_v, best_i) = pick_max(b, best_v, best_i, v, i);
      }
    }
    values = best_v;
    indices = best_i;
  }
  return {values, indices};
}

std::vector<Value> fractional_max_pool2d_rule(Builder& b, const OpCall& call) {
  return fractional_max_pool(b, call, 2);
}
std::vector<Value> fractional_max_pool3d_rule(Builder& b, const OpCall& call) {
  return fractional_max_pool(b, call, 3);
}

// fractional_max_pool{2,3}d_backward(grad_output, self, kernel_size,
// output_size, indices): each output's gradient added at its index within its
// plane, one output after another in the input's dtype, as CPU's loop does.
std::vector<Value> fractional_max_pool_backward(Builder& b, const OpCall& call, size_t spatial) {
  const PoolNames n = names(spatial);
  const Value grad = call.tensor(0).value;
  const Value input = call.tensor(1).value;
  const Value indices = call.tensor(4).value;
  const std::vector<int64_t>& out = call.ints(3);
  if (out.size() != spatial) {
    throw InvalidArgument(n.op + ": output_size must either be a single Int or tuple of " +
                          n.list_sizes);
  }
  const std::vector<int64_t>& in_dims = b.dims(input);
  const auto rank = static_cast<int64_t>(in_dims.size());
  // CPU reads the input as batched only at the full rank, and reads its last
  // spatial dim by position.
  const auto needed = static_cast<int64_t>(spatial);
  if (rank <= needed) {
    throw IndexOutOfRange("Dimension out of range (expected to be in range of [" +
                          std::to_string(-rank) + ", " + std::to_string(rank - 1) + "], but got " +
                          std::to_string(needed) + ")");
  }
  if (rank > needed + 2) {
    throw InvalidArgument(n.backward + ": expected a " + std::to_string(spatial + 1) + "D or " +
                          std::to_string(spatial + 2) + "D input, but got " + shape_text(in_dims));
  }
  const int64_t lead = rank - needed;
  std::vector<int64_t> expected(in_dims.begin(), in_dims.begin() + lead);
  expected.insert(expected.end(), out.begin(), out.end());
  const std::vector<int64_t>& grad_dims = b.dims(grad);
  if (spatial == 3 && grad_dims.size() == expected.size()) {
    for (size_t d = 0; d < spatial; ++d) {
      if (grad_dims[static_cast<size_t>(lead) + d] != out[d]) {
        throw InvalidArgument(n.backward + ": gradOutput " + dim_word(spatial, d) + " unexpected");
      }
    }
  }
  if (grad_dims != expected) throw InvalidArgument(n.backward + ": gradOutput sizes unexpected");
  if (b.dims(indices) != expected) throw InvalidArgument(n.backward + ": indices sizes unexpected");
  const ElementType type = b.element_type(input);
  if (!is_floating(type)) throw_no_kernel(n.op + "_backward_out_frame", type);
  auto check_type = [](ElementType want, ElementType got) {
    if (want != got) {
      throw InvalidArgument("expected scalar type " + std::string(scalar_type_name(want)) +
                            " but found " + std::string(scalar_type_name(got)));
    }
  };
  check_type(type, b.element_type(grad));
  check_type(ElementType::kS64, b.element_type(indices));
  if (numel(expected) == 0 || numel(in_dims) == 0) return {b.zeros(b.type(input))};

  int64_t planes = 1, plane = 1;
  for (int64_t d = 0; d < rank; ++d) (d < lead ? planes : plane) *= in_dims[static_cast<size_t>(d)];
  const int64_t outputs = numel(expected) / planes;
  call.check_on_device(check_in_range(
      b, indices, 0, plane,
      CheckSite{CheckKind::kRuntime, n.backward + ": index {} is outside the input plane of " +
                                         std::to_string(plane) + " elements"}));
  const Value rows = b.iota(TensorType{ElementType::kS64, {planes, outputs, 1}}, 0);
  const Value cols = b.reshape(indices, {planes, outputs, 1});
  ScatterDimensions dn;
  dn.inserted_window_dims = {0, 1};
  dn.scatter_dims_to_operand_dims = {0, 1};
  dn.index_vector_dim = 2;
  const Value summed = b.scatter(
      b.zeros(TensorType{type, {planes, plane}}), b.concatenate({rows, cols}, 2),
      b.reshape(grad, {planes, outputs}), dn, [type](Builder& r, const std::vector<Value>& args) {
        const ScalarArithmetic s(r, type);
        const Value sum = s.add(r.convert(args[0], s.compute()), r.convert(args[1], s.compute()));
        return std::vector<Value>{r.convert(sum, type)};
      });
  return {b.reshape(summed, in_dims)};
}

std::vector<Value> fractional_max_pool2d_backward_rule(Builder& b, const OpCall& call) {
  return fractional_max_pool_backward(b, call, 2);
}
std::vector<Value> fractional_max_pool3d_backward_rule(Builder& b, const OpCall& call) {
  return fractional_max_pool_backward(b, call, 3);
}

}  // namespace

void add_fractional_pooling_rules(RuleTable& table) {
  table.add("fractional_max_pool2d", RuleInfo{&fractional_max_pool2d_rule, {}});
  table.add("fractional_max_pool3d", RuleInfo{&fractional_max_pool3d_rule, {}});
  table.add("fractional_max_pool2d_backward", RuleInfo{&fractional_max_pool2d_backward_rule, {}});
  table.add("fractional_max_pool3d_backward", RuleInfo{&fractional_max_pool3d_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
