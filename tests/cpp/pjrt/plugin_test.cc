#include <gtest/gtest.h>

#include "cpu_plugin.h"

namespace torch_pjrt::pjrt {
namespace {

using testing::cpu_plugin;

std::string load_error(const std::string& path) {
  try {
    Plugin::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "loading '" << path << "' did not throw";
  return "";
}

TEST(PluginTest, LoadsAndReportsItsApiVersion) {
  const auto& plugin = cpu_plugin();
  EXPECT_EQ(plugin->path(), TORCH_PJRT_TEST_CPU_PLUGIN);
  EXPECT_EQ(plugin->api_major(), PJRT_API_MAJOR);
  EXPECT_GE(plugin->api_minor(), Plugin::kMinApiMinor);
  EXPECT_NE(plugin->api(), nullptr);
}

TEST(PluginTest, AttributesNameTheXlaAndStablehloVersions) {
  const auto attributes = cpu_plugin()->attributes();
  ASSERT_TRUE(attributes.contains("xla_version"));
  ASSERT_TRUE(attributes.contains("stablehlo_current_version"));
  const auto* stablehlo =
      std::get_if<std::vector<int64_t>>(&attributes.at("stablehlo_current_version"));
  ASSERT_NE(stablehlo, nullptr);
  EXPECT_EQ(stablehlo->size(), 3u);  // major, minor, patch
}

TEST(PluginTest, NonexistentPathIsAnErrorNamingThePath) {
  const std::string path = "/nonexistent/dir/libno_such_plugin.so";
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;  // dlerror's words
}

TEST(PluginTest, AnExecutableIsNotAPlugin) {
  const std::string message = load_error("/bin/ls");
  EXPECT_NE(message.find("/bin/ls"), std::string::npos) << message;
}

TEST(PluginTest, ALibraryWithoutGetPjrtApiIsNotAPlugin) {
  const std::string message = load_error("libm.so.6");
  EXPECT_NE(message.find("GetPjrtApi"), std::string::npos) << message;
  EXPECT_NE(message.find("libm.so.6"), std::string::npos) << message;
}

TEST(PluginTest, ErrorsCarryTheirCode) {
  try {
    Plugin::load("/nonexistent.so");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), PJRT_Error_Code_NOT_FOUND);
  }
}

}  // namespace
}  // namespace torch_pjrt::pjrt
