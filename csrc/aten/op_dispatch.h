#pragma once

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

namespace torch_pjrt::aten {

// TORCH_PJRT_CPU_FALLBACK=1: unsupported ops run on the CPU.
bool cpu_fallback_enabled();

// Registers the rule-backed kernel for every op that has a lowering rule
// (called once at module import, after PyTorch registered its ops).
void register_rule_kernels();

// Routes one call through its lowering rule, as the dispatcher would.
void call_boxed_fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack);

}  // namespace torch_pjrt::aten
