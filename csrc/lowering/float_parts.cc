// frexp: a float split into a mantissa in [0.5, 1) (signed) and a power of two,
// x = mantissa * 2^exponent, as C's frexp gives them. Zeros, infinities and
// NaN keep their value with exponent 0.
#include <cmath>
#include <cstdint>
#include <vector>

#include "lowering/float_classes.h"
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
  int64_t mantissa_bits;  // explicit fraction bits
  int64_t exponent_mask;  // of the biased exponent, once shifted down
  int64_t half_bias;      // biased exponent of [0.5, 1)
  double min_normal;
  int64_t subnormal_shift;  // 2^shift makes every subnormal normal
};

FloatLayout layout_of(ElementType type) {
  if (type == ElementType::kF64) {
    return {ElementType::kS64, 52, 0x7ff, 1022, 2.2250738585072014e-308, 64};
  }
  return {ElementType::kS32, 23, 0xff, 126, 1.1754943508222875e-38, 32};
}

Value full_int(Builder& b, int64_t value, Value like, ElementType type) {
  return b.broadcast_in_dim(b.constant_int(value, type), b.dims(like), {});
}

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

  Value magnitude = b.unary(UnaryOp::kAbs, x);
  Value subnormal = b.binary(
      BinaryOp::kAnd,
      b.compare(ComparisonDirection::kLT, magnitude, b.splat(layout.min_normal, float_type)),
      b.compare(ComparisonDirection::kNE, x, b.zeros(float_type)));
  Value scaled = b.select(
      subnormal,
      b.mul(x, b.splat(std::ldexp(1.0, static_cast<int>(layout.subnormal_shift)), float_type)), x);
  Value bits = b.bitcast_convert(scaled, bits_type);
  Value biased = b.binary(BinaryOp::kAnd,
                          b.binary(BinaryOp::kShiftRightLogical, bits,
                                   full_int(b, layout.mantissa_bits, x, layout.bits)),
                          full_int(b, layout.exponent_mask, x, layout.bits));
  Value exponent = b.sub(biased, full_int(b, layout.half_bias, x, layout.bits));
  exponent =
      b.sub(exponent, b.select(subnormal, full_int(b, layout.subnormal_shift, x, layout.bits),
                               full_int(b, 0, x, layout.bits)));
  const int64_t clear_exponent = ~(layout.exponent_mask << layout.mantissa_bits);
  Value mantissa_bits = b.binary(
      BinaryOp::kOr, b.binary(BinaryOp::kAnd, bits, full_int(b, clear_exponent, x, layout.bits)),
      full_int(b, layout.half_bias << layout.mantissa_bits, x, layout.bits));
  Value mantissa = b.bitcast_convert(mantissa_bits, float_type);

  Value special =
      b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kEQ, x, b.zeros(float_type)),
               b.unary(UnaryOp::kNot, b.unary(UnaryOp::kIsFinite, x)));
  mantissa = b.select(special, x, mantissa);
  exponent = b.select(special, full_int(b, 0, x, layout.bits), exponent);
  return {b.convert(mantissa, type), b.convert(exponent, ElementType::kS32)};
}

}  // namespace

void add_float_part_rules(RuleTable& table) { table.add("frexp", RuleInfo{&frexp_rule, {}}); }

}  // namespace torch_pjrt::lowering
