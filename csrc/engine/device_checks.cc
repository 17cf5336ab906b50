#include "engine/device_checks.h"

#include <array>
#include <cstdint>

namespace torch_pjrt::engine {

namespace {

// A loop that never synchronizes would keep a word per op: past this many,
// they are read (the oldest programs are long done) and only a failure kept.
constexpr size_t kMaxPendingWords = 256;

}  // namespace

void DeviceChecks::add(std::shared_ptr<DeviceBuffer> word,
                       std::shared_ptr<const CheckedSites> sites) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back(Pending{std::move(word), std::move(sites)});
  if (pending_.size() > kMaxPendingWords) read_locked();
}

size_t DeviceChecks::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.size();
}

void DeviceChecks::read_locked() {
  std::vector<Pending> words;
  words.swap(pending_);
  for (const Pending& pending : words) {
    std::array<int64_t, 2> word{};
    pending.word->pjrt().to_host(word.data(), sizeof(word));
    const int64_t code = word[0];
    if (code == 0 || failure_) continue;
    if (code < 1 || static_cast<size_t>(code) > pending.sites->size()) {
      failure_.emplace(lowering::CheckKind::kRuntime,
                       "torch_pjrt: a program reported an unknown check " + std::to_string(code) +
                           " (this is a torch_pjrt bug)");
      continue;
    }
    const CheckedSite& failed = (*pending.sites)[static_cast<size_t>(code - 1)];
    std::string message = failed.op + ": " + lowering::describe_failure(failed.site, word[1]);
    if (!at_op_) {
      message +=
          " (found by a check on the device, reported at the first synchronization after the "
          "op; TORCH_PJRT_EAGER_MODE=debug reports it at the op)";
    }
    failure_.emplace(failed.site.kind, message);
  }
}

void DeviceChecks::raise_pending() {
  std::optional<DeviceAssertion> failure;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.empty() && !failure_) return;
    read_locked();
    failure.swap(failure_);
  }
  if (failure) throw *failure;
}

}  // namespace torch_pjrt::engine
