#include "engine/device_buffer.h"

#include <stdexcept>

#include "engine/metrics.h"

namespace torch_pjrt::engine {

DeviceBuffer::DeviceBuffer(std::unique_ptr<pjrt::Buffer> buffer, stablehlo::TensorType type,
                           Metrics& metrics)
    : buffer_(std::move(buffer)),
      type_(std::move(type)),
      nbytes_(type_.numel() * stablehlo::byte_width(type_.element)),
      metrics_(metrics) {
  metrics_.live_buffers.fetch_add(1, std::memory_order_relaxed);
  metrics_.add_live_bytes(nbytes_);
}

DeviceBuffer::~DeviceBuffer() {
  if (!counted_) return;
  metrics_.live_buffers.fetch_sub(1, std::memory_order_relaxed);
  metrics_.add_live_bytes(-nbytes_);
}

pjrt::Buffer& DeviceBuffer::pjrt() const {
  if (!buffer_) throw std::logic_error("torch_pjrt: a buffer was used after an execution took it");
  return *buffer_;
}

std::unique_ptr<pjrt::Buffer> DeviceBuffer::take_if_donated() {
  if (!counted_ || !buffer_->is_deleted()) return nullptr;
  counted_ = false;
  metrics_.live_buffers.fetch_sub(1, std::memory_order_relaxed);
  metrics_.add_live_bytes(-nbytes_);
  return std::move(buffer_);
}

}  // namespace torch_pjrt::engine
