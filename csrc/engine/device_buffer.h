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

  // Throws once an execution has taken the buffer (see take_if_donated).
  pjrt::Buffer& pjrt() const;
  const stablehlo::TensorType& type() const { return type_; }
  int64_t nbytes() const { return nbytes_; }

  // An execution took the buffer's memory for one of its outputs: it stops
  // counting as live now, not when this object goes, and its PJRT handle goes
  // to the caller, who keeps it until that execution has finished. Destroying
  // a donated handle sooner waits for the execution to start (for its own
  // inputs to be ready), which would stall the host thread. Null when the
  // buffer was not donated.
  std::unique_ptr<pjrt::Buffer> take_if_donated();

 private:
  bool counted_ = true;
  std::unique_ptr<pjrt::Buffer> buffer_;
  stablehlo::TensorType type_;
  int64_t nbytes_;
  Metrics& metrics_;
};

}  // namespace torch_pjrt::engine
