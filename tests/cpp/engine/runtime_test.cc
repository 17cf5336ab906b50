// The engine's runtime against the real XLA:CPU plugin: devices, transfers and
// their accounting, the executable cache, execution in both eager modes.
#include "engine/runtime.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/compiled_call.h"
#include "engine/storage_value.h"
#include "pjrt/c_api.h"  // the Args and call conventions, to drive the C API directly
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {
namespace {

using stablehlo::ElementType;
using stablehlo::TensorType;

RuntimeOptions cpu_options(EagerMode mode = EagerMode::kStrict) {
  RuntimeOptions options;
  options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
  options.plugin_name = "cpu";
  options.cpu_device_count = 2;
  options.mode = mode;
  return options;
}

Runtime& shared_runtime() {
  static auto* runtime = new Runtime(cpu_options());
  return *runtime;
}

stablehlo::Function add_program(const TensorType& type) {
  stablehlo::Builder b;
  auto x = b.parameter(type);
  auto y = b.parameter(type);
  return b.finish({b.add(x, y)});
}

TEST(Runtime, ShowsTheRequestedCpuDevices) {
  Runtime& rt = shared_runtime();
  EXPECT_EQ(rt.device_count(), 2);
  EXPECT_NE(rt.device_name(0).find("CPU"), std::string::npos) << rt.device_name(0);
  EXPECT_THROW(rt.device(2), std::out_of_range);
  EXPECT_THROW(rt.device(-1), std::out_of_range);
}

TEST(Runtime, TransfersRoundTripAndAreCounted) {
  Runtime& rt = shared_runtime();
  const int64_t buffers_before = rt.metrics().live_buffers.load();
  const int64_t bytes_to_before = rt.metrics().bytes_to_device.load();
  const int64_t bytes_from_before = rt.metrics().bytes_from_device.load();
  std::vector<float> host{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  {
    auto buffer = rt.to_device(host.data(), TensorType{ElementType::kF32, {2, 3}}, 1);
    EXPECT_EQ(rt.metrics().live_buffers.load(), buffers_before + 1);
    EXPECT_EQ(rt.metrics().bytes_to_device.load(), bytes_to_before + 24);
    std::vector<float> back(6);
    rt.to_host(*buffer, back.data());
    EXPECT_EQ(back, host);
    EXPECT_EQ(rt.metrics().bytes_from_device.load(), bytes_from_before + 24);
  }
  EXPECT_EQ(rt.metrics().live_buffers.load(), buffers_before);
}

TEST(Runtime, EmptyBuffersTransferNothing) {
  Runtime& rt = shared_runtime();
  auto buffer = rt.to_device(nullptr, TensorType{ElementType::kS64, {0, 4}}, 0);
  EXPECT_EQ(buffer->nbytes(), 0);
  rt.to_host(*buffer, nullptr);
}

TEST(ExecutableCache, CompilesEachProgramOnce) {
  Runtime& rt = shared_runtime();
  const TensorType type{ElementType::kF32, {3, 7}};
  const int64_t compiles = rt.metrics().compiles.load();
  const int64_t hits = rt.metrics().cache_hits.load();
  auto first = rt.executables().get_or_compile(add_program(type));
  auto second = rt.executables().get_or_compile(add_program(type));
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(rt.metrics().compiles.load(), compiles + 1);
  EXPECT_EQ(rt.metrics().cache_hits.load(), hits + 1);
  auto other = rt.executables().get_or_compile(add_program(TensorType{ElementType::kS32, {3, 7}}));
  EXPECT_NE(other.get(), first.get());
  EXPECT_EQ(rt.metrics().compiles.load(), compiles + 2);
  EXPECT_EQ(first->output_types, std::vector<TensorType>{type});
}

TEST(ExecutableCache, AFailedCompileIsReportedAndNotCached) {
  Runtime& rt = shared_runtime();
  // A program XLA rejects: a custom call to a target nobody registered.
  stablehlo::Builder b;
  auto x = b.parameter(TensorType{ElementType::kF32, {2}});
  auto y = b.emit("stablehlo.custom_call", {x}, {TensorType{ElementType::kF32, {2}}},
                  "call_target_name = \"torch_pjrt_no_such_target\"");
  auto program = b.finish({y[0]});
  const size_t entries = rt.executables().size();
  EXPECT_THROW(rt.executables().get_or_compile(program), std::exception);
  EXPECT_EQ(rt.executables().size(), entries);
}

void run_add_on(Runtime& rt, int device) {
  const TensorType type{ElementType::kF32, {4}};
  auto executable = rt.executables().get_or_compile(add_program(type));
  std::array<float, 4> a{1, 2, 3, 4};
  std::array<float, 4> b{10, 20, 30, 40};
  auto x = rt.to_device(a.data(), type, device);
  auto y = rt.to_device(b.data(), type, device);
  std::vector<DeviceBuffer*> inputs{x.get(), y.get()};
  const int64_t executions = rt.metrics().executions.load();
  auto outputs = rt.execute(*executable, inputs, device);
  EXPECT_EQ(rt.metrics().executions.load(), executions + 1);
  ASSERT_EQ(outputs.size(), 1u);
  rt.synchronize();
  std::array<float, 4> result{};
  rt.to_host(*outputs[0], result.data());
  EXPECT_EQ(result, (std::array<float, 4>{11, 22, 33, 44}));
}

TEST(Runtime, ExecutesOnEitherDevice) {
  run_add_on(shared_runtime(), 0);
  run_add_on(shared_runtime(), 1);
}

TEST(Runtime, ADonatedInputIsTakenAndItsExecutionsStayBounded) {
  Runtime& rt = shared_runtime();
  const TensorType type{ElementType::kF32, {4}};
  stablehlo::Function donating = add_program(type);
  donating.parameter_aliases = {0, -1};  // x's memory becomes x + y's
  auto executable = rt.executables().get_or_compile(donating);
  std::array<float, 4> a{1, 2, 3, 4};
  std::array<float, 4> b{10, 20, 30, 40};
  auto x = rt.to_device(a.data(), type, 0);
  auto y = rt.to_device(b.data(), type, 0);
  const int64_t live = rt.metrics().live_buffers.load();
  for (int step = 0; step < 12; ++step) {
    std::vector<DeviceBuffer*> inputs{x.get(), y.get()};
    auto outputs = rt.execute(*executable, inputs, 0);
    // The execution took x: it no longer counts, and using it is an error,
    // not a read of memory that now holds the sum.
    EXPECT_THROW(x->pjrt(), std::logic_error);
    EXPECT_EQ(rt.metrics().live_buffers.load(), live);
    EXPECT_LE(rt.executions_in_flight(), 4);
    x = std::move(outputs[0]);
  }
  rt.synchronize();
  EXPECT_EQ(rt.executions_in_flight(), 0);
  std::array<float, 4> result{};
  rt.to_host(*x, result.data());
  EXPECT_EQ(result, (std::array<float, 4>{121, 242, 363, 484}));
}

// A device buffer whose value arrives later, or never: its definition event is
// set by fulfil_with_error(), so an execution reading it fails after it was
// enqueued, as a failing program on a device would.
class LateInput {
 public:
  LateInput(Runtime& rt, const TensorType& type) : plugin_(rt.client().plugin()) {
    auto memory_args = TORCH_PJRT_ARGS(PJRT_Device_DefaultMemory_Args);
    memory_args.device = rt.device(0).raw();
    TORCH_PJRT_CALL(*plugin_, PJRT_Device_DefaultMemory, &memory_args);
    auto spec = TORCH_PJRT_ARGS(PJRT_ShapeSpec);
    spec.dims = type.dims.data();
    spec.num_dims = type.dims.size();
    spec.element_type = PJRT_Buffer_Type_F32;
    auto create = TORCH_PJRT_ARGS(PJRT_Client_CreateBuffersForAsyncHostToDevice_Args);
    create.client = rt.client().raw();
    create.shape_specs = &spec;
    create.num_shape_specs = 1;
    create.memory = memory_args.memory;
    TORCH_PJRT_CALL(*plugin_, PJRT_Client_CreateBuffersForAsyncHostToDevice, &create);
    manager_ = create.transfer_manager;
    auto retrieve = TORCH_PJRT_ARGS(PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args);
    retrieve.transfer_manager = manager_;
    TORCH_PJRT_CALL(*plugin_, PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer, &retrieve);
    buffer = std::make_shared<DeviceBuffer>(
        std::make_unique<pjrt::Buffer>(plugin_, retrieve.buffer_out), type, rt.metrics());
  }
  ~LateInput() {
    auto destroy = TORCH_PJRT_ARGS(PJRT_AsyncHostToDeviceTransferManager_Destroy_Args);
    destroy.transfer_manager = manager_;
    pjrt::detail::call_quietly(
        plugin_->api(), plugin_->api()->PJRT_AsyncHostToDeviceTransferManager_Destroy, &destroy);
  }
  void fulfil_with_error(const std::string& message) {
    auto fail = TORCH_PJRT_ARGS(PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args);
    fail.transfer_manager = manager_;
    fail.error_code = PJRT_Error_Code_INTERNAL;
    fail.error_message = message.data();
    fail.error_message_size = message.size();
    TORCH_PJRT_CALL(*plugin_, PJRT_AsyncHostToDeviceTransferManager_SetBufferError, &fail);
  }
  std::shared_ptr<DeviceBuffer> buffer;

 private:
  std::shared_ptr<pjrt::Plugin> plugin_;
  PJRT_AsyncHostToDeviceTransferManager* manager_ = nullptr;
};

// A failure is not raised where the host enqueued the execution but by the
// next synchronize(), once every execution has finished; the first failure is
// the one raised. A failed run does not count against the in-flight bound,
// and its output reports the error when read.
TEST(Runtime, AFailedExecutionIsRaisedBySynchronizeOnceAllHaveFinished) {
  Runtime rt(cpu_options());
  const TensorType type{ElementType::kF32, {4}};
  auto executable = rt.executables().get_or_compile(add_program(type));
  std::array<float, 4> a{1, 2, 3, 4};
  auto y = rt.to_device(a.data(), type, 0);
  LateInput first(rt, type);
  LateInput last(rt, type);
  std::vector<DeviceBuffer*> first_inputs{first.buffer.get(), y.get()};
  auto failed = rt.execute(*executable, first_inputs, 0);
  EXPECT_EQ(rt.executions_in_flight(), 1);  // waiting for its input
  first.fulfil_with_error("torch_pjrt test: the first input never arrives");
  std::shared_ptr<DeviceBuffer> sum = y;
  for (int step = 0; step < 12; ++step) {
    std::vector<DeviceBuffer*> inputs{sum.get(), y.get()};
    sum = rt.execute(*executable, inputs, 0)[0];
    EXPECT_LE(rt.executions_in_flight(), 4);
  }
  std::vector<DeviceBuffer*> last_inputs{last.buffer.get(), y.get()};
  auto also_failed = rt.execute(*executable, last_inputs, 0);
  // The last execution ends well after synchronize() has met the first failure.
  std::thread later([&last] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    last.fulfil_with_error("torch_pjrt test: the last input never arrives");
  });
  try {
    rt.synchronize();
    ADD_FAILURE() << "expected the first failed execution's error";
  } catch (const pjrt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the first input"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(also_failed[0]->pjrt().ready_event()->is_ready());
  later.join();
  EXPECT_EQ(rt.executions_in_flight(), 0);
  std::array<float, 4> result{};
  rt.to_host(*sum, result.data());  // the executions between the failures ran
  EXPECT_EQ(result, (std::array<float, 4>{13, 26, 39, 52}));
  EXPECT_THROW(rt.to_host(*failed[0], result.data()), pjrt::Error);
  rt.synchronize();  // nothing is raised twice
}

TEST(Runtime, DebugModeWaitsForEachExecution) {
  Runtime debug(cpu_options(EagerMode::kDebug));
  run_add_on(debug, 0);
}

TEST(Runtime, UnknownPluginPathIsAnError) {
  RuntimeOptions options = cpu_options();
  options.plugin_path = "/nonexistent/plugin.so";
  try {
    Runtime runtime(options);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/plugin.so"), std::string::npos) << e.what();
  }
}

TEST(StorageValue, BindsOnlyValuesOfItsSize) {
  Runtime& rt = shared_runtime();
  StorageValue storage(0, 16);
  EXPECT_FALSE(storage.is_materialized());
  EXPECT_EQ(storage.type_or(ElementType::kF32), (TensorType{ElementType::kF32, {4}}));
  std::array<int32_t, 4> values{1, 2, 3, 4};
  storage.bind(rt.to_device(values.data(), TensorType{ElementType::kS32, {2, 2}}, 0));
  EXPECT_TRUE(storage.is_materialized());
  EXPECT_EQ(storage.type_or(ElementType::kF32), (TensorType{ElementType::kS32, {2, 2}}));
  EXPECT_THROW(storage.bind(rt.to_device(values.data(), TensorType{ElementType::kS32, {3}}, 0)),
               std::logic_error);
}

TEST(CompiledCallCache, FindsWhatWasInserted) {
  CompiledCallCache cache;
  EXPECT_EQ(cache.find("aten::add.Tensor|f32[2]"), nullptr);
  auto call = std::make_shared<CompiledCall>();
  call->outputs.push_back(OutputAction{OutputAction::Kind::kRebind, 0});
  cache.insert("aten::add.Tensor|f32[2]", call);
  EXPECT_EQ(cache.find("aten::add.Tensor|f32[2]").get(), call.get());
  EXPECT_EQ(cache.find("aten::add.Tensor|f32[3]"), nullptr);
}

}  // namespace
}  // namespace torch_pjrt::engine
