// Window ops besides reduce_window: convolution and select_and_scatter.

#include <algorithm>

#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {
namespace {

using detail::fail;
using detail::i64_array;
using detail::list_text;

// Output size of one windowed dimension, as stablehlo's shape functions
// compute it.
int64_t window_output_size(int64_t input, int64_t window, int64_t stride, int64_t base_dilation,
                           int64_t window_dilation, std::pair<int64_t, int64_t> pad) {
  const int64_t dilated_input = input == 0 ? 0 : (input - 1) * base_dilation + 1;
  const int64_t padded = dilated_input + pad.first + pad.second;
  const int64_t dilated_window = (window - 1) * window_dilation + 1;
  return padded < dilated_window ? 0 : (padded - dilated_window) / stride + 1;
}

// One label per dimension of a tensor, as #stablehlo.conv's compact form
// writes a layout: "[b, f, 0, 1]".
std::string layout(int64_t rank, int64_t first, char first_label, int64_t second, char second_label,
                   const std::vector<int64_t>& spatial) {
  std::vector<std::string> labels(static_cast<size_t>(rank));
  labels[first] = first_label;
  labels[second] = second_label;
  for (size_t i = 0; i < spatial.size(); ++i) labels[spatial[i]] = std::to_string(i);
  std::string out = "[";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += labels[i];
  }
  out += ']';
  return out;
}

std::vector<int64_t> or_fill(const std::vector<int64_t>& v, size_t n, int64_t fill) {
  return v.empty() ? std::vector<int64_t>(n, fill) : v;
}

}  // namespace

Value Builder::convolution(Value lhs, Value rhs, const ConvDimensions& dimensions,
                           const std::vector<int64_t>& window_strides,
                           const std::vector<std::pair<int64_t, int64_t>>& padding,
                           const std::vector<int64_t>& lhs_dilation,
                           const std::vector<int64_t>& rhs_dilation, int64_t feature_group_count,
                           int64_t batch_group_count, std::optional<ElementType> result_type,
                           Precision precision) {
  constexpr std::string_view kOp = "stablehlo.convolution";
  impl_->check_operand(kOp, lhs);
  impl_->check_operand(kOp, rhs);
  const TensorType& in = type(lhs);
  const TensorType& k = type(rhs);
  const ConvDimensions& d = dimensions;
  if (in.element != k.element) {
    fail(kOp,
         "operands must have one element type, got " + in.to_string() + " and " + k.to_string());
  }
  const size_t spatial = d.input_spatial_dimensions.size();
  if (in.rank() != static_cast<int64_t>(spatial) + 2 || k.rank() != in.rank() ||
      d.kernel_spatial_dimensions.size() != spatial ||
      d.output_spatial_dimensions.size() != spatial) {
    fail(kOp, "input " + in.to_string() + " and kernel " + k.to_string() +
                  " must have rank 2 + the number of spatial dimensions (" +
                  std::to_string(spatial) + ") listed for input, kernel and output");
  }
  auto check_layout = [&](std::string_view what, int64_t a, int64_t b,
                          const std::vector<int64_t>& s) {
    std::vector<int64_t> all{a, b};
    all.insert(all.end(), s.begin(), s.end());
    detail::check_dimensions(kOp, std::string(what) + " dimensions", all, in.rank());
  };
  check_layout("input", d.input_batch_dimension, d.input_feature_dimension,
               d.input_spatial_dimensions);
  check_layout("kernel", d.kernel_input_feature_dimension, d.kernel_output_feature_dimension,
               d.kernel_spatial_dimensions);
  check_layout("output", d.output_batch_dimension, d.output_feature_dimension,
               d.output_spatial_dimensions);
  const std::vector<int64_t> strides = or_fill(window_strides, spatial, 1);
  const std::vector<int64_t> lhs_dil = or_fill(lhs_dilation, spatial, 1);
  const std::vector<int64_t> rhs_dil = or_fill(rhs_dilation, spatial, 1);
  const std::vector<std::pair<int64_t, int64_t>> pads =
      padding.empty() ? std::vector<std::pair<int64_t, int64_t>>(spatial, {0, 0}) : padding;
  if (strides.size() != spatial || lhs_dil.size() != spatial || rhs_dil.size() != spatial ||
      pads.size() != spatial) {
    fail(kOp,
         "window_strides, padding, lhs_dilation and rhs_dilation need one entry per "
         "spatial dimension (" +
             std::to_string(spatial) + ")");
  }
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || lhs_dil[i] < 1 || rhs_dil[i] < 1) {
      fail(kOp, "strides " + list_text(strides) + " and dilations must be positive");
    }
  }
  const int64_t batch = in.dims[d.input_batch_dimension];
  const int64_t in_features = in.dims[d.input_feature_dimension];
  const int64_t kernel_in = k.dims[d.kernel_input_feature_dimension];
  const int64_t kernel_out = k.dims[d.kernel_output_feature_dimension];
  if (feature_group_count < 1 || batch_group_count < 1 ||
      (feature_group_count > 1 && batch_group_count > 1)) {
    fail(kOp, "feature_group_count and batch_group_count must be >= 1 and not both > 1");
  }
  if (in_features != kernel_in * feature_group_count) {
    fail(kOp, "input features (" + std::to_string(in_features) + ") must be kernel input " +
                  "features (" + std::to_string(kernel_in) + ") * feature_group_count (" +
                  std::to_string(feature_group_count) + ")");
  }
  if (kernel_out % feature_group_count != 0 || kernel_out % batch_group_count != 0 ||
      batch % batch_group_count != 0) {
    fail(kOp, "kernel output features (" + std::to_string(kernel_out) + ") and batch (" +
                  std::to_string(batch) + ") must divide by the group counts");
  }
  TensorType result{result_type.value_or(in.element), std::vector<int64_t>(in.dims.size())};
  result.dims[d.output_batch_dimension] = batch / batch_group_count;
  result.dims[d.output_feature_dimension] = kernel_out;
  for (size_t i = 0; i < spatial; ++i) {
    result.dims[d.output_spatial_dimensions[i]] = window_output_size(
        in.dims[d.input_spatial_dimensions[i]], k.dims[d.kernel_spatial_dimensions[i]], strides[i],
        lhs_dil[i], rhs_dil[i], pads[i]);
  }
  std::string attr = "dimension_numbers = #stablehlo.conv<";
  attr += layout(in.rank(), d.input_batch_dimension, 'b', d.input_feature_dimension, 'f',
                 d.input_spatial_dimensions);
  attr += 'x';
  attr += layout(k.rank(), d.kernel_input_feature_dimension, 'i', d.kernel_output_feature_dimension,
                 'o', d.kernel_spatial_dimensions);
  attr += "->";
  attr += layout(in.rank(), d.output_batch_dimension, 'b', d.output_feature_dimension, 'f',
                 d.output_spatial_dimensions);
  attr += ">, window_strides = " + i64_array(strides) +
          ", padding = " + detail::padding_attribute(pads) +
          ", lhs_dilation = " + i64_array(lhs_dil) + ", rhs_dilation = " + i64_array(rhs_dil) +
          ", feature_group_count = " + std::to_string(feature_group_count) +
          " : i64, batch_group_count = " + std::to_string(batch_group_count) + " : i64";
  detail::append_precision(attr, precision);
  return impl_->append1(kOp, {lhs, rhs}, std::move(result), std::move(attr));
}

Value Builder::select_and_scatter(Value operand, Value source, Value init,
                                  const std::vector<int64_t>& window_dimensions,
                                  const std::vector<int64_t>& window_strides,
                                  const std::vector<std::pair<int64_t, int64_t>>& padding,
                                  const RegionBody& select, const RegionBody& scatter) {
  constexpr std::string_view kOp = "stablehlo.select_and_scatter";
  impl_->check_operand(kOp, operand);
  impl_->check_operand(kOp, source);
  impl_->check_operand(kOp, init);
  const TensorType& t = type(operand);
  const TensorType& src = type(source);
  const TensorType& i = type(init);
  const auto rank = static_cast<size_t>(t.rank());
  if (i.rank() != 0 || i.element != t.element || src.element != t.element) {
    fail(kOp, "source " + src.to_string() + " and 0-d init " + i.to_string() +
                  " must have the element type of " + t.to_string());
  }
  const std::vector<int64_t> strides = or_fill(window_strides, rank, 1);
  const std::vector<std::pair<int64_t, int64_t>> pads =
      padding.empty() ? std::vector<std::pair<int64_t, int64_t>>(rank, {0, 0}) : padding;
  if (window_dimensions.size() != rank || strides.size() != rank || pads.size() != rank) {
    fail(kOp, "window_dimensions, window_strides and padding need one entry per dimension (" +
                  std::to_string(rank) + ")");
  }
  std::vector<int64_t> windows;
  for (size_t d = 0; d < rank; ++d) {
    if (window_dimensions[d] < 1 || strides[d] < 1) {
      fail(kOp, "window " + list_text(window_dimensions) + " and strides must be positive");
    }
    windows.push_back(
        window_output_size(t.dims[d], window_dimensions[d], strides[d], 1, 1, pads[d]));
  }
  if (windows != src.dims) {
    fail(kOp,
         "source " + src.to_string() + " must have one element per window " + list_text(windows));
  }
  const TensorType scalar = detail::scalar(t.element);
  std::vector<Block> regions;
  regions.push_back(impl_->build_region(*this, kOp, {scalar, scalar}, select));
  detail::check_region_yields(*this, kOp, regions[0], {detail::scalar(ElementType::kPred)});
  regions.push_back(impl_->build_region(*this, kOp, {scalar, scalar}, scatter));
  detail::check_region_yields(*this, kOp, regions[1], {scalar});
  std::string attr = "window_dimensions = " + i64_array(window_dimensions) +
                     ", window_strides = " + i64_array(strides) +
                     ", padding = " + detail::padding_attribute(pads);
  return impl_->append(kOp, {operand, source, init}, {t}, std::move(attr), std::move(regions))[0];
}

}  // namespace torch_pjrt::stablehlo
