// What PyTorch asks of a PrivateUse1 backend beyond kernels: availability,
// generators, devices of pointers, and storage resizing from Python.
#include <ATen/detail/PrivateUse1HooksInterface.h>

#include "aten/generator.h"
#include "aten/resize.h"
#include "aten/runtime_access.h"
#include "aten/storage.h"

namespace torch_pjrt::aten {

namespace {

struct TpuHooks final : public at::PrivateUse1HooksInterface {
  bool isBuilt() const override { return true; }
  bool isAvailable() const override {
    try {
      return runtime().device_count() > 0;
    } catch (...) {
      return false;
    }
  }
  const at::Generator& getDefaultGenerator(c10::DeviceIndex device_index) const override {
    return default_generator(device_index < 0 ? current_device() : device_index);
  }
  at::Generator getNewGenerator(c10::DeviceIndex device_index = -1) const override {
    return at::make_generator<TpuGenerator>(device_index < 0 ? current_device() : device_index);
  }
  at::Device getDeviceFromPtr(void* data) const override {
    auto* value = static_cast<engine::StorageValue*>(data);
    return at::Device(c10::DeviceType::PrivateUse1,
                      static_cast<c10::DeviceIndex>(value->device_index()));
  }
  bool isPinnedPtr(const void*) const override { return false; }
  // Host copies through PJRT need no page-locked memory, so non_blocking
  // transfers that ask for "pinned" memory get ordinary host memory.
  at::Allocator* getPinnedMemoryAllocator() const override { return at::getCPUAllocator(); }
  bool hasPrimaryContext(c10::DeviceIndex) const override { return true; }
  c10::DeviceIndex deviceCount() const override {
    return static_cast<c10::DeviceIndex>(runtime().device_count());
  }
  void setCurrentDevice(c10::DeviceIndex device) const override { set_current_device(device); }
  c10::DeviceIndex getCurrentDevice() const override { return current_device(); }
  c10::DeviceIndex exchangeDevice(c10::DeviceIndex device) const override {
    c10::DeviceIndex previous = current_device();
    set_current_device(device);
    return previous;
  }
  c10::DeviceIndex maybeExchangeDevice(c10::DeviceIndex device) const override {
    return exchangeDevice(device);
  }
  void resizePrivateUse1Bytes(const c10::Storage& storage, size_t new_bytes) const override {
    resize_storage_bytes(storage, static_cast<int64_t>(new_bytes));
  }
};

}  // namespace

void register_hooks() {
  static TpuHooks hooks;
  at::RegisterPrivateUse1HooksInterface(&hooks);
}

}  // namespace torch_pjrt::aten
