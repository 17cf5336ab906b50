#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Allocator.h>

#include "engine/storage_value.h"
#include "engine/view_layout.h"

namespace torch_pjrt::aten {

// The allocator of the "tpu" device: every storage's DataPtr context is its
// engine::StorageValue (the data pointer is that same object's address; it is
// an identity, never dereferenced).
c10::Allocator* tpu_allocator();

// The device value behind a tpu tensor's storage.
engine::StorageValue& storage_value(const c10::Storage& storage);
inline engine::StorageValue& storage_value(const at::Tensor& tensor) {
  return storage_value(tensor.storage());
}

// sizes, strides, offset and element type of a tensor as a view of its storage.
engine::ViewLayout view_layout(const at::Tensor& tensor);

// A fresh contiguous tpu tensor whose storage is bound to `buffer`.
at::Tensor wrap_buffer(std::shared_ptr<engine::DeviceBuffer> buffer, c10::IntArrayRef sizes,
                       c10::ScalarType dtype, c10::DeviceIndex device);

// The same for a deferred value of a pending fused trace.
at::Tensor wrap_deferred(std::shared_ptr<engine::DeferredValue> value, c10::IntArrayRef sizes,
                         c10::ScalarType dtype, c10::DeviceIndex device);

// Fused mode: makes sure a storage holds a buffer, flushing its device's
// pending trace (counted as flush::<reason>) when it holds a deferred value.
void materialize(const engine::StorageValue& storage, const char* reason);

c10::DeviceIndex current_device();
void set_current_device(c10::DeviceIndex index);
// Checks the index against the plugin's device count.
void check_device_index(c10::DeviceIndex index);

}  // namespace torch_pjrt::aten
