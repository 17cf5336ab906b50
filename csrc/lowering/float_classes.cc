#include "lowering/float_classes.h"

#include <limits>

namespace torch_pjrt::lowering {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

namespace {

Value all_false(Builder& b, Value like) {
  return b.splat(0, TensorType{ElementType::kPred, b.dims(like)});
}

}  // namespace

Value is_nan(Builder& b, Value x) {
  const ElementType type = b.element_type(x);
  if (stablehlo::is_complex(type)) {
    return b.binary(BinaryOp::kOr, is_nan(b, b.unary(UnaryOp::kReal, x)),
                    is_nan(b, b.unary(UnaryOp::kImag, x)));
  }
  if (!stablehlo::is_floating(type)) return all_false(b, x);
  return b.compare(ComparisonDirection::kNE, x, x);
}

Value is_inf(Builder& b, Value x) {
  const ElementType type = b.element_type(x);
  if (stablehlo::is_complex(type)) {
    return b.binary(BinaryOp::kOr, is_inf(b, b.unary(UnaryOp::kReal, x)),
                    is_inf(b, b.unary(UnaryOp::kImag, x)));
  }
  if (!stablehlo::is_floating(type)) return all_false(b, x);
  Value magnitude = b.unary(UnaryOp::kAbs, x);
  return b.compare(ComparisonDirection::kEQ, magnitude,
                   b.splat(std::numeric_limits<double>::infinity(), b.type(magnitude)));
}

Value sign_bit_set(Builder& b, Value x) {
  // The half types widen to f32 first (exactly, sign and NaN payload kept) so
  // one integer width per float width is enough.
  const bool wide = b.element_type(x) == ElementType::kF64;
  Value f = b.convert(x, wide ? ElementType::kF64 : ElementType::kF32);
  Value bits = b.bitcast_convert(f, {wide ? ElementType::kS64 : ElementType::kS32, b.dims(x)});
  return b.compare(ComparisonDirection::kLT, bits, b.zeros(b.type(bits)));
}

}  // namespace torch_pjrt::lowering
