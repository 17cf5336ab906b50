// index_reduce(self, dim, index, source, reduce, include_self=True): slice k
// of source along dim is combined into slice index[k] of self by prod, mean,
// amax or amin; slices that no index names keep self's values.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/nan_extremum.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

// source's slices along dim combined into self's at `index` (s64 [K, 1]).
Value scatter_slices(Builder& b, Value self, int64_t dim, Value index, Value source,
                     const Builder::RegionBody& combine) {
  stablehlo::ScatterDimensions dn;
  for (int64_t d = 0; d < b.rank(self); ++d) {
    if (d != dim) dn.update_window_dims.push_back(d);
  }
  dn.inserted_window_dims = {dim};
  dn.scatter_dims_to_operand_dims = {dim};
  dn.index_vector_dim = 1;
  return b.scatter(self, index, source, dn, combine);
}

// The smallest (or largest) value of an integer type: where amax (amin)
// starts when self's own values are left out.
int64_t integer_bound(ElementType type, bool largest) {
  const int64_t bits = stablehlo::byte_width(type) * 8;
  if (stablehlo::is_unsigned_integral(type)) {
    return largest ? (bits < 64 ? (int64_t{1} << bits) - 1 : -1) : 0;
  }
  if (bits == 64) {
    return largest ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return largest ? (int64_t{1} << (bits - 1)) - 1 : -(int64_t{1} << (bits - 1));
}

// a / c rounded toward negative infinity, for integers and c > 0.
Value floor_divide_by_positive(Builder& b, Value a, Value c) {
  Value quotient = b.div(a, c);
  Value inexact =
      b.compare(ComparisonDirection::kNE, b.binary(BinaryOp::kRemainder, a, c), b.zeros(b.type(a)));
  Value negative = b.compare(ComparisonDirection::kLT, a, b.zeros(b.type(a)));
  return b.select(b.binary(BinaryOp::kAnd, inexact, negative),
                  b.sub(quotient, b.splat(1, b.type(a))), quotient);
}

std::vector<Value> index_reduce_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  Value index = call.tensor(2).value;
  Value source = call.tensor(3).value;
  const std::string reduce(call.string_at(4));
  const bool include_self = call.size() > 5 ? call.bool_at(5) : true;
  if (reduce != "prod" && reduce != "mean" && reduce != "amax" && reduce != "amin") {
    throw InvalidArgument(
        "index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got " + reduce +
        ".");
  }
  const ElementType type = b.element_type(self);
  const ElementType index_type = b.element_type(index);
  if (index_type != ElementType::kS32 && index_type != ElementType::kS64) {
    throw InvalidArgument("index_reduce_(): Expected dtype int32/int64 for index but got: " +
                          std::string(scalar_type_name(index_type)));
  }
  if (b.rank(index) > 1) {
    throw IndexOutOfRange("index_reduce_(): Index is supposed to be a vector, but got dim: " +
                          std::to_string(b.rank(index)) +
                          " with type: " + std::string(scalar_type_name(index_type)) +
                          " and size: " + shape_text(b.dims(index)));
  }
  if (b.element_type(source) != type) {
    throw InvalidArgument("index_reduce_(): self (" + std::string(scalar_type_name(type)) +
                          ") and source (" + std::string(scalar_type_name(b.element_type(source))) +
                          ") must have the same scalar type");
  }
  const std::vector<int64_t> self_dims = b.dims(self);
  const std::vector<int64_t> source_dims = b.dims(source);
  const int64_t dim = wrap_dim(call.int_at(1), static_cast<int64_t>(self_dims.size()));
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
    throw InvalidArgument("index_reduce_(): Number of indices (" + std::to_string(count) +
                          ") should be equal to source.size(dim): (" + std::to_string(source_size) +
                          "), for dim: " + std::to_string(dim));
  }
  if (type == ElementType::kPred || stablehlo::is_complex(type)) {
    throw_no_kernel("index_func_", type);
  }
  if (count > 0 && !self_dims.empty() && self_dims[dim] == 0) {
    throw IndexOutOfRange("index out of range in self");
  }
  if (count == 0) return {self};
  if (self_dims.empty()) {
    self = b.reshape(self, {1});
    source = b.reshape(source, {1});
  }
  const std::vector<int64_t>& dims = b.dims(self);
  // An index out of range would be dropped by the scatter; CPU raises.
  call.check_on_device(check_in_range(
      b, index, 0, dims[dim],
      CheckSite{CheckKind::kIndex, "index out of range in self (index {}, dimension " +
                                       std::to_string(dim) + " with size " +
                                       std::to_string(dims[dim]) + ")"}));
  Value rows = b.reshape(b.convert(index, ElementType::kS64), {count, 1});

  const TensorType hits_type{ElementType::kS64, dims};
  std::vector<int64_t> ones_dims = b.dims(source);
  Value hits = scatter_slices(b, b.zeros(hits_type), dim, rows,
                              b.splat(1, TensorType{ElementType::kS64, ones_dims}),
                              [](Builder& r, const std::vector<Value>& args) {
                                return std::vector<Value>{r.add(args[0], args[1])};
                              });
  Value touched = b.compare(ComparisonDirection::kGT, hits, b.zeros(hits_type));

  const bool floating = stablehlo::is_floating(type);
  const ElementType compute = reduce == "mean" ? opmath_type(type) : type;
  Value x = b.convert(self, compute);
  Value updates = b.convert(source, compute);
  BinaryOp op = BinaryOp::kAdd;
  Value neutral = b.constant(0, compute);
  if (reduce == "prod") {
    op = BinaryOp::kMultiply;
    neutral = b.constant(1, compute);
  } else if (reduce == "amax" || reduce == "amin") {
    const bool is_max = reduce == "amax";
    op = is_max ? BinaryOp::kMaximum : BinaryOp::kMinimum;
    neutral = floating ? b.constant(is_max ? -INFINITY : INFINITY, compute)
                       : b.constant_int(integer_bound(type, !is_max), compute);
  }
  Value start = x;
  if (!include_self) start = b.select(touched, b.broadcast_in_dim(neutral, dims, {}), x);
  Value combined = scatter_slices(
      b, start, dim, rows, updates, [op](Builder& r, const std::vector<Value>& args) {
        if (op == BinaryOp::kMaximum || op == BinaryOp::kMinimum) {
          return std::vector<Value>{nan_propagating(r, op, args[0], args[1])};
        }
        return std::vector<Value>{r.binary(op, args[0], args[1])};
      });
  if (reduce == "mean") {
    Value counts =
        include_self ? b.add(hits, b.splat(1, hits_type)) : b.max(hits, b.splat(1, hits_type));
    Value divisor = b.convert(counts, compute);
    combined = floating ? b.div(combined, divisor) : floor_divide_by_positive(b, combined, divisor);
  }
  Value result = b.convert(combined, type);
  if (self_dims.empty()) result = b.reshape(result, {});
  return {result};
}

}  // namespace

void add_index_reduce_rules(RuleTable& table) {
  table.add("index_reduce", {&index_reduce_rule, {}});
}

}  // namespace torch_pjrt::lowering
