// Recording a stretch of a pending trace and appending it again (what a
// compiled graph's later calls do), against the real XLA:CPU plugin.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <vector>

#include "engine/pending_trace.h"
#include "engine/runtime.h"
#include "engine/storage_value.h"

namespace torch_pjrt::engine {
namespace {

using stablehlo::ElementType;
using stablehlo::TensorType;
using stablehlo::Value;

const TensorType kF32x3{ElementType::kF32, {3}};
const TensorType kF32{ElementType::kF32, {}};
constexpr HostSource kFirstInput{HostSource::Kind::kInput, 0};

Runtime& segment_runtime() {
  static auto* runtime = [] {
    RuntimeOptions options;
    options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
    options.plugin_name = "cpu";
    options.mode = EagerMode::kFused;
    return new Runtime(options);
  }();
  return *runtime;
}

std::unique_ptr<StorageValue> storage_of(Runtime& rt, std::vector<float> values) {
  auto storage = std::make_unique<StorageValue>(0, static_cast<int64_t>(values.size() * 4));
  storage->bind(rt.to_device(values.data(), kF32x3, 0));
  return storage;
}

// x * scale + x, with x read from `x` and scale sent as a host value.
Value scale_and_add(PendingTrace& trace, const StorageValue& x, float scale) {
  Value v = trace.storage_value(x, ElementType::kF32);
  Value s = trace.host_parameter(kF32, &scale, sizeof(scale), kFirstInput);
  stablehlo::Builder& b = trace.builder();
  Value result = b.add(b.mul(v, b.broadcast_in_dim(s, kF32x3.dims, {})), v);
  trace.finish_op("test::scale_and_add", "x*s+x");
  return result;
}

std::vector<float> read(Runtime& rt, const StorageValue& storage) {
  std::vector<float> host(3);
  rt.to_host(*storage.buffer(), host.data());
  return host;
}

TEST(TraceSegment, AppendedAgainItComputesOnTheNewValuesWithTheSameProgram) {
  Runtime& rt = segment_runtime();
  PendingTrace& trace = rt.pending(0);
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  trace.flush("test");
  auto x = storage_of(rt, {1, 2, 3});
  StorageValue out(0, 12);
  trace.begin_segment();
  Value result = scale_and_add(trace, *x, 2.0f);
  out.bind_deferred(trace.defer(result));
  TraceSegment segment = trace.end_segment();
  ASSERT_TRUE(segment.unreplayable.empty()) << segment.unreplayable;
  ASSERT_EQ(segment.externals.size(), 2u);
  EXPECT_TRUE(segment.externals[0].from_storage);
  EXPECT_EQ(segment.externals[1].source.kind, HostSource::Kind::kInput);
  EXPECT_EQ(segment.op_names, std::vector<std::string>{"test::scale_and_add"});
  const int32_t result_local = segment.local_of.at(result.id);
  trace.flush("test");
  EXPECT_EQ(read(rt, out), (std::vector<float>{3, 6, 9}));

  auto y = storage_of(rt, {10, 20, 30});
  const float scale = 3.0f;
  const int64_t compiles = rt.metrics().compiles.load();
  const uint64_t ops_before = trace.op_count();
  std::vector<Value> externals{trace.storage_value(*y, ElementType::kF32),
                               trace.host_parameter(kF32, &scale, sizeof(scale), kFirstInput)};
  std::vector<Value> values = trace.append_segment(segment, externals);
  EXPECT_EQ(trace.op_count(), ops_before + 1);
  StorageValue again(0, 12);
  again.bind_deferred(trace.defer(values.at(result_local)));
  trace.flush("test");
  EXPECT_EQ(read(rt, again), (std::vector<float>{40, 80, 120}));
  EXPECT_EQ(rt.metrics().compiles.load(), compiles) << "the appended ops made another program";
}

TEST(TraceSegment, SaysWhyItCannotBeAppendedAgain) {
  Runtime& rt = segment_runtime();
  PendingTrace& trace = rt.pending(0);
  std::lock_guard<std::recursive_mutex> lock(trace.mutex());
  auto x = storage_of(rt, {1, 2, 3});
  StorageValue out(0, 12);

  trace.begin_segment();
  out.bind_deferred(trace.defer(scale_and_add(trace, *x, 2.0f)));
  trace.flush("test");  // a host read inside the graph
  EXPECT_NE(trace.end_segment().unreplayable.find("flushed"), std::string::npos);

  trace.begin_segment();
  const float one = 1.0f;
  trace.host_parameter(kF32, &one, sizeof(one));
  EXPECT_NE(trace.end_segment().unreplayable.find("unknown origin"), std::string::npos);

  trace.begin_segment();
  trace.buffer_parameter(rt.to_device(&one, kF32, 0));
  EXPECT_NE(trace.end_segment().unreplayable.find("host data"), std::string::npos);

  trace.begin_segment();
  StorageValue never_written(0, 12);
  trace.storage_value(never_written, ElementType::kF32);
  EXPECT_NE(trace.end_segment().unreplayable.find("never written"), std::string::npos);
  trace.flush("test");
}

}  // namespace
}  // namespace torch_pjrt::engine
