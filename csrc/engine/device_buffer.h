#pragma once

#include <memory>

#include "pjrt/pjrt.h"
#include "stablehlo/element_type.h"

namespace torch_pjrt::engine {

class Metrics;

// A materialized device value: one PJRT buffer with its logical type. Counted
// in the live_buffers / live_bytes metrics for as long as it exists.
class DeviceBuffer {
 public:
  DeviceBuffer(std::unique_ptr<pjrt::Buffer> buffer, stablehlo::TensorType type, Metrics& metrics);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  pjrt::Buffer& pjrt() const { return *buffer_; }
  const stablehlo::TensorType& type() const { return type_; }
  int64_t nbytes() const { return nbytes_; }

  // An execution took the buffer's memory for one of its outputs: it stops
  // counting as live now, not when this object goes.
  void release_if_donated();

 private:
  bool counted_ = true;
  std::unique_ptr<pjrt::Buffer> buffer_;
  stablehlo::TensorType type_;
  int64_t nbytes_;
  Metrics& metrics_;
};

}  // namespace torch_pjrt::engine
