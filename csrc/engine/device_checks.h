#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/device_buffer.h"
#include "lowering/device_check.h"

namespace torch_pjrt::engine {

// The checks of one program, in the order of their codes (code k is
// sites[k - 1]), each with the op that made it.
struct CheckedSite {
  std::string op;  // "aten::gather"
  lowering::CheckSite site;
};
using CheckedSites = std::vector<CheckedSite>;

// A check of an executed program failed: PyTorch's error for the op,
// raised at the next synchronization (or at the op, in debug mode).
class DeviceAssertion : public std::runtime_error {
 public:
  DeviceAssertion(lowering::CheckKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  lowering::CheckKind kind() const { return kind_; }

 private:
  lowering::CheckKind kind_;
};

// The error words of executed programs not read yet. Reading one waits for
// its program, so they are read where the host waits anyway: a value read to
// the host, synchronize(), or right after each op in debug mode.
class DeviceChecks {
 public:
  // `at_op`: words are read right after each op (debug mode), so messages
  // need not explain the delay.
  explicit DeviceChecks(bool at_op) : at_op_(at_op) {}

  void add(std::shared_ptr<DeviceBuffer> word, std::shared_ptr<const CheckedSites> sites);
  // Reads every pending word; throws DeviceAssertion for the first failure
  // since the last call (later ones are dropped: the first is the cause).
  void raise_pending();
  size_t pending() const;

 private:
  struct Pending {
    std::shared_ptr<DeviceBuffer> word;
    std::shared_ptr<const CheckedSites> sites;
  };
  // Reads the pending words, keeping the first failure for raise_pending().
  void read_locked();

  bool at_op_;
  mutable std::mutex mutex_;
  std::vector<Pending> pending_;
  std::optional<DeviceAssertion> failure_;
};

}  // namespace torch_pjrt::engine
