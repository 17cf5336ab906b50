// Random sampling: uniform_, normal_ (and its functional forms), bernoulli,
// random_, exponential_, log_normal_, cauchy_, geometric_, randperm, and the
// ops that sample while they compute: native_dropout, rrelu_with_noise.
//
// Every call gets a fresh u64[2] key (the Generator argument, always last) and
// draws bits with stablehlo.rng_bit_generator (THREE_FRY). The values cannot
// match PyTorch's CPU generator; the transformations from bits to values do
// follow PyTorch's (same ranges, same resolution per dtype).

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::is_complex;
using stablehlo::is_floating;
using stablehlo::is_integral;
using stablehlo::UnaryOp;

constexpr double kPi = 3.14159265358979323846;

// Significand bits (std::numeric_limits<T>::digits) of a floating type.
int digits(ElementType type) {
  switch (type) {
    case ElementType::kF64:
      return 53;
    case ElementType::kF32:
      return 24;
    case ElementType::kF16:
      return 11;
    case ElementType::kBF16:
      return 8;
    default:
      throw Unsupported("random values of " + std::string(scalar_type_name(type)));
  }
}

double largest_finite(ElementType type) {
  switch (type) {
    case ElementType::kF64:
      return std::numeric_limits<double>::max();
    case ElementType::kF32:
      return std::numeric_limits<float>::max();
    case ElementType::kF16:
      return 65504.0;
    case ElementType::kBF16:
      return 3.3895313892515355e38;
    default:
      throw Unsupported("random values of " + std::string(scalar_type_name(type)));
  }
}

// static_cast<T>(value) for a floating T: round to nearest even at T's
// precision (subnormal halves keep full precision; close enough for bounds).
double round_to(double value, ElementType type) {
  if (type == ElementType::kF64 || value == 0 || !std::isfinite(value)) return value;
  if (type == ElementType::kF32) return static_cast<float>(value);
  int exponent = 0;
  std::frexp(value, &exponent);
  int d = digits(type);
  return std::ldexp(std::nearbyint(std::ldexp(value, d - exponent)), exponent - d);
}

// PyTorch samples f16/bf16/f32 through float and f64 through double.
ElementType accumulate_type(ElementType type) {
  return type == ElementType::kF64 ? ElementType::kF64 : ElementType::kF32;
}

void require_floating(std::string_view distribution, ElementType type) {
  if (!is_floating(type)) {
    throw InvalidArgument(std::string(distribution) +
                          " distribution is a continuous probability distribution. dtype must "
                          "be a floating point but you specified " +
                          std::string(scalar_type_name(type)));
  }
}

// Successive draws from one call's key.
class RandomBits {
 public:
  explicit RandomBits(const OpCall& call) {
    if (call.size() == 0 || call.is_none(call.size() - 1)) {
      throw Unsupported(std::string(call.name) + " needs a generator key");
    }
    state_ = call.tensor(call.size() - 1).value;
  }
  explicit RandomBits(Value key) : state_(key) {}

  // Uniform bits of `dims`; `type` is u32 or u64.
  Value draw(Builder& b, const std::vector<int64_t>& dims, ElementType type) {
    TensorType result{type, dims};
    if (result.numel() == 0) return b.zeros(result);
    auto [next_state, bits] = b.rng_bit_generator(state_, TensorType{type, {result.numel()}});
    state_ = next_state;
    return b.reshape(bits, dims);
  }

  // Uniform in [0, 1) with `precision` significand bits (PyTorch's
  // uniform_real: the low bits of one draw, scaled by 2^-precision), in `type`.
  Value uniform(Builder& b, const std::vector<int64_t>& dims, ElementType type, int precision) {
    ElementType bits_type = precision > 32 ? ElementType::kU64 : ElementType::kU32;
    Value bits = draw(b, dims, bits_type);
    TensorType bits_shape{bits_type, dims};
    int64_t mask = static_cast<int64_t>((uint64_t{1} << precision) - 1);
    Value kept = b.binary(BinaryOp::kAnd, bits,
                          b.broadcast_in_dim(b.constant_int(mask, bits_type), dims, {}));
    return b.mul(b.convert(kept, type), splat(b, std::ldexp(1.0, -precision), type, dims));
  }

  // Standard normal in `type` (f32 or f64), by Box-Muller.
  Value normal(Builder& b, const std::vector<int64_t>& dims, ElementType type) {
    int precision = digits(type);
    Value u1 = uniform(b, dims, type, precision);
    Value u2 = uniform(b, dims, type, precision);
    // 1 - u1 lies in (0, 1]: the log stays finite.
    Value radius = b.unary(UnaryOp::kSqrt,
                           b.mul(splat(b, -2.0, type, dims),
                                 b.unary(UnaryOp::kLog, b.sub(splat(b, 1.0, type, dims), u1))));
    return b.mul(radius, b.unary(UnaryOp::kCos, b.mul(splat(b, 2 * kPi, type, dims), u2)));
  }

  static Value splat(Builder& b, double value, ElementType type, const std::vector<int64_t>& dims) {
    return b.splat(value, TensorType{type, dims});
  }

 private:
  Value state_;
};

Value splat(Builder& b, double value, ElementType type, const std::vector<int64_t>& dims) {
  return RandomBits::splat(b, value, type, dims);
}

// A real or complex tensor of `type` and `dims` whose (real and imaginary)
// parts are sample(b, part_type) — PyTorch samples complex tensors as their
// view_as_real.
template <typename Sample>
Value sample_parts(Builder& b, ElementType type, Sample sample) {
  if (!is_complex(type)) return sample(stablehlo::real_part_type(type));
  ElementType part = stablehlo::real_part_type(type);
  Value real = sample(part);
  Value imag = sample(part);
  return b.binary(BinaryOp::kComplex, real, imag);
}

// --- uniform -----------------------------------------------------------------

// uniform_(self, from, to): from + (to - from) * u with from and to first
// rounded to self's dtype, as PyTorch's uniform kernel does.
std::vector<Value> uniform_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  double from = call.double_at(1);
  double to = call.double_at(2);
  ElementType type = b.element_type(self);
  ElementType part = stablehlo::real_part_type(type);
  if (!is_floating(part)) throw_no_kernel("check_uniform_bounds", type);
  double max = largest_finite(part);
  std::string dtype(type_meta_name(part));
  if (!(from >= -max && from <= max)) throw InvalidArgument("from is out of bounds for " + dtype);
  if (!(to >= -max && to <= max)) throw InvalidArgument("to is out of bounds for " + dtype);
  if (!(from <= to)) {
    throw InvalidArgument("uniform_ expects to return a [from, to) range, but found from=" +
                          format_double(from) + " > to=" + format_double(to));
  }
  if (!(to - from <= max)) {
    throw InvalidArgument(
        "uniform_ expects to-from <= std::numeric_limits<" + std::string(scalar_type_name(part)) +
        ">::max(), but found to=" + format_double(to) + " and from=" + format_double(from) +
        " which result in to-from to exceed the limit");
  }
  double low = round_to(from, part);
  double width = round_to(round_to(to, part) - low, part);
  RandomBits bits(call);
  const std::vector<int64_t>& dims = b.dims(self);
  return {sample_parts(b, type, [&](ElementType part_type) {
    ElementType acc = accumulate_type(part_type);
    Value u = bits.uniform(b, dims, acc, digits(part_type));
    Value value = b.add(b.mul(u, splat(b, width, acc, dims)), splat(b, low, acc, dims));
    return b.convert(value, part_type);
  })};
}

// --- normal ------------------------------------------------------------------

void check_std(double std) {
  if (!(std >= 0.0)) {
    throw InvalidArgument("normal expects std >= 0.0, but found std " + format_double(std));
  }
}

ElementType require_normal_type(Builder& b, Value v) {
  ElementType type = b.element_type(v);
  if (!is_floating(stablehlo::real_part_type(type))) {
    throw_no_kernel("normal_kernel_cpu", type);
  }
  return type;
}

// normal_(self, mean, std) and the functional normal.Tensor_float,
// normal.float_Tensor and normal.Tensor_Tensor: mean + std * z, shaped and
// typed as PyTorch's normal_out (mean's dtype, except float_Tensor: std's).
std::vector<Value> normal_rule(Builder& b, const OpCall& call) {
  RandomBits bits(call);
  if (call.size() == 4) {  // normal_(self, mean, std, generator)
    Value self = call.tensor(0).value;
    double mean = call.double_at(1);
    double std = call.double_at(2);
    check_std(std);
    ElementType type = require_normal_type(b, self);
    const std::vector<int64_t>& dims = b.dims(self);
    // A complex normal spreads the variance over both parts.
    double part_std = is_complex(type) ? std / std::sqrt(2.0) : std;
    return {sample_parts(b, type, [&](ElementType part) {
      ElementType acc = accumulate_type(part);
      Value z = bits.normal(b, dims, acc);
      return b.convert(b.add(b.mul(z, splat(b, part_std, acc, dims)), splat(b, mean, acc, dims)),
                       part);
    })};
  }
  std::optional<TensorArg> mean_tensor, std_tensor;
  if (!std::holds_alternative<double>(call.args[0])) mean_tensor = call.tensor(0);
  if (!std::holds_alternative<double>(call.args[1])) std_tensor = call.tensor(1);
  if (std_tensor) {
    if (is_complex(b.element_type(std_tensor->value))) {
      throw InvalidArgument("normal expects standard deviation to be non-complex");
    }
  } else {
    check_std(call.double_at(1));
  }
  Value like = mean_tensor ? mean_tensor->value : std_tensor->value;
  ElementType type = require_normal_type(b, like);
  if (is_complex(type)) throw Unsupported("normal with complex mean tensors is not supported");
  std::vector<int64_t> dims = b.dims(like);
  if (mean_tensor && std_tensor) {
    dims = broadcast_shapes(b.dims(mean_tensor->value), b.dims(std_tensor->value));
  }
  ElementType acc = accumulate_type(type);
  Value mean = mean_tensor ? broadcast_to(b, b.convert(mean_tensor->value, acc), dims)
                           : splat(b, call.double_at(0), acc, dims);
  Value std = std_tensor ? broadcast_to(b, b.convert(std_tensor->value, acc), dims)
                         : splat(b, call.double_at(1), acc, dims);
  return {b.convert(b.add(b.mul(bits.normal(b, dims, acc), std), mean), type)};
}

// --- bernoulli ---------------------------------------------------------------

// bernoulli(self) with self as probabilities, bernoulli_.Tensor(self, p),
// bernoulli_.float(self, p) and bernoulli.p(self, p): 1 where u < p, in
// self's dtype and shape.
std::vector<Value> bernoulli_rule(Builder& b, const OpCall& call) {
  RandomBits bits(call);
  Value self = call.tensor(0).value;
  ElementType type = b.element_type(self);
  const std::vector<int64_t>& dims = b.dims(self);
  Value hit;
  if (call.size() == 3 && std::holds_alternative<double>(call.args[1])) {
    double p = call.double_at(1);
    if (!(p >= 0 && p <= 1)) {
      throw InvalidArgument("bernoulli_ expects p to be in [0, 1], but got p=" + format_double(p));
    }
    Value u = bits.uniform(b, dims, ElementType::kF32, 24);
    hit = b.compare(ComparisonDirection::kLT, u, splat(b, p, ElementType::kF32, dims));
  } else {
    Value p = call.size() == 3 ? call.tensor(1).value : self;
    ElementType p_type = b.element_type(p);
    if (!is_floating(p_type)) throw_no_kernel("bernoulli_tensor_cpu_p_", p_type);
    ElementType acc = accumulate_type(p_type);
    Value u = bits.uniform(b, dims, acc, digits(acc));
    hit = b.compare(ComparisonDirection::kLT, u, broadcast_to(b, b.convert(p, acc), dims));
  }
  if (is_complex(type)) return {b.convert(b.convert(hit, ElementType::kF64), type)};
  return {b.convert(hit, type)};
}

// --- random_ -----------------------------------------------------------------

struct IntegerRange {
  int64_t lowest;
  int64_t highest;
};

IntegerRange integer_range(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return {0, 1};
    case ElementType::kS8:
      return {INT8_MIN, INT8_MAX};
    case ElementType::kS16:
      return {INT16_MIN, INT16_MAX};
    case ElementType::kS32:
      return {INT32_MIN, INT32_MAX};
    case ElementType::kS64:
      return {INT64_MIN, INT64_MAX};
    case ElementType::kU8:
      return {0, UINT8_MAX};
    case ElementType::kU16:
      return {0, UINT16_MAX};
    case ElementType::kU32:
      return {0, UINT32_MAX};
    default:
      throw_no_kernel("random_", type);
  }
}

// at::native::templates::update_from / update_to: moves a bound inwards to
// the nearest integer that stays inside [from, to) once cast to the dtype.
int64_t update_from(int64_t from, ElementType type) {
  auto from_plus_1 = static_cast<int64_t>(round_to(static_cast<double>(from + 1), type));
  if (from_plus_1 < from) {
    int64_t magnitude = std::abs(from + 1);
    int n = 0;
    while (magnitude >>= 1) ++n;
    from = from_plus_1 + (int64_t{1} << (n - digits(type) + 1));
  }
  return from;
}

int64_t update_to(int64_t to, ElementType type) {
  auto to_minus_1 = static_cast<int64_t>(round_to(static_cast<double>(to - 1), type));
  if (to_minus_1 >= to) {
    int64_t magnitude = std::abs(to - 1);
    int n = 0;
    while (magnitude >>= 1) ++n;
    to = to_minus_1 - (int64_t{1} << (n - digits(type) + 1));
  }
  return to;
}

void check_bounds(int64_t value, std::string_view name, ElementType type) {
  bool inside;
  if (is_floating(type)) {
    double max = largest_finite(type);
    inside = static_cast<double>(value) >= -max && static_cast<double>(value) <= max;
  } else {
    IntegerRange range = integer_range(type);
    inside = value >= range.lowest && value <= range.highest;
  }
  if (!inside) {
    throw InvalidArgument(std::string(name) + " is out of bounds for " +
                          std::string(type_meta_name(type)));
  }
}

// from + (bits mod range) as int64, then cast to `type`: PyTorch's
// uniform_int_from_to (64-bit draws only when the range needs them).
Value from_plus_bits_mod(Builder& b, RandomBits& bits, const std::vector<int64_t>& dims,
                         uint64_t range, int64_t from, ElementType type) {
  ElementType bits_type = range >= (uint64_t{1} << 32) ? ElementType::kU64 : ElementType::kU32;
  Value draw = bits.draw(b, dims, bits_type);
  Value modulus =
      b.broadcast_in_dim(b.constant_int(static_cast<int64_t>(range), bits_type), dims, {});
  Value offset = b.convert(b.binary(BinaryOp::kRemainder, draw, modulus), ElementType::kS64);
  Value base = b.broadcast_in_dim(b.constant_int(from, ElementType::kS64), dims, {});
  return b.convert(b.add(offset, base), type);
}

// random_(self): [0, 2^digits] for floats, [0, max] for integers, {0, 1} for bool.
Value random_default(Builder& b, RandomBits& bits, ElementType type,
                     const std::vector<int64_t>& dims) {
  if (is_floating(type)) {
    int d = digits(type);
    return from_plus_bits_mod(b, bits, dims, (uint64_t{1} << d) + 1, 0, type);
  }
  IntegerRange range = integer_range(type);
  ElementType bits_type = type == ElementType::kS64 ? ElementType::kU64 : ElementType::kU32;
  Value draw = bits.draw(b, dims, bits_type);
  // max + 1 is a power of two for every integer type: the modulo is a mask.
  Value mask = b.broadcast_in_dim(b.constant_int(range.highest, bits_type), dims, {});
  Value kept = b.binary(BinaryOp::kAnd, draw, mask);
  if (type == ElementType::kPred)
    return b.compare(ComparisonDirection::kNE, kept, b.zeros(b.type(kept)));
  return b.convert(kept, type);
}

// random_.from(self, from, to?) and random_.to(self, to): [from, to), or
// [from, dtype's top] without `to`, as at::native's random_from_to_impl.
Value random_from_to(Builder& b, RandomBits& bits, ElementType type,
                     const std::vector<int64_t>& dims, int64_t from, std::optional<int64_t> to) {
  if (to) {
    if (!(from < *to)) {
      throw InvalidArgument("random_ expects 'from' to be less than 'to', but got from=" +
                            std::to_string(from) + " >= to=" + std::to_string(*to));
    }
    if (is_floating(type)) {
      from = update_from(from, type);
      *to = update_to(*to, type);
      if (!(from < *to)) {
        throw InvalidArgument(
            "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
            "from=" +
            std::to_string(from) + " >= to=" + std::to_string(*to));
      }
    }
    check_bounds(from, "from", type);
    check_bounds(*to - 1, "to - 1", type);
    uint64_t range = static_cast<uint64_t>(*to) - static_cast<uint64_t>(from);
    return from_plus_bits_mod(b, bits, dims, range, from, type);
  }
  if (from == std::numeric_limits<int64_t>::min()) {
    // The whole int64 range: the bits themselves.
    Value draw = bits.draw(b, dims, ElementType::kU64);
    return b.convert(b.bitcast_convert(draw, TensorType{ElementType::kS64, dims}), type);
  }
  int64_t to_inclusive;
  if (is_floating(type)) {
    to_inclusive =
        digits(type) >= 63 ? std::numeric_limits<int64_t>::max() : int64_t{1} << digits(type);
    from = update_from(from, type);
    if (!(from < to_inclusive)) {
      throw InvalidArgument(
          "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to "
          "dtype, but got from=" +
          std::to_string(from) + " > to_inc=" + std::to_string(to_inclusive));
    }
  } else {
    to_inclusive = integer_range(type).highest;
  }
  check_bounds(from, "from", type);
  check_bounds(to_inclusive, "to - 1", type);
  uint64_t range = static_cast<uint64_t>(to_inclusive) - static_cast<uint64_t>(from) + 1;
  return from_plus_bits_mod(b, bits, dims, range, from, type);
}

std::vector<Value> random_rule(Builder& b, const OpCall& call) {
  RandomBits bits(call);
  Value self = call.tensor(0).value;
  ElementType type = b.element_type(self);
  const std::vector<int64_t>& dims = b.dims(self);
  if (is_complex(type)) throw_no_kernel("random_", type);
  // Told apart by their arguments (self, [from,] [to,] generator), not by
  // overload names, which out= and in-place forms spell differently.
  switch (call.size()) {
    case 2:
      return {random_default(b, bits, type, dims)};
    case 3:
      return {random_from_to(b, bits, type, dims, 0, call.int_at(1))};
    default:
      return {random_from_to(b, bits, type, dims, call.int_at(1), call.optional_int(2))};
  }
}

// --- continuous distributions from one uniform --------------------------------

// exponential_(self, lambd): -log(1 - u) / lambd.
std::vector<Value> exponential_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  double lambda = call.double_at(1);
  if (!(lambda > 0.0)) {
    throw InvalidArgument("exponential_ expects lambda > 0.0, but found lambda=" +
                          format_double(lambda));
  }
  ElementType type = b.element_type(self);
  require_floating("Exponential", type);
  RandomBits bits(call);
  ElementType acc = accumulate_type(type);
  const std::vector<int64_t>& dims = b.dims(self);
  Value u = bits.uniform(b, dims, acc, digits(acc));
  Value log_tail = b.unary(UnaryOp::kLog, b.sub(splat(b, 1.0, acc, dims), u));
  return {b.convert(b.mul(log_tail, splat(b, -1.0 / lambda, acc, dims)), type)};
}

// log_normal_(self, mean, std): exp(mean + std * z).
std::vector<Value> log_normal_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  double mean = call.double_at(1);
  double std = call.double_at(2);
  if (!(std > 0.0)) {
    throw InvalidArgument("log_normal_ expects std > 0.0, but found std=" + format_double(std));
  }
  ElementType type = b.element_type(self);
  require_floating("Log-normal", type);
  RandomBits bits(call);
  ElementType acc = accumulate_type(type);
  const std::vector<int64_t>& dims = b.dims(self);
  Value z = bits.normal(b, dims, acc);
  Value value = b.add(b.mul(z, splat(b, std, acc, dims)), splat(b, mean, acc, dims));
  return {b.convert(b.unary(UnaryOp::kExp, value), type)};
}

// cauchy_(self, median, sigma): median + sigma * tan(pi * (u - 1/2)).
std::vector<Value> cauchy_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  double median = call.double_at(1);
  double sigma = call.double_at(2);
  if (!(sigma > 0.0)) {
    throw InvalidArgument("cauchy_ expects sigma > 0.0, but found sigma=" + format_double(sigma));
  }
  ElementType type = b.element_type(self);
  require_floating("Cauchy", type);
  RandomBits bits(call);
  ElementType acc = accumulate_type(type);
  const std::vector<int64_t>& dims = b.dims(self);
  Value u = bits.uniform(b, dims, acc, digits(acc));
  Value angle = b.mul(splat(b, kPi, acc, dims), b.sub(u, splat(b, 0.5, acc, dims)));
  Value value = b.add(splat(b, median, acc, dims),
                      b.mul(splat(b, sigma, acc, dims), b.unary(UnaryOp::kTan, angle)));
  return {b.convert(value, type)};
}

// geometric_(self, p): trials until the first success, ceil(log(u) / log(1 - p))
// with u in (0, 1].
std::vector<Value> geometric_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  double p = call.double_at(1);
  if (!(p > 0 && p < 1)) {
    throw InvalidArgument("geometric_ expects p to be in (0, 1), but got p=" + format_double(p));
  }
  ElementType type = b.element_type(self);
  if (type == ElementType::kPred || is_complex(type)) throw_no_kernel("geometric_cpu", type);
  RandomBits bits(call);
  ElementType acc = type == ElementType::kF64 ? ElementType::kF64 : ElementType::kF32;
  const std::vector<int64_t>& dims = b.dims(self);
  Value u = b.sub(splat(b, 1.0, acc, dims), bits.uniform(b, dims, acc, digits(acc)));
  Value trials = b.div(b.unary(UnaryOp::kLog, u), splat(b, std::log1p(-p), acc, dims));
  // u == 1 gives 0 trials; a success needs at least one.
  trials = b.max(b.unary(UnaryOp::kCeil, trials), splat(b, 1.0, acc, dims));
  return {b.convert(trials, type)};
}

// --- randperm ----------------------------------------------------------------

// randperm(n[, generator][, dtype]) and its out= forms: 0..n-1 ordered by one
// random 64-bit key each (a stable sort, so the rare equal keys still give a
// permutation).
std::vector<Value> randperm_rule(Builder& b, const OpCall& call) {
  const int64_t n = call.int_at(0);
  if (n < 0) {
    throw InvalidArgument("Trying to create tensor with negative dimension " + std::to_string(n) +
                          ": [" + std::to_string(n) + "]");
  }
  ElementType type = ElementType::kS64;
  if (!call.out_element_types.empty()) {
    type = call.out_element_types[0];
  } else if (call.size() > 2 && !call.is_none(2)) {
    type = *call.optional_dtype(2);
  }
  if (type == ElementType::kPred || is_complex(type)) throw_no_kernel("randperm", type);
  // CPU converts n - 1 to the result type, which must hold it.
  const std::pair<ElementType, int64_t> integer_limits[] = {{ElementType::kU8, 255},
                                                            {ElementType::kS8, 127},
                                                            {ElementType::kS16, 32767},
                                                            {ElementType::kS32, 2147483647}};
  for (const auto& [limited, largest] : integer_limits) {
    if (type == limited && n - 1 > largest) {
      const std::string name = type == ElementType::kU8    ? "uint8_t"
                               : type == ElementType::kS8  ? "int8_t"
                               : type == ElementType::kS16 ? "int16_t"
                                                           : "int32_t";
      throw InvalidArgument("value cannot be converted to type " + name + " without overflow");
    }
  }
  if (type == ElementType::kF16 && n > 2049) {
    throw InvalidArgument("n cannot be greater than 2049 for Half type.");
  }
  // The schema's generator (the device's default one for None) comes second;
  // randperm.out has none, so it gets the key RuleInfo::needs_rng_key appends.
  RandomBits bits(call.tensor(1).value);
  const TensorType index_type{ElementType::kS64, {n}};
  if (n == 0) return {b.zeros({type, {0}})};
  Value keys = bits.draw(b, {n}, ElementType::kU64);
  auto sorted =
      b.sort({keys, b.iota(index_type, 0)}, 0, /*is_stable=*/true,
             [](Builder& r, const std::vector<Value>& args) {
               return std::vector<Value>{r.compare(ComparisonDirection::kLT, args[0], args[1])};
             });
  return {b.convert(sorted[1], type)};
}

// --- rrelu -----------------------------------------------------------------------

// The eval-mode slope (lower + upper) / 2. The forward adds the bounds as
// tensors: two integer bounds make an integer sum, which true division turns
// into `integer_quotient` (the default float type). The backward adds them as
// doubles (no integer_quotient).
Value mean_slope(Builder& b, Value lower, Value upper,
                 std::optional<ElementType> integer_quotient = std::nullopt) {
  if (integer_quotient && is_integral(b.element_type(lower)) &&
      is_integral(b.element_type(upper))) {
    Value sum = b.add(b.convert(lower, ElementType::kS64), b.convert(upper, ElementType::kS64));
    return b.div(b.convert(sum, *integer_quotient), b.constant(2.0, *integer_quotient));
  }
  Value sum = b.add(b.convert(lower, ElementType::kF64), b.convert(upper, ElementType::kF64));
  return b.div(sum, b.constant(2.0, ElementType::kF64));
}

// leaky_relu(x, slope) in x's opmath type.
Value leaky(Builder& b, Value x, Value slope) {
  const std::vector<int64_t>& dims = b.dims(x);
  Value s = b.broadcast_in_dim(b.convert(slope, b.element_type(x)), dims, {});
  return b.select(b.compare(ComparisonDirection::kGT, x, b.zeros(b.type(x))), x, b.mul(x, s));
}

Value any_of(Builder& b, Value pred) {
  std::vector<int64_t> all(static_cast<size_t>(b.rank(pred)));
  for (size_t d = 0; d < all.size(); ++d) all[d] = static_cast<int64_t>(d);
  return b.reduce(pred, b.constant(0, ElementType::kPred), all,
                  [](Builder& r, const std::vector<Value>& args) {
                    return std::vector<Value>{r.binary(BinaryOp::kOr, args[0], args[1])};
                  });
}

// A failed CHECK of CPU's, reported as the device sees it.
DeviceCheck failed_check(Builder& b, Value failed, const std::string& condition) {
  return DeviceCheck{CheckSite{CheckKind::kRuntime,
                               "Expected " + condition +
                                   " to be true, but got false.  (Could this error message be "
                                   "improved?  If so, please report an enhancement request to "
                                   "PyTorch.)"},
                     failed, b.constant_int(0, ElementType::kS64)};
}

// rrelu_with_noise(self, noise, lower, upper, training, generator) and
// rrelu_with_noise_functional -> (result, noise). Training: every element
// <= 0 is scaled by a uniform draw from [lower, upper), which noise records
// (1 elsewhere); otherwise leaky_relu with the mean slope, noise unchanged.
// The same two values serve the functional op (result and the noise it
// returns) and the mutating ones (the result, then noise's new value).
std::vector<Value> rrelu_with_noise_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value;
  const Value noise = call.tensor(1).value;
  const Value lower = call.tensor(2).value;
  const Value upper = call.tensor(3).value;
  const bool training = call.bool_at(4);
  const ElementType type = b.element_type(self);
  const std::vector<int64_t>& dims = b.dims(self);
  if (b.dims(noise) != dims) {
    throw InvalidArgument("noise tensor shape must match self tensor shape. Got self.shape = " +
                          shape_text(dims) + " noise.shape = " + shape_text(b.dims(noise)));
  }
  if (!training) {
    if (!is_floating(type)) throw_no_kernel("leaky_relu_cpu", type);
    const Value x = b.convert(self, opmath_type(type));
    return {b.convert(leaky(b, x, mean_slope(b, lower, upper, call.default_float)), type), noise};
  }
  if (!is_floating(type)) throw_no_kernel("rrelu_with_noise_out_cpu", type);
  const ElementType noise_type = b.element_type(noise);
  if (noise_type != type) {
    // CPU writes the draws through a pointer of self's type.
    throw InvalidArgument("expected scalar type " + std::string(scalar_type_name(type)) +
                          " but found " + std::string(scalar_type_name(noise_type)));
  }
  RandomBits bits(call);
  const ElementType acc = accumulate_type(type);
  const Value low = b.convert(lower, acc);
  const Value high = b.convert(upper, acc);
  const Value u = bits.uniform(b, dims, acc, digits(acc));
  const Value draw = b.add(b.broadcast_in_dim(low, dims, {}),
                           b.mul(b.broadcast_in_dim(b.sub(high, low), dims, {}), u));
  const Value x = b.convert(self, acc);
  const Value scaled = b.compare(ComparisonDirection::kLE, x, splat(b, 0.0, acc, dims));
  if (TensorType{type, dims}.numel() > 0) {
    // CPU checks the bounds when it draws, so only when some element is <= 0.
    const Value drawn = any_of(b, scaled);
    const Value ordered = b.compare(ComparisonDirection::kLE, low, high);
    const Value width =
        b.sub(b.convert(high, ElementType::kF64), b.convert(low, ElementType::kF64));
    const Value finite =
        b.compare(ComparisonDirection::kLE, width,
                  b.constant(std::numeric_limits<double>::max(), ElementType::kF64));
    call.check_on_device(failed_check(
        b, b.binary(BinaryOp::kAnd, drawn, b.unary(UnaryOp::kNot, ordered)), "from <= to"));
    call.check_on_device(
        failed_check(b, b.binary(BinaryOp::kAnd, drawn, b.unary(UnaryOp::kNot, finite)),
                     "to - from <= std::numeric_limits<T>::max()"));
  }
  return {b.convert(b.select(scaled, b.mul(x, draw), x), type),
          b.convert(b.select(scaled, draw, splat(b, 1.0, acc, dims)), type)};
}

// rrelu_with_noise_backward(grad_output, self, noise, lower, upper, training,
// self_is_result): grad * noise in training, else leaky_relu_backward with
// the mean slope; both promote and broadcast as those ops do.
std::vector<Value> rrelu_with_noise_backward_rule(Builder& b, const OpCall& call) {
  const TensorArg& grad = call.tensor(0);
  const TensorArg& self = call.tensor(1);
  const Value lower = call.tensor(3).value;
  const Value upper = call.tensor(4).value;
  const bool training = call.bool_at(5);
  const bool self_is_result = call.bool_at(6);
  if (training) {
    const TensorArg& noise = call.tensor(2);
    const ElementType type = result_type(b, {noise, grad}, call.default_float);
    const std::vector<Value> v =
        promote_and_broadcast(b, {noise.value, grad.value}, opmath_type(type));
    return {b.convert(b.mul(v[0], v[1]), type)};
  }
  const ElementType type = result_type(b, {grad, self}, call.default_float);
  if (!is_floating(type)) throw_no_kernel("leaky_relu_backward_cpu", type);
  const std::vector<Value> v =
      promote_and_broadcast(b, {grad.value, self.value}, opmath_type(type));
  const Value slope = mean_slope(b, lower, upper);
  if (self_is_result) {
    // CPU refuses this before computing: the slope is only known on the device.
    call.check_on_device(DeviceCheck{
        CheckSite{CheckKind::kRuntime,
                  "In-place leakyReLu backward calculation is triggered with a negative slope "
                  "which is not supported. This is caused by calling in-place forward function "
                  "with a negative slope, please call out-of-place version instead. File an "
                  "issue at https://github.com/pytorch/pytorch if you do require supporting "
                  "in-place leakRelu backward calculation with negative slope"},
        b.compare(ComparisonDirection::kLT, slope, b.constant(0.0, ElementType::kF64)),
        b.constant_int(0, ElementType::kS64)});
  }
  const std::vector<int64_t>& dims = b.dims(v[0]);
  const Value s = b.broadcast_in_dim(b.convert(slope, opmath_type(type)), dims, {});
  const Value positive = b.compare(ComparisonDirection::kGT, v[1], b.zeros(b.type(v[1])));
  return {b.convert(b.select(positive, v[0], b.mul(v[0], s)), type)};
}

void add_rule(RuleTable& table, std::string name, Rule rule) {
  table.add(std::move(name), RuleInfo{rule, {}});
}

}  // namespace

// --- dropout -------------------------------------------------------------------

// native_dropout(input, p, train?) -> (output, mask): as PyTorch's CPU kernel,
// keep each element with probability 1 - p (a Bernoulli draw in f32) and scale
// the kept ones by 1 / (1 - p) (0 when p == 1), computing in f32 for half types.
std::vector<Value> native_dropout_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(0).value;
  double p = call.double_at(1);
  const std::vector<int64_t>& dims = b.dims(input);
  ElementType type = b.element_type(input);
  bool train = call.is_none(2) || call.bool_at(2);
  if (!train) {
    return {input, b.splat(1.0, TensorType{ElementType::kPred, dims})};
  }
  if (!(p >= 0 && p <= 1)) {
    throw InvalidArgument("dropout probability has to be between 0 and 1, but got " +
                          format_double(p));
  }
  if (!is_floating(stablehlo::real_part_type(type))) {
    throw_no_kernel("bernoulli_scalar_cpu_", type);
  }
  RandomBits bits(call);
  const double keep = 1.0 - p;
  Value u = bits.uniform(b, dims, ElementType::kF32, 24);
  Value mask = b.compare(ComparisonDirection::kLT, u, splat(b, keep, ElementType::kF32, dims));
  ElementType compute =
      type == ElementType::kBF16 || type == ElementType::kF16 ? ElementType::kF32 : type;
  Value kept = b.mul(b.convert(input, compute), b.convert(mask, compute));
  Value scaled = b.mul(kept, splat(b, keep == 0 ? 0.0 : 1.0 / keep, compute, dims));
  return {b.convert(scaled, type), mask};
}

// native_dropout_backward(grad_output, mask, scale) = grad_output * (mask * scale),
// in that order, as CPU computes it: the scaled mask is rounded to the result
// type first, and integer or bool gradients give default-float results.
std::vector<Value> native_dropout_backward_rule(Builder& b, const OpCall& call) {
  Value grad = call.tensor(0).value;
  Value mask = call.tensor(1).value;
  double scale = call.double_at(2);
  const std::vector<int64_t>& dims = b.dims(grad);
  const ElementType grad_type = b.element_type(grad);
  const ElementType type =
      is_floating(stablehlo::real_part_type(grad_type)) ? grad_type : call.default_float;
  ElementType compute =
      type == ElementType::kBF16 || type == ElementType::kF16 ? ElementType::kF32 : type;
  Value scaled_mask = b.convert(
      b.mul(b.convert(broadcast_to(b, mask, dims), compute), splat(b, scale, compute, dims)), type);
  return {b.convert(b.mul(b.convert(grad, compute), b.convert(scaled_mask, compute)), type)};
}

void add_random_rules(RuleTable& table) {
  table.add("randperm", RuleInfo{&randperm_rule, {}, /*needs_rng_key=*/true});
  add_rule(table, "uniform", &uniform_rule);
  add_rule(table, "normal", &normal_rule);
  add_rule(table, "bernoulli", &bernoulli_rule);
  add_rule(table, "random", &random_rule);
  add_rule(table, "exponential", &exponential_rule);
  add_rule(table, "log_normal", &log_normal_rule);
  add_rule(table, "cauchy", &cauchy_rule);
  add_rule(table, "geometric", &geometric_rule);
  table.add("native_dropout", RuleInfo{&native_dropout_rule, {}, /*needs_rng_key=*/true});
  add_rule(table, "native_dropout_backward", &native_dropout_backward_rule);
  add_rule(table, "rrelu_with_noise", &rrelu_with_noise_rule);
  add_rule(table, "rrelu_with_noise_functional", &rrelu_with_noise_rule);
  add_rule(table, "rrelu_with_noise_backward", &rrelu_with_noise_backward_rule);
}

}  // namespace torch_pjrt::lowering
