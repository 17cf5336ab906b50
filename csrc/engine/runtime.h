#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/compiled_call.h"
#include "engine/device_buffer.h"
#include "engine/device_checks.h"
#include "engine/executable_cache.h"
#include "engine/metrics.h"
#include "engine/pending_trace.h"
#include "pjrt/pjrt.h"

namespace torch_pjrt::engine {

enum class EagerMode {
  kStrict,  // asynchronous: an op returns once its execution is enqueued
  kDebug,   // every op waits for its execution; failures surface at their op
  kFused,   // ops join a pending trace per device, run as one program when flushed
};

struct RuntimeOptions {
  std::string plugin_path;
  std::string plugin_name;  // "cpu", "tpu", "cuda" or "custom", for messages
  int64_t cpu_device_count = 1;
  EagerMode mode = EagerMode::kStrict;
  bool cpu_fallback = false;     // TORCH_PJRT_CPU_FALLBACK
  int64_t fused_max_ops = 4096;  // TORCH_PJRT_FUSED_MAX_OPS: size bound of a pending trace
  ExecutableCacheOptions executables;
};

// The one object that owns process-wide state (DESIGN.md, Conventions): the
// plugin, its client and devices, the executable cache and the metrics.
class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options);
  ~Runtime();

  const RuntimeOptions& options() const { return options_; }
  EagerMode mode() const { return options_.mode; }
  // Whether ops join a pending trace now: in fused mode, and while a graph of
  // torch.compile(backend="tpu") runs in any mode.
  bool in_graph() const { return graph_scopes_.load() > 0; }
  bool fusing() const { return options_.mode == EagerMode::kFused || in_graph(); }
  // A compiled graph runs between these. In strict and debug mode, what was
  // pending runs first, so the graph's ops make up one program of their own
  // (found in the cache on later calls), which end_graph() runs. In fused
  // mode the graph's ops join the pending trace like eager ops, so a step of
  // several graphs (forward, backward, optimizer) and the eager ops between
  // them (backward()'s seed) is one program; loop detection cuts a step only
  // at a graph's end (PendingTrace::graph_ended).
  void begin_graph();
  void end_graph();
  Metrics& metrics() { return metrics_; }
  ExecutableCache& executables() { return *executables_; }
  CompiledCallCache& calls() { return calls_; }
  DeviceChecks& checks() { return checks_; }
  const pjrt::Client& client() const { return *client_; }

  int device_count() const;
  // Throws std::out_of_range naming the valid range.
  const pjrt::Device& device(int index) const;
  // What really runs the "tpu" device, e.g. "XLA:CPU (cpu)".
  std::string device_name(int index) const;

  std::shared_ptr<DeviceBuffer> to_device(const void* data, const stablehlo::TensorType& type,
                                          int device_index);
  // Blocks until the value is on the host (dense row-major).
  void to_host(const DeviceBuffer& buffer, void* destination);
  // Inputs the program aliases to an output are donated unless listed in
  // `non_donatable`; a donated buffer stops counting as live right away.
  std::vector<std::shared_ptr<DeviceBuffer>> execute(const Executable& executable,
                                                     std::span<DeviceBuffer* const> inputs,
                                                     int device_index,
                                                     std::span<const int64_t> non_donatable = {});
  // Executions enqueued that have not finished yet (at most kMaxInFlight).
  int64_t executions_in_flight();
  // Fused mode: the pending trace of a device (created on first use).
  PendingTrace& pending(int device_index);
  // Fused mode: runs every device's pending trace.
  void flush_all(const std::string& reason);
  // Runs what is pending, then waits for every execution enqueued so far;
  // then rethrows the first failure among them (once: it is not raised again).
  void synchronize();

 private:
  std::vector<PendingTrace*> all_traces();
  void drop_finished();  // with pending_mutex_ held
  RuntimeOptions options_;
  Metrics metrics_;
  std::unique_ptr<pjrt::Client> client_;
  std::unique_ptr<ExecutableCache> executables_;
  CompiledCallCache calls_;
  DeviceChecks checks_;
  std::mutex traces_mutex_;
  std::vector<std::unique_ptr<PendingTrace>> traces_;  // by device index
  std::atomic<int> graph_scopes_{0};
  struct InFlight {
    std::shared_ptr<pjrt::Event> done;
    std::vector<std::unique_ptr<pjrt::Buffer>> donated;  // destroyed once done
    bool running() const { return !done->is_ready(); }
  };
  // Executions enqueued and not yet known to be finished, at most this many.
  static constexpr size_t kMaxInFlight = 4;
  std::mutex pending_mutex_;
  std::vector<InFlight> pending_;
};

}  // namespace torch_pjrt::engine
