#include <gtest/gtest.h>

#include "pjrt/pjrt.h"

namespace torch_pjrt::pjrt {
namespace {

std::string bytes(std::initializer_list<uint8_t> values) {
  return std::string(values.begin(), values.end());
}

// Expected bytes written out by hand from xla/pjrt/proto/compile_options.proto.
TEST(CompileOptionsTest, SingleDeviceIsPortable) {
  const std::string build_options = bytes({
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,  // device_ordinal=-1
      0x20, 0x01,                                                        // num_replicas=1
      0x28, 0x01,                                                        // num_partitions=1
  });
  const std::string expected = bytes({0x1a, static_cast<uint8_t>(build_options.size())}) +
                               build_options +
                               bytes({0x20, 0x01});  // compile_portable_executable=true
  EXPECT_EQ(CompileOptions{}.serialize(), expected);
}

TEST(CompileOptionsTest, SeveralReplicasAreNotPortable) {
  CompileOptions options;
  options.num_replicas = 300;  // a two-byte varint
  options.num_partitions = 2;
  const std::string build_options = bytes({
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,  // device_ordinal=-1
      0x20, 0xac, 0x02,                                                  // num_replicas=300
      0x28, 0x02,                                                        // num_partitions=2
  });
  const std::string expected =
      bytes({0x1a, static_cast<uint8_t>(build_options.size())}) + build_options;
  EXPECT_EQ(options.serialize(), expected);
}

TEST(CompileOptionsTest, EnvOptionOverridesAreMapEntriesInOrder) {
  CompileOptions options;
  options.env_option_overrides = {{"ab", false}, {"c", std::string("on")}, {"d", int64_t{300}}};
  const std::string expected =
      CompileOptions{}.serialize() +
      // field 7, entry {key "ab", value OptionOverrideProto{bool_field: false}}
      bytes({0x3a, 0x08, 0x0a, 0x02, 'a', 'b', 0x12, 0x02, 0x10, 0x00}) +
      // {key "c", value {string_field: "on"}}
      bytes({0x3a, 0x09, 0x0a, 0x01, 'c', 0x12, 0x04, 0x0a, 0x02, 'o', 'n'}) +
      // {key "d", value {int_field: 300}}
      bytes({0x3a, 0x08, 0x0a, 0x01, 'd', 0x12, 0x03, 0x18, 0xac, 0x02});
  EXPECT_EQ(options.serialize(), expected);
}

}  // namespace
}  // namespace torch_pjrt::pjrt
