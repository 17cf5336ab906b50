// frexp: a float split into a mantissa in [0.5, 1) (signed) and a power of two,
// x = mantissa * 2^exponent, as C's frexp gives them. Zeros, infinities and
// NaN keep their value with exponent 0.
#include <cstdint>
#include <vector>

#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::is_floating;
using stablehlo::UnaryOp;

// The IEEE layout of the type frexp computes in.
struct FloatLayout {
  ElementType bits;       // the integer of the same width
  int64_t width;          // its bits
  int64_t mantissa_bits;  // explicit fraction bits
  int64_t exponent_mask;  // of the biased exponent, once shifted down
  int64_t half_bias;      // biased exponent of [0.5, 1)
};

FloatLayout layout_of(ElementType type) {
  if (type == ElementType::kF64) return {ElementType::kS64, 64, 52, 0x7ff, 1022};
  return {ElementType::kS32, 32, 23, 0xff, 126};
}

// All in integer arithmetic on the bits: XLA:CPU flushes subnormal floats to
// zero in float arithmetic, and frexp must split them.
std::vector<Value> frexp_rule(Builder& b, const OpCall& call) {
  Value input = call.tensor(0).value;
  const ElementType type = b.element_type(input);
  if (!is_floating(type)) {
    throw InvalidArgument("torch.frexp() only supports floating-point dtypes");
  }
  // The half types are exactly representable in f32, whose split they share.
  const ElementType compute = type == ElementType::kF64 ? ElementType::kF64 : ElementType::kF32;
  Value x = b.convert(input, compute);
  const FloatLayout layout = layout_of(compute);
  const TensorType& float_type = b.type(x);
  const TensorType bits_type{layout.bits, float_type.dims};
  auto full = [&](int64_t value) {
    return b.broadcast_in_dim(b.constant_int(value, layout.bits), bits_type.dims, {});
  };
  auto eq = [&](Value a, Value c) { return b.compare(ComparisonDirection::kEQ, a, c); };

  Value bits = b.bitcast_convert(x, bits_type);
  const int64_t fraction_mask = (int64_t{1} << layout.mantissa_bits) - 1;
  Value fraction = b.binary(BinaryOp::kAnd, bits, full(fraction_mask));
  Value biased = b.binary(BinaryOp::kAnd,
                          b.binary(BinaryOp::kShiftRightLogical, bits, full(layout.mantissa_bits)),
                          full(layout.exponent_mask));
  Value sign = b.binary(BinaryOp::kAnd, bits, full(int64_t{1} << (layout.width - 1)));

  // A subnormal's value is fraction * 2^(1 - bias - mantissa_bits): its
  // leading one moves up to the implicit bit's place.
  Value leading = b.sub(full(layout.width - 1), b.unary(UnaryOp::kCountLeadingZeros, fraction));
  Value shift = b.sub(full(layout.mantissa_bits), leading);
  Value normalized = b.binary(BinaryOp::kAnd, b.binary(BinaryOp::kShiftLeft, fraction, shift),
                              full(fraction_mask));
  Value subnormal = eq(biased, full(0));
  Value exponent = b.select(
      subnormal, b.sub(b.add(leading, full(1)), full(layout.half_bias + layout.mantissa_bits)),
      b.sub(biased, full(layout.half_bias)));
  Value mantissa_fraction = b.select(subnormal, normalized, fraction);
  Value mantissa =
      b.bitcast_convert(b.binary(BinaryOp::kOr, b.binary(BinaryOp::kOr, sign, mantissa_fraction),
                                 full(layout.half_bias << layout.mantissa_bits)),
                        float_type);

  // Zeros, infinities and NaN.
  Value special =
      b.binary(BinaryOp::kOr, b.binary(BinaryOp::kAnd, subnormal, eq(fraction, full(0))),
               eq(biased, full(layout.exponent_mask)));
  mantissa = b.select(special, x, mantissa);
  exponent = b.select(special, full(0), exponent);
  return {b.convert(mantissa, type), b.convert(exponent, ElementType::kS32)};
}

}  // namespace

void add_float_part_rules(RuleTable& table) { table.add("frexp", RuleInfo{&frexp_rule, {}}); }

}  // namespace torch_pjrt::lowering
