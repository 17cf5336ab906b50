#include "lowering/complex_log_add_exp.h"

#include <limits>

namespace torch_pjrt::lowering {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

namespace {

Value has_nan(Builder& b, Value z) {
  Value re = b.unary(UnaryOp::kReal, z), im = b.unary(UnaryOp::kImag, z);
  return b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kNE, re, re),
                  b.compare(ComparisonDirection::kNE, im, im));
}

}  // namespace

Value complex_log_add_exp(Builder& b, Value x, Value y) {
  const TensorType type = b.type(x);
  Value x_lower =
      b.compare(ComparisonDirection::kLT, b.unary(UnaryOp::kReal, x), b.unary(UnaryOp::kReal, y));
  Value low = b.select(x_lower, x, y);
  Value high = b.select(x_lower, y, x);
  Value low_real = b.unary(UnaryOp::kReal, low);
  Value high_real = b.unary(UnaryOp::kReal, high);
  Value shifted = b.add(b.unary(UnaryOp::kLog1p, b.unary(UnaryOp::kExp, b.sub(low, high))), high);
  Value unshifted =
      b.unary(UnaryOp::kLog, b.add(b.unary(UnaryOp::kExp, low), b.unary(UnaryOp::kExp, high)));
  Value equal_infinities =
      b.binary(BinaryOp::kAnd, b.unary(UnaryOp::kNot, b.unary(UnaryOp::kIsFinite, low_real)),
               b.compare(ComparisonDirection::kEQ, low_real, high_real));
  Value negative = b.compare(ComparisonDirection::kLT, low_real, b.splat(0.0, b.type(low_real)));
  Value result = b.select(equal_infinities, b.select(negative, low, unshifted), shifted);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return b.select(b.binary(BinaryOp::kOr, has_nan(b, x), has_nan(b, y)),
                  b.splat_complex(nan, nan, type), result);
}

}  // namespace torch_pjrt::lowering
