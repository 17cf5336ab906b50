// Ops that pair the true elements of a mask with a dense run of values by a
// running count: masked_scatter (the k-th true element takes source[k]) and
// nonzero_static (the k-th true element's index goes to row k). Both have
// shapes known when lowering; the ops whose result size depends on the data
// (nonzero, masked_select, unique, ...) are kernels in aten/ that read the
// size from the device first and then call these.
#include <cstdint>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/prefix_scan.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

Value is_nonzero(Builder& b, Value x) {
  if (b.element_type(x) == ElementType::kPred) return x;
  return b.compare(ComparisonDirection::kNE, x, b.zeros(b.type(x)));
}

// Inclusive running count of the true elements of a 1-d pred, as s64.
Value running_count(Builder& b, Value flat_mask) {
  return prefix_scan(
      b, {b.convert(flat_mask, ElementType::kS64)}, 0,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.add(earlier[0], later[0])};
      })[0];
}

// x[index] for a 1-d x and an s64 index of any shape (in range).
Value take_flat(Builder& b, Value x, Value index) {
  stablehlo::GatherDimensions dn;
  dn.collapsed_slice_dims = {0};
  dn.start_index_map = {0};
  dn.index_vector_dim = b.rank(index);
  return b.gather(x, index, dn, {1});
}

// s64[size]: the flat positions of the first `size` true elements of a 1-d
// pred in order, -1 past the last one. Each true element is scattered to its
// running count minus one; the rest go to one spare slot that is cut off.
Value true_positions(Builder& b, Value flat_mask, int64_t size) {
  const int64_t n = b.dims(flat_mask)[0];
  const TensorType slots{ElementType::kS64, {size + 1}};
  Value unfilled = b.splat(-1, slots);
  if (n == 0) return b.slice(unfilled, {0}, {size});
  const TensorType positions_type{ElementType::kS64, {n}};
  Value rank_of = b.sub(running_count(b, flat_mask), b.splat(1, positions_type));
  Value spare = b.splat(static_cast<double>(size), positions_type);
  Value kept =
      b.binary(BinaryOp::kAnd, flat_mask, b.compare(ComparisonDirection::kLT, rank_of, spare));
  Value target = b.reshape(b.select(kept, rank_of, spare), {n, 1});
  stablehlo::ScatterDimensions dn;
  dn.inserted_window_dims = {0};
  dn.scatter_dims_to_operand_dims = {0};
  dn.index_vector_dim = 1;
  Value placed = b.scatter(
      unfilled, target, b.iota(positions_type, 0), dn,
      [](Builder&, const std::vector<Value>& args) { return std::vector<Value>{args[1]}; });
  return b.slice(placed, {0}, {size});
}

// nonzero_static(self, *, size, fill_value=-1): s64[size, rank], the indices
// of the first `size` nonzero elements in row-major order, fill_value after.
std::vector<Value> nonzero_static_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const int64_t size = call.int_at(1);
  const int64_t fill = call.int_at(2);
  if (size < 0) throw InvalidArgument("nonzero_static: 'size' must be an non-negative integer");
  const std::vector<int64_t> dims = b.dims(self);
  const auto rank = static_cast<int64_t>(dims.size());
  const TensorType result_type{ElementType::kS64, {size, rank}};
  if (rank == 0 || size == 0) return {b.zeros(result_type)};
  const int64_t n = numel(dims);
  if (n == 0) return {b.splat(static_cast<double>(fill), result_type)};
  Value flat = true_positions(b, b.reshape(is_nonzero(b, self), {n}), size);
  // Row-major strides turn a flat position into one index per dim.
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d) strides[d - 1] = strides[d] * dims[d];
  Value spread = b.broadcast_in_dim(flat, {size, rank}, {0});
  Value stride =
      b.broadcast_in_dim(b.constant_ints(strides, {ElementType::kS64, {rank}}), {size, rank}, {1});
  Value extent = b.broadcast_in_dim(
      b.constant_ints(std::vector<int64_t>(dims.begin(), dims.end()), {ElementType::kS64, {rank}}),
      {size, rank}, {1});
  Value index = b.binary(BinaryOp::kRemainder, b.div(spread, stride), extent);
  Value missing = b.compare(ComparisonDirection::kLT, spread, b.zeros(result_type));
  return {b.select(missing, b.splat(static_cast<double>(fill), result_type), index)};
}

// masked_scatter(self, mask, source): the result has the broadcast shape of
// self and mask; its k-th masked element (row-major) is source.flatten()[k].
std::vector<Value> masked_scatter_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value mask = call.tensor(1).value;
  const Value source = call.tensor(2).value;
  if (b.element_type(mask) != ElementType::kPred) {
    throw InvalidArgument("masked_scatter_ only supports boolean masks, but got mask with dtype " +
                          std::string(scalar_type_name(b.element_type(mask))));
  }
  const ElementType type = b.element_type(self);
  if (b.element_type(source) != type) {
    throw InvalidArgument("masked_scatter: expected self and source to have same dtypes but got" +
                          std::string(scalar_type_name(type)) + " and " +
                          std::string(scalar_type_name(b.element_type(source))));
  }
  const std::vector<int64_t> dims = broadcast_shapes(b.dims(self), b.dims(mask));
  Value base = broadcast_to(b, self, dims);
  const int64_t n = numel(dims);
  const int64_t available = b.type(source).numel();
  if (n == 0) return {base};
  Value flat_mask = b.reshape(broadcast_to(b, mask, dims), {n});
  const TensorType positions_type{ElementType::kS64, {n}};
  const Value counts = running_count(b, flat_mask);
  // More true elements than source has: CPU raises; only the device can count.
  call.check_on_device(check_in_range(
      b, counts, 0, available + 1,
      CheckSite{CheckKind::kRuntime, "Number of elements of source < number of ones in mask"}));
  if (available == 0) return {base};
  // The k-th true element reads source[k]: its running count minus one
  // (clamped, so a failed check still reads inside source).
  Value taken = b.clamp(b.zeros({ElementType::kS64, {}}), b.sub(counts, b.splat(1, positions_type)),
                        b.constant_int(available - 1, ElementType::kS64));
  Value values = take_flat(b, b.reshape(source, {available}), taken);
  return {b.select(b.reshape(flat_mask, dims), b.reshape(values, dims), base)};
}

}  // namespace

void add_mask_compaction_rules(RuleTable& table) {
  table.add("nonzero_static", {&nonzero_static_rule, {}});
  table.add("masked_scatter", {&masked_scatter_rule, {}});
}

}  // namespace torch_pjrt::lowering
