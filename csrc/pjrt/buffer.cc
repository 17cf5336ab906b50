#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt {

Buffer::Buffer(std::shared_ptr<Plugin> plugin, PJRT_Buffer* buffer)
    : plugin_(std::move(plugin)), buffer_(buffer) {}

Buffer::~Buffer() {
  if (buffer_ == nullptr) return;
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_Destroy_Args);
  args.buffer = buffer_;
  detail::call_quietly(plugin_->api(), plugin_->api()->PJRT_Buffer_Destroy, &args);
}

PJRT_Buffer_Type Buffer::element_type() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_ElementType_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_ElementType, &args);
  return args.type;
}

std::vector<int64_t> Buffer::dims() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_Dimensions_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_Dimensions, &args);
  if (args.num_dims == 0) return {};
  return std::vector<int64_t>(args.dims, args.dims + args.num_dims);
}

size_t Buffer::on_device_size() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_OnDeviceSizeInBytes_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_OnDeviceSizeInBytes, &args);
  return args.on_device_size_in_bytes;
}

size_t Buffer::host_size() const {
  size_t elements = 1;
  for (int64_t dim : dims()) elements *= static_cast<size_t>(dim);
  return elements * byte_width(element_type());
}

void Buffer::to_host(void* dst, size_t size) const { to_host_async(dst, size)->wait(); }

std::unique_ptr<Event> Buffer::to_host_async(void* dst, size_t size) const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_ToHostBuffer_Args);
  args.src = buffer_;
  // No host_layout: the plugin then writes the dense row-major layout.
  args.dst = dst;
  args.dst_size = size;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_ToHostBuffer, &args);
  return std::make_unique<Event>(plugin_, args.event);
}

std::unique_ptr<Event> Buffer::ready_event() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_ReadyEvent_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_ReadyEvent, &args);
  return std::make_unique<Event>(plugin_, args.event);
}

bool Buffer::is_deleted() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_IsDeleted_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_IsDeleted, &args);
  return args.is_deleted;
}

Device Buffer::device() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_Device_Args);
  args.buffer = buffer_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_Device, &args);
  return Device(plugin_, args.device);
}

std::unique_ptr<Buffer> Buffer::copy_to_device(const Device& device) const {
  auto args = TORCH_PJRT_ARGS(PJRT_Buffer_CopyToDevice_Args);
  args.buffer = buffer_;
  args.dst_device = device.raw();
  TORCH_PJRT_CALL(*plugin_, PJRT_Buffer_CopyToDevice, &args);
  return std::make_unique<Buffer>(plugin_, args.dst_buffer);
}

size_t byte_width(PJRT_Buffer_Type type) {
  switch (type) {
    case PJRT_Buffer_Type_PRED:
    case PJRT_Buffer_Type_S8:
    case PJRT_Buffer_Type_U8:
    case PJRT_Buffer_Type_F8E5M2:
    case PJRT_Buffer_Type_F8E4M3FN:
    case PJRT_Buffer_Type_F8E4M3B11FNUZ:
    case PJRT_Buffer_Type_F8E5M2FNUZ:
    case PJRT_Buffer_Type_F8E4M3FNUZ:
    case PJRT_Buffer_Type_F8E4M3:
    case PJRT_Buffer_Type_F8E3M4:
    case PJRT_Buffer_Type_F8E8M0FNU:
    case PJRT_Buffer_Type_S4:
    case PJRT_Buffer_Type_U4:
    case PJRT_Buffer_Type_S2:
    case PJRT_Buffer_Type_U2:
    case PJRT_Buffer_Type_F4E2M1FN:
      return 1;
    case PJRT_Buffer_Type_S16:
    case PJRT_Buffer_Type_U16:
    case PJRT_Buffer_Type_F16:
    case PJRT_Buffer_Type_BF16:
      return 2;
    case PJRT_Buffer_Type_S32:
    case PJRT_Buffer_Type_U32:
    case PJRT_Buffer_Type_F32:
      return 4;
    case PJRT_Buffer_Type_S64:
    case PJRT_Buffer_Type_U64:
    case PJRT_Buffer_Type_F64:
    case PJRT_Buffer_Type_C64:
      return 8;
    case PJRT_Buffer_Type_C128:
      return 16;
    case PJRT_Buffer_Type_INVALID:
    case PJRT_Buffer_Type_TOKEN:
      break;
  }
  throw Error("PJRT buffer type " + std::to_string(static_cast<int>(type)) + " has no byte width",
              PJRT_Error_Code_INVALID_ARGUMENT);
}

}  // namespace torch_pjrt::pjrt
