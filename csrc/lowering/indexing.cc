// Indexing family: ops that read or write elements at positions given by index
// tensors (index_select, embedding and its backward, advanced indexing reads
// and writes, gather, scatter*, index_add/copy/fill, take, put).
//
// Out-of-range indices: PyTorch checks them on the host (IndexError). Here the
// index values live on the device, and checking them would need a sync per
// op, so they are not checked: XLA clamps the start of every gathered slice
// into range (an out-of-range read returns an element of the nearest edge) and
// skips scatter updates whose index is out of range. Only what is known at
// trace time (shapes, dtypes, an index into a dimension of size 0) raises.

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::GatherDimensions;
using stablehlo::ScatterDimensions;

bool is_index_type(ElementType type) {
  return type == ElementType::kS32 || type == ElementType::kS64;
}

bool is_mask_type(ElementType type) {
  return type == ElementType::kPred || type == ElementType::kU8;
}

std::vector<int64_t> iota_list(int64_t begin, int64_t end) {
  std::vector<int64_t> list(std::max<int64_t>(end - begin, 0));
  std::iota(list.begin(), list.end(), begin);
  return list;
}

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// The scatter update region for one reduction over elements of `type`.
Builder::RegionBody combiner(BinaryOp op, ElementType type) {
  if (type == ElementType::kPred) {
    // bool sums and maxima are "or", products and minima are "and".
    op = op == BinaryOp::kAdd || op == BinaryOp::kMaximum ? BinaryOp::kOr : BinaryOp::kAnd;
  }
  return [op](Builder& b, const std::vector<Value>& args) {
    return std::vector<Value>{b.binary(op, args[0], args[1])};
  };
}

Builder::RegionBody replacer() {
  return [](Builder&, const std::vector<Value>& args) { return std::vector<Value>{args[1]}; };
}

// Python's negative indices counted from the end of a dimension of `size`;
// the result is s64.
Value wrap_negative(Builder& b, Value index, int64_t size) {
  const Value as_s64 = b.convert(index, ElementType::kS64);
  const TensorType type = b.type(as_s64);
  const Value negative = b.compare(ComparisonDirection::kLT, as_s64, b.zeros(type));
  return b.select(negative, b.add(as_s64, b.splat(static_cast<double>(size), type)), as_s64);
}

// Rows of `operand` along `dim` picked by `indices` of any shape: the result
// has shape operand[:dim] + indices.shape + operand[dim+1:].
Value gather_slices(Builder& b, Value operand, int64_t dim, Value indices) {
  const std::vector<int64_t>& operand_dims = b.dims(operand);
  const std::vector<int64_t>& index_dims = b.dims(indices);
  const int64_t rank = static_cast<int64_t>(operand_dims.size());
  const int64_t index_rank = static_cast<int64_t>(index_dims.size());
  std::vector<int64_t> result_dims(operand_dims.begin(), operand_dims.begin() + dim);
  result_dims.insert(result_dims.end(), index_dims.begin(), index_dims.end());
  result_dims.insert(result_dims.end(), operand_dims.begin() + dim + 1, operand_dims.end());
  // Nothing to read; also keeps a size-1 slice out of a dimension of size 0.
  if (numel(result_dims) == 0) return b.zeros({b.element_type(operand), result_dims});

  std::vector<int64_t> start_dims = index_dims;
  start_dims.push_back(1);
  GatherDimensions dn;
  dn.offset_dims = iota_list(0, dim);
  for (int64_t d = dim + 1; d < rank; ++d) dn.offset_dims.push_back(d - 1 + index_rank);
  dn.collapsed_slice_dims = {dim};
  dn.start_index_map = {dim};
  dn.index_vector_dim = index_rank;
  std::vector<int64_t> slice_sizes = operand_dims;
  slice_sizes[dim] = 1;
  return b.gather(operand, b.reshape(indices, start_dims), dn, slice_sizes);
}

// --- checks of index values on the device ----------------------------------------

std::string bounds_message(int64_t dim, int64_t size) {
  return "index {} is out of bounds for dimension " + std::to_string(dim) + " with size " +
         std::to_string(size);
}

// Adds a device check that every element of `index` lies in [low, high).
// _unsafe_index and _unsafe_index_put promise that it does (PyTorch checks
// nothing there either: decompositions compute such indices themselves).
void check_bounds(Builder& b, const OpCall& call, Value index, int64_t low, int64_t high,
                  CheckKind kind, std::string message) {
  if (call.name.starts_with("_unsafe") || b.type(index).numel() == 0) return;
  call.check_on_device(check_in_range(b, index, low, high, CheckSite{kind, std::move(message)}));
}

// --- index_select / embedding ----------------------------------------------------

std::vector<Value> index_select_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const int64_t rank = b.rank(self);
  const int64_t dim = wrap_dim(call.int_at(1), rank);
  if (b.rank(index) > 1) throw IndexOutOfRange("index_select(): Index is supposed to be a vector");
  if (!is_index_type(b.element_type(index))) {
    throw InvalidArgument("index_select(): Expected dtype int32 or int64 for index");
  }
  const int64_t count = b.type(index).numel();
  if (rank == 0) {
    if (count != 1) {
      throw InvalidArgument("index_select(): Index to scalar can have only 1 value, got " +
                            std::to_string(count) + " value(s)");
    }
    return {self};
  }
  if (b.dims(self)[dim] == 0 && count > 0) {
    throw InvalidArgument("index_select(): self indexing axis dim should be positive");
  }
  const int64_t size = b.dims(self)[dim];
  if (dim == 1) {
    // CPU's kernel for dim 1 reports its own way (a RuntimeError).
    check_bounds(b, call, index, 0, size, CheckKind::kRuntime,
                 "INDICES element is out of DATA bounds, id={} axis_dim=" + std::to_string(size));
  } else {
    check_bounds(b, call, index, 0, size, CheckKind::kIndex,
                 "index out of range in self (index {}, dimension " + std::to_string(dim) +
                     " with size " + std::to_string(size) + ")");
  }
  return {gather_slices(b, self, dim, b.reshape(index, {count}))};
}

void check_embedding_indices(const Builder& b, Value indices, const char* position,
                             const char* op) {
  const ElementType type = b.element_type(indices);
  if (!is_index_type(type)) {
    throw InvalidArgument(std::string("Expected tensor for argument ") + position +
                          " 'indices' to have one of the following scalar types: Long, Int; "
                          "but got " +
                          std::string(scalar_type_name(type)) +
                          " instead (while checking arguments for " + op + ")");
  }
}

std::vector<Value> embedding_rule(Builder& b, const OpCall& call) {
  const Value weight = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  check_embedding_indices(b, indices, "#1", "embedding");
  if (b.rank(weight) != 2) throw InvalidArgument("'weight' must be 2-D");
  if (b.dims(weight)[0] == 0 && b.type(indices).numel() > 0) {
    throw IndexOutOfRange("index out of range in self");
  }
  const int64_t rows = b.dims(weight)[0];
  check_bounds(
      b, call, indices, 0, rows, CheckKind::kIndex,
      "index out of range in self (index {}, weight with " + std::to_string(rows) + " rows)");
  return {gather_slices(b, weight, 0, indices)};
}

// The gradient of embedding: row k of grad_output is added to row indices[k]
// of a zero [num_weights, D] tensor, except where indices[k] == padding_idx;
// with scale_grad_by_freq each row is first divided by how often its index
// occurs.
std::vector<Value> embedding_dense_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value;
  const Value indices = call.tensor(1).value;
  const int64_t num_weights = call.int_at(2);
  const int64_t padding_idx = call.int_at(3);
  const bool scale_grad_by_freq = call.bool_at(4);
  check_embedding_indices(b, indices, "#2", "embedding_backward");
  const ElementType grad_type = b.element_type(grad);
  const int64_t count = b.type(indices).numel();
  const int64_t width = b.rank(grad) == 0 ? 1 : b.dims(grad).back();
  if (b.type(grad).numel() != count * width) {
    throw InvalidArgument("shape '[" + std::to_string(count) + ", " + std::to_string(width) +
                          "]' is invalid for input of size " +
                          std::to_string(b.type(grad).numel()));
  }
  const TensorType result_type{grad_type, {num_weights, width}};
  if (count == 0 || num_weights == 0 || width == 0) return {b.zeros(result_type)};

  const ElementType compute = opmath_type(grad_type);
  const TensorType rows_type{compute, {count, width}};
  Value rows = b.convert(b.reshape(grad, {count, width}), compute);
  const Value flat = b.reshape(indices, {count});
  const ElementType index_type = b.element_type(indices);
  const Value index_column = b.reshape(flat, {count, 1});

  ScatterDimensions by_row;
  by_row.inserted_window_dims = {0};
  by_row.scatter_dims_to_operand_dims = {0};
  by_row.index_vector_dim = 1;

  if (scale_grad_by_freq) {
    // counts[w] = occurrences of w in indices; each row is scaled by
    // 1 / counts[its index] (integer division for integer gradients, as the
    // CPU kernel's integer alpha truncates).
    const Value occurrences =
        b.scatter(b.zeros({compute, {num_weights}}), index_column, b.splat(1.0, {compute, {count}}),
                  by_row, combiner(BinaryOp::kAdd, compute));
    const Value row_counts = gather_slices(b, occurrences, 0, flat);
    const Value scale = b.div(b.splat(1.0, {compute, {count}}), row_counts);
    rows = b.mul(rows, b.broadcast_in_dim(scale, rows_type.dims, {0}));
  }
  if (padding_idx >= 0) {
    const Value keep = b.compare(ComparisonDirection::kNE, flat,
                                 b.splat(static_cast<double>(padding_idx), {index_type, {count}}));
    rows = b.select(b.broadcast_in_dim(keep, rows_type.dims, {0}), rows, b.zeros(rows_type));
  }
  ScatterDimensions rows_into_table = by_row;
  rows_into_table.update_window_dims = {1};
  const Value table = b.scatter(b.zeros({compute, {num_weights, width}}), index_column, rows,
                                rows_into_table, combiner(BinaryOp::kAdd, compute));
  return {b.convert(table, grad_type)};
}

// --- advanced indexing (index.Tensor, index_put) -----------------------------------

// The index list of index.Tensor / index_put: Tensor?[] (None = full slice),
// or Tensor[] for the "hacked_twin" overloads.
std::vector<std::optional<TensorArg>> index_list(const OpCall& call, size_t i) {
  if (const auto* optional = std::get_if<std::vector<std::optional<TensorArg>>>(&call.args.at(i))) {
    return *optional;
  }
  const std::vector<TensorArg>& tensors = call.tensors(i);
  return {tensors.begin(), tensors.end()};
}

// Advanced indexing with integer index tensors, resolved at trace time.
struct IndexPlan {
  std::vector<int64_t> indexed_dims;  // ascending operand dims that have an index
  Value start_indices;                // s64[batch..., indexed_dims.size()], wrapped
  std::vector<int64_t> batch_dims;    // the index tensors' broadcast shape
  // Where the operand's unindexed dims land in the result; the batch dims fill
  // the remaining positions in order.
  std::vector<int64_t> window_positions;
  std::vector<int64_t> result_dims;  // the shape of self[indices]
};

[[noreturn]] void throw_bad_index_type() {
  throw IndexOutOfRange("tensors used as indices must be long, int, byte or bool tensors");
}

IndexPlan plan_indexing(Builder& b, const OpCall& call, Value self,
                        const std::vector<std::optional<TensorArg>>& list, const char* op) {
  const std::vector<int64_t>& self_dims = b.dims(self);
  const int64_t rank = static_cast<int64_t>(self_dims.size());
  if (list.empty()) throw IndexOutOfRange("at least one index must be provided");
  if (static_cast<int64_t>(list.size()) > rank) {
    throw IndexOutOfRange("too many indices for tensor of dimension " + std::to_string(rank) +
                          " (got " + std::to_string(list.size()) + ")");
  }
  IndexPlan plan;
  std::vector<Value> indices;
  std::vector<std::vector<int64_t>> shapes;
  for (size_t d = 0; d < list.size(); ++d) {
    if (!list[d]) continue;
    const Value index = list[d]->value;
    const ElementType type = b.element_type(index);
    if (is_mask_type(type)) {
      throw Unsupported(std::string(op) +
                        ": indexing with a boolean (or uint8) mask gives a result whose shape "
                        "depends on how many mask elements are true, which a compiled program "
                        "cannot have; torch.where(mask, x, other) or a masked assignment "
                        "(x[mask] = value) are supported");
    }
    if (!is_index_type(type)) throw_bad_index_type();
    plan.indexed_dims.push_back(static_cast<int64_t>(d));
    indices.push_back(index);
    shapes.push_back(b.dims(index));
  }
  try {
    plan.batch_dims = broadcast_shapes(shapes);
  } catch (const InvalidArgument&) {
    std::string text;
    for (const auto& shape : shapes) text += (text.empty() ? "" : ", ") + shape_text(shape);
    throw IndexOutOfRange(
        "shape mismatch: indexing tensors could not be broadcast together with shapes " + text);
  }
  const int64_t batch_rank = static_cast<int64_t>(plan.batch_dims.size());
  const int64_t batch_count = numel(plan.batch_dims);
  for (int64_t d : plan.indexed_dims) {
    if (self_dims[d] == 0 && batch_count > 0) {
      throw IndexOutOfRange("index is out of bounds for dimension with size 0");
    }
  }

  // Consecutive indexed dims are replaced in place by the batch dims; indexed
  // dims separated by a full slice put the batch dims first (NumPy's rule).
  const bool adjacent = plan.indexed_dims.back() - plan.indexed_dims.front() + 1 ==
                        static_cast<int64_t>(plan.indexed_dims.size());
  const int64_t batch_position = adjacent ? plan.indexed_dims.front() : 0;
  std::vector<int64_t> unindexed_sizes;
  for (int64_t d = 0; d < rank; ++d) {
    if (std::find(plan.indexed_dims.begin(), plan.indexed_dims.end(), d) ==
        plan.indexed_dims.end()) {
      unindexed_sizes.push_back(self_dims[d]);
    }
  }
  plan.result_dims.assign(unindexed_sizes.begin(), unindexed_sizes.begin() + batch_position);
  plan.result_dims.insert(plan.result_dims.end(), plan.batch_dims.begin(), plan.batch_dims.end());
  plan.result_dims.insert(plan.result_dims.end(), unindexed_sizes.begin() + batch_position,
                          unindexed_sizes.end());
  plan.window_positions = iota_list(0, batch_position);
  const int64_t result_rank = static_cast<int64_t>(plan.result_dims.size());
  for (int64_t p = batch_position + batch_rank; p < result_rank; ++p) {
    plan.window_positions.push_back(p);
  }
  if (numel(plan.result_dims) == 0) return plan;

  // Negative indices count from the end, as in Python.
  std::vector<int64_t> column_dims = plan.batch_dims;
  column_dims.push_back(1);
  std::vector<Value> columns;
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t dim = plan.indexed_dims[k];
    check_bounds(b, call, indices[k], -self_dims[dim], self_dims[dim], CheckKind::kIndex,
                 bounds_message(dim, self_dims[dim]));
    const Value index = broadcast_to(b, indices[k], plan.batch_dims);
    const Value wrapped = wrap_negative(b, index, self_dims[dim]);
    columns.push_back(b.reshape(wrapped, column_dims));
  }
  plan.start_indices = columns.size() == 1 ? columns[0] : b.concatenate(columns, batch_rank);
  return plan;
}

std::vector<Value> index_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const auto list = index_list(call, 1);
  if (std::none_of(list.begin(), list.end(), [](const auto& i) { return i.has_value(); }) &&
      !list.empty()) {
    return {self};  // only full slices
  }
  const IndexPlan plan = plan_indexing(b, call, self, list, "index");
  if (numel(plan.result_dims) == 0) return {b.zeros({b.element_type(self), plan.result_dims})};
  GatherDimensions dn;
  dn.offset_dims = plan.window_positions;
  dn.collapsed_slice_dims = plan.indexed_dims;
  dn.start_index_map = plan.indexed_dims;
  dn.index_vector_dim = static_cast<int64_t>(plan.batch_dims.size());
  std::vector<int64_t> slice_sizes = b.dims(self);
  for (int64_t d : plan.indexed_dims) slice_sizes[d] = 1;
  return {b.gather(self, plan.start_indices, dn, slice_sizes)};
}

// self[mask] = values with a single boolean mask: the result shape does not
// depend on the mask, and when `values` is the same for every selected
// element (it does not vary along the selected-elements dimension) this is an
// elementwise select, with no need to know how many elements are selected.
Value put_with_mask(Builder& b, Value self, const std::vector<std::optional<TensorArg>>& list,
                    Value values, bool accumulate) {
  const std::vector<int64_t>& self_dims = b.dims(self);
  const int64_t rank = static_cast<int64_t>(self_dims.size());
  int64_t first = -1;
  Value mask;
  for (size_t d = 0; d < list.size(); ++d) {
    if (!list[d]) continue;
    if (first >= 0 || !is_mask_type(b.element_type(list[d]->value))) {
      throw Unsupported(
          "index_put with a boolean mask combined with other indices is not supported");
    }
    first = static_cast<int64_t>(d);
    mask = list[d]->value;
  }
  const std::vector<int64_t>& mask_dims = b.dims(mask);
  const int64_t mask_rank = static_cast<int64_t>(mask_dims.size());
  if (mask_rank == 0) throw Unsupported("index_put with a 0-d boolean mask is not supported");
  if (first + mask_rank > rank) {
    throw IndexOutOfRange("too many indices for tensor of dimension " + std::to_string(rank) +
                          " (got " + std::to_string(first + mask_rank) + ")");
  }
  for (int64_t k = 0; k < mask_rank; ++k) {
    if (mask_dims[k] != self_dims[first + k]) {
      throw IndexOutOfRange("The shape of the mask " + shape_text(mask_dims) + " at index " +
                            std::to_string(k) + " does not match the shape of the indexed tensor " +
                            shape_text(self_dims) + " at index " + std::to_string(first + k));
    }
  }
  // self[mask] has shape self[:first] + [selected] + self[first + mask_rank:].
  const int64_t selected_rank = first + 1 + (rank - first - mask_rank);
  std::vector<int64_t> value_dims = b.dims(values);
  if (static_cast<int64_t>(value_dims.size()) > selected_rank) {
    throw InvalidArgument("shape mismatch: value tensor of shape " + shape_text(value_dims) +
                          " cannot be broadcast to the indexing result");
  }
  value_dims.insert(value_dims.begin(), selected_rank - value_dims.size(), 1);
  if (value_dims[first] != 1) {
    throw Unsupported(
        "index_put with a boolean mask and one value per selected element is data-dependent; "
        "only values that broadcast over the selected elements are supported");
  }
  std::vector<int64_t> spread_dims(value_dims.begin(), value_dims.begin() + first);
  spread_dims.insert(spread_dims.end(), mask_rank, 1);
  spread_dims.insert(spread_dims.end(), value_dims.begin() + first + 1, value_dims.end());
  Value spread;
  try {
    spread = broadcast_to(b, b.reshape(values, spread_dims), self_dims);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("shape mismatch: value tensor of shape " + shape_text(b.dims(values)) +
                          " cannot be broadcast to the indexing result");
  }
  const Value selected = b.broadcast_in_dim(b.convert(mask, ElementType::kPred), self_dims,
                                            iota_list(first, first + mask_rank));
  if (accumulate) {
    const ElementType type = b.element_type(self);
    spread =
        type == ElementType::kPred ? b.binary(BinaryOp::kOr, self, spread) : b.add(self, spread);
  }
  return b.select(selected, spread, self);
}

// index_put, _index_put_impl (with an extra `unsafe` flag that only skips
// PyTorch's host-side checks) and _unsafe_index_put: self with
// self[indices] = values (or += with accumulate).
std::vector<Value> index_put_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const auto list = index_list(call, 1);
  const TensorArg& values_arg = call.tensor(2);
  const bool accumulate = call.size() > 3 && call.bool_at(3);
  const ElementType type = b.element_type(self);
  if (b.element_type(values_arg.value) != type && !values_arg.is_scalar) {
    throw InvalidArgument("Index put requires the source and destination dtypes match, got " +
                          std::string(scalar_type_name(type)) + " for the destination and " +
                          std::string(scalar_type_name(b.element_type(values_arg.value))) +
                          " for the source.");
  }
  const Value values = b.convert(values_arg.value, type);
  for (const auto& index : list) {
    if (index && is_mask_type(b.element_type(index->value))) {
      return {put_with_mask(b, self, list, values, accumulate)};
    }
    if (index && !is_index_type(b.element_type(index->value))) throw_bad_index_type();
  }
  if (std::none_of(list.begin(), list.end(), [](const auto& i) { return i.has_value(); }) &&
      !list.empty()) {
    // Only full slices: every element is written.
    const Value spread = broadcast_to(b, values, b.dims(self));
    return {accumulate ? (type == ElementType::kPred ? b.binary(BinaryOp::kOr, self, spread)
                                                     : b.add(self, spread))
                       : spread};
  }
  const IndexPlan plan = plan_indexing(b, call, self, list, "index_put");
  Value updates;
  try {
    updates = broadcast_to(b, values, plan.result_dims);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("shape mismatch: value tensor of shape " + shape_text(b.dims(values)) +
                          " cannot be broadcast to indexing result of shape " +
                          shape_text(plan.result_dims));
  }
  if (numel(plan.result_dims) == 0) return {self};
  ScatterDimensions dn;
  dn.update_window_dims = plan.window_positions;
  dn.inserted_window_dims = plan.indexed_dims;
  dn.scatter_dims_to_operand_dims = plan.indexed_dims;
  dn.index_vector_dim = static_cast<int64_t>(plan.batch_dims.size());
  if (!accumulate) return {b.scatter(self, plan.start_indices, updates, dn, replacer())};
  if (type == ElementType::kBF16 || type == ElementType::kF16) {
    // CPU adds the values one at a time in the tensor's type, each sum
    // rounded: so does this scatter, serially.
    return {b.scatter(
        self, plan.start_indices, updates, dn, [type](Builder& r, const std::vector<Value>& args) {
          Value sum =
              r.add(r.convert(args[0], ElementType::kF32), r.convert(args[1], ElementType::kF32));
          return std::vector<Value>{r.convert(sum, type)};
        })};
  }
  const ElementType compute = opmath_type(type);
  const Value sum = b.scatter(b.convert(self, compute), plan.start_indices,
                              b.convert(updates, compute), dn, combiner(BinaryOp::kAdd, compute));
  return {b.convert(sum, type)};
}

// --- gather / scatter along one dim -----------------------------------------------

void check_gather_scatter_index(const Builder& b, Value index, const char* op) {
  if (!is_index_type(b.element_type(index))) {
    throw InvalidArgument(std::string(op) + "(): Expected dtype int32/int64 for index");
  }
}

// Rank as gather/scatter count it: a 0-d tensor acts as 1-d.
int64_t rank_at_least_one(const Builder& b, Value v) { return std::max<int64_t>(b.rank(v), 1); }

Value as_at_least_1d(Builder& b, Value v) { return b.rank(v) == 0 ? b.reshape(v, {1}) : v; }

// For every element of `index` (rank R, the operand's rank), the full operand
// coordinate it addresses: its own position, with index[p] along `dim`.
// Shape index.shape + [R].
Value coordinates_along(Builder& b, Value index, int64_t dim) {
  const std::vector<int64_t>& dims = b.dims(index);
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<int64_t> column_dims = dims;
  column_dims.push_back(1);
  std::vector<Value> columns;
  for (int64_t d = 0; d < rank; ++d) {
    const Value column =
        d == dim ? b.convert(index, ElementType::kS64) : b.iota({ElementType::kS64, dims}, d);
    columns.push_back(b.reshape(column, column_dims));
  }
  return columns.size() == 1 ? columns[0] : b.concatenate(columns, rank);
}

std::vector<Value> gather_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(self));
  check_gather_scatter_index(b, index, "gather");
  const int64_t rank = rank_at_least_one(b, self);
  if (rank_at_least_one(b, index) != rank) {
    throw InvalidArgument("Index tensor must have the same number of dimensions as input tensor");
  }
  const Value source = as_at_least_1d(b, self);
  const Value at = as_at_least_1d(b, index);
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim && b.dims(at)[d] > b.dims(source)[d]) {
      throw InvalidArgument("Size does not match at dimension " + std::to_string(d) +
                            " expected index " + shape_text(b.dims(index)) +
                            " to be no larger than self " + shape_text(b.dims(self)) +
                            " apart from dimension " + std::to_string(dim));
    }
  }
  const TensorType result_type{b.element_type(self), b.dims(index)};
  if (result_type.numel() == 0) return {b.zeros(result_type)};
  if (b.dims(source)[dim] == 0) {
    throw IndexOutOfRange("index is out of bounds for dimension " + std::to_string(dim) +
                          " with size 0");
  }
  check_bounds(b, call, index, 0, b.dims(source)[dim], CheckKind::kRuntime,
               bounds_message(dim, b.dims(source)[dim]));
  GatherDimensions dn;
  dn.collapsed_slice_dims = iota_list(0, rank);
  dn.start_index_map = iota_list(0, rank);
  dn.index_vector_dim = rank;
  const Value picked =
      b.gather(source, coordinates_along(b, at, dim), dn, std::vector<int64_t>(rank, 1));
  return {b.reshape(picked, result_type.dims)};
}

// self with src[p] combined into self[p with index[p] along dim] for every
// position p of index, by `update` (replace, or a reduction).
Value scatter_along(Builder& b, Value self, int64_t dim, Value index, Value src,
                    const Builder::RegionBody& update) {
  const Value target = as_at_least_1d(b, self);
  const Value at = as_at_least_1d(b, index);
  const std::vector<int64_t>& index_dims = b.dims(at);
  if (numel(index_dims) == 0) return self;
  Value updates = as_at_least_1d(b, src);
  if (b.dims(updates) != index_dims) {
    updates = b.slice(updates, std::vector<int64_t>(index_dims.size(), 0), index_dims);
  }
  const int64_t rank = static_cast<int64_t>(index_dims.size());
  ScatterDimensions dn;
  dn.inserted_window_dims = iota_list(0, rank);
  dn.scatter_dims_to_operand_dims = iota_list(0, rank);
  dn.index_vector_dim = rank;
  const Value result = b.scatter(target, coordinates_along(b, at, dim), updates, dn, update);
  return b.reshape(result, b.dims(self));
}

// The checks scatter, scatter_add and scatter_reduce share; returns the wrapped dim.
int64_t check_scatter(Builder& b, const OpCall& call, Value self, int64_t dim, Value index,
                      std::optional<Value> src) {
  const int64_t wrapped = wrap_dim(dim, b.rank(self));
  check_gather_scatter_index(b, index, "scatter");
  const int64_t rank = rank_at_least_one(b, self);
  if (rank_at_least_one(b, index) != rank) {
    throw InvalidArgument("Index tensor must have the same number of dimensions as self tensor");
  }
  if (src && rank_at_least_one(b, *src) != rank) {
    throw InvalidArgument("Index tensor must have the same number of dimensions as src tensor");
  }
  if (src && b.element_type(*src) != b.element_type(self)) {
    throw InvalidArgument("scatter(): Expected self.dtype to be equal to src.dtype");
  }
  const auto size_at = [&](Value v, int64_t d) { return b.rank(v) == 0 ? 1 : b.dims(v)[d]; };
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t index_size = size_at(index, d);
    if ((d != wrapped && index_size > size_at(self, d)) || (src && index_size > size_at(*src, d))) {
      throw InvalidArgument(
          "Expected index " + shape_text(b.dims(index)) + " to be no larger than self " +
          shape_text(b.dims(self)) + " apart from dimension " + std::to_string(wrapped) +
          (src ? " and to be no larger size than src " + shape_text(b.dims(*src)) : std::string()));
    }
  }
  if (b.type(index).numel() > 0 && size_at(self, wrapped) == 0) {
    throw IndexOutOfRange("index is out of bounds for dimension " + std::to_string(wrapped) +
                          " with size 0");
  }
  check_bounds(b, call, index, 0, size_at(self, wrapped), CheckKind::kRuntime,
               bounds_message(wrapped, size_at(self, wrapped)));
  return wrapped;
}

// scatter.src / .value / .reduce / .value_reduce.
std::vector<Value> scatter_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const TensorArg& src_arg = call.tensor(3);
  const ElementType type = b.element_type(self);
  const bool is_value = src_arg.is_scalar || call.overload.starts_with("value");
  const int64_t dim = check_scatter(b, call, self, call.int_at(1), index,
                                    is_value ? std::nullopt : std::optional<Value>(src_arg.value));
  const Value src =
      is_value ? broadcast_to(b, b.convert(src_arg.value, type), b.dims(index)) : src_arg.value;
  if (call.size() <= 4 || call.is_none(4)) {
    return {scatter_along(b, self, dim, index, src, replacer())};
  }
  const std::string_view reduce = call.string_at(4);
  if (reduce != "add" && reduce != "multiply") {
    throw InvalidArgument("reduce argument must be either add or multiply.");
  }
  const ElementType compute = opmath_type(type);
  const BinaryOp op = reduce == "add" ? BinaryOp::kAdd : BinaryOp::kMultiply;
  const Value result = scatter_along(b, b.convert(self, compute), dim, index,
                                     b.convert(src, compute), combiner(op, compute));
  return {b.convert(result, type)};
}

std::vector<Value> scatter_add_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const Value src = call.tensor(3).value;
  const int64_t dim = check_scatter(b, call, self, call.int_at(1), index, src);
  const ElementType type = b.element_type(self);
  const ElementType compute = opmath_type(type);
  const Value result = scatter_along(b, b.convert(self, compute), dim, index,
                                     b.convert(src, compute), combiner(BinaryOp::kAdd, compute));
  return {b.convert(result, type)};
}

// Floor division for integers (b > 0), as PyTorch's integer mean rounds.
Value floor_divide_by_positive(Builder& b, Value numerator, Value denominator) {
  const Value quotient = b.div(numerator, denominator);
  const Value remainder = b.binary(BinaryOp::kRemainder, numerator, denominator);
  const Value below = b.compare(ComparisonDirection::kLT, remainder, b.zeros(b.type(remainder)));
  return b.select(below, b.sub(quotient, b.splat(1.0, b.type(quotient))), quotient);
}

// The value that leaves any element unchanged under `op`: the start of a
// reduction over scattered values only.
Value reduction_identity(Builder& b, BinaryOp op, const TensorType& type) {
  const ElementType element = type.element;
  const bool is_max = op == BinaryOp::kMaximum;
  if ((is_max || op == BinaryOp::kMinimum) && stablehlo::is_integral(element)) {
    const int64_t bits = stablehlo::byte_width(element) * 8;
    int64_t lowest = 0, highest = -1;  // -1 wraps to all ones for u64
    if (stablehlo::is_signed_integral(element)) {
      lowest = bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
      highest = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
    } else if (bits < 64) {
      highest = (int64_t{1} << bits) - 1;
    }
    return b.broadcast_in_dim(b.constant_int(is_max ? lowest : highest, element), type.dims, {});
  }
  switch (op) {
    case BinaryOp::kMultiply:
      return b.splat(1.0, type);
    case BinaryOp::kMaximum:  // pred: false
      return b.splat(element == ElementType::kPred ? 0.0 : -std::numeric_limits<double>::infinity(),
                     type);
    case BinaryOp::kMinimum:  // pred: true
      return b.splat(element == ElementType::kPred ? 1.0 : std::numeric_limits<double>::infinity(),
                     type);
    default:
      return b.zeros(type);
  }
}

// scatter_reduce.two(self, dim, index, src, reduce, include_self).
std::vector<Value> scatter_reduce_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const Value src = call.tensor(3).value;
  const std::string_view reduce = call.string_at(4);
  const bool include_self = call.size() <= 5 || call.bool_at(5);
  const int64_t dim = check_scatter(b, call, self, call.int_at(1), index, src);
  const ElementType type = b.element_type(self);
  const ElementType compute = opmath_type(type);
  const TensorType compute_type{compute, b.dims(self)};

  BinaryOp op;
  if (reduce == "sum" || reduce == "mean") {
    op = BinaryOp::kAdd;
  } else if (reduce == "prod") {
    op = BinaryOp::kMultiply;
  } else if (reduce == "amax" || reduce == "max") {  // "max"/"min": accepted aliases
    op = BinaryOp::kMaximum;
  } else if (reduce == "amin" || reduce == "min") {
    op = BinaryOp::kMinimum;
  } else {
    throw InvalidArgument("reduce argument must be either sum, prod, mean, amax or amin, got " +
                          std::string(reduce));
  }
  if (reduce == "mean" && type == ElementType::kPred) {
    throw Unsupported("scatter_reduce with reduce='mean' on a bool tensor is not supported");
  }
  Value base = b.convert(self, compute);
  if (!include_self) {
    // Positions that receive a value start from the identity instead of self.
    const TensorType flags{ElementType::kPred, b.dims(self)};
    const Value touched =
        scatter_along(b, b.zeros(flags), dim, index,
                      b.splat(1.0, {ElementType::kPred, b.dims(index)}), replacer());
    base = b.select(touched, reduction_identity(b, op, compute_type), base);
  }
  Value result = scatter_along(b, base, dim, index, b.convert(src, compute), combiner(op, compute));
  if (reduce == "mean") {
    // Each position is divided by how many values it received (self counts
    // once when included); untouched positions divide by 1.
    const Value ones = b.splat(1.0, {compute, b.dims(index)});
    const Value start = include_self ? b.splat(1.0, compute_type) : b.zeros(compute_type);
    Value counts = scatter_along(b, start, dim, index, ones, combiner(BinaryOp::kAdd, compute));
    counts = b.max(counts, b.splat(1.0, compute_type));
    result = stablehlo::is_integral(compute) ? floor_divide_by_positive(b, result, counts)
                                             : b.div(result, counts);
  }
  return {b.convert(result, type)};
}

// --- index_add / index_copy / index_fill -------------------------------------------

// self with row i of `updates` (its dim-th slices; `updates` has self's shape
// with `count` along dim, or is 0-d with a 0-d self) combined into row
// index[i] of self by `update`. Indices are used as given: negative or too
// large ones are dropped by the scatter.
Value scatter_rows(Builder& b, Value self, int64_t dim, Value index, Value updates,
                   const Builder::RegionBody& update) {
  const int64_t count = b.type(index).numel();
  if (count == 0 || b.type(self).numel() == 0) return self;
  const Value target = as_at_least_1d(b, self);
  const int64_t rank = b.rank(target);
  ScatterDimensions dn;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim) dn.update_window_dims.push_back(d);
  }
  dn.inserted_window_dims = {dim};
  dn.scatter_dims_to_operand_dims = {dim};
  dn.index_vector_dim = 1;
  const Value result =
      b.scatter(target, b.reshape(index, {count, 1}), as_at_least_1d(b, updates), dn, update);
  return b.reshape(result, b.dims(self));
}

std::vector<Value> index_add_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const Value source = call.tensor(3).value;
  const std::optional<TensorArg> alpha = call.size() > 4 ? call.optional_tensor(4) : std::nullopt;
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(self));
  const ElementType type = b.element_type(self);
  const ElementType index_type = b.element_type(index);
  if (!is_index_type(index_type)) {
    throw InvalidArgument("index_add_(): Expected dtype int32/int64 for index but got: " +
                          std::string(scalar_type_name(index_type)));
  }
  if (b.rank(index) > 1) {
    throw IndexOutOfRange("index_add_(): Index is supposed to be a vector, but got dim: " +
                          std::to_string(b.rank(index)) +
                          " with type: " + std::string(scalar_type_name(index_type)) +
                          " and size: " + shape_text(b.dims(index)));
  }
  if (b.element_type(source) != type) {
    throw InvalidArgument("index_add_(): self (" + std::string(scalar_type_name(type)) +
                          ") and source (" + std::string(scalar_type_name(b.element_type(source))) +
                          ") must have the same scalar type");
  }
  const std::vector<int64_t>& self_dims = b.dims(self);
  const std::vector<int64_t>& source_dims = b.dims(source);
  bool shapes_match = self_dims.size() == source_dims.size();
  for (size_t d = 0; shapes_match && d < self_dims.size(); ++d) {
    shapes_match = static_cast<int64_t>(d) == dim || self_dims[d] == source_dims[d];
  }
  if (!shapes_match) {
    throw InvalidArgument(
        "source tensor shape must match self tensor shape, excluding the specified dimension. "
        "Got self.shape = " +
        shape_text(self_dims) + " source.shape = " + shape_text(source_dims));
  }
  const int64_t count = b.type(index).numel();
  const int64_t source_size = source_dims.empty() ? 1 : source_dims[dim];
  if (count != source_size) {
    throw InvalidArgument("index_add_(): Number of indices (" + std::to_string(count) +
                          ") should be equal to source.size(dim): (" + std::to_string(source_size) +
                          "), for dim: " + std::to_string(dim));
  }
  if (count > 0 && !self_dims.empty() && self_dims[dim] == 0) {
    throw IndexOutOfRange("index out of range in self");
  }
  const int64_t size = self_dims.empty() ? 1 : self_dims[dim];
  check_bounds(b, call, index, 0, size, CheckKind::kRuntime, bounds_message(dim, size));

  const ElementType compute = opmath_type(type);
  Value updates = b.convert(source, compute);
  if (alpha) {
    const Value scale = b.convert(alpha->value, compute);
    const Value spread = b.broadcast_in_dim(scale, b.dims(updates), {});
    updates = compute == ElementType::kPred ? b.binary(BinaryOp::kAnd, updates, spread)
                                            : b.mul(updates, spread);
  }
  const Value sum = scatter_rows(b, b.convert(self, compute), dim, index, updates,
                                 combiner(BinaryOp::kAdd, compute));
  return {b.convert(sum, type)};
}

std::vector<Value> index_copy_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const Value source = call.tensor(3).value;
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(self));
  const ElementType type = b.element_type(self);
  const ElementType index_type = b.element_type(index);
  if (b.rank(index) > 1) {
    throw IndexOutOfRange("index_copy_(): Index should have dimension 1 or 0 (got " +
                          std::to_string(b.rank(index)) + ")");
  }
  if (index_type != ElementType::kS64) {
    throw InvalidArgument("index_copy_(): Expected a long tensor for index, but got " +
                          std::string(scalar_type_name(index_type)));
  }
  if (b.element_type(source) != type) {
    throw InvalidArgument(
        "index_copy_(): self and source expected to have the same dtype, but got (self) " +
        std::string(scalar_type_name(type)) + " and (source) " +
        std::string(scalar_type_name(b.element_type(source))));
  }
  const std::vector<int64_t>& self_dims = b.dims(self);
  const std::vector<int64_t>& source_dims = b.dims(source);
  if (!self_dims.empty() && !source_dims.empty() && self_dims.size() != source_dims.size()) {
    throw IndexOutOfRange(
        "index_copy_(): When source and destination are not scalars, their dimensionality "
        "must match. Source dimensionality (" +
        std::to_string(source_dims.size()) + "), destination dimensionality (" +
        std::to_string(self_dims.size()) + ")");
  }
  const int64_t count = b.type(index).numel();
  const int64_t source_size = source_dims.empty() ? 1 : source_dims[dim];
  if (count != source_size) {
    throw IndexOutOfRange("index_copy_(): Number of indices (" + std::to_string(count) +
                          ") should be equal to source.size(dim) (" + std::to_string(source_size) +
                          ")");
  }
  for (size_t d = 0; d < self_dims.size() && d < source_dims.size(); ++d) {
    if (static_cast<int64_t>(d) != dim && self_dims[d] != source_dims[d]) {
      throw InvalidArgument(
          "index_copy_(): Source/destination tensor must have same slice shapes. Destination "
          "slice shape: " +
          shape_text(self_dims) + " and source slice shape: " + shape_text(source_dims) +
          " at dimension " + std::to_string(dim) + ".");
    }
  }
  if (count > 0 && !self_dims.empty() && self_dims[dim] == 0) {
    throw IndexOutOfRange("index_copy_(): index is out of bounds for dimension " +
                          std::to_string(dim) + " with size 0");
  }
  const int64_t size = self_dims.empty() ? 1 : self_dims[dim];
  check_bounds(b, call, index, 0, size, CheckKind::kIndex,
               "index_copy_(): " + bounds_message(dim, size));
  // A 0-d self takes a [1] source and the other way round.
  std::vector<int64_t> rows_dims = self_dims;
  if (!rows_dims.empty()) rows_dims[dim] = count;
  if (numel(rows_dims) != b.type(source).numel()) {
    throw InvalidArgument("index_copy_(): Source/destination tensor must have same slice shapes");
  }
  const Value rows = b.reshape(source, rows_dims);
  return {scatter_rows(b, self, dim, index, rows, replacer())};
}

// index_fill.int_Scalar / .int_Tensor: the rows index[i] along dim set to
// one value. Negative indices count from the end here, as in PyTorch.
std::vector<Value> index_fill_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(2).value;
  const TensorArg& value = call.tensor(3);
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(self));
  if (b.element_type(index) != ElementType::kS64) {
    throw IndexOutOfRange("index_fill_(): Expected dtype int64 for index.");
  }
  if (b.rank(index) > 1) throw InvalidArgument("Index has to be a vector/scalar");
  if (b.rank(value.value) != 0) {
    throw InvalidArgument(
        "index_fill_ only supports a 0-dimensional value tensor, but got tensor with " +
        std::to_string(b.rank(value.value)) + " dimension(s).");
  }
  const std::vector<int64_t>& self_dims = b.dims(self);
  const int64_t count = b.type(index).numel();
  const int64_t size = self_dims.empty() ? 1 : self_dims[dim];
  if (count > 0 && size == 0) {
    throw IndexOutOfRange("index 0 is out of bounds for dimension " + std::to_string(dim) +
                          " with size 0");
  }
  check_bounds(b, call, index, -size, size, CheckKind::kIndex, bounds_message(dim, size));
  std::vector<int64_t> rows_dims = self_dims;
  if (!rows_dims.empty()) rows_dims[dim] = count;
  const Value fill = b.convert(value.value, b.element_type(self));
  const Value rows = b.broadcast_in_dim(fill, rows_dims, {});
  return {scatter_rows(b, self, dim, wrap_negative(b, b.reshape(index, {count}), size), rows,
                       replacer())};
}

// --- take / put (indices into the flattened tensor) ----------------------------------

void check_long_index(const Builder& b, Value index, const char* op) {
  const ElementType type = b.element_type(index);
  if (type != ElementType::kS64) {
    throw InvalidArgument(std::string(op) + "(): Expected a long tensor for index, but got " +
                          std::string(scalar_type_name(type)));
  }
}

std::string flat_bounds_message(int64_t total) {
  return "out of range: tried to access index {} on a tensor of " + std::to_string(total) +
         " elements.";
}

std::vector<Value> take_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(1).value;
  check_long_index(b, index, "take");
  const int64_t total = b.type(self).numel();
  if (total == 0 && b.type(index).numel() > 0) {
    throw IndexOutOfRange("out of range: tried to access index 0 on an empty tensor.");
  }
  check_bounds(b, call, index, -total, total, CheckKind::kIndex, flat_bounds_message(total));
  const Value flat = b.reshape(self, {total});
  return {gather_slices(b, flat, 0, wrap_negative(b, index, total))};
}

// put(self, index, source, accumulate): self.flatten()[index] = source.flatten().
std::vector<Value> put_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value index = call.tensor(1).value;
  const Value source = call.tensor(2).value;
  const bool accumulate = call.size() > 3 && call.bool_at(3);
  check_long_index(b, index, "put_");
  const ElementType type = b.element_type(self);
  if (b.element_type(source) != type) {
    throw InvalidArgument(
        "put_(): self and source expected to have the same dtype, but got self.dtype = " +
        std::string(scalar_type_name(type)) +
        " and source.dtype = " + std::string(scalar_type_name(b.element_type(source))));
  }
  const int64_t count = b.type(index).numel();
  if (b.type(source).numel() != count) {
    throw IndexOutOfRange(
        "put_(): Expected source and index to have the same number of elements, but got "
        "source.numel() = " +
        std::to_string(b.type(source).numel()) + ", index.numel() = " + std::to_string(count));
  }
  const int64_t total = b.type(self).numel();
  if (count == 0) return {self};
  if (total == 0) throw IndexOutOfRange("put_(): Tried to put elements into an empty tensor");
  check_bounds(b, call, index, -total, total, CheckKind::kIndex, flat_bounds_message(total));
  const Value positions = wrap_negative(b, b.reshape(index, {count}), total);
  const ElementType compute = accumulate ? opmath_type(type) : type;
  const Value flat = b.convert(b.reshape(self, {total}), compute);
  const Value values = b.convert(b.reshape(source, {count}), compute);
  const Value result = scatter_rows(b, flat, 0, positions, values,
                                    accumulate ? combiner(BinaryOp::kAdd, compute) : replacer());
  return {b.convert(b.reshape(result, b.dims(self)), type)};
}

}  // namespace

void add_indexing_rules(RuleTable& table) {
  table.add("index_select", {&index_select_rule, {}});
  // embedding's CompositeExplicitAutograd kernel would go through
  // reshape + index_select; one gather is the same program, without the chain.
  table.add("embedding", {&embedding_rule, {}});
  table.add("embedding_dense_backward", {&embedding_dense_backward_rule, {}});
  table.add("index", {&index_rule, {}});
  table.add("_unsafe_index", {&index_rule, {}});
  table.add("index_put", {&index_put_rule, {}});
  table.add("_index_put_impl", {&index_put_rule, {}});
  table.add("_unsafe_index_put", {&index_put_rule, {}});
  table.add("gather", {&gather_rule, {}});
  table.add("scatter", {&scatter_rule, {}});
  table.add("scatter_add", {&scatter_add_rule, {}});
  table.add("scatter_reduce", {&scatter_reduce_rule, {}});
  table.add("index_add", {&index_add_rule, {}});
  table.add("index_copy", {&index_copy_rule, {}});
  table.add("index_fill", with_scalar_range(&index_fill_rule, RuleInfo::ScalarRange::kSelfDtype));
  table.add("take", {&take_rule, {}});
  table.add("put", {&put_rule, {}});
}

}  // namespace torch_pjrt::lowering
