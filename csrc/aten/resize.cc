#include "aten/resize.h"

#include <ATen/EmptyTensor.h>
#include <ATen/native/ResizeCommon.h>
#include <c10/core/MemoryFormat.h>
#include <c10/util/strides.h>

#include "aten/program.h"
#include "aten/storage.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::aten {

using stablehlo::ElementType;
using stablehlo::TensorType;

void resize_storage_bytes(const c10::Storage& storage, int64_t new_bytes) {
  TORCH_CHECK(new_bytes >= 0, "cannot resize a storage to ", new_bytes, " bytes");
  TORCH_CHECK(storage.resizable(), "Trying to resize storage that is not resizable");
  engine::StorageValue& value = storage_value(storage);
  if (new_bytes == value.nbytes()) return;
  materialize(value, "resize");
  std::shared_ptr<engine::DeviceBuffer> resized;
  if (value.is_materialized() && new_bytes > 0) {
    // Resize as bytes unless the element width divides both sizes.
    const TensorType& old_type = value.buffer()->type();
    ElementType element = old_type.element;
    int64_t width = stablehlo::byte_width(element);
    if (element == ElementType::kPred || value.nbytes() % width || new_bytes % width) {
      element = ElementType::kU8;
      width = 1;
    }
    stablehlo::Builder b;
    auto old_value = b.parameter(old_type);
    auto flat = b.reshape(old_value, {old_type.numel()});
    if (element != old_type.element) {
      flat = old_type.element == ElementType::kPred
                 ? b.convert(flat, ElementType::kU8)
                 : b.reshape(b.bitcast_convert(
                                 flat, TensorType{element,
                                                  {old_type.numel(),
                                                   stablehlo::byte_width(old_type.element)}}),
                             {value.nbytes()});
    }
    const int64_t old_count = value.nbytes() / width;
    const int64_t new_count = new_bytes / width;
    auto result = new_count > old_count
                      ? b.pad(flat, b.constant(0, element), {0}, {new_count - old_count})
                      : b.slice(flat, {0}, {new_count});
    resized = run_program(b.finish({result}), {value.buffer().get()}, value.device_index()).at(0);
  }
  value.resize(new_bytes, std::move(resized));
  storage.unsafeGetStorageImpl()->set_nbytes(static_cast<size_t>(new_bytes));
}

const at::Tensor& resize_tensor(const at::Tensor& self, c10::IntArrayRef size,
                                std::optional<c10::MemoryFormat> memory_format) {
  auto* impl = self.unsafeGetTensorImpl();
  std::vector<int64_t> strides;
  const auto format = memory_format.value_or(c10::MemoryFormat::Contiguous);
  if (format == c10::MemoryFormat::ChannelsLast) {
    strides = c10::get_channels_last_strides_2d(size);
  } else if (format == c10::MemoryFormat::ChannelsLast3d) {
    strides = c10::get_channels_last_strides_3d(size);
  } else {
    auto contiguous = c10::contiguous_strides(size);
    strides.assign(contiguous.begin(), contiguous.end());
  }
  const int64_t needed = static_cast<int64_t>(at::detail::computeStorageNbytes(
      size, strides, self.dtype().itemsize(), impl->storage_offset()));
  if (needed > static_cast<int64_t>(self.storage().nbytes())) {
    resize_storage_bytes(self.storage(), needed);
  }
  impl->set_sizes_and_strides(size, strides);
  return self;
}

}  // namespace torch_pjrt::aten
