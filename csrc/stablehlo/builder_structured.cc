#include <algorithm>

#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {
namespace {

using detail::fail;
using detail::i64_array;
using detail::list_text;
using detail::scalar;

bool contains(const std::vector<int64_t>& values, int64_t v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

void check_sorted(std::string_view op, std::string_view what, const std::vector<int64_t>& dims) {
  if (!std::is_sorted(dims.begin(), dims.end())) {
    fail(op, std::string(what) + " " + list_text(dims) + " must be sorted");
  }
}

// The attribute's pretty struct form: "name = [1, 2]" fields, empty ones left
// out (they are optional in the parser and differ across StableHLO versions).
void append_field(std::string& out, std::string_view name, const std::vector<int64_t>& values) {
  if (values.empty()) return;
  if (out.back() != '<') out += ", ";
  out += name;
  out += " = ";
  out += list_text(values);
}

// Inputs and 0-d inits of reduce / reduce_window: N of each, inputs of one
// shape, init i of input i's element type.
void check_inputs_and_inits(const Builder& b, std::string_view op, const std::vector<Value>& inputs,
                            const std::vector<Value>& inits) {
  if (inputs.empty() || inputs.size() != inits.size()) {
    fail(op, "needs as many inits as inputs (at least one), got " + std::to_string(inputs.size()) +
                 " inputs and " + std::to_string(inits.size()) + " inits");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& in = b.type(inputs[i]);
    const TensorType& init = b.type(inits[i]);
    if (in.dims != b.dims(inputs[0])) {
      fail(op, "inputs must have one shape, got " + b.type(inputs[0]).to_string() + " and " +
                   in.to_string());
    }
    if (init.rank() != 0 || init.element != in.element) {
      fail(op, "init " + init.to_string() + " must be a 0-d " +
                   std::string(short_name(in.element)) + " for input " + in.to_string());
    }
  }
}

std::vector<TensorType> accumulator_types(const Builder& b, const std::vector<Value>& inits) {
  std::vector<TensorType> types;
  for (Value v : inits) types.push_back(b.type(v));
  return types;
}

}  // namespace

std::vector<Value> Builder::reduce(const std::vector<Value>& inputs,
                                   const std::vector<Value>& inits,
                                   const std::vector<int64_t>& dimensions, const RegionBody& body) {
  constexpr std::string_view kOp = "stablehlo.reduce";
  impl_->check_open(kOp);
  for (Value v : inputs) impl_->check_operand(kOp, v);
  for (Value v : inits) impl_->check_operand(kOp, v);
  check_inputs_and_inits(*this, kOp, inputs, inits);
  const TensorType& in = type(inputs[0]);
  detail::check_dimensions(kOp, "dimensions", dimensions, in.rank());
  std::vector<int64_t> kept;
  for (int64_t d = 0; d < in.rank(); ++d) {
    if (!contains(dimensions, d)) kept.push_back(in.dims[d]);
  }
  std::vector<TensorType> acc = accumulator_types(*this, inits);
  std::vector<TensorType> args = acc;
  args.insert(args.end(), acc.begin(), acc.end());
  std::vector<Block> regions;
  regions.push_back(impl_->build_region(*this, kOp, args, body));
  detail::check_region_yields(*this, kOp, regions[0], acc);
  std::vector<TensorType> results;
  for (const TensorType& t : acc) results.push_back({t.element, kept});
  std::vector<Value> operands = inputs;
  operands.insert(operands.end(), inits.begin(), inits.end());
  return impl_->append(kOp, operands, results, "dimensions = " + i64_array(dimensions),
                       std::move(regions));
}

std::vector<Value> Builder::reduce_window(
    const std::vector<Value>& inputs, const std::vector<Value>& inits,
    const std::vector<int64_t>& window_dimensions, const std::vector<int64_t>& window_strides,
    const std::vector<int64_t>& base_dilations, const std::vector<int64_t>& window_dilations,
    const std::vector<std::pair<int64_t, int64_t>>& padding, const RegionBody& body) {
  constexpr std::string_view kOp = "stablehlo.reduce_window";
  impl_->check_open(kOp);
  for (Value v : inputs) impl_->check_operand(kOp, v);
  for (Value v : inits) impl_->check_operand(kOp, v);
  check_inputs_and_inits(*this, kOp, inputs, inits);
  const TensorType& in = type(inputs[0]);
  const auto rank = static_cast<size_t>(in.rank());
  if (rank == 0) fail(kOp, "inputs must have rank >= 1");
  auto or_ones = [&](const std::vector<int64_t>& v) {
    return v.empty() ? std::vector<int64_t>(rank, 1) : v;
  };
  const std::vector<int64_t> strides = or_ones(window_strides);
  const std::vector<int64_t> base = or_ones(base_dilations);
  const std::vector<int64_t> dilations = or_ones(window_dilations);
  std::vector<std::pair<int64_t, int64_t>> pads =
      padding.empty() ? std::vector<std::pair<int64_t, int64_t>>(rank, {0, 0}) : padding;
  if (window_dimensions.size() != rank || strides.size() != rank || base.size() != rank ||
      dilations.size() != rank || pads.size() != rank) {
    fail(kOp,
         "window_dimensions, window_strides, base_dilations, window_dilations and padding "
         "need one entry per dimension (" +
             std::to_string(rank) + ")");
  }
  std::vector<int64_t> out_dims;
  for (size_t i = 0; i < rank; ++i) {
    if (window_dimensions[i] < 1 || strides[i] < 1 || base[i] < 1 || dilations[i] < 1) {
      fail(kOp, "window " + list_text(window_dimensions) + ", strides " + list_text(strides) +
                    " and dilations must be positive");
    }
    const int64_t dilated_input = in.dims[i] == 0 ? 0 : (in.dims[i] - 1) * base[i] + 1;
    const int64_t padded = dilated_input + pads[i].first + pads[i].second;
    const int64_t dilated_window = (window_dimensions[i] - 1) * dilations[i] + 1;
    out_dims.push_back(padded < dilated_window ? 0 : (padded - dilated_window) / strides[i] + 1);
  }
  std::vector<TensorType> acc = accumulator_types(*this, inits);
  std::vector<TensorType> args = acc;
  args.insert(args.end(), acc.begin(), acc.end());
  std::vector<Block> regions;
  regions.push_back(impl_->build_region(*this, kOp, args, body));
  detail::check_region_yields(*this, kOp, regions[0], acc);
  std::vector<TensorType> results;
  for (const TensorType& t : acc) results.push_back({t.element, out_dims});

  std::string attr = "window_dimensions = " + i64_array(window_dimensions) +
                     ", window_strides = " + i64_array(strides) +
                     ", base_dilations = " + i64_array(base) +
                     ", window_dilations = " + i64_array(dilations) +
                     ", padding = " + detail::padding_attribute(pads);
  std::vector<Value> operands = inputs;
  operands.insert(operands.end(), inits.begin(), inits.end());
  return impl_->append(kOp, operands, results, std::move(attr), std::move(regions));
}

Value Builder::dot_general(Value lhs, Value rhs, const DotDimensions& dimensions,
                           std::optional<ElementType> result_type, Precision precision) {
  constexpr std::string_view kOp = "stablehlo.dot_general";
  impl_->check_operand(kOp, lhs);
  impl_->check_operand(kOp, rhs);
  const TensorType& a = type(lhs);
  const TensorType& b = type(rhs);
  if (a.element != b.element) {
    fail(kOp,
         "operands must have one element type, got " + a.to_string() + " and " + b.to_string());
  }
  const DotDimensions& d = dimensions;
  if (d.lhs_batch.size() != d.rhs_batch.size() ||
      d.lhs_contracting.size() != d.rhs_contracting.size()) {
    fail(kOp, "lhs and rhs need as many batching and contracting dimensions as each other");
  }
  auto check_side = [&](const TensorType& t, const std::vector<int64_t>& batch,
                        const std::vector<int64_t>& contracting, std::string_view side) {
    std::vector<int64_t> all = batch;
    all.insert(all.end(), contracting.begin(), contracting.end());
    detail::check_dimensions(kOp, std::string(side) + " batching+contracting dimensions", all,
                             t.rank());
  };
  check_side(a, d.lhs_batch, d.lhs_contracting, "lhs");
  check_side(b, d.rhs_batch, d.rhs_contracting, "rhs");
  auto check_sizes = [&](const std::vector<int64_t>& l, const std::vector<int64_t>& r,
                         std::string_view what) {
    for (size_t i = 0; i < l.size(); ++i) {
      if (a.dims[l[i]] != b.dims[r[i]]) {
        fail(kOp, std::string(what) + " dimensions " + list_text(l) + " of " + a.to_string() +
                      " and " + list_text(r) + " of " + b.to_string() + " differ in size");
      }
    }
  };
  check_sizes(d.lhs_batch, d.rhs_batch, "batching");
  check_sizes(d.lhs_contracting, d.rhs_contracting, "contracting");

  TensorType result{result_type.value_or(a.element), {}};
  for (int64_t i : d.lhs_batch) result.dims.push_back(a.dims[i]);
  for (int64_t i = 0; i < a.rank(); ++i) {
    if (!contains(d.lhs_batch, i) && !contains(d.lhs_contracting, i)) {
      result.dims.push_back(a.dims[i]);
    }
  }
  for (int64_t i = 0; i < b.rank(); ++i) {
    if (!contains(d.rhs_batch, i) && !contains(d.rhs_contracting, i)) {
      result.dims.push_back(b.dims[i]);
    }
  }
  std::string attr = "dot_dimension_numbers = #stablehlo.dot<";
  append_field(attr, "lhs_batching_dimensions", d.lhs_batch);
  append_field(attr, "rhs_batching_dimensions", d.rhs_batch);
  append_field(attr, "lhs_contracting_dimensions", d.lhs_contracting);
  append_field(attr, "rhs_contracting_dimensions", d.rhs_contracting);
  attr += '>';
  detail::append_precision(attr, precision);
  return impl_->append1(kOp, {lhs, rhs}, std::move(result), std::move(attr));
}

Value Builder::gather(Value operand, Value start_indices, const GatherDimensions& dimensions,
                      const std::vector<int64_t>& slice_sizes, bool indices_are_sorted) {
  constexpr std::string_view kOp = "stablehlo.gather";
  impl_->check_operand(kOp, operand);
  impl_->check_operand(kOp, start_indices);
  const TensorType& t = type(operand);
  const TensorType& idx = type(start_indices);
  const GatherDimensions& d = dimensions;
  if (!is_integral(idx.element)) fail(kOp, "start_indices " + idx.to_string() + " must be integer");
  if (d.index_vector_dim < 0 || d.index_vector_dim > idx.rank()) {
    fail(kOp, "index_vector_dim " + std::to_string(d.index_vector_dim) + " out of range for " +
                  idx.to_string());
  }
  const int64_t index_size = d.index_vector_dim == idx.rank() ? 1 : idx.dims[d.index_vector_dim];
  if (static_cast<int64_t>(d.start_index_map.size()) != index_size) {
    fail(kOp, "start_index_map " + list_text(d.start_index_map) + " needs " +
                  std::to_string(index_size) + " entries (the index vector size)");
  }
  detail::check_dimensions(kOp, "start_index_map", d.start_index_map, t.rank());
  std::vector<int64_t> removed = d.collapsed_slice_dims;
  removed.insert(removed.end(), d.operand_batching_dims.begin(), d.operand_batching_dims.end());
  detail::check_dimensions(kOp, "collapsed_slice_dims+operand_batching_dims", removed, t.rank());
  check_sorted(kOp, "collapsed_slice_dims", d.collapsed_slice_dims);
  check_sorted(kOp, "operand_batching_dims", d.operand_batching_dims);
  if (d.operand_batching_dims.size() != d.start_indices_batching_dims.size()) {
    fail(kOp, "operand_batching_dims and start_indices_batching_dims differ in length");
  }
  detail::check_dimensions(kOp, "start_indices_batching_dims", d.start_indices_batching_dims,
                           idx.rank());
  if (contains(d.start_indices_batching_dims, d.index_vector_dim)) {
    fail(kOp, "start_indices_batching_dims must not contain index_vector_dim");
  }
  if (static_cast<int64_t>(slice_sizes.size()) != t.rank()) {
    fail(kOp, "slice_sizes " + list_text(slice_sizes) + " needs one entry per operand dimension");
  }
  std::vector<int64_t> offset_sizes;
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (slice_sizes[i] < 0 || slice_sizes[i] > t.dims[i]) {
      fail(kOp, "slice_sizes " + list_text(slice_sizes) + " do not fit " + t.to_string());
    }
    if (contains(removed, i)) {
      if (slice_sizes[i] > 1) {
        fail(kOp, "collapsed or batching dimension " + std::to_string(i) +
                      " needs slice size <= 1, got " + list_text(slice_sizes));
      }
    } else {
      offset_sizes.push_back(slice_sizes[i]);
    }
  }
  if (offset_sizes.size() != d.offset_dims.size()) {
    fail(kOp, "offset_dims " + list_text(d.offset_dims) + " needs " +
                  std::to_string(offset_sizes.size()) +
                  " entries (operand rank minus collapsed and batching dimensions)");
  }
  std::vector<int64_t> batch_sizes;
  for (int64_t i = 0; i < idx.rank(); ++i) {
    if (i != d.index_vector_dim) batch_sizes.push_back(idx.dims[i]);
  }
  const auto result_rank = static_cast<int64_t>(offset_sizes.size() + batch_sizes.size());
  detail::check_dimensions(kOp, "offset_dims", d.offset_dims, result_rank);
  check_sorted(kOp, "offset_dims", d.offset_dims);
  TensorType result{t.element, {}};
  size_t next_offset = 0, next_batch = 0;
  for (int64_t i = 0; i < result_rank; ++i) {
    result.dims.push_back(contains(d.offset_dims, i) ? offset_sizes[next_offset++]
                                                     : batch_sizes[next_batch++]);
  }
  std::string attr = "dimension_numbers = #stablehlo.gather<";
  append_field(attr, "offset_dims", d.offset_dims);
  append_field(attr, "collapsed_slice_dims", d.collapsed_slice_dims);
  append_field(attr, "operand_batching_dims", d.operand_batching_dims);
  append_field(attr, "start_indices_batching_dims", d.start_indices_batching_dims);
  append_field(attr, "start_index_map", d.start_index_map);
  if (attr.back() != '<') attr += ", ";
  attr += "index_vector_dim = " + std::to_string(d.index_vector_dim) +
          ">, slice_sizes = " + i64_array(slice_sizes) +
          ", indices_are_sorted = " + (indices_are_sorted ? "true" : "false");
  return impl_->append1(kOp, {operand, start_indices}, std::move(result), std::move(attr));
}

Value Builder::scatter(Value operand, Value scatter_indices, Value updates,
                       const ScatterDimensions& dimensions, const RegionBody& update_body,
                       bool indices_are_sorted, bool unique_indices) {
  constexpr std::string_view kOp = "stablehlo.scatter";
  impl_->check_operand(kOp, operand);
  impl_->check_operand(kOp, scatter_indices);
  impl_->check_operand(kOp, updates);
  const TensorType& t = type(operand);
  const TensorType& idx = type(scatter_indices);
  const TensorType& u = type(updates);
  const ScatterDimensions& d = dimensions;
  if (u.element != t.element) {
    fail(kOp, "updates " + u.to_string() + " must have the element type of " + t.to_string());
  }
  if (!is_integral(idx.element)) {
    fail(kOp, "scatter_indices " + idx.to_string() + " must be integer");
  }
  if (d.index_vector_dim < 0 || d.index_vector_dim > idx.rank()) {
    fail(kOp, "index_vector_dim " + std::to_string(d.index_vector_dim) + " out of range for " +
                  idx.to_string());
  }
  const int64_t index_size = d.index_vector_dim == idx.rank() ? 1 : idx.dims[d.index_vector_dim];
  if (static_cast<int64_t>(d.scatter_dims_to_operand_dims.size()) != index_size) {
    fail(kOp, "scatter_dims_to_operand_dims " + list_text(d.scatter_dims_to_operand_dims) +
                  " needs " + std::to_string(index_size) + " entries (the index vector size)");
  }
  detail::check_dimensions(kOp, "scatter_dims_to_operand_dims", d.scatter_dims_to_operand_dims,
                           t.rank());
  std::vector<int64_t> removed = d.inserted_window_dims;
  removed.insert(removed.end(), d.input_batching_dims.begin(), d.input_batching_dims.end());
  detail::check_dimensions(kOp, "inserted_window_dims+input_batching_dims", removed, t.rank());
  check_sorted(kOp, "inserted_window_dims", d.inserted_window_dims);
  check_sorted(kOp, "input_batching_dims", d.input_batching_dims);
  if (d.input_batching_dims.size() != d.scatter_indices_batching_dims.size()) {
    fail(kOp, "input_batching_dims and scatter_indices_batching_dims differ in length");
  }
  detail::check_dimensions(kOp, "scatter_indices_batching_dims", d.scatter_indices_batching_dims,
                           idx.rank());
  if (contains(d.scatter_indices_batching_dims, d.index_vector_dim)) {
    fail(kOp, "scatter_indices_batching_dims must not contain index_vector_dim");
  }
  std::vector<int64_t> scatter_sizes;
  for (int64_t i = 0; i < idx.rank(); ++i) {
    if (i != d.index_vector_dim) scatter_sizes.push_back(idx.dims[i]);
  }
  if (u.rank() != static_cast<int64_t>(d.update_window_dims.size() + scatter_sizes.size())) {
    fail(kOp, "updates " + u.to_string() + " must have rank " +
                  std::to_string(d.update_window_dims.size() + scatter_sizes.size()) +
                  " (update_window_dims plus scatter dimensions of " + idx.to_string() + ")");
  }
  detail::check_dimensions(kOp, "update_window_dims", d.update_window_dims, u.rank());
  check_sorted(kOp, "update_window_dims", d.update_window_dims);
  if (static_cast<int64_t>(d.update_window_dims.size() + removed.size()) != t.rank()) {
    fail(kOp,
         "update_window_dims, inserted_window_dims and input_batching_dims must cover the "
         "operand's rank " +
             std::to_string(t.rank()));
  }
  size_t next_scatter = 0, next_window = 0;
  std::vector<int64_t> window_operand_dims;
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (!contains(removed, i)) window_operand_dims.push_back(i);
  }
  for (int64_t i = 0; i < u.rank(); ++i) {
    if (contains(d.update_window_dims, i)) {
      const int64_t operand_dim = window_operand_dims[next_window++];
      if (u.dims[i] > t.dims[operand_dim]) {
        fail(kOp, "update window dimension " + std::to_string(i) + " of " + u.to_string() +
                      " is larger than operand " + t.to_string());
      }
    } else if (u.dims[i] != scatter_sizes[next_scatter++]) {
      fail(kOp, "updates " + u.to_string() + " scatter dimension " + std::to_string(i) +
                    " must match the indices " + idx.to_string());
    }
  }
  std::vector<Block> regions;
  regions.push_back(
      impl_->build_region(*this, kOp, {scalar(t.element), scalar(t.element)}, update_body));
  detail::check_region_yields(*this, kOp, regions[0], {scalar(t.element)});

  std::string attr = "scatter_dimension_numbers = #stablehlo.scatter<";
  append_field(attr, "update_window_dims", d.update_window_dims);
  append_field(attr, "inserted_window_dims", d.inserted_window_dims);
  append_field(attr, "input_batching_dims", d.input_batching_dims);
  append_field(attr, "scatter_indices_batching_dims", d.scatter_indices_batching_dims);
  append_field(attr, "scatter_dims_to_operand_dims", d.scatter_dims_to_operand_dims);
  if (attr.back() != '<') attr += ", ";
  attr += "index_vector_dim = " + std::to_string(d.index_vector_dim) +
          ">, indices_are_sorted = " + (indices_are_sorted ? "true" : "false") +
          ", unique_indices = " + (unique_indices ? "true" : "false");
  return impl_->append(kOp, {operand, scatter_indices, updates}, {t}, std::move(attr),
                       std::move(regions))[0];
}

std::vector<Value> Builder::sort(const std::vector<Value>& inputs, int64_t dimension,
                                 bool is_stable, const RegionBody& comparator) {
  constexpr std::string_view kOp = "stablehlo.sort";
  impl_->check_open(kOp);
  if (inputs.empty()) fail(kOp, "needs at least one input");
  for (Value v : inputs) impl_->check_operand(kOp, v);
  const TensorType& first = type(inputs[0]);
  std::vector<TensorType> results, args;
  for (Value v : inputs) {
    const TensorType& t = type(v);
    if (t.dims != first.dims) {
      fail(kOp, "inputs must have one shape, got " + first.to_string() + " and " + t.to_string());
    }
    results.push_back(t);
    args.push_back(scalar(t.element));
    args.push_back(scalar(t.element));
  }
  if (dimension < 0 || dimension >= first.rank()) {
    fail(kOp, "dimension " + std::to_string(dimension) + " out of range for " + first.to_string());
  }
  std::vector<Block> regions;
  regions.push_back(impl_->build_region(*this, kOp, args, comparator));
  detail::check_region_yields(*this, kOp, regions[0], {scalar(ElementType::kPred)});
  return impl_->append(kOp, inputs, results,
                       "dimension = " + std::to_string(dimension) +
                           " : i64, is_stable = " + (is_stable ? "true" : "false"),
                       std::move(regions));
}

std::pair<Value, Value> Builder::rng_bit_generator(Value state, const TensorType& output_type,
                                                   RngAlgorithm algorithm) {
  constexpr std::string_view kOp = "stablehlo.rng_bit_generator";
  impl_->check_operand(kOp, state);
  const TensorType& s = type(state);
  const bool u64_vector = s.element == ElementType::kU64 && s.rank() == 1;
  const bool fits = algorithm == RngAlgorithm::kThreeFry ? u64_vector && s.dims[0] == 2
                    : algorithm == RngAlgorithm::kPhilox
                        ? u64_vector && (s.dims[0] == 2 || s.dims[0] == 3)
                        : u64_vector;
  if (!fits) fail(kOp, "state " + s.to_string() + " does not fit the algorithm (u64[2] or u64[3])");
  if (!is_integral(output_type.element) && !is_floating(output_type.element)) {
    fail(kOp, "output " + output_type.to_string() + " must be integer or floating-point");
  }
  for (int64_t d : output_type.dims) {
    if (d < 0) fail(kOp, "negative dimension in " + output_type.to_string());
  }
  std::string attr = "rng_algorithm = #stablehlo<rng_algorithm ";
  attr += algorithm == RngAlgorithm::kThreeFry ? "THREE_FRY"
          : algorithm == RngAlgorithm::kPhilox ? "PHILOX"
                                               : "DEFAULT";
  attr += '>';
  std::vector<Value> r = impl_->append(kOp, {state}, {s, output_type}, std::move(attr), {});
  return {r[0], r[1]};
}

}  // namespace torch_pjrt::stablehlo
