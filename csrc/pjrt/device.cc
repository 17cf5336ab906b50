#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt {

Device::Device(std::shared_ptr<Plugin> plugin, PJRT_Device* device)
    : plugin_(std::move(plugin)), device_(device) {
  auto args = TORCH_PJRT_ARGS(PJRT_Device_GetDescription_Args);
  args.device = device_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Device_GetDescription, &args);
  description_ = args.device_description;
}

int Device::id() const {
  auto args = TORCH_PJRT_ARGS(PJRT_DeviceDescription_Id_Args);
  args.device_description = description_;
  TORCH_PJRT_CALL(*plugin_, PJRT_DeviceDescription_Id, &args);
  return args.id;
}

int Device::local_hardware_id() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Device_LocalHardwareId_Args);
  args.device = device_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Device_LocalHardwareId, &args);
  return args.local_hardware_id;
}

std::string Device::kind() const {
  auto args = TORCH_PJRT_ARGS(PJRT_DeviceDescription_Kind_Args);
  args.device_description = description_;
  TORCH_PJRT_CALL(*plugin_, PJRT_DeviceDescription_Kind, &args);
  return detail::to_string(args.device_kind, args.device_kind_size);
}

std::string Device::debug_string() const {
  auto args = TORCH_PJRT_ARGS(PJRT_DeviceDescription_DebugString_Args);
  args.device_description = description_;
  TORCH_PJRT_CALL(*plugin_, PJRT_DeviceDescription_DebugString, &args);
  return detail::to_string(args.debug_string, args.debug_string_size);
}

std::string Device::to_string() const {
  auto args = TORCH_PJRT_ARGS(PJRT_DeviceDescription_ToString_Args);
  args.device_description = description_;
  TORCH_PJRT_CALL(*plugin_, PJRT_DeviceDescription_ToString, &args);
  return detail::to_string(args.to_string, args.to_string_size);
}

}  // namespace torch_pjrt::pjrt
