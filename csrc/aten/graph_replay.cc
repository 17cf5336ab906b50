#include "aten/graph_replay.h"

#include <ATen/Context.h>
#include <c10/core/TensorImpl.h>

#include <cstring>
#include <mutex>
#include <unordered_map>

#include "aten/dtype.h"
#include "aten/generator.h"
#include "aten/runtime_access.h"
#include "aten/storage.h"
#include "engine/pending_trace.h"

namespace torch_pjrt::aten {

namespace {

bool is_tpu(const at::Tensor& t) {
  return t.defined() && t.device().type() == c10::DeviceType::PrivateUse1;
}

bool is_host_scalar(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.dim() == 0;
}

// What a storage holds when a call begins: kept so that a storage the graph
// binds to another input's old value gets that value.
struct HeldState {
  std::shared_ptr<engine::DeferredValue> deferred;
  std::shared_ptr<engine::DeviceBuffer> buffer;
  bool same_as(const engine::StorageValue& storage) const {
    return storage.deferred() == deferred && storage.buffer() == buffer;
  }
};

HeldState held_state(const engine::StorageValue& storage) {
  return HeldState{storage.deferred(), storage.buffer()};
}

// The first input that views each tpu input's storage (itself when none).
std::vector<int> first_sharing_storage(const std::vector<at::Tensor>& inputs) {
  std::vector<int> first(inputs.size(), -1);
  std::unordered_map<const c10::StorageImpl*, int> seen;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!is_tpu(inputs[i])) continue;
    first[i] =
        seen.emplace(inputs[i].storage().unsafeGetStorageImpl(), static_cast<int>(i)).first->second;
  }
  return first;
}

template <class T>
void append_raw(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

}  // namespace

// A value the graph leaves in a storage: one its ops computed or read (a local
// id of the segment), or what input `input`'s storage held when it began.
struct HeldValue {
  int32_t local = -1;
  int input = -1;
};

struct GraphRecording {
  c10::DeviceIndex device = 0;
  engine::TraceSegment segment;
  // Per external of the segment: the input whose storage it was read through
  // (-1 for host values), and the others that must still hold the same value.
  std::vector<int> external_input;
  std::vector<std::vector<int>> external_also;
  // Inputs the graph wrote in place, and what they hold after it.
  std::vector<std::pair<int, HeldValue>> writes;
  // Storages the graph's outputs view that are not its inputs'.
  struct NewStorage {
    HeldValue value;
    c10::ScalarType dtype;  // the value's, so the storage gets its size
    std::vector<int64_t> dims;
  };
  std::vector<NewStorage> storages;
  struct Output {
    enum class Kind { kNone, kInput, kInputView, kNewStorageView } kind = Kind::kNone;
    int index = -1;  // the input, or the new storage
    c10::ScalarType dtype = c10::ScalarType::Float;
    std::vector<int64_t> sizes, strides;
    int64_t offset = 0;
  };
  std::vector<Output> outputs;
  // The inputs whose value at the start a HeldValue names.
  std::vector<int> held_inputs;
};

namespace {

struct ActiveRecording {
  std::vector<at::Tensor> inputs;
  c10::DeviceIndex device = 0;
  std::vector<HeldState> at_start;  // per input (tpu inputs only)
  std::unordered_map<const c10::TensorImpl*, int> host_inputs;
};

thread_local std::unique_ptr<ActiveRecording> active;

at::Tensor view_of(const c10::Storage& storage, c10::ScalarType dtype,
                   const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                   int64_t offset) {
  at::Tensor view = at::detail::make_tensor<c10::TensorImpl>(
      c10::Storage(storage), c10::DispatchKeySet(c10::DispatchKey::PrivateUse1),
      caffe2::TypeMeta::fromScalarType(dtype));
  view.unsafeGetTensorImpl()->set_sizes_and_strides(sizes, strides, offset);
  return view;
}

}  // namespace

std::string graph_input_key(const std::vector<at::Tensor>& inputs) {
  std::string key;
  key.reserve(inputs.size() * 48);
  append_raw(key, c10::get_default_dtype_as_scalartype());
  append_raw(key, at::globalContext().float32MatmulPrecision());
  append_raw(key, current_device());
  const std::vector<int> first = first_sharing_storage(inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& t = inputs[i];
    if (!t.defined()) {
      key.push_back('-');
      continue;
    }
    key.push_back(is_tpu(t) ? 'T' : 'C');
    append_raw(key, t.device().index());
    append_raw(key, t.scalar_type());
    append_raw(key, t.dim());
    for (int64_t s : t.sizes()) append_raw(key, s);
    for (int64_t s : t.strides()) append_raw(key, s);
    append_raw(key, t.storage_offset());
    append_raw(key, t.unsafeGetTensorImpl()->is_wrapped_number());
    append_raw(key, t.is_conj());
    append_raw(key, t.is_neg());
    if (is_tpu(t)) {
      append_raw(key, first[i]);
      append_raw(key, static_cast<int64_t>(t.storage().nbytes()));
      // The type of the value the storage holds (its dims differ as ops
      // wrote it: an optimizer's state is flat when made, shaped once
      // updated): the ops that read it view it from that type.
      const engine::StorageValue& storage = storage_value(t);
      const stablehlo::TensorType type = storage.type_or(stablehlo::ElementType::kPred);
      append_raw(key, storage.is_written());
      append_raw(key, type.element);
      append_raw(key, type.rank());
      for (int64_t d : type.dims) append_raw(key, d);
    }
  }
  return key;
}

bool begin_graph_recording(const std::vector<at::Tensor>& inputs, int64_t most_ops) {
  active.reset();
  auto recording = std::make_unique<ActiveRecording>();
  recording->inputs = inputs;
  recording->device = current_device();
  bool found_device = false;
  recording->at_start.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& t = inputs[i];
    if (is_tpu(t)) {
      if (found_device && t.device().index() != recording->device) return false;
      recording->device = t.device().index();
      found_device = true;
    } else if (is_host_scalar(t)) {
      recording->host_inputs.emplace(t.unsafeGetTensorImpl(), static_cast<int>(i));
    }
  }
  engine::PendingTrace& trace = runtime().pending(recording->device);
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  // A loop iteration the last op closed is flushed now, as the graph's first
  // op would, and so is what is pending if the graph's ops could take it past
  // the size bound: a flush inside would cut the recording.
  trace.begin_op();
  if (static_cast<int64_t>(trace.op_count()) + most_ops >= runtime().options().fused_max_ops) {
    trace.flush("max_ops");
  }
  // After those flushes, which turn deferred values into buffers.
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (is_tpu(inputs[i])) recording->at_start[i] = held_state(storage_value(inputs[i]));
  }
  trace.begin_segment();
  active = std::move(recording);
  return true;
}

void abort_graph_recording() {
  if (!active) return;
  engine::PendingTrace& trace = runtime().pending(active->device);
  active.reset();
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  trace.end_segment();
}

int recorded_host_input(const at::Tensor& tensor) {
  if (!active) return -1;
  auto found = active->host_inputs.find(tensor.unsafeGetTensorImpl());
  return found == active->host_inputs.end() ? -1 : found->second;
}

std::shared_ptr<const GraphRecording> end_graph_recording(const std::vector<at::Tensor>& outputs,
                                                          std::string& why) {
  if (!active) {
    why = "no recording was running";
    return nullptr;
  }
  std::unique_ptr<ActiveRecording> recorded = std::move(active);
  const std::vector<at::Tensor>& inputs = recorded->inputs;
  engine::PendingTrace& trace = runtime().pending(recorded->device);
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  auto recording = std::make_shared<GraphRecording>();
  recording->device = recorded->device;
  recording->segment = trace.end_segment();
  engine::TraceSegment& segment = recording->segment;
  if (!segment.unreplayable.empty()) {
    why = segment.unreplayable;
    return nullptr;
  }
  const std::vector<int> first = first_sharing_storage(inputs);
  std::unordered_map<const engine::StorageValue*, int> input_of_storage;
  // The inputs that held each value when the call began, in order.
  std::unordered_map<const void*, std::vector<int>> inputs_holding;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (first[i] != static_cast<int>(i)) continue;
    input_of_storage.emplace(&storage_value(inputs[i]), i);
    const HeldState& state = recorded->at_start[i];
    const void* held = state.deferred ? static_cast<const void*>(state.deferred.get())
                                      : static_cast<const void*>(state.buffer.get());
    if (held != nullptr) inputs_holding[held].push_back(static_cast<int>(i));
  }
  auto input_of = [&](const engine::StorageValue* storage) {
    auto found = input_of_storage.find(storage);
    return found == input_of_storage.end() ? -1 : found->second;
  };
  for (const engine::TraceSegment::External& external : segment.externals) {
    std::vector<int> also;
    int input = -1;
    if (external.from_storage) {
      auto holding = inputs_holding.find(external.held);
      if (holding == inputs_holding.end()) {
        why = "it reads a tpu tensor that is not one of its inputs";
        return nullptr;
      }
      // Inputs that shared the value must share it again for the ops to read
      // it once.
      input = holding->second.front();
      also.assign(holding->second.begin() + 1, holding->second.end());
    }
    recording->external_input.push_back(input);
    recording->external_also.push_back(std::move(also));
  }
  // What a storage holds now, as the segment can make it again.
  auto held_value = [&](const engine::StorageValue& storage) -> std::optional<HeldValue> {
    if (const auto& deferred = storage.deferred()) {
      auto local = segment.local_of.find(deferred->value.id);
      if (local != segment.local_of.end()) return HeldValue{local->second, -1};
    }
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (is_tpu(inputs[j]) && first[j] == static_cast<int>(j) &&
          recorded->at_start[j].same_as(storage) && storage.is_written()) {
        recording->held_inputs.push_back(static_cast<int>(j));
        return HeldValue{-1, static_cast<int>(j)};
      }
    }
    return std::nullopt;
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (first[i] != static_cast<int>(i)) continue;
    const engine::StorageValue& storage = storage_value(inputs[i]);
    if (recorded->at_start[i].same_as(storage)) continue;
    std::optional<HeldValue> value = held_value(storage);
    if (!value) {
      why = "it leaves an input holding a value it did not make";
      return nullptr;
    }
    recording->writes.emplace_back(static_cast<int>(i), *value);
  }
  std::unordered_map<const c10::StorageImpl*, int> new_storage_of;
  for (const at::Tensor& out : outputs) {
    GraphRecording::Output output;
    if (!out.defined()) {
      recording->outputs.push_back(output);
      continue;
    }
    for (size_t i = 0; i < inputs.size() && output.index < 0; ++i) {
      if (inputs[i].defined() && inputs[i].unsafeGetTensorImpl() == out.unsafeGetTensorImpl()) {
        output.kind = GraphRecording::Output::Kind::kInput;
        output.index = static_cast<int>(i);
      }
    }
    if (output.index >= 0) {
      recording->outputs.push_back(output);
      continue;
    }
    if (!is_tpu(out) || out.device().index() != recorded->device) {
      why = "it returns a tensor on " + out.device().str() + " that is not one of its inputs";
      return nullptr;
    }
    output.dtype = out.scalar_type();
    output.sizes.assign(out.sizes().begin(), out.sizes().end());
    output.strides.assign(out.strides().begin(), out.strides().end());
    output.offset = out.storage_offset();
    const engine::StorageValue& storage = storage_value(out);
    const int input = input_of(&storage);
    if (input >= 0) {
      output.kind = GraphRecording::Output::Kind::kInputView;
      output.index = input;
    } else {
      const c10::StorageImpl* impl = out.storage().unsafeGetStorageImpl();
      auto found = new_storage_of.find(impl);
      if (found == new_storage_of.end()) {
        std::optional<HeldValue> value = held_value(storage);
        const stablehlo::TensorType type = storage.deferred() ? storage.deferred()->type
                                           : storage.buffer() ? storage.buffer()->type()
                                                              : stablehlo::TensorType{};
        if (!value || type.numel() * stablehlo::byte_width(type.element) != storage.nbytes()) {
          why = "it returns a tensor whose storage it cannot make again";
          return nullptr;
        }
        found = new_storage_of.emplace(impl, static_cast<int>(recording->storages.size())).first;
        recording->storages.push_back(
            GraphRecording::NewStorage{*value, to_scalar_type(type.element), type.dims});
      }
      output.kind = GraphRecording::Output::Kind::kNewStorageView;
      output.index = found->second;
    }
    recording->outputs.push_back(std::move(output));
  }
  segment.local_of.clear();
  for (auto& external : segment.externals) external.held = nullptr;
  return recording;
}

std::optional<std::vector<at::Tensor>> replay_graph(const GraphRecording& recording,
                                                    const std::vector<at::Tensor>& inputs) {
  engine::Runtime& rt = runtime();
  engine::PendingTrace& trace = rt.pending(recording.device);
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  const engine::TraceSegment& segment = recording.segment;
  // Checked before anything is appended or a key drawn: inputs that held one
  // value when the graph was recorded must still do (the key fixes the rest),
  // or the graph runs as on its first call.
  const size_t externals = segment.externals.size();
  for (size_t i = 0; i < externals; ++i) {
    const int input = recording.external_input[i];
    if (input < 0 || recording.external_also[i].empty()) continue;
    const HeldState state = held_state(storage_value(inputs[input]));
    for (int other : recording.external_also[i]) {
      if (!state.same_as(storage_value(inputs[other]))) return std::nullopt;
    }
  }
  if (!segment.op_names.empty()) trace.begin_op();
  // What is pending runs first if the graph's ops would take it past the size
  // bound, as its first call's ops would have flushed it on the way (the
  // recording itself fitted under the bound, or a flush would have cut it).
  if (static_cast<int64_t>(trace.op_count() + segment.op_names.size()) >=
      rt.options().fused_max_ops) {
    trace.flush("max_ops");
  }
  std::unordered_map<int, HeldState> at_start;
  for (int j : recording.held_inputs) at_start.emplace(j, held_state(storage_value(inputs[j])));
  const engine::PendingTrace::Mark mark = trace.mark();
  std::vector<stablehlo::Value> values;
  values.reserve(segment.types.size());
  try {
    for (size_t i = 0; i < externals; ++i) {
      const engine::TraceSegment::External& external = segment.externals[i];
      const int input = recording.external_input[i];
      if (input >= 0) {
        values.push_back(trace.storage_value(storage_value(inputs[input]), external.type.element));
        continue;
      }
      std::array<uint8_t, 16> bytes = external.bytes;
      const size_t size = static_cast<size_t>(external.type.numel()) *
                          static_cast<size_t>(stablehlo::byte_width(external.type.element));
      switch (external.source.kind) {
        case engine::HostSource::Kind::kInput: {
          const at::Tensor value = inputs.at(external.source.index).contiguous();
          TORCH_CHECK(value.element_size() == static_cast<int64_t>(size),
                      "torch_pjrt: a compiled graph's host input changed its dtype");
          std::memcpy(bytes.data(), value.const_data_ptr(), size);
          break;
        }
        case engine::HostSource::Kind::kRngKey: {
          at::Generator generator = default_generator(recording.device);
          std::lock_guard<std::mutex> generator_lock(generator.mutex());
          const std::array<uint64_t, 2> key =
              at::check_generator<TpuGenerator>(generator)->next_key();
          std::memcpy(bytes.data(), key.data(), sizeof(key));
          break;
        }
        case engine::HostSource::Kind::kConstant:
        case engine::HostSource::Kind::kUnknown:
          break;
      }
      values.push_back(trace.host_parameter(external.type, bytes.data(), size, external.source));
    }
    values = trace.append_segment(segment, std::move(values));
  } catch (...) {
    trace.rollback(mark);
    throw;
  }
  // One deferred value per value the graph leaves somewhere, as the traced
  // call made one per op result.
  std::unordered_map<int32_t, std::shared_ptr<engine::DeferredValue>> deferred;
  auto deferred_of = [&](int32_t local) {
    auto& slot = deferred[local];
    if (!slot) slot = trace.defer(values.at(local));
    return slot;
  };
  auto bind = [&](engine::StorageValue& storage, const HeldValue& held) {
    if (held.input < 0) {
      storage.bind_deferred(deferred_of(held.local));
    } else if (const HeldState& state = at_start.at(held.input); state.deferred) {
      storage.bind_deferred(state.deferred);
    } else {
      storage.bind(state.buffer);
    }
  };
  for (const auto& [input, held] : recording.writes) bind(storage_value(inputs[input]), held);
  std::vector<at::Tensor> storages;
  storages.reserve(recording.storages.size());
  for (const GraphRecording::NewStorage& made : recording.storages) {
    if (made.value.input < 0) {
      storages.push_back(
          wrap_deferred(deferred_of(made.value.local), made.dims, made.dtype, recording.device));
    } else {
      const HeldState& state = at_start.at(made.value.input);
      storages.push_back(
          state.deferred ? wrap_deferred(state.deferred, made.dims, made.dtype, recording.device)
                         : wrap_buffer(state.buffer, made.dims, made.dtype, recording.device));
    }
  }
  std::vector<at::Tensor> outputs;
  outputs.reserve(recording.outputs.size());
  for (const GraphRecording::Output& output : recording.outputs) {
    switch (output.kind) {
      case GraphRecording::Output::Kind::kNone:
        outputs.emplace_back();
        break;
      case GraphRecording::Output::Kind::kInput:
        outputs.push_back(inputs.at(output.index));
        break;
      case GraphRecording::Output::Kind::kInputView:
        outputs.push_back(view_of(inputs.at(output.index).storage(), output.dtype, output.sizes,
                                  output.strides, output.offset));
        break;
      case GraphRecording::Output::Kind::kNewStorageView:
        outputs.push_back(view_of(storages.at(output.index).storage(), output.dtype, output.sizes,
                                  output.strides, output.offset));
        break;
    }
  }
  rt.metrics().graph_replays.fetch_add(1, std::memory_order_relaxed);
  return outputs;
}

}  // namespace torch_pjrt::aten
