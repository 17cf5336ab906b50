#include "engine/metrics.h"

namespace torch_pjrt::engine {

void Metrics::count_fallback(const std::string& op) {
  cpu_fallbacks.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(fallback_mutex_);
  ++fallbacks_by_op_[op];
}

void Metrics::count_flush(const std::string& reason, int64_t ops) {
  flushes.fetch_add(1, std::memory_order_relaxed);
  fused_ops.fetch_add(ops, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(fallback_mutex_);
  ++flushes_by_reason_[reason];
}

std::map<std::string, int64_t> Metrics::flush_counts() const {
  std::lock_guard<std::mutex> lock(fallback_mutex_);
  return flushes_by_reason_;
}

void Metrics::add_live_bytes(int64_t bytes) {
  int64_t now = live_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t peak = peak_live_bytes.load(std::memory_order_relaxed);
  while (now > peak && !peak_live_bytes.compare_exchange_weak(peak, now)) {
  }
}

std::map<std::string, int64_t> Metrics::fallback_counts() const {
  std::lock_guard<std::mutex> lock(fallback_mutex_);
  return fallbacks_by_op_;
}

void Metrics::reset() {
  compiles = 0;
  cache_hits = 0;
  disk_cache_hits = 0;
  disk_cache_misses = 0;
  executions = 0;
  traced_ops = 0;
  graph_replays = 0;
  bytes_to_device = 0;
  bytes_from_device = 0;
  cpu_fallbacks = 0;
  compile_nanoseconds = 0;
  flushes = 0;
  fused_ops = 0;
  peak_live_bytes = live_bytes.load();
  std::lock_guard<std::mutex> lock(fallback_mutex_);
  fallbacks_by_op_.clear();
  flushes_by_reason_.clear();
}

}  // namespace torch_pjrt::engine
