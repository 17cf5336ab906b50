// The dispatcher entry of the tpu device (DESIGN.md layer 5): every ATen op
// without a dedicated kernel lands here and is routed by name to its lowering
// rule, traced once per signature, and executed (or, in fused mode, recorded
// into the device's pending trace).
#include "aten/op_dispatch.h"

#include <ATen/native/CPUFallback.h>
#include <ATen/native/Resize.h>
#include <torch/library.h>

#include <sstream>

#include "aten/op_plan.h"
#include "aten/out_checks.h"
#include "aten/runtime_access.h"
#include "aten/traced_call.h"
#include "lowering/op_call.h"
#include "pjrt/pjrt.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::aten {

namespace {

std::string describe_value(const c10::IValue& value) {
  std::ostringstream out;
  if (value.isTensor()) {
    const at::Tensor& t = value.toTensor();
    if (!t.defined()) return "None";
    out << c10::toString(t.scalar_type()) << t.sizes();
    if (t.device().type() != c10::DeviceType::PrivateUse1) out << "@" << t.device();
  } else if (value.isTensorList()) {
    out << "[";
    bool first = true;
    for (const at::Tensor& t : value.toTensorList()) {
      out << (first ? "" : ", ") << describe_value(t);
      first = false;
    }
    out << "]";
  } else if (value.isScalar() || value.isIntList() || value.isString() || value.isNone() ||
             value.isBool() || value.isDoubleList()) {
    out << value;
  } else {
    out << value.tagKind();
  }
  return out.str();
}

// "aten::add.Tensor(Float[2, 3], Float[4], 1)": what the user called, for messages.
std::string describe_call(const OpPlan& plan, const torch::jit::Stack& stack, size_t first) {
  std::ostringstream out;
  out << plan.qualified_name << "(";
  for (size_t i = 0; i < plan.num_arguments; ++i) {
    out << (i ? ", " : "") << describe_value(stack[first + i]);
  }
  out << ")";
  return out.str();
}

void run_cpu_fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack, const OpPlan& plan) {
  runtime().metrics().count_fallback(plan.base_name);
  at::native::cpu_fallback(op, stack);
}

[[noreturn]] void throw_not_implemented(const OpPlan& plan, const std::string& why) {
  TORCH_CHECK_NOT_IMPLEMENTED(false, "The operator '", plan.qualified_name,
                              "' is not implemented for the tpu device", why,
                              ". Set TORCH_PJRT_CPU_FALLBACK=1 to run unsupported operators on "
                              "the CPU instead (inputs and results are copied, so it is slow).");
}

std::vector<c10::IValue> run_traced(const TracedCall& call) {
  engine::Runtime& rt = runtime();
  std::shared_ptr<const engine::CompiledCall> compiled = rt.calls().find(call.signature());
  if (compiled) {
    rt.metrics().cache_hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    compiled = call.trace();
    rt.calls().insert(call.signature(), compiled);
  }
  return call.execute(*compiled);
}

void push_returns(const OpPlan& plan, torch::jit::Stack* stack, std::vector<c10::IValue> values) {
  if (plan.returns.size() == 1 && plan.returns[0] == ReturnKind::kTensorList) {
    std::vector<at::Tensor> tensors;
    for (auto& v : values) tensors.push_back(v.toTensor());
    stack->emplace_back(std::move(tensors));
    return;
  }
  for (auto& v : values) stack->push_back(std::move(v));
}

void finish_returns(const OpPlan& plan, torch::jit::Stack* stack, size_t first,
                    std::vector<c10::IValue> returned);

void run_op(const OpPlan& plan, torch::jit::Stack* stack, size_t first) {
  TracedCall call(plan, *stack, first);
  engine::Runtime& rt = runtime();
  rt.metrics().traced_ops.fetch_add(1, std::memory_order_relaxed);
  if (!rt.fusing()) {
    finish_returns(plan, stack, first, run_traced(call));
    // Debug mode waited for the op; a host value was waited for too.
    if (rt.mode() == engine::EagerMode::kDebug || call.returns_host_values()) {
      raise_device_errors();
    }
    return;
  }
  engine::PendingTrace& trace = rt.pending(call.device());
  if (call.returns_host_values()) {
    // A bool or number for the host: what is pending runs first, then this op.
    trace.flush("host_scalar");
    finish_returns(plan, stack, first, run_traced(call));
    raise_device_errors();
    return;
  }
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  finish_returns(plan, stack, first, call.record(trace));
  trace.finish_op(plan.qualified_name, call.signature());
}

void finish_returns(const OpPlan& plan, torch::jit::Stack* stack, size_t first,
                    std::vector<c10::IValue> returned) {
  switch (plan.form) {
    case OpForm::kInPlace: {
      c10::IValue self = (*stack)[first];
      torch::jit::drop(*stack, plan.num_arguments);
      stack->push_back(std::move(self));
      return;
    }
    case OpForm::kOut: {
      // The functional result is written into out= like Tensor.copy_ would,
      // resizing out as PyTorch's out= convention asks.
      std::vector<c10::IValue> outs;
      for (size_t j = 0; j < plan.out_args.size(); ++j) {
        at::Tensor out = (*stack)[first + plan.out_args[j]].toTensor();
        const at::Tensor& result = returned.at(j).toTensor();
        TORCH_CHECK(c10::canCast(result.scalar_type(), out.scalar_type()), "result type ",
                    result.scalar_type(), " can't be cast to the desired output type ",
                    out.scalar_type());
        TORCH_CHECK(!plan.exact_out_dtype || result.scalar_type() == out.scalar_type(),
                    plan.qualified_name, ": expected out tensor to have dtype ",
                    result.scalar_type(), ", but got ", out.scalar_type(), " instead");
        at::native::resize_output(out, result.sizes());
        out.copy_(result);
        outs.emplace_back(out);
      }
      torch::jit::drop(*stack, plan.num_arguments);
      for (auto& out : outs) stack->push_back(std::move(out));
      return;
    }
    case OpForm::kFunctional:
      if (plan.output_mask_arg) {
        const c10::List<bool> mask = (*stack)[first + *plan.output_mask_arg].toBoolList();
        for (size_t j = 0; j < returned.size() && j < mask.size(); ++j)
          if (!mask.get(j)) returned[j] = c10::IValue(at::Tensor());
      }
      torch::jit::drop(*stack, plan.num_arguments);
      push_returns(plan, stack, std::move(returned));
      return;
  }
}

void tpu_fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const OpPlan& plan = plan_for(op);
  if (plan.rule == nullptr) {
    if (cpu_fallback_enabled()) return run_cpu_fallback(op, stack, plan);
    throw_not_implemented(plan, " (torch_pjrt has no lowering rule for it)");
  }
  const size_t first = stack->size() - plan.num_arguments;
  if (plan.form == OpForm::kOut)
    check_out_call(plan.meta_out, op, *stack, first, plan.num_arguments);
  try {
    run_op(plan, stack, first);
  } catch (const lowering::Unsupported& e) {
    if (cpu_fallback_enabled()) return run_cpu_fallback(op, stack, plan);
    throw_not_implemented(plan, std::string(" for these arguments: ") + e.what());
  } catch (const lowering::IndexOutOfRange& e) {
    TORCH_CHECK_INDEX(false, describe_call(plan, *stack, first), ": ", e.what());
  } catch (const lowering::InvalidArgument& e) {
    TORCH_CHECK(false, describe_call(plan, *stack, first), ": ", e.what());
  } catch (const stablehlo::BuildError& e) {
    TORCH_CHECK(false, "torch_pjrt built an invalid program for ",
                describe_call(plan, *stack, first), ": ", e.what(), " (this is a torch_pjrt bug)");
  } catch (const pjrt::Error& e) {
    TORCH_CHECK(false, "The PJRT plugin failed to run ", describe_call(plan, *stack, first), ": ",
                e.what());
  }
}

}  // namespace

bool cpu_fallback_enabled() { return runtime().options().cpu_fallback; }

void call_boxed_fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  tpu_fallback(op, stack);
}

void register_rule_kernels() {
  // Every op with a lowering rule gets our kernel directly, not only as the
  // backend fallback: otherwise PyTorch's composite kernels for structured ops
  // (add, mm, cat, ...) would run first, checking inputs without naming the op,
  // refusing 0-d CPU operands, and turning each in-place op into a functional
  // op plus a copy. Left alone: ops PyTorch decomposes (CompositeImplicit:
  // their autograd comes from the decomposition), ops with a kernel of ours,
  // ops with a device argument (factories and _to_copy may leave the device),
  // and ops with a memory format (clone and friends choose output strides,
  // which PyTorch's composites get right and a rule's contiguous result not).
  static auto* library = new torch::Library(torch::Library::IMPL, "aten",
                                            c10::DispatchKey::PrivateUse1, __FILE__, __LINE__);
  auto& dispatcher = c10::Dispatcher::singleton();
  for (const c10::OperatorName& name : dispatcher.getAllOpNames()) {
    if (name.name.rfind("aten::", 0) != 0) continue;
    std::optional<c10::OperatorHandle> op = dispatcher.findOp(name);
    if (!op || op->hasKernelForDispatchKey(c10::DispatchKey::PrivateUse1) ||
        op->hasKernelForDispatchKey(c10::DispatchKey::CompositeImplicitAutograd)) {
      continue;
    }
    const OpPlan& plan = plan_for(*op);
    if (plan.rule == nullptr || plan.has_device_argument || plan.has_memory_format_argument) {
      continue;
    }
    std::string qualified = name.name.substr(6);
    if (!name.overload_name.empty()) qualified += "." + name.overload_name;
    library->impl(qualified.c_str(), torch::CppFunction::makeFromBoxedFunction<&tpu_fallback>());
  }
}

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&tpu_fallback>());
}

}  // namespace torch_pjrt::aten
