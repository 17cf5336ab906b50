// The on-disk executable cache as a file store: entries survive the cache
// object, damaged or foreign entries are refused with one warning, the
// directory stays under its bound, and concurrent writers never corrupt it.
#include "engine/disk_cache.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "temp_directory.h"

extern char** environ;

namespace torch_pjrt::engine {
namespace {

namespace fs = std::filesystem;
using testing::TempDirectory;

constexpr int64_t kNoBound = int64_t{1} << 40;
const DiskCacheKey kKey{"program=0123 text=4567 options=89ab", "pjrt_api=0.90 platform=cpu"};

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::vector<fs::path> files_in(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path());
  return files;
}

// Runs `body` and returns what it printed on stderr.
template <typename Body>
std::string stderr_of(Body body) {
  ::testing::internal::CaptureStderr();
  body();
  return ::testing::internal::GetCapturedStderr();
}

TEST(DiskCache, AnEntrySurvivesTheCacheObject) {
  TempDirectory dir;
  const std::string payload("serialized\0executable", 21);
  {
    DiskCache cache(dir.path(), kNoBound);
    EXPECT_FALSE(cache.load(kKey).has_value());
    cache.store(kKey, payload);
    EXPECT_GT(cache.total_bytes(), static_cast<int64_t>(payload.size()));
  }
  DiskCache restarted(dir.path(), kNoBound);
  EXPECT_EQ(restarted.total_bytes(), static_cast<int64_t>(fs::file_size(restarted.path_for(kKey))));
  std::string printed = stderr_of([&] { EXPECT_EQ(restarted.load(kKey), payload); });
  EXPECT_EQ(printed, "");
  // Only the entry: no temporary file is left behind.
  EXPECT_EQ(files_in(dir.path()), std::vector<fs::path>{restarted.path_for(kKey)});
}

TEST(DiskCache, KeysThatDifferInEitherPartAreDifferentEntries) {
  TempDirectory dir;
  DiskCache cache(dir.path(), kNoBound);
  cache.store(kKey, "first");
  DiskCacheKey other_program{kKey.program + "0", kKey.plugin};
  DiskCacheKey other_plugin{kKey.program, kKey.plugin + "0"};
  EXPECT_NE(cache.path_for(other_program), cache.path_for(kKey));
  EXPECT_NE(cache.path_for(other_plugin), cache.path_for(kKey));
  EXPECT_FALSE(cache.load(other_program).has_value());
  EXPECT_FALSE(cache.load(other_plugin).has_value());
}

TEST(DiskCache, ACorruptPayloadIsRefusedWithOneWarning) {
  TempDirectory dir;
  DiskCache writer(dir.path(), kNoBound);
  writer.store(kKey, std::string(1000, 'x'));
  const fs::path path = writer.path_for(kKey);
  std::string bytes = read_all(path);
  bytes[bytes.size() - 10] = 'y';
  write_all(path, bytes);

  DiskCache reader(dir.path(), kNoBound);
  std::string printed = stderr_of([&] {
    EXPECT_FALSE(reader.load(kKey).has_value());
    EXPECT_FALSE(reader.load(kKey).has_value());
  });
  EXPECT_NE(printed.find(path.string()), std::string::npos) << printed;
  EXPECT_NE(printed.find("checksum"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("warning:"), printed.rfind("warning:")) << "warned twice: " << printed;
  // The caller's recompiled executable replaces it.
  reader.store(kKey, "fresh");
  EXPECT_EQ(reader.load(kKey), "fresh");
}

TEST(DiskCache, ATruncatedEntryIsRefused) {
  TempDirectory dir;
  DiskCache cache(dir.path(), kNoBound);
  cache.store(kKey, std::string(1000, 'x'));
  const fs::path path = cache.path_for(kKey);
  const std::string whole = read_all(path);
  // Cut in the payload, in the header, and to nothing at all.
  for (size_t size : {whole.size() - 1, size_t{20}, size_t{0}}) {
    write_all(path, whole.substr(0, size));
    DiskCache reader(dir.path(), kNoBound);
    std::string printed = stderr_of([&] { EXPECT_FALSE(reader.load(kKey).has_value()); });
    EXPECT_NE(printed.find(path.string()), std::string::npos) << size << ": " << printed;
  }
  write_all(path, whole.substr(0, whole.size() - 1));
  DiskCache reader(dir.path(), kNoBound);
  EXPECT_NE(stderr_of([&] { reader.load(kKey); }).find("truncated"), std::string::npos);
}

TEST(DiskCache, AnEntryOfAnotherPluginVersionIsRefused) {
  TempDirectory dir;
  DiskCache cache(dir.path(), kNoBound);
  // What a file at our name written by another plugin version looks like:
  // its header names the plugin it was compiled for.
  const DiskCacheKey foreign{kKey.program, "pjrt_api=0.91 platform=cpu"};
  cache.store(foreign, "foreign executable");
  fs::rename(cache.path_for(foreign), cache.path_for(kKey));
  std::string printed = stderr_of([&] { EXPECT_FALSE(cache.load(kKey).has_value()); });
  EXPECT_NE(printed.find("another plugin"), std::string::npos) << printed;
  EXPECT_NE(printed.find("pjrt_api=0.91"), std::string::npos) << printed;
  EXPECT_NE(printed.find(cache.path_for(kKey).string()), std::string::npos) << printed;
}

TEST(DiskCache, AFileThatIsNoEntryIsRefused) {
  TempDirectory dir;
  DiskCache cache(dir.path(), kNoBound);
  write_all(cache.path_for(kKey), "#!/bin/sh\necho something else entirely\n");
  std::string printed = stderr_of([&] { EXPECT_FALSE(cache.load(kKey).has_value()); });
  EXPECT_NE(printed.find("not a torch_pjrt cache entry"), std::string::npos) << printed;
}

TEST(DiskCache, EvictsTheLeastRecentlyUsedEntriesOverTheBound) {
  TempDirectory dir;
  const std::string payload(10000, 'p');
  std::vector<DiskCacheKey> keys;
  for (int i = 0; i < 4; ++i) keys.push_back({"program=" + std::to_string(i), kKey.plugin});
  int64_t entry_bytes = 0;
  {
    DiskCache unbounded(dir.path(), kNoBound);
    for (const auto& key : keys) unbounded.store(key, payload);
    entry_bytes = static_cast<int64_t>(fs::file_size(unbounded.path_for(keys[0])));
    // Ages 0 (oldest) .. 3; then a hit on entry 0 makes it the newest.
    const auto now = fs::file_time_type::clock::now();
    for (int i = 0; i < 4; ++i) {
      fs::last_write_time(unbounded.path_for(keys[i]), now - std::chrono::hours(4 - i));
    }
    ASSERT_TRUE(unbounded.load(keys[0]).has_value());
  }
  // Room for three entries: storing a fifth drops the two least recently used, 1 and 2.
  DiskCache bounded(dir.path(), 3 * entry_bytes + entry_bytes / 2);
  EXPECT_EQ(bounded.total_bytes(), 3 * entry_bytes) << "opening over the bound evicts too";
  EXPECT_FALSE(fs::exists(bounded.path_for(keys[1])));
  DiskCacheKey fifth{"program=4", kKey.plugin};
  bounded.store(fifth, payload);
  EXPECT_FALSE(fs::exists(bounded.path_for(keys[2])));
  EXPECT_TRUE(bounded.load(keys[0]).has_value());
  EXPECT_TRUE(bounded.load(keys[3]).has_value());
  EXPECT_TRUE(bounded.load(fifth).has_value());
  EXPECT_EQ(bounded.total_bytes(), 3 * entry_bytes);
}

TEST(DiskCache, AnEntryLargerThanTheBoundIsNotKept) {
  TempDirectory dir;
  DiskCache cache(dir.path(), 100);
  cache.store(kKey, std::string(1000, 'x'));
  EXPECT_FALSE(cache.load(kKey).has_value());
  EXPECT_EQ(cache.total_bytes(), 0);
}

TEST(DiskCache, AnUnwritableDirectoryOnlyWarns) {
  TempDirectory dir;
  const fs::path file = dir.path() / "a_file";
  write_all(file, "x");
  std::string printed = stderr_of([&] {
    DiskCache cache(file / "cache", kNoBound);  // below a regular file: cannot exist
    cache.store(kKey, "payload");
    EXPECT_FALSE(cache.load(kKey).has_value());
  });
  EXPECT_NE(printed.find("cannot create the cache directory"), std::string::npos) << printed;
}

// Every writer stores the same 40 entries (each key's payload is what any
// compile of it would produce) while the others read them.
void fill(const fs::path& directory) {
  DiskCache cache(directory, kNoBound);
  for (int i = 0; i < 40; ++i) {
    DiskCacheKey key{"program=" + std::to_string(i), kKey.plugin};
    cache.store(key, std::string(5000 + i, static_cast<char>('a' + i % 26)));
    cache.load({"program=" + std::to_string((i * 7) % 40), kKey.plugin});
  }
}

void expect_all_entries_whole(const fs::path& directory) {
  DiskCache cache(directory, kNoBound);
  std::string printed = stderr_of([&] {
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(cache.load({"program=" + std::to_string(i), kKey.plugin}),
                std::string(5000 + i, static_cast<char>('a' + i % 26)));
    }
  });
  EXPECT_EQ(printed, "");
  EXPECT_EQ(files_in(directory).size(), 40u) << "temporary files left behind";
}

TEST(DiskCache, ConcurrentWritingThreadsNeverCorruptIt) {
  TempDirectory dir;
  std::string printed = stderr_of([&] {
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) writers.emplace_back([&] { fill(dir.path()); });
    for (auto& writer : writers) writer.join();
  });
  EXPECT_EQ(printed, "");
  expect_all_entries_whole(dir.path());
}

// The writer process of the next test: this binary again, run on this test
// alone. Disabled, so it runs only when that test asks for it.
TEST(DISABLED_DiskCacheWriterProcess, Fill) {
  const char* directory = std::getenv("TORCH_PJRT_TEST_FILL_DIR");
  ASSERT_NE(directory, nullptr) << "run by DiskCache.ConcurrentWritingProcessesNeverCorruptIt";
  fill(directory);
}

TEST(DiskCache, ConcurrentWritingProcessesNeverCorruptIt) {
  TempDirectory dir;
  const std::string variable = "TORCH_PJRT_TEST_FILL_DIR=" + dir.path().string();
  std::vector<char*> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.push_back(*e);
  environment.push_back(const_cast<char*>(variable.c_str()));
  environment.push_back(nullptr);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=DISABLED_DiskCacheWriterProcess.Fill";
  std::string disabled = "--gtest_also_run_disabled_tests";
  char* argv[] = {self.data(), filter.data(), disabled.data(), nullptr};
  std::vector<pid_t> children(2);
  for (pid_t& child : children) {
    ASSERT_EQ(posix_spawn(&child, self.c_str(), nullptr, nullptr, argv, environment.data()), 0);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer failed: " << status;
  }
  expect_all_entries_whole(dir.path());
}

}  // namespace
}  // namespace torch_pjrt::engine
