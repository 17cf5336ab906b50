// Factories whose values depend only on static arguments: arange, linspace,
// logspace, eye. They reach us as their out= forms (the functional ones are composite),
// so their dtype is the out tensor's. Also registers the conversion family.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lowering/conversions.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ComparisonDirection;
using stablehlo::is_complex;
using stablehlo::is_floating;

// The dtype a factory writes: its out tensor's, else what the functional
// form would pick (integral bounds give s64, anything else the default float).
ElementType factory_type(const OpCall& call, bool integral_bounds) {
  if (!call.out_element_types.empty()) return call.out_element_types[0];
  return integral_bounds ? ElementType::kS64 : call.default_float;
}

bool is_integral_scalar(const StaticScalar& s) {
  return std::holds_alternative<bool>(s) || std::holds_alternative<int64_t>(s);
}

void reject_complex(const OpCall& call, const StaticScalar& s) {
  if (std::holds_alternative<std::complex<double>>(s)) {
    throw Unsupported(std::string(call.name) + " with complex bounds is not supported");
  }
}

double to_double(const StaticScalar& s) {
  if (const auto* v = std::get_if<bool>(&s)) return *v ? 1.0 : 0.0;
  if (const auto* v = std::get_if<int64_t>(&s)) return static_cast<double>(*v);
  if (const auto* v = std::get_if<double>(&s)) return *v;
  return std::get<std::complex<double>>(s).real();
}

// Scalar::to<int64_t>: doubles truncate toward zero; out of range is an error.
int64_t to_int64(const StaticScalar& s) {
  if (const auto* v = std::get_if<bool>(&s)) return *v ? 1 : 0;
  if (const auto* v = std::get_if<int64_t>(&s)) return *v;
  double d = to_double(s);
  // 2^63 itself is out of range; every double below it converts.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    throw InvalidArgument("value cannot be converted to type int64_t without overflow");
  }
  return static_cast<int64_t>(d);
}

Value iota_1d(Builder& b, int64_t size, ElementType type) {
  return b.iota(TensorType{type, {size}}, 0);
}

Value splat_1d(Builder& b, double value, int64_t size, ElementType type) {
  return b.splat(value, TensorType{type, {size}});
}

Value splat_int_1d(Builder& b, int64_t value, int64_t size, ElementType type) {
  return b.broadcast_in_dim(b.constant_int(value, type), {size}, {});
}

// --- arange ------------------------------------------------------------------

// at::native::compute_arange_size: checks in double; the length exactly in
// int64 for an int64 result, else ceil in double.
int64_t arange_size(const StaticScalar& start, const StaticScalar& end, const StaticScalar& step,
                    ElementType type) {
  double dstart = to_double(start), dend = to_double(end), dstep = to_double(step);
  if (!(dstep > 0 || dstep < 0)) throw InvalidArgument("step must be nonzero");
  if (!std::isfinite(dstart) || !std::isfinite(dend)) {
    throw InvalidArgument("unsupported range: " + format_double(dstart) + " -> " +
                          format_double(dend));
  }
  if (!((dstep > 0 && dend >= dstart) || (dstep < 0 && dend <= dstart))) {
    throw InvalidArgument("upper bound and lower bound inconsistent with step sign");
  }
  double size;
  if (type == ElementType::kS64) {
    // PyTorch 2.13 truncates every bound to int64 first, integral or not (a
    // ValueError on CPU when the step truncates to zero).
    int64_t xstart = to_int64(start), xend = to_int64(end), xstep = to_int64(step);
    if (xstep == 0) throw InvalidArgument("step must be nonzero");
    int64_t sign = xstep > 0 ? 1 : -1;
    size = static_cast<double>((xend - xstart + xstep - sign) / xstep);
  } else {
    size = std::ceil((dend - dstart) / dstep);
  }
  if (!(size >= 0 && size <= static_cast<double>(std::numeric_limits<int64_t>::max()))) {
    throw InvalidArgument("invalid size, possible overflow?");
  }
  return static_cast<int64_t>(size);
}

// arange.start_out(start, end, step): start + step * i in PyTorch's
// accumulate type (int64 for integers, float for f32 and the halves).
std::vector<Value> arange_rule(Builder& b, const OpCall& call) {
  const StaticScalar& start = call.static_scalar(0);
  const StaticScalar& end = call.static_scalar(1);
  const StaticScalar& step = call.static_scalar(2);
  for (const StaticScalar* s : {&start, &end, &step}) reject_complex(call, *s);
  ElementType type = factory_type(
      call, is_integral_scalar(start) && is_integral_scalar(end) && is_integral_scalar(step));
  if (type == ElementType::kPred || is_complex(type)) {
    throw_no_kernel("arange_cpu", type);
  }
  int64_t size = arange_size(start, end, step, type);
  if (!is_floating(type)) {
    Value index = iota_1d(b, size, ElementType::kS64);
    Value values = b.add(splat_int_1d(b, to_int64(start), size, ElementType::kS64),
                         b.mul(splat_int_1d(b, to_int64(step), size, ElementType::kS64), index));
    return {b.convert(values, type)};
  }
  // f32 results accumulate in f32, as PyTorch's vectorized CPU loop does, so
  // that no f64 arithmetic reaches accelerators without it.
  ElementType accumulate = type == ElementType::kF64 ? ElementType::kF64 : ElementType::kF32;
  // The bounds round to the accumulate type first, as Scalar::to<float> does.
  double xstart =
      accumulate == ElementType::kF32 ? static_cast<float>(to_double(start)) : to_double(start);
  double xstep =
      accumulate == ElementType::kF32 ? static_cast<float>(to_double(step)) : to_double(step);
  Value index = iota_1d(b, size, accumulate);
  Value values = b.add(splat_1d(b, xstart, size, accumulate),
                       b.mul(splat_1d(b, xstep, size, accumulate), index));
  return {b.convert(values, type)};
}

// --- linspace ----------------------------------------------------------------

// Scalar::to<T> for an integer T: through int64, wrapping to T's width.
int64_t wrap_to_integer(int64_t value, ElementType type) {
  switch (type) {
    case ElementType::kS8:
      return static_cast<int8_t>(value);
    case ElementType::kS16:
      return static_cast<int16_t>(value);
    case ElementType::kS32:
      return static_cast<int32_t>(value);
    case ElementType::kU8:
      return static_cast<uint8_t>(value);
    case ElementType::kU16:
      return static_cast<uint16_t>(value);
    case ElementType::kU32:
      return static_cast<uint32_t>(value);
    default:
      return value;
  }
}

// start..end in `steps` values, computed in `type`: the first half counts up
// from start, the second half down from end, so both ends are exact
// (PyTorch's symmetric form). steps >= 2.
Value symmetric_ramp(Builder& b, double start, double end, int64_t steps, ElementType type) {
  Value index = iota_1d(b, steps, ElementType::kS64);
  Value from_end = b.sub(splat_int_1d(b, steps - 1, steps, ElementType::kS64), index);
  Value first_half = b.compare(ComparisonDirection::kLT, index,
                               splat_int_1d(b, steps / 2, steps, ElementType::kS64));
  // The step is computed in the ramp's type too, as PyTorch does.
  Value xstart = splat_1d(b, start, steps, type);
  Value xend = splat_1d(b, end, steps, type);
  Value step = b.div(b.sub(xend, xstart), splat_1d(b, static_cast<double>(steps - 1), steps, type));
  Value up = b.add(xstart, b.mul(step, b.convert(index, type)));
  Value down = b.sub(xend, b.mul(step, b.convert(from_end, type)));
  return b.select(first_half, up, down);
}

// The bounds of linspace/logspace and the dtype they write, checked as CPU's
// kernels check them. Integer results step in double from the bounds wrapped
// to the result type.
struct RampArgs {
  double start, end;
  int64_t steps;
  ElementType type, compute;
};

RampArgs ramp_args(const OpCall& call, std::string_view kernel) {
  const StaticScalar& start = call.static_scalar(0);
  const StaticScalar& end = call.static_scalar(1);
  const int64_t steps = call.int_at(2);
  reject_complex(call, start);
  reject_complex(call, end);
  if (steps < 0) throw InvalidArgument("number of steps must be non-negative");
  const ElementType type = factory_type(call, false);
  if (type == ElementType::kPred || is_complex(type)) throw_no_kernel(kernel, type);
  if (is_floating(type)) return {to_double(start), to_double(end), steps, type, type};
  return {static_cast<double>(wrap_to_integer(to_int64(start), type)),
          static_cast<double>(wrap_to_integer(to_int64(end), type)), steps, type,
          ElementType::kF64};
}

std::complex<double> to_complex(const StaticScalar& s) {
  if (const auto* v = std::get_if<std::complex<double>>(&s)) return *v;
  return {to_double(s), 0.0};
}

// A complex ramp: CPU's complex step divides and scales both parts by real
// numbers, so each part is the real ramp of its own bounds.
std::optional<Value> complex_ramp(Builder& b, const OpCall& call) {
  const ElementType type = factory_type(call, false);
  if (!is_complex(type)) return std::nullopt;
  const int64_t steps = call.int_at(2);
  if (steps < 0) throw InvalidArgument("number of steps must be non-negative");
  const std::complex<double> start = to_complex(call.static_scalar(0));
  const std::complex<double> end = to_complex(call.static_scalar(1));
  const ElementType part = stablehlo::real_part_type(type);
  auto ramp = [&](double from, double to) {
    return steps <= 1 ? splat_1d(b, from, steps, part) : symmetric_ramp(b, from, to, steps, part);
  };
  return b.binary(stablehlo::BinaryOp::kComplex, ramp(start.real(), end.real()),
                  ramp(start.imag(), end.imag()));
}

// linspace.out(start, end, steps); integers truncate the double ramp.
std::vector<Value> linspace_rule(Builder& b, const OpCall& call) {
  if (std::optional<Value> ramp = complex_ramp(b, call)) return {*ramp};
  const RampArgs a = ramp_args(call, "linspace_cpu");
  // steps == 1 is fill_(start).
  if (a.steps <= 1) return {b.convert(splat_1d(b, a.start, a.steps, a.compute), a.type)};
  return {b.convert(symmetric_ramp(b, a.start, a.end, a.steps, a.compute), a.type)};
}

// logspace.out(start, end, steps, base): base to the power of linspace's
// ramp (not truncated for integer results), the power taken in double.
std::vector<Value> logspace_rule(Builder& b, const OpCall& call) {
  const double base = call.size() > 3 ? call.double_at(3) : 10.0;
  if (std::optional<Value> ramp = complex_ramp(b, call)) {
    // The power is taken in complex128 (CPU's pow of a double base).
    const ElementType type = b.element_type(*ramp);
    Value exponent = b.convert(*ramp, ElementType::kC128);
    Value power = b.binary(stablehlo::BinaryOp::kPower,
                           b.convert(b.splat(base, TensorType{ElementType::kF64, b.dims(exponent)}),
                                     ElementType::kC128),
                           exponent);
    return {b.convert(power, type)};
  }
  const RampArgs a = ramp_args(call, "logspace_cpu");
  Value exponent = a.steps <= 1 ? splat_1d(b, a.start, a.steps, a.compute)
                                : symmetric_ramp(b, a.start, a.end, a.steps, a.compute);
  exponent = b.convert(exponent, ElementType::kF64);
  Value power = b.binary(stablehlo::BinaryOp::kPower, splat_1d(b, base, a.steps, ElementType::kF64),
                         exponent);
  return {b.convert(power, a.type)};
}

// --- eye ---------------------------------------------------------------------

// eye.out(n) and eye.m_out(n, m).
std::vector<Value> eye_rule(Builder& b, const OpCall& call) {
  int64_t n = call.int_at(0);
  int64_t m = call.size() > 1 ? call.int_at(1) : n;
  if (n < 0) throw InvalidArgument("n must be greater or equal to 0, got " + std::to_string(n));
  if (m < 0) throw InvalidArgument("m must be greater or equal to 0, got " + std::to_string(m));
  ElementType type = factory_type(call, false);
  TensorType index_type{ElementType::kS64, {n, m}};
  Value diagonal =
      b.compare(ComparisonDirection::kEQ, b.iota(index_type, 0), b.iota(index_type, 1));
  if (is_complex(type)) return {b.convert(b.convert(diagonal, ElementType::kF64), type)};
  return {b.convert(diagonal, type)};
}

// _efficientzerotensor(size, dtype?): the zeros autograd passes for a gradient
// known to be zero (sgn's, for one). A plain zero tensor stands for PyTorch's
// ZeroTensor, which only lets CPU skip arithmetic on it.
std::vector<Value> efficient_zero_tensor_rule(Builder& b, const OpCall& call) {
  const std::vector<int64_t>& size = call.ints(0);
  for (int64_t s : size) {
    if (s < 0) {
      throw InvalidArgument("Trying to create tensor with negative dimension " + std::to_string(s));
    }
  }
  const std::optional<ElementType> dtype = call.size() > 1 ? call.optional_dtype(1) : std::nullopt;
  return {b.zeros({dtype.value_or(call.default_float), size})};
}

// tril_indices / triu_indices(row, col, offset, dtype): the coordinates of the
// kept triangle in row-major order. The count is known here; the program sorts
// the kept grid positions (stably) in front of the others and takes that many,
// so no constant grows with the matrix.
template <bool kLower>
std::vector<Value> triangle_indices_rule(Builder& b, const OpCall& call) {
  const char* name = kLower ? "tril_indices" : "triu_indices";
  const int64_t rows = call.int_at(0);
  const int64_t cols = call.int_at(1);
  const int64_t offset = call.size() > 2 ? call.int_at(2) : 0;
  if (rows < 0) throw InvalidArgument("row must be non-negative, got" + std::to_string(rows));
  if (cols < 0) throw InvalidArgument("col must be non-negative, got" + std::to_string(cols));
  const std::optional<ElementType> dtype = call.size() > 3 ? call.optional_dtype(3) : std::nullopt;
  const ElementType type = !call.out_element_types.empty() ? call.out_element_types[0]
                                                           : dtype.value_or(ElementType::kS64);
  if (type != ElementType::kS64 && type != ElementType::kS32) throw_no_kernel(name, type);
  // Row i keeps columns j with j - i <= offset (lower) or j - i >= offset (upper).
  int64_t count = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t bound = std::clamp<int64_t>(i + offset + (kLower ? 1 : 0), 0, cols);
    count += kLower ? bound : cols - bound;
  }
  if (count == 0) return {b.zeros({type, {2, 0}})};
  const int64_t size = rows * cols;
  Value flat = iota_1d(b, size, ElementType::kS64);
  Value i = b.div(flat, splat_int_1d(b, cols, size, ElementType::kS64));
  Value j = b.sub(flat, b.mul(i, splat_int_1d(b, cols, size, ElementType::kS64)));
  Value diagonal = b.sub(j, i);
  Value kept = b.compare(kLower ? ComparisonDirection::kLE : ComparisonDirection::kGE, diagonal,
                         splat_int_1d(b, offset, size, ElementType::kS64));
  auto sorted =
      b.sort({b.convert(b.unary(stablehlo::UnaryOp::kNot, kept), ElementType::kS32), flat}, 0,
             /*is_stable=*/true, [](Builder& r, const std::vector<Value>& a) {
               return std::vector<Value>{r.compare(ComparisonDirection::kLT, a[0], a[1])};
             });
  Value first = b.slice(sorted[1], {0}, {count});
  Value row = b.div(first, splat_int_1d(b, cols, count, ElementType::kS64));
  Value col = b.sub(first, b.mul(row, splat_int_1d(b, cols, count, ElementType::kS64)));
  return {
      b.convert(b.concatenate({b.reshape(row, {1, count}), b.reshape(col, {1, count})}, 0), type)};
}

}  // namespace

void add_factory_rules(RuleTable& table) {
  table.add("_efficientzerotensor", RuleInfo{&efficient_zero_tensor_rule, {}});
  table.add("arange", RuleInfo{&arange_rule, {0, 1, 2}});
  table.add("linspace", RuleInfo{&linspace_rule, {0, 1}});
  table.add("logspace", RuleInfo{&logspace_rule, {0, 1}});
  table.add("eye", RuleInfo{&eye_rule, {}});
  table.add("tril_indices", RuleInfo{&triangle_indices_rule<true>, {}});
  table.add("triu_indices", RuleInfo{&triangle_indices_rule<false>, {}});
  add_conversion_rules(table);
}

}  // namespace torch_pjrt::lowering
