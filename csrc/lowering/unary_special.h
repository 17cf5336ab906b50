#pragma once

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

}  // namespace torch_pjrt::lowering
