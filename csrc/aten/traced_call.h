#pragma once

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aten/op_plan.h"
#include "engine/compiled_call.h"
#include "engine/pending_trace.h"
#include "engine/storage_value.h"
#include "engine/view_layout.h"
#include "lowering/op_call.h"

namespace torch_pjrt::aten {

// A tensor argument as the trace reads it.
struct TensorSlot {
  // Index into TracedCall::inputs of its storage (device tensors) or of its
  // host value (0-d CPU tensors and Scalars); -1 for a storage never written
  // yet, which reads as zeros.
  int input = -1;
  bool host_value = false;
  bool wrapped_number = false;
  // For a view whose offset can vary (engine/offset_window.h: a row, a
  // column, a box): the index into TracedCall::inputs of its offset, sent at
  // run time (-1 otherwise).
  int offset_input = -1;
  engine::ViewLayout layout;
  stablehlo::TensorType storage_type;  // device tensors only
  at::Tensor tensor;                   // device tensors only
  // The tensor is a conjugate or negative view (Tensor.conj(), _neg_view): its
  // storage holds the conjugate or negation of its values. Only the ops
  // PyTorch's Conjugate and Negative keys let through (copy_, clone, ...)
  // see such tensors; rules get their values and write their raw form.
  bool conjugate = false;
  bool negative = false;
};

struct ListSlot {
  std::vector<std::optional<TensorSlot>> items;
  bool optional_items = false;
};

// One program input: a storage's current buffer, or a small host value sent
// with the call (a scalar, an RNG key) so that it never shapes the program.
struct CallInput {
  engine::StorageValue* storage = nullptr;
  stablehlo::TensorType type;
  std::array<uint8_t, 16> host_bytes{};
  engine::HostSource source;  // of host values, for a compiled graph's recording
};

// One dispatcher call on its way to the device: arguments collected from the
// stack, the signature that keys the compiled-call cache, and the inputs.
class TracedCall {
 public:
  TracedCall(const OpPlan& plan, const torch::jit::Stack& stack, size_t first_argument);

  const std::string& signature() const { return signature_; }
  c10::DeviceIndex device() const { return device_; }

  // Builds the program from the rule (on a cache miss).
  std::shared_ptr<const engine::CompiledCall> trace() const;
  // Runs it and returns the values the schema returns.
  std::vector<c10::IValue> execute(const engine::CompiledCall& compiled) const;

  // Fused mode: applies the rule into `trace` instead (the same program text
  // as trace() builds, on the trace's values); returned tensors and rebound
  // storages hold deferred values. A failing rule leaves the trace as it was.
  std::vector<c10::IValue> record(engine::PendingTrace& trace) const;
  // Whether the op returns bools or numbers, which only a run can produce.
  bool returns_host_values() const;

 private:
  struct Emitted {
    std::vector<stablehlo::Value> outputs;
    std::vector<engine::OutputAction> actions;
    // Per input: the output (a rebound storage's new value) it may donate its
    // buffer to, or -1.
    std::vector<int32_t> aliases;
    // The rule's checks on the data, reported through an error word.
    std::vector<lowering::DeviceCheck> checks;
  };
  std::shared_ptr<const engine::CheckedSites> checked_sites(
      const std::vector<lowering::DeviceCheck>& checks) const;
  // The rule applied to `parameters` (one value per input), plus the writes
  // into mutated arguments.
  Emitted emit(stablehlo::Builder& b, const std::vector<stablehlo::Value>& parameters) const;

  void collect(size_t index, const c10::IValue& value);
  // RuleInfo::scalar_range: raises as CPU does when a Scalar argument
  // overflows the dtype the op converts it to.
  void check_scalar_range(const torch::jit::Stack& stack, size_t first_argument) const;
  TensorSlot tensor_slot(const at::Tensor& tensor);
  // A fresh key from `generator`, or from the call device's default one.
  TensorSlot rng_key_slot(const std::optional<at::Generator>& generator);
  int host_input(const stablehlo::TensorType& type, const void* bytes, size_t size,
                 engine::HostSource source);

  const OpPlan& plan_;
  std::string signature_;
  std::vector<CallInput> inputs_;
  // Per functional argument: a static value, a tensor, or a list of tensors.
  using Argument = std::variant<lowering::Arg, TensorSlot, ListSlot>;
  std::vector<Argument> arguments_;
  std::vector<stablehlo::ElementType> out_element_types_;
  c10::DeviceIndex device_ = -1;
  c10::ScalarType default_float_;
  at::Float32MatmulPrecision matmul_precision_;
};

// PyTorch's message for a call that mixes devices.
[[noreturn]] void throw_device_mismatch(const OpPlan& plan, const at::Device& a,
                                        const at::Device& b);

}  // namespace torch_pjrt::aten
