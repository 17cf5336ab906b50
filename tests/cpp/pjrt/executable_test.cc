#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cpu_plugin.h"

namespace torch_pjrt::pjrt {
namespace {

using testing::cpu_client;
using testing::device;
using testing::download;
using testing::upload;

constexpr char kAdd[] = R"(
module @add {
  func.func public @main(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %0 = stablehlo.add %a, %b : tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
)";

constexpr char kSquareScalar[] = R"(
module @square {
  func.func public @main(%a: tensor<f64>) -> tensor<f64> {
    %0 = stablehlo.multiply %a, %a : tensor<f64>
    return %0 : tensor<f64>
  }
}
)";

constexpr char kSumAndDifference[] = R"(
module @sum_and_difference {
  func.func public @main(%a: tensor<3xi64>, %b: tensor<3xi64>) -> (tensor<3xi64>, tensor<3xi64>) {
    %0 = stablehlo.add %a, %b : tensor<3xi64>
    %1 = stablehlo.subtract %a, %b : tensor<3xi64>
    return %0, %1 : tensor<3xi64>, tensor<3xi64>
  }
}
)";

// `%a` is donated to the (same-shaped) result.
constexpr char kDonatingIncrement[] = R"(
module @increment {
  func.func public @main(%a: tensor<4xf32> {tf.aliasing_output = 0 : i32}) -> tensor<4xf32> {
    %one = stablehlo.constant dense<1.0> : tensor<4xf32>
    %0 = stablehlo.add %a, %one : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
)";

// `%a` is donated, and `%b` may be the same buffer.
constexpr char kDonatingAdd[] = R"(
module @donating_add {
  func.func public @main(%a: tensor<4xf32> {tf.aliasing_output = 0 : i32}, %b: tensor<4xf32>)
      -> tensor<4xf32> {
    %0 = stablehlo.add %a, %b : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
)";

// Big enough that XLA:CPU runs it on its own threads rather than inline.
constexpr char kMatmul[] = R"(
module @matmul {
  func.func public @main(%a: tensor<512x512xf32>) -> tensor<512x512xf32> {
    %0 = stablehlo.dot_general %a, %a, contracting_dims = [1] x [0]
        : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
    return %0 : tensor<512x512xf32>
  }
}
)";

const std::vector<float> kA = {1, 2, 3, 4, 5, 6};
const std::vector<float> kB = {10, 20, 30, 40, 50, 60};
const std::vector<float> kAPlusB = {11, 22, 33, 44, 55, 66};

const LoadedExecutable& add_executable() {
  static const std::unique_ptr<LoadedExecutable> executable = cpu_client().compile(kAdd);
  return *executable;
}

std::vector<float> run_add(const LoadedExecutable& executable, int device_index) {
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3}, device_index);
  auto b = upload(kB, PJRT_Buffer_Type_F32, {2, 3}, device_index);
  Buffer* const arguments[] = {a.get(), b.get()};
  ExecuteResult result = executable.execute(arguments, device(device_index));
  EXPECT_EQ(result.outputs.size(), 1u);
  result.done->wait();
  const Buffer& out = *result.outputs.at(0);
  EXPECT_TRUE(out.device() == device(device_index));
  EXPECT_EQ(out.element_type(), PJRT_Buffer_Type_F32);
  EXPECT_EQ(out.dims(), (std::vector<int64_t>{2, 3}));
  return download<float>(out);
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no pjrt::Error thrown";
  return "";
}

TEST(ExecutableTest, AddOnDevice0) {
  EXPECT_EQ(add_executable().num_outputs(), 1u);
  EXPECT_EQ(run_add(add_executable(), 0), kAPlusB);
}

TEST(ExecutableTest, OneExecutableRunsOnEveryDevice) {
  EXPECT_EQ(run_add(add_executable(), 1), kAPlusB);
  EXPECT_EQ(run_add(add_executable(), 0), kAPlusB);
}

TEST(ExecutableTest, ScalarProgram) {
  auto executable = cpu_client().compile(kSquareScalar);
  auto a = upload<double>({-1.5}, PJRT_Buffer_Type_F64, {});
  Buffer* const arguments[] = {a.get()};
  ExecuteResult result = executable->execute(arguments, device(0));
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_TRUE(result.outputs[0]->dims().empty());
  EXPECT_EQ(download<double>(*result.outputs[0]), (std::vector<double>{2.25}));
}

TEST(ExecutableTest, TwoOutputs) {
  auto executable = cpu_client().compile(kSumAndDifference);
  EXPECT_EQ(executable->num_outputs(), 2u);
  auto a = upload<int64_t>({5, 6, 7}, PJRT_Buffer_Type_S64, {3}, 1);
  auto b = upload<int64_t>({1, 2, 10}, PJRT_Buffer_Type_S64, {3}, 1);
  Buffer* const arguments[] = {a.get(), b.get()};
  ExecuteResult result = executable->execute(arguments, device(1));
  ASSERT_EQ(result.outputs.size(), 2u);
  EXPECT_EQ(download<int64_t>(*result.outputs[0]), (std::vector<int64_t>{6, 8, 17}));
  EXPECT_EQ(download<int64_t>(*result.outputs[1]), (std::vector<int64_t>{4, 4, -3}));
}

TEST(ExecutableTest, OutputsCanBeChainedBeforeTheyAreReady) {
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3});
  auto b = upload(kB, PJRT_Buffer_Type_F32, {2, 3});
  Buffer* const first_arguments[] = {a.get(), b.get()};
  ExecuteResult first = add_executable().execute(first_arguments, device(0));
  Buffer* const second_arguments[] = {first.outputs[0].get(), first.outputs[0].get()};
  ExecuteResult second = add_executable().execute(second_arguments, device(0));
  second.done->wait();
  EXPECT_EQ(download<float>(*second.outputs[0]), (std::vector<float>{22, 44, 66, 88, 110, 132}));
}

TEST(ExecutableTest, SerializeDeserializeRunsTheSame) {
  const std::string serialized = add_executable().serialize();
  EXPECT_FALSE(serialized.empty());
  auto loaded = cpu_client().deserialize(serialized);
  EXPECT_EQ(loaded->num_outputs(), 1u);
  EXPECT_EQ(run_add(*loaded, 0), kAPlusB);
  EXPECT_EQ(run_add(*loaded, 1), kAPlusB);
}

TEST(ExecutableTest, DeserializingGarbageIsAnError) {
  EXPECT_THROW(cpu_client().deserialize("not an executable"), Error);
}

TEST(ExecutableTest, MalformedMlirCarriesTheCompilerMessage) {
  try {
    cpu_client().compile("module { func.func @main( -> }");
    FAIL() << "malformed MLIR compiled";
  } catch (const Error& e) {
    EXPECT_NE(e.code(), PJRT_Error_Code_OK);
    EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
  }
}

TEST(ExecutableTest, IllTypedProgramIsAnError) {
  const std::string message = error_of([] {
    cpu_client().compile(R"(
      func.func public @main(%a: tensor<2xf32>, %b: tensor<3xf32>) -> tensor<2xf32> {
        %0 = stablehlo.add %a, %b : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
        return %0 : tensor<2xf32>
      })");
  });
  EXPECT_FALSE(message.empty());
}

TEST(ExecutableTest, WrongNumberOfArgumentsIsAnError) {
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3});
  Buffer* const arguments[] = {a.get()};
  const std::string message = error_of([&] { add_executable().execute(arguments, device(0)); });
  EXPECT_FALSE(message.empty());
  EXPECT_FALSE(a->is_deleted());
}

TEST(ExecutableTest, ArgumentOfWrongSizeIsAnError) {
  // XLA:CPU compares only byte sizes: a 3x2 or s32 argument in place of a
  // 2x3 f32 one runs and reinterprets the bytes. Callers must check types.
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3});
  auto b = upload(std::vector<float>(8), PJRT_Buffer_Type_F32, {2, 4});
  Buffer* const arguments[] = {a.get(), b.get()};
  const std::string message = error_of([&] { add_executable().execute(arguments, device(0)); });
  EXPECT_NE(message.find("size"), std::string::npos) << message;
}

TEST(ExecutableTest, ArgumentsMustLiveOnTheExecuteDevice) {
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3}, 0);
  auto b = upload(kB, PJRT_Buffer_Type_F32, {2, 3}, 1);
  Buffer* const arguments[] = {a.get(), b.get()};
  const std::string message = error_of([&] { add_executable().execute(arguments, device(0)); });
  EXPECT_NE(message.find("device"), std::string::npos) << message;
}

TEST(ExecutableTest, NullArgumentIsAnError) {
  auto a = upload(kA, PJRT_Buffer_Type_F32, {2, 3});
  Buffer* const arguments[] = {a.get(), nullptr};
  EXPECT_THROW(add_executable().execute(arguments, device(0)), Error);
}

TEST(ExecutableTest, DonatedInputIsDeleted) {
  auto executable = cpu_client().compile(kDonatingIncrement);
  auto a = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {4});
  Buffer* const arguments[] = {a.get()};
  ExecuteResult result = executable->execute(arguments, device(0));
  EXPECT_TRUE(a->is_deleted());
  EXPECT_EQ(download<float>(*result.outputs[0]), (std::vector<float>{2, 3, 4, 5}));
}

TEST(ExecutableTest, NonDonatableInputSurvives) {
  auto executable = cpu_client().compile(kDonatingIncrement);
  auto a = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {4});
  Buffer* const arguments[] = {a.get()};
  ExecuteOptions options;
  options.non_donatable_input_indices = {0};
  ExecuteResult result = executable->execute(arguments, device(0), options);
  EXPECT_FALSE(a->is_deleted());
  EXPECT_EQ(download<float>(*result.outputs[0]), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(download<float>(*a), (std::vector<float>{1, 2, 3, 4}));
}

TEST(ExecutableTest, UsingADonatedBufferIsAnError) {
  auto executable = cpu_client().compile(kDonatingIncrement);
  auto a = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {4});
  Buffer* const arguments[] = {a.get()};
  executable->execute(arguments, device(0));
  EXPECT_THROW(executable->execute(arguments, device(0)), Error);
}

TEST(ExecutableTest, DonatedBufferPassedTwiceIsAnError) {
  auto executable = cpu_client().compile(kDonatingAdd);
  auto a = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {4});
  Buffer* const arguments[] = {a.get(), a.get()};
  EXPECT_THROW(executable->execute(arguments, device(0)), Error);
}

TEST(ExecutableTest, NonDonatableIndicesAllowPassingABufferTwice) {
  auto executable = cpu_client().compile(kDonatingAdd);
  auto a = upload<float>({1, 2, 3, 4}, PJRT_Buffer_Type_F32, {4});
  Buffer* const arguments[] = {a.get(), a.get()};
  ExecuteOptions options;
  options.non_donatable_input_indices = {0};
  ExecuteResult result = executable->execute(arguments, device(0), options);
  EXPECT_EQ(download<float>(*result.outputs[0]), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_FALSE(a->is_deleted());
}

TEST(ExecutableTest, DoneEventCallbackRunsAfterExecution) {
  auto executable = cpu_client().compile(kMatmul);
  auto a = upload(std::vector<float>(512 * 512, 1.0f), PJRT_Buffer_Type_F32, {512, 512});
  Buffer* const arguments[] = {a.get()};
  ExecuteResult result = executable->execute(arguments, device(0));
  std::atomic<bool> called = false;
  result.done->on_ready([&](std::optional<Error> error) { called = !error.has_value(); });
  result.done->wait();
  for (int i = 0; i < 1000 && !called; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(called);
  EXPECT_TRUE(result.outputs[0]->ready_event()->is_ready());
  EXPECT_EQ(download<float>(*result.outputs[0]).at(0), 512.0f);
}

TEST(ExecutableTest, ConcurrentExecutionsFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> correct = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&correct, t] {
      for (int i = 0; i < 25; ++i) {
        if (run_add(add_executable(), (t + i) % 2) == kAPlusB) ++correct;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(correct, 100);
}

}  // namespace
}  // namespace torch_pjrt::pjrt
