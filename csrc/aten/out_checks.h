#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

namespace torch_pjrt::aten {

// PyTorch's C++ meta function of a structured op's out= overload: the shape,
// dtype and out= checks CPU makes before it computes (`Expected out tensor to
// have dtype float, but got double instead`, a broadcast that does not fit).
// The dispatcher's Meta kernel is often a Python decomposition with looser
// checks, so the C++ function is taken directly. nullptr when the op is not
// structured: its rule's own checks and the generic out= cast check apply.
const c10::KernelFunction* structured_meta_out(const c10::FunctionSchema& schema);

// CPU's shape, dtype and out= checks for an out= call, made before the rule
// runs: `meta` (structured_meta_out) when the op has one, else the
// dispatcher's Meta kernel where one exists. It runs on stand-ins of the call's arguments that hold
// no data (tpu tensors become meta tensors of the same sizes, strides and dtype) and throws what
// CPU would throw for the same call.
void check_out_call(const c10::KernelFunction* meta, const c10::OperatorHandle& op,
                    const torch::jit::Stack& stack, size_t first, size_t count);

// check_out_call for a kernel of ours that takes its arguments unboxed
// (aten/linalg_kernels.cc): the same checks as for ops routed to their rules.
template <class... Args>
void check_out_arguments(const char* name, const char* overload, const Args&... args) {
  const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
  torch::jit::Stack stack{c10::IValue(args)...};
  check_out_call(structured_meta_out(op.schema()), op, stack, 0, stack.size());
}

// Ops whose CPU kernels (not meta functions) refuse an out= of another dtype
// than their result's, where PyTorch's generic out= rule would cast.
bool out_dtype_must_match(const std::string& rule_name);

}  // namespace torch_pjrt::aten
