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

void DeviceBuffer::release_if_donated() {
  if (!counted_ || !buffer_->is_deleted()) return;
  counted_ = false;
  metrics_.live_buffers.fetch_sub(1, std::memory_order_relaxed);
  metrics_.add_live_bytes(-nbytes_);
}

}  // namespace torch_pjrt::engine
