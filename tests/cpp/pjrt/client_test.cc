#include <gtest/gtest.h>

#include <set>

#include "cpu_plugin.h"

namespace torch_pjrt::pjrt {
namespace {

using testing::cpu_client;
using testing::cpu_plugin;

TEST(ClientTest, CpuDeviceCountGivesThatManyDevices) {
  const auto& devices = cpu_client().addressable_devices();
  ASSERT_EQ(devices.size(), 2u);
  std::set<int> ids;
  for (const Device& device : devices) {
    ids.insert(device.id());
    EXPECT_EQ(device.kind(), "cpu");
    EXPECT_FALSE(device.debug_string().empty());
    EXPECT_FALSE(device.to_string().empty());
    EXPECT_GE(device.local_hardware_id(), -1);
  }
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_NE(devices[0].debug_string(), devices[1].debug_string());
  EXPECT_FALSE(devices[0] == devices[1]);
  EXPECT_TRUE(devices[0] == devices[0]);
}

TEST(ClientTest, PlatformIsCpu) {
  EXPECT_EQ(cpu_client().platform_name(), "cpu");
  EXPECT_EQ(cpu_client().plugin(), cpu_plugin());
  cpu_client().platform_version();  // free-form, but must not throw
}

TEST(ClientTest, SecondClientWithOneDevice) {
  auto client = Client::create(cpu_plugin(), {{"cpu_device_count", int64_t{1}}});
  ASSERT_EQ(client->addressable_devices().size(), 1u);
  EXPECT_NE(client->raw(), cpu_client().raw());
  // Devices of different clients are different devices, even with equal ids.
  EXPECT_FALSE(client->addressable_devices()[0] == cpu_client().addressable_devices()[0]);
}

TEST(ClientTest, DefaultOptionsGiveAtLeastOneDevice) {
  // XLA:CPU's default is its own choice (one device per core here), not 1.
  EXPECT_GE(Client::create(cpu_plugin())->addressable_devices().size(), 1u);
}

TEST(ClientTest, OptionOfWrongTypeIsAnError) {
  EXPECT_THROW(Client::create(cpu_plugin(), {{"cpu_device_count", std::string("two")}}), Error);
}

}  // namespace
}  // namespace torch_pjrt::pjrt
