#include "engine/storage_value.h"

#include <stdexcept>
#include <string>

namespace torch_pjrt::engine {

stablehlo::TensorType StorageValue::type_or(stablehlo::ElementType fallback) const {
  if (const auto& b = buffer()) return b->type();
  if (deferred_) return deferred_->type;
  int64_t width = stablehlo::byte_width(fallback);
  return stablehlo::TensorType{fallback, {nbytes_ / width}};
}

void StorageValue::check_size(int64_t bytes) const {
  if (bytes != nbytes_) {
    throw std::logic_error("binding a " + std::to_string(bytes) + "-byte value to a " +
                           std::to_string(nbytes_) + "-byte storage");
  }
}

void StorageValue::bind(std::shared_ptr<DeviceBuffer> buffer) {
  if (buffer) check_size(buffer->nbytes());
  buffer_ = std::move(buffer);
  deferred_.reset();
}

void StorageValue::bind_deferred(std::shared_ptr<DeferredValue> value) {
  check_size(value->type.numel() * stablehlo::byte_width(value->type.element));
  resolve();
  if (value->replaces.expired()) {
    if (buffer_) {
      value->replaces = buffer_;
    } else if (deferred_) {
      value->replaces = deferred_->replaces;  // rewritten again in the same trace
    }
  }
  buffer_.reset();
  deferred_ = std::move(value);
}

void StorageValue::resize(int64_t nbytes, std::shared_ptr<DeviceBuffer> buffer) {
  nbytes_ = nbytes;
  bind(std::move(buffer));
}

}  // namespace torch_pjrt::engine
