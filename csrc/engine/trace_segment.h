#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/device_checks.h"
#include "engine/storage_value.h"
#include "lowering/device_check.h"
#include "stablehlo/function.h"

namespace torch_pjrt::engine {

// Where the bytes of a host parameter (PendingTrace::host_parameter) come
// from, so that a recorded segment can send this call's bytes when it is
// appended again. `index` is the recorder's: the position of the input the
// bytes are read from.
struct HostSource {
  enum class Kind {
    kUnknown,   // nothing says: a segment that holds one is not replayed
    kConstant,  // fixed by what the segment was recorded for (a graph's constants)
    kInput,     // the value of a 0-d host tensor among the recorder's inputs
    kRngKey,    // a fresh key from the device's default generator
  };
  Kind kind = Kind::kUnknown;
  int64_t index = -1;
};

// The ops a stretch of a pending trace added (a compiled graph's, recorded on
// its first call), kept so that later calls append them again without
// running their rules (PendingTrace::append_segment). Its values are numbered
// locally: ids below externals.size() are what it read from outside itself
// (storages' values and host parameters, in the order it first read them);
// the others are defined by its ops, in order.
struct TraceSegment {
  struct External {
    bool from_storage = false;  // read through storage_value; else a host parameter
    stablehlo::TensorType type;
    std::array<uint8_t, 16> bytes{};  // host parameters: the recorded bytes
    HostSource source;
    // The DeferredValue or DeviceBuffer read, for the recorder to find which
    // of its inputs held it (the storage read may be one the segment bound to
    // an input's value: a whole-storage copy shares it).
    const void* held = nullptr;
  };
  // Checks an op added (PendingTrace::add_checks), folded in again after the
  // first `position` ops are appended.
  struct Checks {
    size_t position = 0;
    CheckedSites sites;
    std::vector<lowering::DeviceCheck> checks;  // local ids
  };
  std::vector<External> externals;
  std::vector<stablehlo::Operation> operations;
  std::vector<stablehlo::TensorType> types;  // by local id
  std::vector<Checks> checks;
  // Each finished op's name and signature hash, for messages and the loop
  // detector.
  std::vector<std::string> op_names;
  std::vector<uint64_t> op_hashes;
  // The local id of each trace value the segment defined or read, valid for
  // the trace it was recorded in: the recorder finds its outputs' ids here.
  std::unordered_map<int32_t, int32_t> local_of;
  // Why the segment cannot be appended again (a flush cut it, it read a
  // value it cannot name); empty when it can.
  std::string unreplayable;
};

}  // namespace torch_pjrt::engine
