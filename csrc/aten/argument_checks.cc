// CPU's checks on what a lowering rule cannot see: the strides of a tensor
// (rules get values in their logical shape) and the value of a Scalar that
// reaches the program as run-time data. Each kernel makes its check, then
// routes the call to the op's rule as usual.
#include <torch/library.h>

#include <limits>

#include "aten/op_dispatch.h"

namespace torch_pjrt::aten {

namespace {

// native_group_norm(input, weight?, bias?, N, C, HxW, group, eps): CPU's
// kernel walks the input as one flat buffer, so it refuses a layout that is
// not dense in its suggested memory format (group_norm itself makes its
// input contiguous first; only direct calls get here with other strides).
void native_group_norm(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const at::Tensor& input = (*stack)[stack->size() - 8].toTensor();
  TORCH_CHECK(input.is_contiguous(input.suggest_memory_format()),
              "native_group_norm: expected the input to be contiguous, but got sizes ",
              input.sizes(), " with strides ", input.strides());
  call_boxed_fallback(op, stack);
}

double max_of(c10::ScalarType type) {
  switch (type) {
    case c10::kHalf:
      return std::numeric_limits<c10::Half>::max();
    case c10::kBFloat16:
      return std::numeric_limits<c10::BFloat16>::max();
    case c10::kFloat:
      return std::numeric_limits<float>::max();
    default:
      return std::numeric_limits<double>::max();
  }
}

// softshrink(self, lambd): lambd must be a non-negative finite value of
// self's dtype. Other dtypes are refused by the rule, as CPU refuses them.
void softshrink(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const at::Tensor& self = (*stack)[stack->size() - 2].toTensor();
  const double lambd = (*stack)[stack->size() - 1].toScalar().toDouble();
  if (at::isFloatingType(self.scalar_type())) {
    const double highest = max_of(self.scalar_type());
    TORCH_CHECK(lambd >= 0 && lambd <= highest, "softshrink: lambda must be in range [0, ", highest,
                "] for input dtype ", self.scalar_type(), ", but found ", lambd);
  }
  call_boxed_fallback(op, stack);
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("native_group_norm", torch::CppFunction::makeFromBoxedFunction<&native_group_norm>());
  m.impl("softshrink", torch::CppFunction::makeFromBoxedFunction<&softshrink>());
}

}  // namespace torch_pjrt::aten
