#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace torch_pjrt::engine {

// What an entry is for. The file name comes from a digest of both parts; the
// header repeats them in full, so an entry is only ever loaded for exactly the
// key it was written for.
struct DiskCacheKey {
  std::string program;  // program hash, text digest and compile options
  std::string plugin;   // PJRT API version, platform name/version, plugin attributes
};

// A directory of serialized executables shared by every process that uses it
// (DESIGN.md, "Executable cache"). Each entry is one file: a header (magic,
// format version, full key, payload length, payload checksum) and the payload.
// Writes go to a temporary file in the same directory and are renamed into
// place, so a reader sees a whole entry or none and concurrent writers of one
// entry leave one of their (identical) copies. An entry that is truncated,
// corrupt or for another key is ignored (one warning per kind of problem) and
// left for the caller to overwrite. The directory is kept under max_bytes by
// removing the least recently used entries; a hit refreshes the entry's mtime.
class DiskCache {
 public:
  static constexpr uint32_t kFormatVersion = 1;
  static constexpr const char* kSuffix = ".pjrtx";

  DiskCache(std::filesystem::path directory, int64_t max_bytes);

  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path path_for(const DiskCacheKey& key) const;
  // The payload stored for `key`, or nothing (missing, unreadable or rejected).
  std::optional<std::string> load(const DiskCacheKey& key);
  // Never throws for I/O problems: a cache that cannot be written only warns.
  void store(const DiskCacheKey& key, const std::string& payload);
  // Bytes of all entries, as of the last scan (construction and each store).
  int64_t total_bytes() const { return total_bytes_.load(std::memory_order_relaxed); }
  // Reports `why` for `path` on stderr, once per kind of problem.
  void warn(const std::string& kind, const std::filesystem::path& path, const std::string& why);

 private:
  void reject(const std::string& kind, const std::filesystem::path& path, const std::string& why);
  void evict_to_bound(const std::filesystem::path& keep);

  std::filesystem::path directory_;
  int64_t max_bytes_;
  std::atomic<int64_t> total_bytes_{0};
  std::mutex mutex_;  // guards warned_ and serializes this process's scans
  std::set<std::string> warned_;
};

// FNV-1a over `bytes`, 64 bits: the entry checksum and the key digest.
uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull);
std::string hex64(uint64_t value);

}  // namespace torch_pjrt::engine
