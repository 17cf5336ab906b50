#include "aten/out_checks.h"

#include <ATen/MemoryOverlap.h>

#include <functional>
#include <unordered_set>

#include "aten/structured_meta_table.h"

namespace torch_pjrt::aten {

std::vector<std::string> argument_types(const c10::FunctionSchema& schema) {
  std::vector<std::string> types;
  for (const c10::Argument& argument : schema.arguments()) {
    std::string text = argument.type()->str();
    for (size_t at = text.find("SymInt"); at != std::string::npos; at = text.find("SymInt")) {
      text.replace(at, 6, "int");
    }
    types.push_back(std::move(text));
  }
  return types;
}

namespace {

const MetaOutTable& meta_out_table() {
  static const MetaOutTable* table = [] {
    auto* built = new MetaOutTable();
    add_structured_meta_outs(*built);
    return built;
  }();
  return *table;
}

// The meta function resizes its out= stand-in and warns as CPU would; the
// real out= tensor is resized (and warned about) after the rule runs.
class SilentWarnings : public c10::WarningHandler {
 public:
  void process(const c10::Warning&) override {}
};

// Stand-ins with no data that the meta function checks as it would the real
// tensors. Views of one tpu storage share one meta storage, so the meta
// function sees the same overlaps between inputs and out= that CPU would.
class StandIns {
 public:
  std::optional<at::Tensor> of(const at::Tensor& tensor) {
    if (!tensor.defined() || tensor.device().type() != c10::DeviceType::PrivateUse1) {
      // CPU's kernels take 0-d CPU tensors (Python numbers) beside device
      // ones; any other CPU tensor is refused by the call itself, not here.
      if (tensor.defined() && tensor.dim() != 0) return std::nullopt;
      return tensor;
    }
    const c10::StorageImpl* storage = tensor.storage().unsafeGetStorageImpl();
    auto found = storages_.find(storage);
    if (found == storages_.end()) {
      c10::Storage meta(c10::Storage::use_byte_size_t(), tensor.storage().nbytes(),
                        c10::GetAllocator(c10::DeviceType::Meta), /*resizable=*/true);
      found = storages_.emplace(storage, std::move(meta)).first;
    }
    at::Tensor stand_in = at::empty({0}, tensor.options().device(c10::DeviceType::Meta));
    stand_in.set_(found->second, tensor.storage_offset(), tensor.sizes(), tensor.strides());
    return stand_in;
  }

  std::optional<c10::IValue> of(const c10::IValue& value) {
    if (value.isTensor()) {
      std::optional<at::Tensor> tensor = of(value.toTensor());
      if (!tensor) return std::nullopt;
      return c10::IValue(*tensor);
    }
    if (value.isTensorList()) {
      c10::List<at::Tensor> tensors;
      for (const at::Tensor& t : value.toTensorList()) {
        std::optional<at::Tensor> tensor = of(t);
        if (!tensor) return std::nullopt;
        tensors.push_back(*tensor);
      }
      return c10::IValue(tensors);
    }
    if (value.isOptionalTensorList()) {
      c10::List<std::optional<at::Tensor>> tensors;
      for (const std::optional<at::Tensor>& t : value.toOptionalTensorList()) {
        std::optional<at::Tensor> tensor;
        if (t.has_value()) {
          tensor = of(*t);
          if (!tensor) return std::nullopt;
        }
        tensors.push_back(tensor);
      }
      return c10::IValue(tensors);
    }
    return value;
  }

 private:
  std::unordered_map<const c10::StorageImpl*, c10::Storage> storages_;
};

// Ops whose CPU kernels read their inputs while they write out=, so they
// refuse an out= that shares memory with an input ("unsupported operation:
// some elements of the input tensor and the written-to tensor refer to a
// single memory location"). Those that start from a copy of self may write
// into self itself.
enum class OverlapPolicy { kAllowed, kNoInput, kNoInputButSelf };

OverlapPolicy overlap_policy(const std::string& name) {
  static const std::unordered_set<std::string> no_input = {
      "aten::gather", "aten::index_select", "aten::take", "aten::masked_select", "aten::cat"};
  static const std::unordered_set<std::string> no_input_but_self = {
      "aten::index_add", "aten::scatter", "aten::scatter_add", "aten::scatter_reduce"};
  if (no_input.count(name)) return OverlapPolicy::kNoInput;
  if (no_input_but_self.count(name)) return OverlapPolicy::kNoInputButSelf;
  return OverlapPolicy::kAllowed;
}

void for_each_tensor(const c10::IValue& value, const std::function<void(const at::Tensor&)>& f) {
  if (value.isTensor()) {
    if (value.toTensor().defined()) f(value.toTensor());
  } else if (value.isTensorList()) {
    for (const at::Tensor& t : value.toTensorList()) f(t);
  }
}

void refuse_overlaps(const c10::FunctionSchema& schema, const torch::jit::Stack& meta_stack) {
  const OverlapPolicy policy = overlap_policy(schema.name());
  if (policy == OverlapPolicy::kAllowed) return;
  const auto& arguments = schema.arguments();
  for (size_t o = 0; o < arguments.size(); ++o) {
    if (!arguments[o].is_out() || !meta_stack[o].isTensor()) continue;
    const at::Tensor& out = meta_stack[o].toTensor();
    if (out.device().type() == c10::DeviceType::Meta) at::assert_no_internal_overlap(out);
    for (size_t i = 0; i < arguments.size(); ++i) {
      if (arguments[i].is_out() || (i == 0 && policy == OverlapPolicy::kNoInputButSelf)) continue;
      for_each_tensor(meta_stack[i], [&](const at::Tensor& input) {
        if (input.device().type() == c10::DeviceType::Meta) at::assert_no_overlap(out, input);
      });
    }
  }
}

}  // namespace

const c10::KernelFunction* structured_meta_out(const c10::FunctionSchema& schema) {
  const MetaOutTable& table = meta_out_table();
  auto found = table.find(schema.name());
  if (found == table.end()) return nullptr;
  const std::vector<std::string> wanted = argument_types(schema);
  for (const MetaOut& candidate : found->second) {
    if (candidate.argument_types == wanted) return &candidate.kernel;
  }
  return nullptr;
}

void check_out_call(const c10::KernelFunction* meta, const c10::OperatorHandle& op,
                    const torch::jit::Stack& stack, size_t first, size_t count) {
  StandIns stand_ins;
  torch::jit::Stack meta_stack;
  meta_stack.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::optional<c10::IValue> value = stand_ins.of(stack[first + i]);
    if (!value) return;
    meta_stack.push_back(std::move(*value));
  }
  refuse_overlaps(op.schema(), meta_stack);
  SilentWarnings silent;
  c10::WarningUtils::WarningHandlerGuard guard(&silent);
  if (meta != nullptr) {
    meta->callBoxed(op, c10::DispatchKeySet(c10::DispatchKey::Meta), &meta_stack);
    return;
  }
  if (!op.hasKernelForDispatchKey(c10::DispatchKey::Meta)) return;
  try {
    op.redispatchBoxed(c10::DispatchKeySet(c10::DispatchKey::Meta), &meta_stack);
  } catch (const c10::NotImplementedError&) {
  }
}

bool out_dtype_must_match(const std::string& rule_name) {
  // Found by calling each op with out= of every dtype on CPU
  // (tests/python/test_out_checks.py keeps them honest).
  static const std::unordered_set<std::string> names = {
      "index_select", "take", "nan_to_num", "logcumsumexp", "histc", "searchsorted", "bucketize",
      "conj_physical", "log_sigmoid_forward", "complex", "polar", "linalg_solve_triangular",
      "ormqr",
      // values and indices
      "sort", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin"};
  return names.count(rule_name) != 0;
}

}  // namespace torch_pjrt::aten
