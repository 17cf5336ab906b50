#include "engine/disk_cache.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

namespace torch_pjrt::engine {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'T', 'P', 'J', 'R', 'T', 'X', 'C', '\n'};
constexpr const char* kTemporaryMarker = ".tmp.";
// A temporary file this old belongs to a writer that died before its rename.
constexpr auto kAbandonedAfter = std::chrono::minutes(10);

void put_u32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Reads the little-endian header fields in order; any read past the end of
// the file marks the entry truncated instead of throwing.
class HeaderReader {
 public:
  explicit HeaderReader(const std::string& bytes) : bytes_(bytes) {}
  bool truncated() const { return truncated_; }
  size_t position() const { return position_; }

  uint64_t number(int width) {
    if (bytes_.size() - position_ < static_cast<size_t>(width)) {
      truncated_ = true;
      return 0;
    }
    uint64_t value = 0;
    for (int i = 0; i < width; ++i) {
      value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[position_ + i])) << (8 * i);
    }
    position_ += width;
    return value;
  }

  std::string text() {
    const uint64_t size = number(4);
    if (truncated_ || bytes_.size() - position_ < size) {
      truncated_ = true;
      return {};
    }
    std::string value = bytes_.substr(position_, size);
    position_ += size;
    return value;
  }

 private:
  const std::string& bytes_;
  size_t position_ = 0;
  bool truncated_ = false;
};

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(bytes).str();
}

std::string temporary_name(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  std::ostringstream name;
  name << target.filename().string() << kTemporaryMarker << ::getpid() << "."
       << std::hash<std::thread::id>{}(std::this_thread::get_id()) << "." << counter.fetch_add(1);
  return name.str();
}

bool is_entry(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.ends_with(DiskCache::kSuffix) && name.find(kTemporaryMarker) == std::string::npos;
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t seed) {
  uint64_t hash = seed;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

DiskCache::DiskCache(fs::path directory, int64_t max_bytes)
    : directory_(std::move(directory)), max_bytes_(max_bytes) {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    warn("directory", directory_, "cannot create the cache directory: " + error.message());
    return;
  }
  evict_to_bound({});
}

fs::path DiskCache::path_for(const DiskCacheKey& key) const {
  // The NUL separates the parts, so no two keys concatenate to the same text.
  const uint64_t digest = fnv1a64(key.plugin, fnv1a64(std::string(1, '\0'), fnv1a64(key.program)));
  return directory_ / (hex64(digest) + kSuffix);
}

std::optional<std::string> DiskCache::load(const DiskCacheKey& key) {
  const fs::path path = path_for(key);
  std::optional<std::string> bytes = read_file(path);
  if (!bytes) return std::nullopt;  // not there (or evicted by another process just now)

  if (bytes->size() < sizeof(kMagic) || bytes->compare(0, sizeof(kMagic), kMagic, sizeof(kMagic))) {
    reject("foreign", path, "not a torch_pjrt cache entry (bad magic)");
    return std::nullopt;
  }
  HeaderReader header(*bytes);
  header.number(sizeof(kMagic));
  const uint64_t version = header.number(4);
  if (!header.truncated() && version != kFormatVersion) {
    reject("foreign", path,
           "written in cache format " + std::to_string(version) + ", this build reads format " +
               std::to_string(kFormatVersion));
    return std::nullopt;
  }
  const std::string program = header.text();
  const std::string plugin = header.text();
  const uint64_t payload_size = header.number(8);
  const uint64_t checksum = header.number(8);
  if (header.truncated() || bytes->size() - header.position() < payload_size) {
    reject(
        "truncated", path,
        "truncated: the file has " + std::to_string(bytes->size()) + " bytes, its header " +
            (header.truncated() ? std::string("is incomplete")
                                : "announces " + std::to_string(header.position() + payload_size)));
    return std::nullopt;
  }
  if (plugin != key.plugin) {
    reject("foreign", path,
           "written for another plugin (" + plugin + "), this process runs " + key.plugin);
    return std::nullopt;
  }
  if (program != key.program) {
    reject("foreign", path, "written for another program (" + program + "), wanted " + key.program);
    return std::nullopt;
  }
  if (bytes->size() - header.position() != payload_size) {
    reject("corrupt", path, "corrupt: bytes after the announced payload");
    return std::nullopt;
  }
  std::string payload = bytes->substr(header.position());
  if (fnv1a64(payload) != checksum) {
    reject("corrupt", path, "corrupt: the payload checksum does not match");
    return std::nullopt;
  }
  // The mtime is the LRU clock; failing to refresh it (a read-only cache) is harmless.
  std::error_code ignored;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ignored);
  return payload;
}

void DiskCache::store(const DiskCacheKey& key, const std::string& payload) {
  std::string entry(kMagic, sizeof(kMagic));
  put_u32(entry, kFormatVersion);
  put_u32(entry, static_cast<uint32_t>(key.program.size()));
  entry += key.program;
  put_u32(entry, static_cast<uint32_t>(key.plugin.size()));
  entry += key.plugin;
  put_u64(entry, payload.size());
  put_u64(entry, fnv1a64(payload));
  entry += payload;

  const fs::path target = path_for(key);
  const fs::path temporary = directory_ / temporary_name(target);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(entry.data(), static_cast<std::streamsize>(entry.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      warn("write", target, "cannot write the cache entry (disk full or no permission?)");
      return;
    }
  }
  std::error_code error;
  fs::rename(temporary, target, error);  // atomic within one directory
  if (error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    warn("write", target, "cannot rename the cache entry into place: " + error.message());
    return;
  }
  evict_to_bound(target);
}

void DiskCache::evict_to_bound(const fs::path& keep) {
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    int64_t bytes;
  };
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Entry> entries;
  int64_t total = 0;
  const auto now = fs::file_time_type::clock::now();
  std::error_code error;
  for (fs::directory_iterator it(directory_, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code ignored;
    const fs::path& path = it->path();
    const auto used = fs::last_write_time(path, ignored);
    if (ignored) continue;  // removed by another process meanwhile
    if (!is_entry(path)) {
      if (path.filename().string().find(kTemporaryMarker) != std::string::npos &&
          now - used > kAbandonedAfter) {
        fs::remove(path, ignored);
      }
      continue;
    }
    const auto bytes = fs::file_size(path, ignored);
    if (ignored) continue;
    entries.push_back({path, used, static_cast<int64_t>(bytes)});
    total += static_cast<int64_t>(bytes);
  }
  if (total > max_bytes_) {
    // Oldest first; the entry just written goes last, so it is removed only
    // when it alone is over the bound.
    std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
      if ((a.path == keep) != (b.path == keep)) return b.path == keep;
      return a.used < b.used;
    });
    for (const Entry& entry : entries) {
      if (total <= max_bytes_) break;
      std::error_code ignored;
      fs::remove(entry.path, ignored);  // another process may have removed it first
      total -= entry.bytes;
    }
  }
  total_bytes_.store(total, std::memory_order_relaxed);
}

void DiskCache::reject(const std::string& kind, const fs::path& path, const std::string& why) {
  warn(kind, path, why + "; not loaded, the program is compiled again");
}

void DiskCache::warn(const std::string& kind, const fs::path& path, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!warned_.insert(kind).second) return;
  }
  std::cerr << "torch_pjrt: warning: executable cache: " << path.string() << ": " << why
            << " (further problems of this kind are not reported)" << std::endl;
}

}  // namespace torch_pjrt::engine
