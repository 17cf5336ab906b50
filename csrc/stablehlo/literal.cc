#include "stablehlo/literal.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace torch_pjrt::stablehlo {
namespace {

// The flavours of NaN/inf handling among XLA's float types.
enum class Specials {
  kIeee,  // inf and NaN as IEEE 754
  kFn,    // no inf; NaN is all exponent and mantissa bits set; overflow -> NaN
  kFnuz,  // no inf, no -0; NaN is the sign bit alone; overflow -> NaN
};

struct FloatFormat {
  int exponent_bits;
  int mantissa_bits;
  int bias;
  Specials specials;
};

FloatFormat format_of(ElementType type) {
  switch (type) {
    case ElementType::kF16:
      return {5, 10, 15, Specials::kIeee};
    case ElementType::kBF16:
      return {8, 7, 127, Specials::kIeee};
    case ElementType::kF8E5M2:
      return {5, 2, 15, Specials::kIeee};
    case ElementType::kF8E4M3FN:
      return {4, 3, 7, Specials::kFn};
    case ElementType::kF8E5M2FNUZ:
      return {5, 2, 16, Specials::kFnuz};
    case ElementType::kF8E4M3FNUZ:
      return {4, 3, 8, Specials::kFnuz};
    default:
      return {11, 52, 1023, Specials::kIeee};
  }
}

// Rounds to nearest even; every step is exact in double, so there is no double
// rounding.
uint64_t encode(double value, const FloatFormat& f) {
  const uint64_t sign_bit = uint64_t{1} << (f.exponent_bits + f.mantissa_bits);
  const uint64_t exponent_all = (uint64_t{1} << f.exponent_bits) - 1;
  const uint64_t mantissa_all = (uint64_t{1} << f.mantissa_bits) - 1;
  const uint64_t fn_nan = (exponent_all << f.mantissa_bits) | mantissa_all;
  const bool negative = std::signbit(value);
  const uint64_t sign = negative ? sign_bit : 0;
  auto nan = [&]() -> uint64_t {
    switch (f.specials) {
      case Specials::kIeee:
        return (exponent_all << f.mantissa_bits) | (uint64_t{1} << (f.mantissa_bits - 1));
      case Specials::kFn:
        return fn_nan;
      case Specials::kFnuz:
        return sign_bit;
    }
    return 0;
  };
  auto overflow = [&]() -> uint64_t {
    if (f.specials == Specials::kIeee) return sign | (exponent_all << f.mantissa_bits);
    return f.specials == Specials::kFn ? sign | fn_nan : nan();
  };
  if (std::isnan(value)) return nan();
  if (std::isinf(value)) return overflow();
  const double magnitude = std::fabs(value);
  if (magnitude == 0) return f.specials == Specials::kFnuz ? 0 : sign;

  const int min_exponent = 1 - f.bias;
  int exponent;
  std::frexp(magnitude, &exponent);
  --exponent;  // magnitude = 1.m * 2^exponent
  uint64_t bits;
  if (exponent < min_exponent) {
    // Subnormal: a carry out of the mantissa lands in the exponent field and
    // yields the smallest normal, as it should.
    bits = static_cast<uint64_t>(
        std::nearbyint(std::ldexp(magnitude, f.mantissa_bits - min_exponent)));
  } else {
    double mantissa = std::ldexp(std::ldexp(magnitude, -exponent) - 1.0, f.mantissa_bits);
    auto m = static_cast<uint64_t>(std::nearbyint(mantissa));
    if (m > mantissa_all) {
      m = 0;
      ++exponent;
    }
    const int64_t biased = exponent + f.bias;
    const auto max_biased = static_cast<int64_t>(exponent_all);
    if (f.specials == Specials::kIeee ? biased >= max_biased : biased > max_biased) {
      return overflow();
    }
    bits = (static_cast<uint64_t>(biased) << f.mantissa_bits) | m;
    if (f.specials == Specials::kFn && bits == fn_nan) return overflow();
  }
  if (bits == 0 && f.specials == Specials::kFnuz) return 0;
  return sign | bits;
}

void append_hex(std::string& out, uint64_t bits, int64_t bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  out += "0x";
  for (int64_t i = bytes * 2 - 1; i >= 0; --i) out += kDigits[(bits >> (4 * i)) & 0xF];
}

// Two's complement wrap of `value` to the width of an integer type, printed
// signed or unsigned as the type is.
void append_wrapped(std::string& out, uint64_t value, ElementType type) {
  const int64_t bits = byte_width(type) * 8;
  if (bits < 64) value &= (uint64_t{1} << bits) - 1;
  if (is_signed_integral(type) && bits < 64 && (value >> (bits - 1)) & 1) {
    value |= ~uint64_t{0} << bits;  // sign-extend
  }
  if (is_signed_integral(type)) {
    out += std::to_string(static_cast<int64_t>(value));
  } else {
    out += std::to_string(value);
  }
}

// Truncates toward zero and saturates to the 64-bit range of the type's
// signedness; negative values headed for unsigned types wrap as in C.
uint64_t double_to_int_bits(double value, ElementType type) {
  if (std::isnan(value)) return 0;
  value = std::trunc(value);
  constexpr double kTwo63 = 9223372036854775808.0;
  if (is_unsigned_integral(type) && value >= kTwo63) {
    if (value >= 2 * kTwo63) return std::numeric_limits<uint64_t>::max();
    return static_cast<uint64_t>(value);
  }
  if (value >= kTwo63) return static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (value <= -kTwo63) return uint64_t{1} << 63;
  return static_cast<uint64_t>(static_cast<int64_t>(value));
}

void append_float(std::string& out, double value, ElementType type) {
  append_hex(out, float_bits(value, type), byte_width(type));
}

}  // namespace

uint64_t float_bits(double value, ElementType type) {
  if (type == ElementType::kF64) return std::bit_cast<uint64_t>(value);
  if (type == ElementType::kF32) return std::bit_cast<uint32_t>(static_cast<float>(value));
  return encode(value, format_of(type));
}

void append_literal(std::string& out, double value, ElementType type) {
  if (type == ElementType::kPred) {
    out += value != 0 ? "true" : "false";
  } else if (is_integral(type)) {
    append_wrapped(out, double_to_int_bits(value, type), type);
  } else if (is_complex(type)) {
    ElementType part = real_part_type(type);
    out += '(';
    append_float(out, value, part);
    out += ", ";
    append_float(out, 0.0, part);
    out += ')';
  } else {
    append_float(out, value, type);
  }
}

void append_literal(std::string& out, int64_t value, ElementType type) {
  if (type == ElementType::kPred) {
    out += value != 0 ? "true" : "false";
  } else if (is_integral(type)) {
    append_wrapped(out, static_cast<uint64_t>(value), type);
  } else if (type == ElementType::kF32) {
    append_hex(out, std::bit_cast<uint32_t>(static_cast<float>(value)), 4);
  } else {
    append_literal(out, static_cast<double>(value), type);
  }
}

}  // namespace torch_pjrt::stablehlo
