#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace torch_pjrt::engine {

// Process-wide counters, owned by the Runtime. Counters are reset by
// reset(); live_* are states (what is allocated now) and are never reset.
class Metrics {
 public:
  std::atomic<int64_t> compiles{0};
  std::atomic<int64_t> cache_hits{0};
  std::atomic<int64_t> disk_cache_hits{0};    // executables loaded from TORCH_PJRT_CACHE_DIR
  std::atomic<int64_t> disk_cache_misses{0};  // looked up there, then compiled
  std::atomic<int64_t> disk_cache_bytes{0};   // state: size of the cache directory's entries
  std::atomic<int64_t> executions{0};
  std::atomic<int64_t> bytes_to_device{0};
  std::atomic<int64_t> bytes_from_device{0};
  std::atomic<int64_t> cpu_fallbacks{0};
  std::atomic<int64_t> compile_nanoseconds{0};
  // Fused mode: programs flushed, and the ops they held in all.
  std::atomic<int64_t> flushes{0};
  std::atomic<int64_t> fused_ops{0};
  // Ops whose lowering rule ran (eager ops, a compiled graph's first call),
  // and compiled graph calls that appended a recorded graph instead.
  std::atomic<int64_t> traced_ops{0};
  std::atomic<int64_t> graph_replays{0};
  std::atomic<int64_t> live_buffers{0};
  std::atomic<int64_t> live_bytes{0};
  std::atomic<int64_t> peak_live_bytes{0};

  void count_fallback(const std::string& op);
  void count_flush(const std::string& reason, int64_t ops);
  std::map<std::string, int64_t> flush_counts() const;
  void add_live_bytes(int64_t bytes);
  std::map<std::string, int64_t> fallback_counts() const;
  void reset();

 private:
  mutable std::mutex fallback_mutex_;
  std::map<std::string, int64_t> fallbacks_by_op_;
  std::map<std::string, int64_t> flushes_by_reason_;
};

}  // namespace torch_pjrt::engine
