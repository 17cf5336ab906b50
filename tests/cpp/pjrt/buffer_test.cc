#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "cpu_plugin.h"

namespace torch_pjrt::pjrt {
namespace {

using testing::cpu_client;
using testing::device;
using testing::download;
using testing::upload;

// Uploads `values`, checks what the buffer reports, and downloads them again.
template <typename T>
void expect_round_trip(const std::vector<T>& values, PJRT_Buffer_Type type,
                       const std::vector<int64_t>& dims, int device_index = 0) {
  auto buffer = upload(values, type, dims, device_index);
  EXPECT_EQ(buffer->element_type(), type);
  EXPECT_EQ(buffer->dims(), dims);
  EXPECT_EQ(buffer->host_size(), values.size() * sizeof(T));
  EXPECT_FALSE(buffer->is_deleted());
  EXPECT_TRUE(buffer->device() == device(device_index));
  buffer->ready_event()->wait();
  const std::vector<T> back = download<T>(*buffer);
  ASSERT_EQ(back.size(), values.size());
  // Bytes, not values: NaN payloads and -0.0 must survive too.
  if (!values.empty()) {
    EXPECT_EQ(std::memcmp(back.data(), values.data(), values.size() * sizeof(T)), 0);
  }
}

TEST(BufferTest, RoundTripF32) {
  expect_round_trip<float>({1.5f, -2.0f, 0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            std::nanf(""), 1e-40f, 3.0f},
                           PJRT_Buffer_Type_F32, {2, 4});
}

TEST(BufferTest, RoundTripF64) {
  expect_round_trip<double>({1.0 / 3.0, -1e300, 5e-324}, PJRT_Buffer_Type_F64, {3});
}

TEST(BufferTest, RoundTripS64) {
  expect_round_trip<int64_t>(
      {std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()},
      PJRT_Buffer_Type_S64, {2, 1, 2});
}

TEST(BufferTest, RoundTripS32) {
  expect_round_trip<int32_t>({7, -8, 9, 10, 11, 12}, PJRT_Buffer_Type_S32, {3, 2});
}

TEST(BufferTest, RoundTripPred) {
  expect_round_trip<uint8_t>({1, 0, 0, 1, 1}, PJRT_Buffer_Type_PRED, {5});
}

TEST(BufferTest, RoundTripBF16) {
  // 1.0, -2.0, the smallest subnormal, NaN
  expect_round_trip<uint16_t>({0x3f80, 0xc000, 0x0001, 0x7fc0}, PJRT_Buffer_Type_BF16, {2, 2});
}

TEST(BufferTest, RoundTripU8) {
  expect_round_trip<uint8_t>({0, 1, 127, 128, 255, 42}, PJRT_Buffer_Type_U8, {1, 6});
}

TEST(BufferTest, RoundTripScalar) { expect_round_trip<float>({42.0f}, PJRT_Buffer_Type_F32, {}); }

TEST(BufferTest, RoundTripEmpty) {
  expect_round_trip<float>({}, PJRT_Buffer_Type_F32, {0});
  expect_round_trip<int64_t>({}, PJRT_Buffer_Type_S64, {3, 0, 2});
}

TEST(BufferTest, RoundTripOnSecondDevice) {
  expect_round_trip<int32_t>({1, 2, 3}, PJRT_Buffer_Type_S32, {3}, 1);
}

TEST(BufferTest, OnDeviceSizeCoversTheData) {
  auto buffer = upload<float>(std::vector<float>(6, 1.0f), PJRT_Buffer_Type_F32, {2, 3});
  EXPECT_GE(buffer->on_device_size(), 6 * sizeof(float));
}

TEST(BufferTest, HostDataMayChangeAfterAnImmutableOnlyDuringCallUpload) {
  std::vector<float> values = {1, 2, 3};
  auto buffer = upload(values, PJRT_Buffer_Type_F32, {3});
  values = {9, 9, 9};
  EXPECT_EQ(download<float>(*buffer), (std::vector<float>{1, 2, 3}));
}

TEST(BufferTest, UntilTransferCompletesGivesTheDoneEvent) {
  const std::vector<int32_t> values = {4, 5, 6, 7};
  const std::vector<int64_t> dims = {4};
  std::unique_ptr<Event> done;
  auto buffer =
      cpu_client().buffer_from_host(values.data(), PJRT_Buffer_Type_S32, dims, device(0),
                                    HostBufferSemantics::kImmutableUntilTransferCompletes, &done);
  ASSERT_NE(done, nullptr);
  done->wait();
  EXPECT_TRUE(done->is_ready());
  EXPECT_FALSE(done->error().has_value());
  EXPECT_EQ(download<int32_t>(*buffer), values);
}

TEST(BufferTest, UntilTransferCompletesWithoutEventWaitsInside) {
  auto values = std::make_unique<std::vector<int32_t>>(std::vector<int32_t>{1, 2});
  const std::vector<int64_t> dims = {2};
  auto buffer =
      cpu_client().buffer_from_host(values->data(), PJRT_Buffer_Type_S32, dims, device(0),
                                    HostBufferSemantics::kImmutableUntilTransferCompletes);
  values.reset();  // the upload is complete, so the host copy may go
  EXPECT_EQ(download<int32_t>(*buffer), (std::vector<int32_t>{1, 2}));
}

TEST(BufferTest, AsyncDownload) {
  auto buffer = upload<int64_t>({10, 20, 30}, PJRT_Buffer_Type_S64, {3});
  std::vector<int64_t> back(3);
  auto event = buffer->to_host_async(back.data(), back.size() * sizeof(int64_t));
  event->wait();
  EXPECT_EQ(back, (std::vector<int64_t>{10, 20, 30}));
}

TEST(BufferTest, DownloadIntoTooSmallDestinationIsAnError) {
  auto buffer = upload<int64_t>({10, 20, 30}, PJRT_Buffer_Type_S64, {3});
  std::vector<int64_t> back(2);
  EXPECT_THROW(buffer->to_host(back.data(), back.size() * sizeof(int64_t)), Error);
}

TEST(BufferTest, CopyToOtherDevice) {
  auto buffer = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {2, 2}, 0);
  auto copy = buffer->copy_to_device(device(1));
  EXPECT_TRUE(copy->device() == device(1));
  EXPECT_EQ(copy->dims(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(download<float>(*copy), (std::vector<float>{1, 2, 3, 4}));
}

TEST(BufferTest, ReadyEventCallbackRuns) {
  auto buffer = upload<float>({1}, PJRT_Buffer_Type_F32, {});
  auto event = buffer->ready_event();
  std::atomic<int> calls = 0;
  std::atomic<bool> had_error = true;
  event->on_ready([&](std::optional<Error> error) {
    had_error = error.has_value();
    ++calls;
  });
  event->wait();
  // The callback may run on a plugin thread just after the event turns ready.
  for (int i = 0; i < 1000 && calls == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(had_error);
}

TEST(BufferTest, ByteWidths) {
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_PRED), 1u);
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_BF16), 2u);
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_F32), 4u);
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_S64), 8u);
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_C128), 16u);
  EXPECT_EQ(byte_width(PJRT_Buffer_Type_S4), 1u);
  EXPECT_THROW(byte_width(PJRT_Buffer_Type_INVALID), Error);
}

}  // namespace
}  // namespace torch_pjrt::pjrt
