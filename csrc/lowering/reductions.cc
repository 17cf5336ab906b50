// Reductions: sum, nansum, mean, prod, amax/amin/aminmax, max/min,
// argmax/argmin, var/std, all/any, logsumexp, cumsum/cumprod, norms,
// count_nonzero.
//
// PyTorch semantics kept here: integer and bool sums/products widen to s64;
// bf16/f16 accumulate in f32 and round once at the end; max/min propagate NaN
// and their indices name the first occurrence; reductions over nothing give the
// identity (sum 0, prod 1, all true) except where PyTorch raises (max, amax,
// argmax, inf-norm of an empty tensor).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/nan_extremum.h"
#include "lowering/op_call.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr double kInf = std::numeric_limits<double>::infinity();

// --- arguments ---------------------------------------------------------------

// The overloads of a reduction (and their .out forms, whose overload names
// differ) only differ in which of dim / keepdim / dtype they take, and each of
// those has its own argument type, so one type-directed parse serves them all.
struct ReductionArgs {
  std::optional<std::vector<int64_t>> dims;  // absent: every dim
  bool single_dim = false;                   // came from an `int dim` argument
  bool keepdim = false;
  std::optional<ElementType> dtype;
};

ReductionArgs parse_reduction_args(const OpCall& call, size_t first) {
  ReductionArgs out;
  for (size_t i = first; i < call.size(); ++i) {
    const Arg& arg = call.args[i];
    if (const auto* dims = std::get_if<std::vector<int64_t>>(&arg)) {
      out.dims = *dims;
    } else if (const auto* dim = std::get_if<int64_t>(&arg)) {
      out.dims = std::vector<int64_t>{*dim};
      out.single_dim = true;
    } else if (const auto* keepdim = std::get_if<bool>(&arg)) {
      out.keepdim = *keepdim;
    } else if (const auto* dtype = std::get_if<ElementType>(&arg)) {
      out.dtype = *dtype;
    }
  }
  return out;
}

bool is_floating_or_complex(ElementType type) {
  return stablehlo::is_floating(type) || stablehlo::is_complex(type);
}

// The type a sum or product accumulates in: half types widen to f32.
ElementType accumulation_type(ElementType type) {
  return type == ElementType::kPred ? ElementType::kS64 : opmath_type(type);
}

// sum/prod/cumsum of integers and bools give s64 unless a dtype is asked for.
ElementType widened_integer_result(ElementType input, std::optional<ElementType> dtype) {
  if (dtype) return *dtype;
  if (input == ElementType::kPred || stablehlo::is_integral(input)) return ElementType::kS64;
  return input;
}

// out= forms compute in the out tensor's dtype where PyTorch's kernels do:
// sum/prod/cumsum/cumprod treat it as the dtype argument (even float -> int),
// mean/logsumexp/var/std use it when it is a floating type.
std::optional<ElementType> out_dtype(const OpCall& call) {
  if (call.out_element_types.empty()) return std::nullopt;
  return call.out_element_types.front();
}

std::optional<ElementType> dtype_or_out(const OpCall& call, std::optional<ElementType> dtype) {
  return dtype ? dtype : out_dtype(call);
}

// The floating type to compute a floating reduction of `input` in.
ElementType floating_out_or(const OpCall& call, ElementType natural) {
  const std::optional<ElementType> out = out_dtype(call);
  if (out && stablehlo::is_floating(*out) && !stablehlo::is_complex(natural)) return *out;
  return natural;
}

// --- which dims, and the result's shape --------------------------------------

struct Reduction {
  std::vector<int64_t> input_dims;
  std::vector<int64_t> dims;  // wrapped, sorted, unique
  bool keepdim = false;

  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= input_dims[d];
    return n;
  }
  bool reduces(int64_t d) const { return std::find(dims.begin(), dims.end(), d) != dims.end(); }
  std::vector<int64_t> kept_shape() const {
    std::vector<int64_t> shape = input_dims;
    for (int64_t d : dims) shape[d] = 1;
    return shape;
  }
  std::vector<int64_t> output_shape() const {
    if (keepdim) return kept_shape();
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < static_cast<int64_t>(input_dims.size()); ++d)
      if (!reduces(d)) shape.push_back(input_dims[d]);
    return shape;
  }
};

// `requested` absent means every dim; an empty list means every dim too
// (sum(x, []) reduces everything) unless `empty_means_none` (all/any.dims).
Reduction make_reduction(const std::vector<int64_t>& input_dims,
                         const std::optional<std::vector<int64_t>>& requested, bool keepdim,
                         bool empty_means_none = false) {
  Reduction r{input_dims, {}, keepdim};
  const auto rank = static_cast<int64_t>(input_dims.size());
  if (!requested || (requested->empty() && !empty_means_none)) {
    for (int64_t d = 0; d < rank; ++d) r.dims.push_back(d);
    return r;
  }
  std::vector<bool> seen(std::max<int64_t>(rank, 1), false);
  for (int64_t dim : *requested) {
    const int64_t d = wrap_dim(dim, rank);
    if (seen[d])
      throw InvalidArgument("dim " + std::to_string(d) +
                            " appears multiple times in the list of dims");
    seen[d] = true;
    if (rank > 0) r.dims.push_back(d);  // a 0-d tensor accepts dim 0 / -1 but has no dim
  }
  std::sort(r.dims.begin(), r.dims.end());
  return r;
}

// max, amax, argmax, ...: no identity, so an empty reduction is an error.
void check_nonempty_reduction(std::string_view op, const Reduction& r, bool dim_given,
                              bool index_error_when_unspecified = false) {
  int64_t numel = 1;
  for (int64_t d : r.input_dims) numel *= d;
  if (numel != 0) return;
  if (!dim_given) {
    const std::string message =
        std::string(op) + "(): Expected reduction dim to be specified for input.numel() == 0." +
        (index_error_when_unspecified ? "" : " Specify the reduction dim with the 'dim' argument.");
    if (index_error_when_unspecified) throw IndexOutOfRange(message);
    throw InvalidArgument(message);
  }
  for (int64_t d : r.dims)
    if (r.input_dims[d] == 0)
      throw IndexOutOfRange(std::string(op) + "(): Expected reduction dim " + std::to_string(d) +
                            " to have non-zero size.");
}

// Orderings are undefined for complex numbers. PyTorch's CPU kernels refuse
// either with a dispatch error (NotImplementedError) or a check (RuntimeError).
void reject_complex(Builder& b, Value x, std::string_view kernel) {
  const ElementType type = b.element_type(x);
  if (!stablehlo::is_complex(type)) return;
  throw_no_kernel(kernel, type);
}

void check_not_complex(Builder& b, Value x, std::string_view message) {
  if (stablehlo::is_complex(b.element_type(x))) throw InvalidArgument(std::string(message));
}

// --- emitting ----------------------------------------------------------------

Value fill_like(Builder& b, Value like, double value) { return b.splat(value, b.type(like)); }

std::pair<int64_t, int64_t> integer_limits(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return {0, 1};
    case ElementType::kS8:
      return {INT8_MIN, INT8_MAX};
    case ElementType::kS16:
      return {INT16_MIN, INT16_MAX};
    case ElementType::kS32:
      return {INT32_MIN, INT32_MAX};
    case ElementType::kU8:
      return {0, UINT8_MAX};
    case ElementType::kU16:
      return {0, UINT16_MAX};
    case ElementType::kU32:
      return {0, UINT32_MAX};
    case ElementType::kU64:
      return {0, -1};  // all bits set
    default:
      return {INT64_MIN, INT64_MAX};
  }
}

// The identity of max (lowest) or min (highest) for `type`.
Value extreme_value(Builder& b, ElementType type, bool lowest) {
  if (stablehlo::is_floating(type)) return b.constant(lowest ? -kInf : kInf, type);
  const auto [low, high] = integer_limits(type);
  return b.constant_int(lowest ? low : high, type);
}

Value reduce_with(Builder& b, Value x, Value init, const std::vector<int64_t>& dims, BinaryOp op) {
  const bool extreme = op == BinaryOp::kMaximum || op == BinaryOp::kMinimum;
  return b.reduce(x, init, dims, [op, extreme](Builder& rb, const std::vector<Value>& args) {
    if (extreme) return extremum_reducer(rb, op, args);
    return std::vector<Value>{rb.binary(op, args[0], args[1])};
  });
}

Value shape_result(Builder& b, Value reduced, const Reduction& r) {
  return b.reshape(reduced, r.output_shape());
}

// Sum over r's dims in the accumulation type of `result_type`, rounded once.
Value sum_in(Builder& b, Value x, const Reduction& r, ElementType result_type) {
  const ElementType acc = accumulation_type(result_type);
  Value widened = b.convert(b.convert(x, result_type), acc);
  Value sum = reduce_with(b, widened, b.constant(0, acc), r.dims, BinaryOp::kAdd);
  return b.convert(shape_result(b, sum, r), result_type);
}

// Max or min along one dim, with the index of its first occurrence. NaN ranks
// above (max) or below (min) every number, and the first NaN wins, as in PyTorch.
// The body is symmetric in its two (value, index) pairs, so XLA may combine
// partial results in any order.
std::pair<Value, Value> reduce_with_index(Builder& b, Value x, int64_t dim, bool is_max) {
  const ElementType type = b.element_type(x);
  const bool floating = stablehlo::is_floating(type);
  Value index = b.iota(TensorType{ElementType::kS64, b.dims(x)}, dim);
  Value init_value = extreme_value(b, type, /*lowest=*/is_max);
  Value init_index = b.constant_int(0, ElementType::kS64);
  auto body = [is_max, floating](Builder& rb, const std::vector<Value>& a) {
    const Value lhs = a[0], lhs_index = a[1], rhs = a[2], rhs_index = a[3];
    Value better =
        rb.compare(is_max ? ComparisonDirection::kGT : ComparisonDirection::kLT, lhs, rhs);
    Value same = rb.compare(ComparisonDirection::kEQ, lhs, rhs);
    if (floating) {
      Value lhs_nan = rb.compare(ComparisonDirection::kNE, lhs, lhs);
      Value rhs_nan = rb.compare(ComparisonDirection::kNE, rhs, rhs);
      better = rb.binary(BinaryOp::kOr, better,
                         rb.binary(BinaryOp::kAnd, lhs_nan, rb.unary(UnaryOp::kNot, rhs_nan)));
      same = rb.binary(BinaryOp::kOr, same, rb.binary(BinaryOp::kAnd, lhs_nan, rhs_nan));
    }
    Value earlier = rb.compare(ComparisonDirection::kLT, lhs_index, rhs_index);
    Value take_lhs = rb.binary(BinaryOp::kOr, better, rb.binary(BinaryOp::kAnd, same, earlier));
    return std::vector<Value>{rb.select(take_lhs, lhs, rhs),
                              rb.select(take_lhs, lhs_index, rhs_index)};
  };
  auto results = b.reduce({x, index}, {init_value, init_index}, {dim}, body);
  return {results[0], results[1]};
}

// --- sum, mean, prod ---------------------------------------------------------

std::vector<Value> sum_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType result_type =
      widened_integer_result(b.element_type(x), dtype_or_out(call, args.dtype));
  return {sum_in(b, x, r, result_type)};
}

// trace: the sum of a matrix's diagonal, integers widened to int64 as sum does.
std::vector<Value> trace_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const std::vector<int64_t> dims = b.dims(x);
  if (dims.size() != 2) {
    throw InvalidArgument("trace: expected a matrix, but got tensor with dim " +
                          std::to_string(dims.size()));
  }
  if (b.element_type(x) == ElementType::kPred) throw_no_kernel("trace", ElementType::kPred);
  TensorType index_type{ElementType::kS64, dims};
  Value diagonal =
      b.compare(ComparisonDirection::kEQ, b.iota(index_type, 0), b.iota(index_type, 1));
  x = b.select(diagonal, x, fill_like(b, x, 0));
  const Reduction r = make_reduction(dims, std::vector<int64_t>{0, 1}, false);
  return {sum_in(b, x, r, widened_integer_result(b.element_type(x), std::nullopt))};
}

// sum with NaN counted as zero.
std::vector<Value> nansum_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  check_not_complex(b, x, "nansum does not support complex inputs");
  if (stablehlo::is_floating(b.element_type(x))) {
    x = b.select(b.compare(ComparisonDirection::kNE, x, x), fill_like(b, x, 0), x);
  }
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType result_type =
      widened_integer_result(b.element_type(x), dtype_or_out(call, args.dtype));
  return {sum_in(b, x, r, result_type)};
}

std::vector<Value> mean_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  const ReductionArgs args = parse_reduction_args(call, 1);
  ElementType result_type = args.dtype.value_or(b.element_type(x));
  if (!args.dtype && is_floating_or_complex(result_type))
    result_type = floating_out_or(call, result_type);
  if (!is_floating_or_complex(result_type)) {
    throw InvalidArgument(std::string("mean(): could not infer output dtype. ") +
                          (args.dtype ? "Optional dtype" : "Input dtype") +
                          " must be either a floating point or complex dtype. Got: " +
                          std::string(scalar_type_name(result_type)));
  }
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType acc = accumulation_type(result_type);
  // Rounded to the requested dtype first, as x.to(dtype).mean() would be.
  Value sum = sum_in(b, b.convert(x, result_type), r, acc);
  Value mean = b.div(sum, fill_like(b, sum, static_cast<double>(r.count())));
  return {b.convert(mean, result_type)};
}

std::vector<Value> prod_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType result_type =
      widened_integer_result(b.element_type(x), dtype_or_out(call, args.dtype));
  const ElementType acc = accumulation_type(result_type);
  Value widened = b.convert(b.convert(x, result_type), acc);
  Value product = reduce_with(b, widened, b.constant(1, acc), r.dims, BinaryOp::kMultiply);
  return {b.convert(shape_result(b, product, r), result_type)};
}

// --- max and min ---------------------------------------------------------------

std::vector<Value> extreme_reduction(Builder& b, std::string_view op, Value x,
                                     const std::optional<std::vector<int64_t>>& dims, bool keepdim,
                                     bool is_max) {
  const Reduction r = make_reduction(b.dims(x), dims, keepdim);
  check_nonempty_reduction(op, r, dims.has_value() && !dims->empty());
  const ElementType type = b.element_type(x);
  Value reduced = reduce_with(b, x, extreme_value(b, type, /*lowest=*/is_max), r.dims,
                              is_max ? BinaryOp::kMaximum : BinaryOp::kMinimum);
  return {shape_result(b, reduced, r)};
}

// aminmax(self, *, dim?, keepdim) -> (min, max)
std::vector<Value> aminmax_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  reject_complex(b, x, "aminmax_cpu");
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  if (b.type(x).numel() == 0) {
    if (!args.dims) {
      throw InvalidArgument(
          "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
          "identity.");
    }
    for (int64_t d : r.dims)
      if (r.input_dims[d] == 0)
        throw IndexOutOfRange("aminmax: Expected reduction dim " + std::to_string(d) +
                              " to have non-zero size.");
  }
  const ElementType type = b.element_type(x);
  Value min = reduce_with(b, x, extreme_value(b, type, false), r.dims, BinaryOp::kMinimum);
  Value max = reduce_with(b, x, extreme_value(b, type, true), r.dims, BinaryOp::kMaximum);
  return {shape_result(b, min, r), shape_result(b, max, r)};
}

std::vector<Value> amax_rule(Builder& b, const OpCall& call) {
  reject_complex(b, call.tensor(0).value, "max_values_cpu");
  const ReductionArgs args = parse_reduction_args(call, 1);
  return extreme_reduction(b, "amax", call.tensor(0).value, args.dims, args.keepdim, true);
}

std::vector<Value> amin_rule(Builder& b, const OpCall& call) {
  reject_complex(b, call.tensor(0).value, "min_values_cpu");
  const ReductionArgs args = parse_reduction_args(call, 1);
  return extreme_reduction(b, "amin", call.tensor(0).value, args.dims, args.keepdim, false);
}

// Values and first-occurrence indices along one dim (max.dim / min.dim).
std::pair<Value, Value> extreme_along(Builder& b, std::string_view op, Value x, int64_t dim,
                                      bool keepdim, bool is_max) {
  const Reduction r = make_reduction(b.dims(x), std::vector<int64_t>{dim}, keepdim);
  check_nonempty_reduction(op, r, true);
  if (r.dims.empty())  // 0-d input: the element itself, at index 0
    return {x, b.constant_int(0, ElementType::kS64)};
  const ElementType type = b.element_type(x);
  // Bools compare as bytes.
  Value comparable = type == ElementType::kPred ? b.convert(x, ElementType::kU8) : x;
  auto [values, indices] = reduce_with_index(b, comparable, r.dims[0], is_max);
  return {b.convert(shape_result(b, values, r), type), shape_result(b, indices, r)};
}

std::vector<Value> max_or_min(Builder& b, const OpCall& call, bool is_max) {
  const std::string_view op = is_max ? "max" : "min";
  const Value x = call.tensor(0).value;
  // max.out(self, other): the out= form of maximum reaches us by name.
  if (call.size() > 1 && std::holds_alternative<TensorArg>(call.args[1])) {
    const ElementType type = result_type(b, {call.tensor(0), call.tensor(1)}, call.default_float);
    auto operands = promote_and_broadcast(b, {x, call.tensor(1).value}, type);
    return {nan_propagating(b, is_max ? BinaryOp::kMaximum : BinaryOp::kMinimum, operands[0],
                            operands[1])};
  }
  const ReductionArgs args = parse_reduction_args(call, 1);
  if (!args.single_dim) {
    reject_complex(b, x, is_max ? "max_all" : "min_all");
    return extreme_reduction(b, op, x, std::nullopt, false, is_max);
  }
  check_not_complex(b, x, std::string(op) + "(): does not support complex input");
  auto [values, indices] = extreme_along(b, op, x, args.dims->front(), args.keepdim, is_max);
  return {values, indices};
}

std::vector<Value> max_rule(Builder& b, const OpCall& call) { return max_or_min(b, call, true); }
std::vector<Value> min_rule(Builder& b, const OpCall& call) { return max_or_min(b, call, false); }

std::vector<Value> arg_extreme(Builder& b, const OpCall& call, bool is_max) {
  const std::string_view op = is_max ? "argmax" : "argmin";
  Value x = call.tensor(0).value;
  if (b.element_type(x) == ElementType::kPred)
    throw InvalidArgument(std::string(op) + "(): does not support bool input");
  check_not_complex(b, x, std::string(op) + "(): does not support complex input");
  const ReductionArgs args = parse_reduction_args(call, 1);
  if (args.single_dim) {
    return {extreme_along(b, op, x, args.dims->front(), args.keepdim, is_max).second};
  }
  // No dim: the index into the flattened tensor.
  const Reduction all = make_reduction(b.dims(x), std::nullopt, args.keepdim);
  check_nonempty_reduction(op, all, false, /*index_error_when_unspecified=*/true);
  Value flat = b.reshape(x, {all.count()});
  Value index = reduce_with_index(b, flat, 0, is_max).second;
  return {b.reshape(index, all.output_shape())};
}

std::vector<Value> argmax_rule(Builder& b, const OpCall& call) {
  return arg_extreme(b, call, true);
}
std::vector<Value> argmin_rule(Builder& b, const OpCall& call) {
  return arg_extreme(b, call, false);
}

// --- var and std ----------------------------------------------------------------

struct MomentArgs {
  std::optional<std::vector<int64_t>> dims;
  std::optional<TensorArg> correction;  // run time; absent means `fixed_correction`
  double fixed_correction = 1;
  bool keepdim = false;
};

// var.correction(self, dim?, *, correction?, keepdim), var.dim(self, dim?,
// unbiased, keepdim) and var(self, unbiased): `unbiased` is the only bool before
// keepdim.
MomentArgs parse_moment_args(const OpCall& call) {
  MomentArgs out;
  size_t i = 1;
  if (i < call.size() && std::holds_alternative<bool>(call.args[i])) {  // var(self, unbiased)
    out.fixed_correction = call.bool_at(i) ? 1 : 0;
    return out;
  }
  if (i < call.size()) out.dims = call.optional_ints(i);
  ++i;
  if (i < call.size()) {
    const Arg& arg = call.args[i];
    if (const auto* unbiased = std::get_if<bool>(&arg)) out.fixed_correction = *unbiased ? 1 : 0;
    if (const auto* correction = std::get_if<TensorArg>(&arg)) out.correction = *correction;
    if (const auto* correction = std::get_if<StaticScalar>(&arg)) {
      if (const auto* d = std::get_if<double>(correction)) out.fixed_correction = *d;
      if (const auto* n = std::get_if<int64_t>(correction))
        out.fixed_correction = static_cast<double>(*n);
    }
  }
  ++i;
  if (i < call.size() && std::holds_alternative<bool>(call.args[i])) out.keepdim = call.bool_at(i);
  return out;
}

struct Moments {
  Value var;   // real type of the input
  Value mean;  // input type
};

// var = sum(|x - mean|^2) / max(N - correction, 0): as PyTorch, too large a
// correction gives inf/nan rather than an error.
Moments moments(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (!is_floating_or_complex(b.element_type(x)))
    throw InvalidArgument("std and var only support floating point and complex dtypes");
  if (call.out_element_types.size() == 1)
    x = b.convert(x, floating_out_or(call, b.element_type(x)));
  const ElementType type = b.element_type(x);
  const MomentArgs args = parse_moment_args(call);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType acc = accumulation_type(type);
  const ElementType real_acc = stablehlo::real_part_type(acc);
  const auto count = static_cast<double>(r.count());

  Value wide = b.convert(x, acc);
  Value sum = reduce_with(b, wide, b.constant(0, acc), r.dims, BinaryOp::kAdd);
  Value mean = b.reshape(b.div(sum, fill_like(b, sum, count)), r.kept_shape());
  Value centered = b.sub(wide, broadcast_to(b, mean, r.input_dims));
  Value squared;
  if (stablehlo::is_complex(acc)) {
    Value re = b.unary(UnaryOp::kReal, centered), im = b.unary(UnaryOp::kImag, centered);
    squared = b.add(b.mul(re, re), b.mul(im, im));
  } else {
    squared = b.mul(centered, centered);
  }
  Value m2 =
      shape_result(b, reduce_with(b, squared, b.constant(0, real_acc), r.dims, BinaryOp::kAdd), r);

  Value correction = args.correction ? b.convert(args.correction->value, real_acc)
                                     : b.constant(args.fixed_correction, real_acc);
  Value dof = b.max(b.sub(b.constant(count, real_acc), correction), b.constant(0, real_acc));
  Value var = b.div(m2, broadcast_to(b, dof, b.dims(m2)));
  return {b.convert(var, stablehlo::real_part_type(type)),
          b.convert(b.reshape(mean, r.output_shape()), type)};
}

std::vector<Value> var_rule(Builder& b, const OpCall& call) { return {moments(b, call).var}; }

std::vector<Value> std_rule(Builder& b, const OpCall& call) {
  Value var = moments(b, call).var;
  return {b.unary(UnaryOp::kSqrt, var)};
}

std::vector<Value> var_mean_rule(Builder& b, const OpCall& call) {
  Moments m = moments(b, call);
  return {m.var, m.mean};
}

// sqrt rounds after the variance was rounded to the input type; for bf16 that
// double rounding stays within bf16 tolerance of PyTorch.
std::vector<Value> std_mean_rule(Builder& b, const OpCall& call) {
  Moments m = moments(b, call);
  return {b.unary(UnaryOp::kSqrt, m.var), m.mean};
}

// --- all and any ----------------------------------------------------------------

Value is_nonzero(Builder& b, Value x) {
  if (b.element_type(x) == ElementType::kPred) return x;
  return b.compare(ComparisonDirection::kNE, x, fill_like(b, x, 0));
}

std::vector<Value> logical_reduction(Builder& b, const OpCall& call, bool is_all) {
  const Value x = call.tensor(0).value;
  const ReductionArgs args = parse_reduction_args(call, 1);
  // all.dims(x, dim=[]) reduces nothing, unlike sum(x, []).
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim, /*empty_means_none=*/true);
  Value reduced =
      reduce_with(b, is_nonzero(b, x), b.constant_int(is_all ? 1 : 0, ElementType::kPred), r.dims,
                  is_all ? BinaryOp::kAnd : BinaryOp::kOr);
  Value result = shape_result(b, reduced, r);
  // uint8 in, uint8 out (a legacy PyTorch rule).
  if (b.element_type(x) == ElementType::kU8) result = b.convert(result, ElementType::kU8);
  return {result};
}

std::vector<Value> all_rule(Builder& b, const OpCall& call) {
  return logical_reduction(b, call, true);
}
std::vector<Value> any_rule(Builder& b, const OpCall& call) {
  return logical_reduction(b, call, false);
}

std::vector<Value> count_nonzero_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, false);
  return {sum_in(b, b.convert(is_nonzero(b, x), ElementType::kS64), r, ElementType::kS64)};
}

// --- logsumexp -----------------------------------------------------------------

// max + log(sum(exp(x - max))), with an infinite max replaced by 0 so that rows
// of -inf give -inf and rows holding +inf give +inf instead of NaN.
std::vector<Value> logsumexp_rule(Builder& b, const OpCall& call) {
  const Value x = call.tensor(0).value;
  const bool complex = stablehlo::is_complex(b.element_type(x));
  const ReductionArgs args = parse_reduction_args(call, 1);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  const ElementType result_type =
      floating_out_or(call, to_floating(b.element_type(x), call.default_float));
  const ElementType acc = accumulation_type(result_type);
  Value wide = b.convert(x, acc);

  // Complex values shift by the largest real part, as CPU does.
  Value real = complex ? b.unary(UnaryOp::kReal, wide) : wide;
  const ElementType real_type = b.element_type(real);
  Value max =
      b.reshape(reduce_with(b, real, b.constant(-kInf, real_type), r.dims, BinaryOp::kMaximum),
                r.kept_shape());
  Value finite =
      b.compare(ComparisonDirection::kNE, b.unary(UnaryOp::kAbs, max), fill_like(b, max, kInf));
  Value shift = b.select(finite, max, fill_like(b, max, 0));
  if (complex) shift = b.convert(shift, acc);
  Value exp = b.unary(UnaryOp::kExp, b.sub(wide, broadcast_to(b, shift, r.input_dims)));
  Value sum = reduce_with(b, exp, b.constant(0, acc), r.dims, BinaryOp::kAdd);
  Value result =
      b.add(b.unary(UnaryOp::kLog, shape_result(b, sum, r)), b.reshape(shift, r.output_shape()));
  return {b.convert(result, result_type)};
}

// --- cumulative ------------------------------------------------------------------

// Inclusive scan along `dim` by recursive pairing (log2(n) levels of slices),
// used where a length-n reduce_window would cost n^2.
Value associative_scan(Builder& b, Value x, int64_t dim, BinaryOp op) {
  const std::vector<int64_t> dims = b.dims(x);
  const int64_t n = dims[dim];
  if (n < 2) return x;
  auto strided = [&](int64_t start, int64_t limit, int64_t stride) {
    std::vector<int64_t> lo(dims.size(), 0), hi = b.dims(x), step(dims.size(), 1);
    lo[dim] = start;
    hi[dim] = limit;
    step[dim] = stride;
    return b.slice(x, lo, hi, step);
  };
  auto slice_of = [&](Value v, int64_t start, int64_t limit) {
    std::vector<int64_t> lo(dims.size(), 0), hi = b.dims(v);
    lo[dim] = start;
    hi[dim] = limit;
    return b.slice(v, lo, hi);
  };
  // Pairs (0,1), (2,3), ... scanned recursively give the odd positions.
  Value pairs = b.binary(op, strided(0, n - 1, 2), strided(1, n, 2));
  Value odd = associative_scan(b, pairs, dim, op);
  const int64_t odd_count = b.dims(odd)[dim];
  // Even positions 2, 4, ... fold the preceding odd prefix into themselves.
  Value even_tail =
      b.binary(op, n % 2 == 0 ? slice_of(odd, 0, odd_count - 1) : odd, strided(2, n, 2));
  Value even = b.concatenate({strided(0, 1, 1), even_tail}, dim);
  // Interleave: spread both with interior padding and add the disjoint halves.
  const ElementType type = b.element_type(x);
  Value zero = b.constant(0, type);
  std::vector<int64_t> none(dims.size(), 0), low_even = none, high_even = none, low_odd = none,
                                             high_odd = none, interior = none;
  interior[dim] = 1;
  const int64_t even_count = b.dims(even)[dim];
  high_even[dim] = n - (2 * even_count - 1);
  low_odd[dim] = 1;
  high_odd[dim] = n - (2 * odd_count);
  Value spread_even = b.pad(even, zero, low_even, high_even, interior);
  Value spread_odd = b.pad(odd, zero, low_odd, high_odd, interior);
  if (type == ElementType::kPred) return b.binary(BinaryOp::kOr, spread_even, spread_odd);
  return b.add(spread_even, spread_odd);
}

constexpr int64_t kLongestWindowScan = 256;

Value inclusive_scan(Builder& b, Value x, int64_t dim, BinaryOp op, double identity) {
  const int64_t n = b.dims(x)[dim];
  if (n == 0) return x;
  if (n > kLongestWindowScan) return associative_scan(b, x, dim, op);
  const auto rank = static_cast<size_t>(b.rank(x));
  std::vector<int64_t> window(rank, 1), ones(rank, 1);
  window[dim] = n;
  std::vector<std::pair<int64_t, int64_t>> padding(rank, {0, 0});
  padding[dim] = {n - 1, 0};
  const ElementType type = b.element_type(x);
  return b.reduce_window({x}, {b.constant(identity, type)}, window, ones, ones, ones, padding,
                         [op](Builder& rb, const std::vector<Value>& args) {
                           return std::vector<Value>{rb.binary(op, args[0], args[1])};
                         })[0];
}

std::vector<Value> cumulative(Builder& b, const OpCall& call, BinaryOp op, double identity) {
  const Value x = call.tensor(0).value;
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(x));
  const std::optional<ElementType> dtype = call.size() > 2 ? call.optional_dtype(2) : std::nullopt;
  const ElementType result_type =
      widened_integer_result(b.element_type(x), dtype_or_out(call, dtype));
  const ElementType acc = accumulation_type(result_type);
  Value wide = b.convert(b.convert(x, result_type), acc);
  if (b.rank(x) == 0) return {b.convert(wide, result_type)};
  return {b.convert(inclusive_scan(b, wide, dim, op, identity), result_type)};
}

std::vector<Value> cumsum_rule(Builder& b, const OpCall& call) {
  return cumulative(b, call, BinaryOp::kAdd, 0);
}
std::vector<Value> cumprod_rule(Builder& b, const OpCall& call) {
  return cumulative(b, call, BinaryOp::kMultiply, 1);
}

// --- norms ----------------------------------------------------------------------

// ord as a compile-time number: norms of different orders are different programs.
double static_order(const OpCall& call, size_t i) {
  if (i >= call.size() || call.is_none(i)) return 2;
  const Arg& arg = call.args[i];
  if (const auto* s = std::get_if<StaticScalar>(&arg)) {
    if (const auto* d = std::get_if<double>(s)) return *d;
    if (const auto* n = std::get_if<int64_t>(s)) return static_cast<double>(*n);
    if (const auto* flag = std::get_if<bool>(s)) return *flag ? 1 : 0;
  }
  if (const auto* d = std::get_if<double>(&arg)) return *d;
  if (const auto* n = std::get_if<int64_t>(&arg)) return static_cast<double>(*n);
  throw Unsupported("vector norm: the order must be a compile-time scalar");
}

// ||x||_ord over r's dims; x is floating or complex.
Value vector_norm(Builder& b, Value x, double ord, const Reduction& r, ElementType result_type) {
  const ElementType acc = accumulation_type(result_type);
  Value magnitude = b.convert(b.unary(UnaryOp::kAbs, x), acc);  // complex -> real
  // Negative and infinite orders have no identity to give an empty reduction.
  if (ord < 0 || std::isinf(ord)) {
    const bool all_dims = r.dims.size() == r.input_dims.size();
    for (int64_t d : r.dims) {
      if (r.input_dims[d] != 0) continue;
      if (all_dims) {
        throw InvalidArgument(
            "linalg.vector_norm cannot compute the " + format_double(ord) +
            " norm on an empty tensor because the operation does not have an identity");
      }
      // (sic: PyTorch's message has no space before "because")
      throw InvalidArgument("linalg.vector_norm cannot compute the " + format_double(ord) +
                            " norm on the dimension " + std::to_string(d) +
                            "because this dimension is empty and the operation does not have an "
                            "identity");
    }
  }
  auto sum = [&](Value v) { return reduce_with(b, v, b.constant(0, acc), r.dims, BinaryOp::kAdd); };
  Value result;
  if (std::isinf(ord)) {
    result = reduce_with(b, magnitude, b.constant(ord > 0 ? -kInf : kInf, acc), r.dims,
                         ord > 0 ? BinaryOp::kMaximum : BinaryOp::kMinimum);
  } else if (ord == 0) {
    result = sum(b.convert(is_nonzero(b, magnitude), acc));
  } else if (ord == 1) {
    result = sum(magnitude);
  } else if (ord == 2) {
    result = b.unary(UnaryOp::kSqrt, sum(b.mul(magnitude, magnitude)));
  } else {
    Value powered = b.binary(BinaryOp::kPower, magnitude, fill_like(b, magnitude, ord));
    Value total = sum(powered);
    result = b.binary(BinaryOp::kPower, total, fill_like(b, total, 1.0 / ord));
  }
  return b.convert(shape_result(b, result, r), result_type);
}

// PyTorch's promote_types(from, to) == to, for floating and complex types.
bool widens_to(ElementType from, ElementType to) {
  auto width = [](ElementType t) {
    const ElementType real = stablehlo::real_part_type(t);
    return real == ElementType::kF64 ? 3 : real == ElementType::kF32 ? 2 : 1;
  };
  if (from == to) return true;
  if (stablehlo::is_complex(from) && !stablehlo::is_complex(to)) return false;
  // f16 and bf16 promote to f32 together, so neither widens to the other.
  return width(from) < width(to) || (width(from) == width(to) && width(to) > 1 &&
                                     stablehlo::is_complex(to) && !stablehlo::is_complex(from));
}

Value checked_norm(Builder& b, Value x, double ord, const ReductionArgs& args) {
  const ElementType input = b.element_type(x);
  if (!is_floating_or_complex(input)) {
    throw InvalidArgument(
        "linalg.vector_norm: Expected a floating point or complex tensor as input. Got " +
        std::string(scalar_type_name(input)));
  }
  if (args.dtype && !is_floating_or_complex(*args.dtype)) {
    throw InvalidArgument(
        "linalg.vector_norm: dtype should be floating point or complex, but got " +
        std::string(scalar_type_name(*args.dtype)));
  }
  if (args.dtype && !widens_to(input, *args.dtype)) {
    throw InvalidArgument("linalg.vector_norm: the dtype of the input (" +
                          std::string(scalar_type_name(input)) +
                          ") should be convertible without narrowing to the specified dtype (" +
                          std::string(scalar_type_name(*args.dtype)) + ")");
  }
  const ElementType computed = args.dtype.value_or(input);
  const Reduction r = make_reduction(b.dims(x), args.dims, args.keepdim);
  return vector_norm(b, b.convert(x, computed), ord, r, stablehlo::real_part_type(computed));
}

// linalg_vector_norm(self, ord, dim?, keepdim, *, dtype?) and the older
// norm.Scalar(self, p), norm.ScalarOpt_dim(self, p?, dim, keepdim),
// norm.ScalarOpt_dim_dtype(..., dtype), norm.ScalarOpt_dtype(self, p?, dtype).
std::vector<Value> vector_norm_rule(Builder& b, const OpCall& call) {
  return {
      checked_norm(b, call.tensor(0).value, static_order(call, 1), parse_reduction_args(call, 2))};
}

}  // namespace

void add_reduction_rules(RuleTable& table) {
  table.add("sum", {&sum_rule, {}});
  table.add("nansum", {&nansum_rule, {}});
  table.add("trace", {&trace_rule, {}});
  table.add("mean", {&mean_rule, {}});
  table.add("prod", {&prod_rule, {}});
  table.add("amax", {&amax_rule, {}});
  table.add("amin", {&amin_rule, {}});
  table.add("aminmax", {&aminmax_rule, {}});
  table.add("max", {&max_rule, {}});
  table.add("min", {&min_rule, {}});
  table.add("argmax", {&argmax_rule, {}});
  table.add("argmin", {&argmin_rule, {}});
  table.add("var", {&var_rule, {}});
  table.add("std", {&std_rule, {}});
  table.add("var_mean", {&var_mean_rule, {}});
  table.add("std_mean", {&std_mean_rule, {}});
  table.add("all", {&all_rule, {}});
  table.add("any", {&any_rule, {}});
  table.add("count_nonzero", {&count_nonzero_rule, {}});
  table.add("logsumexp", {&logsumexp_rule, {}});
  table.add("cumsum", {&cumsum_rule, {}});
  table.add("cumprod", {&cumprod_rule, {}});
  // The order picks the program, so it is a compile-time scalar (position 1).
  table.add("linalg_vector_norm", {&vector_norm_rule, {1}});
  table.add("norm", {&vector_norm_rule, {1}});
}

}  // namespace torch_pjrt::lowering
