#pragma once

#include <cstdint>
#include <memory>

#include "engine/device_buffer.h"

namespace torch_pjrt::engine {

// The device value behind one PyTorch storage (DESIGN.md, "Storage and
// views"): the storage's bytes as one device value with a natural type.
// PJRT buffers are immutable, so writes rebind the storage to a new buffer and
// every tensor viewing the storage sees the new value.
class StorageValue {
 public:
  StorageValue(int device_index, int64_t nbytes) : device_index_(device_index), nbytes_(nbytes) {}

  int device_index() const { return device_index_; }
  int64_t nbytes() const { return nbytes_; }

  // Null until the storage is first written. Memory from torch.empty is
  // uninitialized by contract, so a read before any write sees zeros.
  // (A deferred value of a pending fused trace will be the third state.)
  const std::shared_ptr<DeviceBuffer>& buffer() const { return buffer_; }
  bool is_materialized() const { return buffer_ != nullptr; }
  stablehlo::TensorType type_or(stablehlo::ElementType fallback) const;

  // The buffer's byte size must equal nbytes().
  void bind(std::shared_ptr<DeviceBuffer> buffer);
  // For resize: the storage now holds `nbytes` (buffer replaced by the caller).
  void resize(int64_t nbytes, std::shared_ptr<DeviceBuffer> buffer);

 private:
  int device_index_;
  int64_t nbytes_;
  std::shared_ptr<DeviceBuffer> buffer_;
};

}  // namespace torch_pjrt::engine
