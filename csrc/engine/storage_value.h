#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/device_buffer.h"
#include "stablehlo/function.h"

namespace torch_pjrt::engine {

// A value of a pending fused trace (DESIGN.md, "One lowering path"): what a
// storage holds between the op that computed it and the flush that runs it.
// Shared by every storage bound to it; the trace keeps only weak references,
// so a value nobody holds any more is never materialised.
struct DeferredValue {
  stablehlo::TensorType type;
  stablehlo::Value value;   // in the trace's builder
  uint64_t generation = 0;  // which flush of its trace will compute it
  int device_index = 0;
  // The buffer the storage held before this trace first wrote it: the flush
  // donates that buffer to this value, so the update happens in place rather
  // than into another output's buffer (which would make XLA copy it first).
  std::weak_ptr<DeviceBuffer> replaces;
  // Set by the flush: the buffer, or why the flush failed.
  std::shared_ptr<DeviceBuffer> result;
  std::string error;
};

// The device value behind one PyTorch storage (DESIGN.md, "Storage and
// views"): the storage's bytes as one device value with a natural type.
// PJRT buffers are immutable, so writes rebind the storage to a new buffer and
// every tensor viewing the storage sees the new value. The value is empty
// (never written: reads as zeros, since memory from torch.empty is
// uninitialized by contract), a materialized buffer, or a deferred value.
class StorageValue {
 public:
  StorageValue(int device_index, int64_t nbytes) : device_index_(device_index), nbytes_(nbytes) {}

  int device_index() const { return device_index_; }
  int64_t nbytes() const { return nbytes_; }

  // Null when empty or still deferred.
  const std::shared_ptr<DeviceBuffer>& buffer() const {
    resolve();
    return buffer_;
  }
  bool is_materialized() const { return buffer() != nullptr; }
  // Non-null while the value is an unflushed (or failed) deferred value.
  const std::shared_ptr<DeferredValue>& deferred() const {
    resolve();
    return deferred_;
  }
  bool is_written() const { return is_materialized() || deferred_ != nullptr; }
  stablehlo::TensorType type_or(stablehlo::ElementType fallback) const;

  // The value's byte size must equal nbytes().
  void bind(std::shared_ptr<DeviceBuffer> buffer);
  void bind_deferred(std::shared_ptr<DeferredValue> value);
  // For resize: the storage now holds `nbytes` (buffer replaced by the caller).
  void resize(int64_t nbytes, std::shared_ptr<DeviceBuffer> buffer);

 private:
  // A flushed deferred value becomes the buffer it was computed into.
  void resolve() const {
    if (deferred_ && deferred_->result) {
      buffer_ = deferred_->result;
      deferred_.reset();
    }
  }
  void check_size(int64_t bytes) const;

  int device_index_;
  int64_t nbytes_;
  mutable std::shared_ptr<DeviceBuffer> buffer_;
  mutable std::shared_ptr<DeferredValue> deferred_;
};

}  // namespace torch_pjrt::engine
