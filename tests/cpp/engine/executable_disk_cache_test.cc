// The executable cache with its disk layer, against the real XLA:CPU plugin:
// a restarted runtime loads instead of compiling, a foreign entry is
// recompiled, and TORCH_PJRT_DEBUG=recompile explains each compile.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <vector>

#include "engine/runtime.h"
#include "stablehlo/builder.h"
#include "temp_directory.h"

namespace torch_pjrt::engine {
namespace {

namespace fs = std::filesystem;
using stablehlo::ElementType;
using stablehlo::TensorType;
using testing::TempDirectory;

RuntimeOptions options_with_cache(const fs::path& directory) {
  RuntimeOptions options;
  options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
  options.plugin_name = "cpu";
  options.cpu_device_count = 2;
  options.executables.disk_directory = directory.string();
  return options;
}

stablehlo::Function add_program(const TensorType& type) {
  stablehlo::Builder b;
  auto x = b.parameter(type);
  auto y = b.parameter(type);
  return b.finish({b.add(x, y)});
}

std::array<float, 4> run_add(Runtime& rt, const Executable& executable, int device) {
  const TensorType type{ElementType::kF32, {4}};
  std::array<float, 4> a{1, 2, 3, 4};
  std::array<float, 4> b{10, 20, 30, 40};
  auto x = rt.to_device(a.data(), type, device);
  auto y = rt.to_device(b.data(), type, device);
  std::vector<DeviceBuffer*> inputs{x.get(), y.get()};
  auto outputs = rt.execute(executable, inputs, device);
  std::array<float, 4> result{};
  rt.to_host(*outputs.at(0), result.data());
  return result;
}

const std::array<float, 4> kSum{11, 22, 33, 44};
const TensorType kF32x4{ElementType::kF32, {4}};

std::vector<fs::path> files_in(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path());
  return files;
}

TEST(ExecutableDiskCache, ARestartedRuntimeLoadsInsteadOfCompiling) {
  TempDirectory dir;
  {
    Runtime first(options_with_cache(dir.path()));
    auto executable = first.executables().get_or_compile(add_program(kF32x4));
    EXPECT_EQ(first.metrics().compiles.load(), 1);
    EXPECT_EQ(first.metrics().disk_cache_misses.load(), 1);
    EXPECT_EQ(first.metrics().disk_cache_hits.load(), 0);
    EXPECT_EQ(first.metrics().disk_cache_bytes.load(),
              static_cast<int64_t>(fs::file_size(files_in(dir.path()).at(0))));
    EXPECT_EQ(run_add(first, *executable, 0), kSum);
  }
  Runtime second(options_with_cache(dir.path()));
  EXPECT_GT(second.metrics().disk_cache_bytes.load(), 0);
  auto executable = second.executables().get_or_compile(add_program(kF32x4));
  EXPECT_EQ(second.metrics().compiles.load(), 0);
  EXPECT_EQ(second.metrics().disk_cache_hits.load(), 1);
  EXPECT_EQ(second.metrics().disk_cache_misses.load(), 0);
  // A loaded executable is portable like a compiled one.
  EXPECT_EQ(run_add(second, *executable, 0), kSum);
  EXPECT_EQ(run_add(second, *executable, 1), kSum);
  // The second lookup in the same runtime is a memory hit.
  second.executables().get_or_compile(add_program(kF32x4));
  EXPECT_EQ(second.metrics().cache_hits.load(), 1);
  EXPECT_EQ(second.metrics().disk_cache_hits.load(), 1);
}

TEST(ExecutableDiskCache, AnEntryOfAnotherPluginVersionIsCompiledAgainAndReplaced) {
  TempDirectory dir;
  {
    Runtime first(options_with_cache(dir.path()));
    first.executables().get_or_compile(add_program(kF32x4));
  }
  const fs::path entry = files_in(dir.path()).at(0);
  std::string bytes;
  {
    std::ifstream in(entry, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The header's plugin identity, as another plugin build would have written it.
  const size_t at = bytes.find("platform_version=");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 17] = bytes[at + 17] == '9' ? '8' : '9';
  {
    std::ofstream out(entry, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  Runtime second(options_with_cache(dir.path()));
  ::testing::internal::CaptureStderr();
  auto executable = second.executables().get_or_compile(add_program(kF32x4));
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("another plugin"), std::string::npos) << printed;
  EXPECT_NE(printed.find(entry.string()), std::string::npos) << printed;
  EXPECT_EQ(second.metrics().compiles.load(), 1);
  EXPECT_EQ(second.metrics().disk_cache_hits.load(), 0);
  EXPECT_EQ(run_add(second, *executable, 0), kSum);

  Runtime third(options_with_cache(dir.path()));
  third.executables().get_or_compile(add_program(kF32x4));
  EXPECT_EQ(third.metrics().disk_cache_hits.load(), 1) << "the recompiled entry replaced it";
}

TEST(ExecutableDiskCache, CompileOptionsArePartOfTheKey) {
  TempDirectory dir;
  {
    Runtime first(options_with_cache(dir.path()));
    first.executables().get_or_compile(add_program(kF32x4));
  }
  RuntimeOptions flagged = options_with_cache(dir.path());
  flagged.executables.xla_flags = "--xla_cpu_enable_fast_math=false";
  Runtime second(flagged);
  second.executables().get_or_compile(add_program(kF32x4));
  EXPECT_EQ(second.metrics().compiles.load(), 1);
  EXPECT_EQ(files_in(dir.path()).size(), 2u);
}

TEST(ExecutableDiskCache, DisabledWritesNothing) {
  TempDirectory dir;
  RuntimeOptions options = options_with_cache(dir.path());
  options.executables.disk_directory = "";
  Runtime rt(options);
  rt.executables().get_or_compile(add_program(kF32x4));
  EXPECT_EQ(rt.metrics().compiles.load(), 1);
  EXPECT_EQ(rt.metrics().disk_cache_misses.load(), 0);
  EXPECT_EQ(rt.metrics().disk_cache_bytes.load(), 0);
  EXPECT_TRUE(files_in(dir.path()).empty());
  EXPECT_TRUE(rt.executables().plugin_identity().empty());
}

TEST(ExecutableDiskCache, ThePluginIdentityNamesApiPlatformAndVersion) {
  TempDirectory dir;
  Runtime rt(options_with_cache(dir.path()));
  const std::string& identity = rt.executables().plugin_identity();
  EXPECT_NE(identity.find("pjrt_api=0."), std::string::npos) << identity;
  EXPECT_NE(identity.find("platform=cpu"), std::string::npos) << identity;
  EXPECT_NE(identity.find("platform_version=" + rt.client().platform_version()), std::string::npos)
      << identity;
}

TEST(ExecutableDiskCache, DebugRecompileExplainsEachCompile) {
  RuntimeOptions options = options_with_cache("");
  options.executables.disk_directory = "";
  options.executables.explain_recompiles = true;
  Runtime rt(options);
  ::testing::internal::CaptureStderr();
  rt.executables().get_or_compile(add_program(kF32x4), "aten::add.Tensor");
  rt.executables().get_or_compile(add_program(kF32x4), "aten::add.Tensor");  // a hit: silent
  rt.executables().get_or_compile(add_program(TensorType{ElementType::kF32, {5}}),
                                  "aten::add.Tensor");
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed,
            "torch_pjrt recompile: first compile of aten::add.Tensor\n"
            "torch_pjrt recompile: aten::add.Tensor: input 0 shape f32[5] (was f32[4]), input 1 "
            "shape f32[5] (was f32[4]), output 0 shape f32[5] (was f32[4])\n");
}

}  // namespace
}  // namespace torch_pjrt::engine
