#include "aten/storage.h"

#include <ATen/EmptyTensor.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include "aten/dtype.h"
#include "aten/runtime_access.h"

namespace torch_pjrt::aten {

namespace {

thread_local c10::DeviceIndex current_device_index = 0;

void delete_storage_value(void* context) { delete static_cast<engine::StorageValue*>(context); }

class TpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t nbytes) override {
    c10::DeviceIndex device = current_device();
    auto* value = new engine::StorageValue(device, static_cast<int64_t>(nbytes));
    return {value, value, &delete_storage_value, c10::Device(c10::DeviceType::PrivateUse1, device)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }
  void copy_data(void*, const void*, std::size_t) const override {
    TORCH_CHECK(false, "tpu storages cannot be copied byte-wise on the host; use Tensor.copy_");
  }
};

TpuAllocator allocator_instance;

}  // namespace

c10::Allocator* tpu_allocator() { return &allocator_instance; }

engine::StorageValue& storage_value(const c10::Storage& storage) {
  const c10::DataPtr& data = storage.data_ptr();
  TORCH_CHECK(data.get_deleter() == &delete_storage_value,
              "torch_pjrt: a tpu tensor's storage was not allocated by the tpu allocator");
  return *static_cast<engine::StorageValue*>(data.get_context());
}

engine::ViewLayout view_layout(const at::Tensor& tensor) {
  engine::ViewLayout layout;
  layout.sizes.assign(tensor.sizes().begin(), tensor.sizes().end());
  layout.strides.assign(tensor.strides().begin(), tensor.strides().end());
  layout.offset = tensor.storage_offset();
  layout.element = to_element_type(tensor.scalar_type());
  return layout;
}

namespace {

at::Tensor empty_on(c10::IntArrayRef sizes, c10::ScalarType dtype, c10::DeviceIndex device) {
  c10::DeviceIndex previous = current_device_index;
  current_device_index = device;
  at::Tensor result = at::detail::empty_generic(sizes, tpu_allocator(),
                                                c10::DispatchKeySet(c10::DispatchKey::PrivateUse1),
                                                dtype, c10::MemoryFormat::Contiguous);
  current_device_index = previous;
  return result;
}

}  // namespace

at::Tensor wrap_buffer(std::shared_ptr<engine::DeviceBuffer> buffer, c10::IntArrayRef sizes,
                       c10::ScalarType dtype, c10::DeviceIndex device) {
  at::Tensor result = empty_on(sizes, dtype, device);
  storage_value(result).bind(std::move(buffer));
  return result;
}

at::Tensor wrap_deferred(std::shared_ptr<engine::DeferredValue> value, c10::IntArrayRef sizes,
                         c10::ScalarType dtype, c10::DeviceIndex device) {
  at::Tensor result = empty_on(sizes, dtype, device);
  storage_value(result).bind_deferred(std::move(value));
  return result;
}

void materialize(const engine::StorageValue& storage, const char* reason) {
  if (!storage.deferred()) return;
  runtime().pending(storage.device_index()).flush(reason);
  if (const auto& failed = storage.deferred()) TORCH_CHECK(false, failed->error);
}

c10::DeviceIndex current_device() { return current_device_index; }

void check_device_index(c10::DeviceIndex index) {
  int count = runtime().device_count();
  TORCH_CHECK(index >= 0 && index < count, "Invalid device: tpu:", static_cast<int>(index),
              " (this process has ", count, " tpu device(s); TORCH_PJRT_CPU_DEVICES sets how ",
              "many the XLA:CPU plugin shows)");
}

void set_current_device(c10::DeviceIndex index) {
  check_device_index(index);
  current_device_index = index;
}

namespace {

// Device guards switch the current device for the allocator; the plugin has
// no streams, so every stream is the default one.
class TpuGuardImpl final : public c10::impl::DeviceGuardImplInterface {
 public:
  c10::DeviceType type() const override { return c10::DeviceType::PrivateUse1; }
  c10::Device exchangeDevice(c10::Device device) const override {
    c10::Device previous = getDevice();
    if (device.index() != previous.index()) set_current_device(device.index());
    return previous;
  }
  c10::Device getDevice() const override {
    return c10::Device(c10::DeviceType::PrivateUse1, current_device_index);
  }
  void setDevice(c10::Device device) const override { set_current_device(device.index()); }
  void uncheckedSetDevice(c10::Device device) const noexcept override {
    current_device_index = device.index();
  }
  c10::Stream getStream(c10::Device device) const noexcept override {
    return c10::Stream(c10::Stream::DEFAULT, device);
  }
  c10::Stream exchangeStream(c10::Stream stream) const noexcept override { return stream; }
  c10::DeviceIndex deviceCount() const noexcept override {
    try {
      return static_cast<c10::DeviceIndex>(runtime().device_count());
    } catch (...) {
      return 0;
    }
  }
  void record(void**, const c10::Stream&, const c10::DeviceIndex,
              const c10::EventFlag) const override {}
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }
  void destroyEvent(void*, const c10::DeviceIndex) const noexcept override {}
  void synchronizeDevice(const c10::DeviceIndex) const override {
    runtime().synchronize();
    raise_device_errors();
  }
};

C10_REGISTER_GUARD_IMPL(PrivateUse1, TpuGuardImpl)

}  // namespace

}  // namespace torch_pjrt::aten
