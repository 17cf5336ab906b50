#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {
namespace {

using detail::fail;
using detail::i64_array;
using detail::list_text;

void check_sizes(std::string_view op, std::string_view what, const std::vector<int64_t>& values,
                 int64_t rank) {
  if (static_cast<int64_t>(values.size()) != rank) {
    fail(op, std::string(what) + " " + list_text(values) + " must have one entry per dimension (" +
                 std::to_string(rank) + ")");
  }
}

// Start indices of dynamic_slice / dynamic_update_slice: one 0-d integer per
// dimension, all of one type.
void check_start_indices(const Builder& b, std::string_view op,
                         const std::vector<Value>& start_indices, int64_t rank) {
  if (static_cast<int64_t>(start_indices.size()) != rank) {
    fail(op,
         std::to_string(start_indices.size()) + " start indices for rank " + std::to_string(rank));
  }
  for (Value v : start_indices) {
    const TensorType& t = b.type(v);
    if (t.rank() != 0 || !is_integral(t.element)) {
      fail(op, "start index " + t.to_string() + " must be a 0-d integer");
    }
    if (t.element != b.element_type(start_indices[0])) {
      fail(op, "start indices must all have one element type");
    }
  }
}

}  // namespace

Value Builder::reshape(Value x, const std::vector<int64_t>& dims) {
  constexpr std::string_view kOp = "stablehlo.reshape";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  if (t.dims == dims) return x;
  TensorType result{t.element, dims};
  for (int64_t d : dims) {
    if (d < 0) fail(kOp, "negative dimension in " + list_text(dims));
  }
  if (result.numel() != t.numel()) {
    fail(kOp, "cannot reshape " + t.to_string() + " to " + list_text(dims));
  }
  return impl_->append1(kOp, {x}, std::move(result));
}

Value Builder::transpose(Value x, const std::vector<int64_t>& permutation) {
  constexpr std::string_view kOp = "stablehlo.transpose";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  check_sizes(kOp, "permutation", permutation, t.rank());
  detail::check_dimensions(kOp, "permutation", permutation, t.rank());
  TensorType result{t.element, {}};
  result.dims.reserve(permutation.size());
  for (int64_t p : permutation) result.dims.push_back(t.dims[p]);
  return impl_->append1(kOp, {x}, std::move(result), "permutation = " + i64_array(permutation));
}

Value Builder::broadcast_in_dim(Value x, const std::vector<int64_t>& dims,
                                const std::vector<int64_t>& broadcast_dimensions) {
  constexpr std::string_view kOp = "stablehlo.broadcast_in_dim";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  check_sizes(kOp, "broadcast_dimensions", broadcast_dimensions, t.rank());
  const auto result_rank = static_cast<int64_t>(dims.size());
  detail::check_dimensions(kOp, "broadcast_dimensions", broadcast_dimensions, result_rank);
  for (int64_t d : dims) {
    if (d < 0) fail(kOp, "negative dimension in " + list_text(dims));
  }
  for (int64_t i = 0; i < t.rank(); ++i) {
    const int64_t size = t.dims[i];
    const int64_t target = dims[broadcast_dimensions[i]];
    if (size != 1 && size != target) {
      fail(kOp, "operand " + t.to_string() + " dimension " + std::to_string(i) + " (size " +
                    std::to_string(size) + ") cannot broadcast to size " + std::to_string(target) +
                    " of " + list_text(dims));
    }
  }
  return impl_->append1(kOp, {x}, {t.element, dims},
                        "broadcast_dimensions = " + i64_array(broadcast_dimensions));
}

Value Builder::slice(Value x, const std::vector<int64_t>& start, const std::vector<int64_t>& limit,
                     const std::vector<int64_t>& strides) {
  constexpr std::string_view kOp = "stablehlo.slice";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  const std::vector<int64_t> steps = strides.empty() ? std::vector<int64_t>(t.rank(), 1) : strides;
  check_sizes(kOp, "start", start, t.rank());
  check_sizes(kOp, "limit", limit, t.rank());
  check_sizes(kOp, "strides", steps, t.rank());
  TensorType result{t.element, {}};
  result.dims.reserve(t.dims.size());
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (start[i] < 0 || start[i] > limit[i] || limit[i] > t.dims[i] || steps[i] < 1) {
      fail(kOp, "invalid slice start " + list_text(start) + " limit " + list_text(limit) +
                    " strides " + list_text(steps) + " of " + t.to_string());
    }
    result.dims.push_back((limit[i] - start[i] + steps[i] - 1) / steps[i]);
  }
  return impl_->append1(kOp, {x}, std::move(result),
                        "start_indices = " + i64_array(start) + ", limit_indices = " +
                            i64_array(limit) + ", strides = " + i64_array(steps));
}

Value Builder::dynamic_slice(Value x, const std::vector<Value>& start_indices,
                             const std::vector<int64_t>& slice_sizes) {
  constexpr std::string_view kOp = "stablehlo.dynamic_slice";
  impl_->check_operand(kOp, x);
  for (Value v : start_indices) impl_->check_operand(kOp, v);
  const TensorType& t = type(x);
  check_start_indices(*this, kOp, start_indices, t.rank());
  check_sizes(kOp, "slice_sizes", slice_sizes, t.rank());
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (slice_sizes[i] < 0 || slice_sizes[i] > t.dims[i]) {
      fail(kOp, "slice_sizes " + list_text(slice_sizes) + " do not fit " + t.to_string());
    }
  }
  std::vector<Value> operands{x};
  operands.insert(operands.end(), start_indices.begin(), start_indices.end());
  return impl_->append1(kOp, operands, {t.element, slice_sizes},
                        "slice_sizes = " + i64_array(slice_sizes));
}

Value Builder::dynamic_update_slice(Value operand, Value update,
                                    const std::vector<Value>& start_indices) {
  constexpr std::string_view kOp = "stablehlo.dynamic_update_slice";
  impl_->check_operand(kOp, operand);
  impl_->check_operand(kOp, update);
  for (Value v : start_indices) impl_->check_operand(kOp, v);
  const TensorType& t = type(operand);
  const TensorType& u = type(update);
  if (u.element != t.element || u.rank() != t.rank()) {
    fail(kOp, "update " + u.to_string() + " does not match operand " + t.to_string());
  }
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (u.dims[i] > t.dims[i]) {
      fail(kOp, "update " + u.to_string() + " is larger than operand " + t.to_string());
    }
  }
  check_start_indices(*this, kOp, start_indices, t.rank());
  std::vector<Value> operands{operand, update};
  operands.insert(operands.end(), start_indices.begin(), start_indices.end());
  return impl_->append1(kOp, operands, t);
}

Value Builder::concatenate(const std::vector<Value>& inputs, int64_t dimension) {
  constexpr std::string_view kOp = "stablehlo.concatenate";
  if (inputs.empty()) fail(kOp, "needs at least one input");
  for (Value v : inputs) impl_->check_operand(kOp, v);
  TensorType result = type(inputs[0]);
  if (dimension < 0 || dimension >= result.rank()) {
    fail(kOp, "dimension " + std::to_string(dimension) + " out of range for " + result.to_string());
  }
  for (size_t i = 1; i < inputs.size(); ++i) {
    const TensorType& t = type(inputs[i]);
    bool fits = t.element == result.element && t.rank() == result.rank();
    for (int64_t d = 0; fits && d < t.rank(); ++d) {
      fits = d == dimension || t.dims[d] == result.dims[d];
    }
    if (!fits) {
      fail(kOp, "input " + t.to_string() + " does not fit " + type(inputs[0]).to_string() +
                    " along dimension " + std::to_string(dimension));
    }
    result.dims[dimension] += t.dims[dimension];
  }
  return impl_->append1(kOp, inputs, std::move(result),
                        "dimension = " + std::to_string(dimension) + " : i64");
}

Value Builder::pad(Value x, Value padding_value, const std::vector<int64_t>& low,
                   const std::vector<int64_t>& high, const std::vector<int64_t>& interior) {
  constexpr std::string_view kOp = "stablehlo.pad";
  impl_->check_operand(kOp, x);
  impl_->check_operand(kOp, padding_value);
  const TensorType& t = type(x);
  const TensorType& p = type(padding_value);
  if (p.rank() != 0 || p.element != t.element) {
    fail(kOp,
         "padding value " + p.to_string() + " must be a 0-d " + std::string(short_name(t.element)));
  }
  const std::vector<int64_t> inner =
      interior.empty() ? std::vector<int64_t>(t.rank(), 0) : interior;
  check_sizes(kOp, "edge_padding_low", low, t.rank());
  check_sizes(kOp, "edge_padding_high", high, t.rank());
  check_sizes(kOp, "interior_padding", inner, t.rank());
  TensorType result{t.element, {}};
  for (int64_t i = 0; i < t.rank(); ++i) {
    const int64_t d = t.dims[i];
    const int64_t size = low[i] + high[i] + d + (d > 0 ? (d - 1) * inner[i] : 0);
    if (inner[i] < 0 || size < 0) {
      fail(kOp, "padding low " + list_text(low) + " high " + list_text(high) + " interior " +
                    list_text(inner) + " is invalid for " + t.to_string());
    }
    result.dims.push_back(size);
  }
  return impl_->append1(kOp, {x, padding_value}, std::move(result),
                        "edge_padding_low = " + i64_array(low) + ", edge_padding_high = " +
                            i64_array(high) + ", interior_padding = " + i64_array(inner));
}

Value Builder::reverse(Value x, const std::vector<int64_t>& dimensions) {
  constexpr std::string_view kOp = "stablehlo.reverse";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  detail::check_dimensions(kOp, "dimensions", dimensions, t.rank());
  return impl_->append1(kOp, {x}, t, "dimensions = " + i64_array(dimensions));
}

}  // namespace torch_pjrt::stablehlo
