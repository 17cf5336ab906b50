#pragma once

#include <limits>
#include <numbers>
#include <string_view>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/op_call.h"
#include "lowering/promotion.h"

namespace torch_pjrt::lowering {

// A special function of one real variable, built in the type of its operand.
using SpecialFunction = Value (*)(Builder& b, Value x);

// Lowers f(self) with CPU's typing: integers and bool compute in the default
// float type; float16/bfloat16 compute in f32 where CPU has a kernel for them
// (`halves`), otherwise they and complex types raise CPU's "not implemented".
inline std::vector<Value> lower_unary_special(Builder& b, const OpCall& call, SpecialFunction f,
                                              std::string_view kernel, bool halves) {
  Value x = call.tensor(0).value;
  const ElementType type = to_floating(b.element_type(x), call.default_float);
  const bool supported = type == ElementType::kF32 || type == ElementType::kF64 ||
                         (halves && (type == ElementType::kF16 || type == ElementType::kBF16));
  if (!supported) throw_no_kernel(kernel, type);
  return {b.convert(f(b, b.convert(x, opmath_type(type))), type)};
}

// Shorthands the special-function files write their formulas with: a
// constant like x, comparisons of x with a constant, and a x + offset.
namespace special_math {

using stablehlo::ComparisonDirection;

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kPi = std::numbers::pi;

inline Value c(Builder& b, double v, Value like) { return b.splat(v, b.type(like)); }
inline Value cmp(Builder& b, ComparisonDirection d, Value x, double v) {
  return b.compare(d, x, c(b, v, x));
}
inline Value lt(Builder& b, Value x, double v) { return cmp(b, ComparisonDirection::kLT, x, v); }
inline Value le(Builder& b, Value x, double v) { return cmp(b, ComparisonDirection::kLE, x, v); }
inline Value gt(Builder& b, Value x, double v) { return cmp(b, ComparisonDirection::kGT, x, v); }
inline Value eq(Builder& b, Value x, double v) { return cmp(b, ComparisonDirection::kEQ, x, v); }
inline Value scaled(Builder& b, Value x, double factor, double offset) {
  return b.add(b.mul(x, c(b, factor, x)), c(b, offset, x));
}

}  // namespace special_math

}  // namespace torch_pjrt::lowering
