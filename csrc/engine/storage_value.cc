#include "engine/storage_value.h"

#include <stdexcept>
#include <string>

namespace torch_pjrt::engine {

stablehlo::TensorType StorageValue::type_or(stablehlo::ElementType fallback) const {
  if (buffer_) return buffer_->type();
  int64_t width = stablehlo::byte_width(fallback);
  return stablehlo::TensorType{fallback, {nbytes_ / width}};
}

void StorageValue::bind(std::shared_ptr<DeviceBuffer> buffer) {
  if (buffer && buffer->nbytes() != nbytes_) {
    throw std::logic_error("binding a " + std::to_string(buffer->nbytes()) + "-byte value to a " +
                           std::to_string(nbytes_) + "-byte storage");
  }
  buffer_ = std::move(buffer);
}

void StorageValue::resize(int64_t nbytes, std::shared_ptr<DeviceBuffer> buffer) {
  nbytes_ = nbytes;
  bind(std::move(buffer));
}

}  // namespace torch_pjrt::engine
