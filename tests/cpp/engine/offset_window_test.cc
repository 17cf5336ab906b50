// Views whose offset travels at run time: which layouts qualify, and that one
// compiled program reads and writes them at any offset.
#include "engine/offset_window.h"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <vector>

#include "engine/runtime.h"

namespace torch_pjrt::engine {
namespace {

using stablehlo::ElementType;
using stablehlo::TensorType;

const TensorType kStorage{ElementType::kF32, {6, 4}};

ViewLayout view(std::vector<int64_t> sizes, std::vector<int64_t> strides, int64_t offset,
                ElementType element = ElementType::kF32) {
  return ViewLayout{std::move(sizes), std::move(strides), offset, element};
}

TEST(OffsetWindow, ViewsShorterThanTheStorageQualify) {
  EXPECT_TRUE(has_runtime_offset(kStorage, view({4}, {1}, 8)));          // x[2]
  EXPECT_TRUE(has_runtime_offset(kStorage, view({2, 4}, {4, 1}, 12)));   // x[3:5]
  EXPECT_TRUE(has_runtime_offset(kStorage, view({1, 4}, {99, 1}, 20)));  // size-1 dims: any stride
  EXPECT_TRUE(has_runtime_offset(kStorage, view({}, {}, 5)));            // x[1, 1]
  EXPECT_TRUE(has_runtime_offset(kStorage, view({6}, {4}, 1)));          // a column
  EXPECT_TRUE(has_runtime_offset(kStorage, view({2, 2}, {4, 1}, 0)));    // a 2-D box
  EXPECT_TRUE(has_runtime_offset(kStorage, view({3}, {8}, 3)));          // x[::2, 3]
  EXPECT_TRUE(elements_are_consecutive(view({2, 4}, {4, 1}, 12)));
  EXPECT_FALSE(elements_are_consecutive(view({6}, {4}, 1)));
}

TEST(OffsetWindow, OtherLayoutsDoNot) {
  EXPECT_FALSE(has_runtime_offset(kStorage, view({6, 4}, {4, 1}, 0)));  // covers the storage
  EXPECT_FALSE(has_runtime_offset(kStorage, view({4, 6}, {1, 4}, 0)));  // x.t(): spans it all
  EXPECT_FALSE(has_runtime_offset(kStorage, view({0, 4}, {4, 1}, 0)));  // empty
  EXPECT_FALSE(has_runtime_offset(kStorage, view({4}, {1}, 21)));       // past the end
  EXPECT_FALSE(has_runtime_offset(kStorage, view({4}, {1}, 8, ElementType::kS32)));
}

TEST(OffsetWindow, OneProgramReadsAndWritesARowAtAnyOffset) {
  RuntimeOptions options;
  options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
  options.plugin_name = "cpu";
  static auto* rt = new Runtime(options);

  std::array<float, 24> storage_values;
  std::iota(storage_values.begin(), storage_values.end(), 0.0f);
  const TensorType row{ElementType::kF32, {4}};
  const TensorType offset_type{ElementType::kS64, {}};
  const ViewLayout layout = view({4}, {1}, 0);  // the offset is not part of the program

  stablehlo::Builder b;
  auto storage = b.parameter(kStorage);
  auto offset = b.parameter(offset_type);
  auto update = b.parameter(row);
  auto read = read_window(b, storage, offset, layout);
  auto written = write_window(b, storage, offset, layout, update);
  auto executable = rt->executables().get_or_compile(b.finish({read, written}));

  auto storage_buffer = rt->to_device(storage_values.data(), kStorage, 0);
  std::array<float, 4> new_row{-1, -2, -3, -4};
  auto update_buffer = rt->to_device(new_row.data(), row, 0);
  for (int64_t start : {0, 5, 8, 20}) {
    auto offset_buffer = rt->to_device(&start, offset_type, 0);
    std::vector<DeviceBuffer*> inputs{storage_buffer.get(), offset_buffer.get(),
                                      update_buffer.get()};
    auto outputs = rt->execute(*executable, inputs, 0);
    std::array<float, 4> got_row{};
    rt->to_host(*outputs[0], got_row.data());
    std::array<float, 24> got_storage{};
    rt->to_host(*outputs[1], got_storage.data());
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(got_row[i], storage_values[start + i]) << start;
    for (int64_t i = 0; i < 24; ++i) {
      const bool inside = i >= start && i < start + 4;
      EXPECT_EQ(got_storage[i], inside ? new_row[i - start] : storage_values[i]) << start;
    }
  }
}

TEST(OffsetWindow, OneProgramReadsAndWritesAColumnAtAnyOffset) {
  RuntimeOptions options;
  options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
  options.plugin_name = "cpu";
  static auto* rt = new Runtime(options);

  std::array<float, 24> storage_values;
  std::iota(storage_values.begin(), storage_values.end(), 0.0f);
  const TensorType column{ElementType::kF32, {3}};
  const TensorType offset_type{ElementType::kS64, {}};
  const ViewLayout layout = view({3}, {8}, 0);  // x[::2, j] of the 6x4 storage

  stablehlo::Builder b;
  auto storage = b.parameter(kStorage);
  auto offset = b.parameter(offset_type);
  auto update = b.parameter(column);
  auto read = read_window(b, storage, offset, layout);
  auto written = write_window(b, storage, offset, layout, update);
  auto executable = rt->executables().get_or_compile(b.finish({read, written}));

  auto storage_buffer = rt->to_device(storage_values.data(), kStorage, 0);
  std::array<float, 3> new_column{-1, -2, -3};
  auto update_buffer = rt->to_device(new_column.data(), column, 0);
  for (int64_t start : {0, 1, 3, 7}) {
    auto offset_buffer = rt->to_device(&start, offset_type, 0);
    std::vector<DeviceBuffer*> inputs{storage_buffer.get(), offset_buffer.get(),
                                      update_buffer.get()};
    auto outputs = rt->execute(*executable, inputs, 0);
    std::array<float, 3> got_column{};
    rt->to_host(*outputs[0], got_column.data());
    std::array<float, 24> got_storage{};
    rt->to_host(*outputs[1], got_storage.data());
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_EQ(got_column[i], storage_values[start + 8 * i]) << start;
    for (int64_t i = 0; i < 24; ++i) {
      const bool inside = i >= start && (i - start) % 8 == 0;
      EXPECT_EQ(got_storage[i], inside ? new_column[(i - start) / 8] : storage_values[i]) << start;
    }
  }
}

}  // namespace
}  // namespace torch_pjrt::engine
