// The shape and indexing rules build StableHLO the CPU plugin compiles, over
// dtypes and shapes (0-d, empty, broadcast index tensors); a few are run to
// check the semantics that are easiest to get wrong (skipped empty inputs,
// negative index wrapping, duplicate indices, padding_idx). The full
// comparison against PyTorch is tests/python/test_ops_shape_indexing.py.
#include <gtest/gtest.h>

#include <optional>
#include <variant>

#include "../stablehlo/executor.h"
#include "harness.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;
using stablehlo::Function;
using stablehlo::testing::HostTensor;

// A Python number / Scalar argument: a 0-d run-time value.
using testing::ArgSpec;
using testing::Number;
using testing::OptionalTensors;
using testing::Tensors;
Function lower(std::string_view name, std::string_view overload,
               const std::vector<ArgSpec>& specs) {
  return testing::lower_call(name, specs, {overload});
}

// Lowers and compiles; returns the result type.
TensorType compiles(std::string_view name, std::string_view overload,
                    const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs, {overload}).at(0);
}

template <class T>
HostTensor host(E type, std::vector<int64_t> dims, std::vector<T> values) {
  return HostTensor::of<T>(type, std::move(dims), values);
}

// Runs a lowered op on host tensors (in parameter order); returns result 0.
HostTensor run(std::string_view name, std::string_view overload, const std::vector<ArgSpec>& specs,
               const std::vector<HostTensor>& inputs) {
  return stablehlo::testing::run(lower(name, overload, specs), inputs).at(0);
}

TensorType t(E type, std::vector<int64_t> dims) { return {type, std::move(dims)}; }

Arg ints(std::vector<int64_t> values) { return Arg{std::move(values)}; }
Arg i64(int64_t value) { return Arg{value}; }

const std::vector<E> kDtypes = {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kPred};

TEST(ShapeIndexingRules, RuleTableHasThem) {
  for (const char* name : {"cat",
                           "stack",
                           "flip",
                           "roll",
                           "repeat",
                           "constant_pad_nd",
                           "tril",
                           "triu",
                           "index_select",
                           "embedding",
                           "embedding_dense_backward",
                           "index",
                           "_unsafe_index",
                           "index_put",
                           "_index_put_impl",
                           "_unsafe_index_put",
                           "gather",
                           "scatter",
                           "scatter_add",
                           "scatter_reduce",
                           "index_add"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
}

// --- cat / stack ---------------------------------------------------------------

TEST(ShapeRules, CatPromotesAndSkipsLegacyEmpty) {
  EXPECT_EQ(compiles("cat", "", {Tensors{{t(E::kF32, {2, 3}), t(E::kS64, {2, 4})}}, i64(-1)}),
            t(E::kF32, {2, 7}));
  EXPECT_EQ(compiles("cat", "", {Tensors{{t(E::kPred, {2}), t(E::kBF16, {3})}}, i64(0)}),
            t(E::kBF16, {5}));
  // A 1-D empty tensor is skipped whatever the others' rank, yet promotes.
  EXPECT_EQ(compiles("cat", "", {Tensors{{t(E::kS32, {2, 3}), t(E::kF64, {0})}}, i64(1)}),
            t(E::kF64, {2, 3}));
  EXPECT_EQ(compiles("cat", "", {Tensors{{t(E::kS32, {0}), t(E::kS64, {0})}}, i64(5)}),
            t(E::kS64, {0}));
  EXPECT_EQ(compiles("cat", "", {Tensors{{t(E::kF32, {0, 3}), t(E::kF32, {0, 3})}}, i64(0)}),
            t(E::kF32, {0, 3}));
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("cat", "", {Tensors{{t(type, {1, 2}), t(type, {3, 2})}}, i64(0)}),
              t(type, {4, 2}));
  }
  HostTensor out =
      run("cat", "", {Tensors{{t(E::kS32, {2}), t(E::kF32, {0}), t(E::kS64, {1})}}, i64(0)},
          {host<int32_t>(E::kS32, {2}, {1, 2}), host<float>(E::kF32, {0}, {}),
           host<int64_t>(E::kS64, {1}, {3})});
  EXPECT_EQ(out.type, t(E::kF32, {3}));
  EXPECT_EQ(out.as<float>(), (std::vector<float>{1, 2, 3}));
}

TEST(ShapeRules, CatErrors) {
  EXPECT_THROW(lower("cat", "", {Tensors{{}}, i64(0)}), InvalidArgument);
  EXPECT_THROW(lower("cat", "", {Tensors{{t(E::kF32, {}), t(E::kF32, {2})}}, i64(0)}),
               InvalidArgument);
  EXPECT_THROW(lower("cat", "", {Tensors{{t(E::kF32, {2, 3}), t(E::kF32, {3})}}, i64(0)}),
               InvalidArgument);
  EXPECT_THROW(lower("cat", "", {Tensors{{t(E::kF32, {2, 3}), t(E::kF32, {2, 4})}}, i64(0)}),
               InvalidArgument);
  EXPECT_THROW(lower("cat", "", {Tensors{{t(E::kF32, {2, 3})}}, i64(2)}), IndexOutOfRange);
}

TEST(ShapeRules, Stack) {
  EXPECT_EQ(compiles("stack", "", {Tensors{{t(E::kF32, {2}), t(E::kS64, {2})}}, i64(-1)}),
            t(E::kF32, {2, 2}));
  EXPECT_EQ(compiles("stack", "", {Tensors{{t(E::kS32, {}), t(E::kS32, {})}}, i64(0)}),
            t(E::kS32, {2}));
  EXPECT_EQ(compiles("stack", "", {Tensors{{t(E::kF32, {0}), t(E::kF32, {0})}}, i64(0)}),
            t(E::kF32, {2, 0}));
  EXPECT_THROW(lower("stack", "", {Tensors{{t(E::kF32, {2}), t(E::kF32, {3})}}, i64(0)}),
               InvalidArgument);
  EXPECT_THROW(lower("stack", "", {Tensors{{t(E::kF32, {2})}}, i64(2)}), IndexOutOfRange);
  HostTensor out = run("stack", "", {Tensors{{t(E::kS32, {2}), t(E::kS32, {2})}}, i64(1)},
                       {host<int32_t>(E::kS32, {2}, {1, 2}), host<int32_t>(E::kS32, {2}, {3, 4})});
  EXPECT_EQ(out.as<int32_t>(), (std::vector<int32_t>{1, 3, 2, 4}));
}

// --- flip / roll / repeat / pad / tril ------------------------------------------------

TEST(ShapeRules, RearrangementsCompileForEveryDtype) {
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("flip", "", {t(type, {2, 3}), ints({0, -1})}), t(type, {2, 3}));
    EXPECT_EQ(compiles("roll", "", {t(type, {2, 3}), ints({1, -4}), ints({0, 1})}),
              t(type, {2, 3}));
    EXPECT_EQ(compiles("repeat", "", {t(type, {2, 3}), ints({2, 1, 2})}), t(type, {2, 2, 6}));
    EXPECT_EQ(
        compiles("constant_pad_nd", "", {t(type, {2, 3}), ints({1, -1, 0, 2}), Number{E::kF64}}),
        t(type, {4, 3}));
    EXPECT_EQ(compiles("tril", "", {t(type, {2, 3, 4}), i64(-1)}), t(type, {2, 3, 4}));
    EXPECT_EQ(compiles("triu", "", {t(type, {3, 4}), i64(2)}), t(type, {3, 4}));
  }
  EXPECT_EQ(compiles("flip", "", {t(E::kF32, {}), ints({0})}), t(E::kF32, {}));
  EXPECT_EQ(compiles("roll", "", {t(E::kF32, {}), ints({1}), ints({})}), t(E::kF32, {}));
  EXPECT_EQ(compiles("roll", "", {t(E::kF32, {0, 3}), ints({1}), ints({0})}), t(E::kF32, {0, 3}));
  EXPECT_EQ(compiles("repeat", "", {t(E::kF32, {}), ints({})}), t(E::kF32, {}));
  EXPECT_EQ(compiles("repeat", "", {t(E::kF32, {2}), ints({0, 3})}), t(E::kF32, {0, 6}));
  EXPECT_EQ(compiles("tril", "", {t(E::kF32, {0, 3}), i64(0)}), t(E::kF32, {0, 3}));
  EXPECT_THROW(lower("flip", "", {t(E::kF32, {2, 3}), ints({0, -2})}), InvalidArgument);
  EXPECT_THROW(lower("roll", "", {t(E::kF32, {2, 3}), ints({1, 2}), ints({0})}), InvalidArgument);
  EXPECT_THROW(lower("roll", "", {t(E::kF32, {}), ints({1}), ints({0})}), IndexOutOfRange);
  EXPECT_THROW(lower("repeat", "", {t(E::kF32, {2, 3}), ints({2})}), InvalidArgument);
  EXPECT_THROW(lower("repeat", "", {t(E::kF32, {2, 3}), ints({2, -1})}), InvalidArgument);
  EXPECT_THROW(lower("constant_pad_nd", "", {t(E::kF32, {2}), ints({1, 1, 1, 1}), Number{E::kF64}}),
               InvalidArgument);
  EXPECT_THROW(lower("constant_pad_nd", "", {t(E::kF32, {2}), ints({-3, 0}), Number{E::kF64}}),
               InvalidArgument);
  EXPECT_THROW(lower("tril", "", {t(E::kF32, {3}), i64(0)}), InvalidArgument);
}

TEST(ShapeRules, RearrangementValues) {
  const HostTensor x = host<int32_t>(E::kS32, {2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(run("roll", "", {t(E::kS32, {2, 3}), ints({1}), ints({})}, {x}).as<int32_t>(),
            (std::vector<int32_t>{5, 0, 1, 2, 3, 4}));
  EXPECT_EQ(run("roll", "", {t(E::kS32, {2, 3}), ints({1, -1}), ints({0, 1})}, {x}).as<int32_t>(),
            (std::vector<int32_t>{4, 5, 3, 1, 2, 0}));
  EXPECT_EQ(run("flip", "", {t(E::kS32, {2, 3}), ints({1})}, {x}).as<int32_t>(),
            (std::vector<int32_t>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(run("repeat", "", {t(E::kS32, {2, 3}), ints({1, 2})}, {x}).as<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(run("tril", "", {t(E::kS32, {2, 3}), i64(0)}, {x}).as<int32_t>(),
            (std::vector<int32_t>{0, 0, 0, 3, 4, 0}));
  EXPECT_EQ(run("triu", "", {t(E::kS32, {2, 3}), i64(1)}, {x}).as<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 0, 0, 5}));
  // The fill value is a Python float, truncated into the integer tensor.
  EXPECT_EQ(run("constant_pad_nd", "", {t(E::kS32, {2, 3}), ints({1, -2}), Number{E::kF64}},
                {x, host<double>(E::kF64, {}, {-2.7})})
                .as<int32_t>(),
            (std::vector<int32_t>{-2, 0, -2, 3}));
}

// --- index_select / embedding -------------------------------------------------------

TEST(IndexingRules, IndexSelectAndEmbedding) {
  for (E type : kDtypes) {
    for (E index : {E::kS64, E::kS32}) {
      EXPECT_EQ(compiles("index_select", "", {t(type, {3, 4}), i64(-1), t(index, {5})}),
                t(type, {3, 5}));
      EXPECT_EQ(compiles("embedding", "",
                         {t(type, {10, 4}), t(index, {2, 3}), i64(-1), Arg{false}, Arg{false}}),
                t(type, {2, 3, 4}));
    }
  }
  EXPECT_EQ(compiles("index_select", "", {t(E::kF32, {3, 4}), i64(0), t(E::kS64, {})}),
            t(E::kF32, {1, 4}));
  EXPECT_EQ(compiles("index_select", "", {t(E::kF32, {}), i64(0), t(E::kS64, {})}), t(E::kF32, {}));
  EXPECT_EQ(compiles("index_select", "", {t(E::kF32, {0, 4}), i64(0), t(E::kS64, {0})}),
            t(E::kF32, {0, 4}));
  EXPECT_EQ(compiles("embedding", "",
                     {t(E::kF32, {10, 4}), t(E::kS64, {}), i64(-1), Arg{false}, Arg{false}}),
            t(E::kF32, {4}));
  EXPECT_THROW(lower("index_select", "", {t(E::kF32, {3}), i64(0), t(E::kS16, {2})}),
               InvalidArgument);
  EXPECT_THROW(lower("index_select", "", {t(E::kF32, {3}), i64(0), t(E::kS64, {2, 1})}),
               IndexOutOfRange);
  EXPECT_THROW(lower("index_select", "", {t(E::kF32, {0, 3}), i64(0), t(E::kS64, {1})}),
               InvalidArgument);
  EXPECT_THROW(
      lower("embedding", "", {t(E::kF32, {10}), t(E::kS64, {2}), i64(-1), Arg{false}, Arg{false}}),
      InvalidArgument);
  EXPECT_THROW(lower("embedding", "",
                     {t(E::kF32, {10, 4}), t(E::kF32, {2}), i64(-1), Arg{false}, Arg{false}}),
               InvalidArgument);

  const HostTensor x = host<float>(E::kF32, {3, 2}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(run("index_select", "", {t(E::kF32, {3, 2}), i64(0), t(E::kS32, {3})},
                {x, host<int32_t>(E::kS32, {3}, {2, 0, 2})})
                .as<float>(),
            (std::vector<float>{4, 5, 0, 1, 4, 5}));
  EXPECT_EQ(run("index_select", "", {t(E::kF32, {3, 2}), i64(1), t(E::kS64, {1})},
                {x, host<int64_t>(E::kS64, {1}, {1})})
                .as<float>(),
            (std::vector<float>{1, 3, 5}));
}

TEST(IndexingRules, EmbeddingDenseBackward) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kS64}) {
    for (bool scale : {false, true}) {
      EXPECT_EQ(compiles("embedding_dense_backward", "",
                         {t(type, {2, 3, 4}), t(E::kS64, {2, 3}), i64(7), i64(2), Arg{scale}}),
                t(type, {7, 4}));
    }
  }
  EXPECT_EQ(compiles("embedding_dense_backward", "",
                     {t(E::kF32, {0, 4}), t(E::kS32, {0}), i64(7), i64(-1), Arg{true}}),
            t(E::kF32, {7, 4}));
  EXPECT_THROW(lower("embedding_dense_backward", "",
                     {t(E::kF32, {2, 2, 4}), t(E::kS64, {2}), i64(7), i64(-1), Arg{false}}),
               InvalidArgument);
  // Rows 0, 1, 2 go to weights 1, 1, 3; weight 3 is padding; scaled by counts.
  HostTensor out = run(
      "embedding_dense_backward", "",
      {t(E::kF32, {3, 2}), t(E::kS64, {3}), i64(4), i64(3), Arg{true}},
      {host<float>(E::kF32, {3, 2}, {1, 2, 3, 4, 5, 6}), host<int64_t>(E::kS64, {3}, {1, 1, 3})});
  EXPECT_EQ(out.as<float>(), (std::vector<float>{0, 0, 2, 3, 0, 0, 0, 0}));
}

// --- advanced indexing --------------------------------------------------------------

TEST(IndexingRules, IndexShapes) {
  const TensorType x = t(E::kF32, {2, 3, 4});
  const TensorType i2 = t(E::kS64, {2});
  const std::optional<TensorType> none;
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{i2}}}), t(E::kF32, {2, 3, 4}));
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{none, i2}}}), t(E::kF32, {2, 2, 4}));
  // Separated by a full slice: the broadcast index dims go first.
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{i2, none, t(E::kS32, {2})}}}),
            t(E::kF32, {2, 3}));
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{none, i2, t(E::kS64, {2, 1})}}}),
            t(E::kF32, {2, 2, 2}));
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{t(E::kS64, {})}}}),
            t(E::kF32, {3, 4}));
  EXPECT_EQ(compiles("index", "Tensor", {x, OptionalTensors{{t(E::kS64, {0})}}}),
            t(E::kF32, {0, 3, 4}));
  EXPECT_EQ(compiles("index", "Tensor_hacked_twin", {x, Tensors{{i2, i2, i2}}}), t(E::kF32, {2}));
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("index", "Tensor", {t(type, {5}), OptionalTensors{{t(E::kS32, {2, 2})}}}),
              t(type, {2, 2}));
  }
  EXPECT_THROW(lower("index", "Tensor", {x, OptionalTensors{{i2, i2, i2, i2}}}), IndexOutOfRange);
  EXPECT_THROW(lower("index", "Tensor", {x, OptionalTensors{{t(E::kF32, {2})}}}), IndexOutOfRange);
  EXPECT_THROW(lower("index", "Tensor", {x, OptionalTensors{{i2, t(E::kS64, {3})}}}),
               IndexOutOfRange);
  EXPECT_THROW(lower("index", "Tensor", {t(E::kF32, {0, 3}), OptionalTensors{{i2}}}),
               IndexOutOfRange);
  EXPECT_THROW(lower("index", "Tensor", {x, OptionalTensors{{t(E::kPred, {2})}}}), Unsupported);
}

TEST(IndexingRules, IndexValues) {
  const HostTensor x = host<int32_t>(E::kS32, {2, 3}, {0, 1, 2, 3, 4, 5});
  const std::optional<TensorType> none;
  // Negative indices count from the end.
  EXPECT_EQ(run("index", "Tensor", {t(E::kS32, {2, 3}), OptionalTensors{{none, t(E::kS64, {2})}}},
                {x, host<int64_t>(E::kS64, {2}, {-1, 0})})
                .as<int32_t>(),
            (std::vector<int32_t>{2, 0, 5, 3}));
  EXPECT_EQ(run("index", "Tensor",
                {t(E::kS32, {2, 3}), OptionalTensors{{t(E::kS32, {2}), t(E::kS64, {2})}}},
                {x, host<int32_t>(E::kS32, {2}, {1, -2}), host<int64_t>(E::kS64, {2}, {2, 1})})
                .as<int32_t>(),
            (std::vector<int32_t>{5, 1}));
}

TEST(IndexingRules, IndexPut) {
  const TensorType x = t(E::kF32, {3, 4});
  const std::optional<TensorType> none;
  for (E type : kDtypes) {
    for (bool accumulate : {false, true}) {
      EXPECT_EQ(compiles("index_put", "",
                         {t(type, {3, 4}), OptionalTensors{{none, t(E::kS64, {2})}},
                          t(type, {3, 1}), Arg{accumulate}}),
                t(type, {3, 4}));
    }
  }
  EXPECT_EQ(
      compiles("_index_put_impl", "",
               {x, OptionalTensors{{t(E::kS64, {0})}}, t(E::kF32, {}), Arg{true}, Arg{false}}),
      x);
  // A boolean mask with one value for every selected element is a select.
  EXPECT_EQ(compiles("index_put", "",
                     {x, OptionalTensors{{t(E::kPred, {3, 4})}}, t(E::kF32, {}), Arg{false}}),
            x);
  EXPECT_EQ(compiles("index_put", "",
                     {x, OptionalTensors{{t(E::kPred, {3})}}, t(E::kF32, {4}), Arg{true}}),
            x);
  EXPECT_THROW(lower("index_put", "",
                     {x, OptionalTensors{{t(E::kPred, {3})}}, t(E::kF32, {2, 4}), Arg{false}}),
               Unsupported);
  EXPECT_THROW(
      lower("index_put", "", {x, OptionalTensors{{t(E::kS64, {2})}}, t(E::kF64, {}), Arg{false}}),
      InvalidArgument);
  EXPECT_THROW(
      lower("index_put", "", {x, OptionalTensors{{t(E::kS64, {2})}}, t(E::kF32, {3}), Arg{false}}),
      InvalidArgument);

  // Duplicate indices accumulate; negative ones wrap.
  HostTensor out =
      run("index_put", "",
          {t(E::kF32, {4}), OptionalTensors{{t(E::kS64, {3})}}, t(E::kF32, {3}), Arg{true}},
          {host<float>(E::kF32, {4}, {0, 0, 0, 0}), host<int64_t>(E::kS64, {3}, {1, 1, -1}),
           host<float>(E::kF32, {3}, {1, 2, 4})});
  EXPECT_EQ(out.as<float>(), (std::vector<float>{0, 3, 0, 4}));
  HostTensor masked =
      run("index_put", "",
          {t(E::kF32, {3}), OptionalTensors{{t(E::kPred, {3})}}, t(E::kF32, {}), Arg{false}},
          {host<float>(E::kF32, {3}, {1, 2, 3}), host<uint8_t>(E::kPred, {3}, {1, 0, 1}),
           host<float>(E::kF32, {}, {9})});
  EXPECT_EQ(masked.as<float>(), (std::vector<float>{9, 2, 9}));
}

// --- gather / scatter / index_add ---------------------------------------------------

TEST(IndexingRules, GatherScatterCompile) {
  // Index dtypes only matter for gather/scatter's coordinates: s32 on one dtype.
  for (E type : kDtypes) {
    for (E index : type == E::kF32 ? std::vector<E>{E::kS64, E::kS32} : std::vector<E>{E::kS64}) {
      EXPECT_EQ(compiles("gather", "", {t(type, {3, 4}), i64(1), t(index, {2, 5}), Arg{false}}),
                t(type, {2, 5}));
      EXPECT_EQ(
          compiles("scatter", "src", {t(type, {3, 4}), i64(0), t(index, {2, 3}), t(type, {4, 4})}),
          t(type, {3, 4}));
      EXPECT_EQ(compiles("scatter", "value",
                         {t(type, {3, 4}), i64(-1), t(index, {2, 3}), Number{E::kF64}}),
                t(type, {3, 4}));
      EXPECT_EQ(
          compiles("scatter_add", "", {t(type, {3, 4}), i64(0), t(index, {2, 3}), t(type, {2, 3})}),
          t(type, {3, 4}));
      EXPECT_EQ(
          compiles("index_add", "",
                   {t(type, {3, 4}), i64(1), t(index, {2}), t(type, {3, 2}), Number{E::kS64}}),
          t(type, {3, 4}));
    }
  }
  for (E type : {E::kF32, E::kBF16, E::kS32, E::kPred}) {
    for (const char* reduce : {"sum", "prod", "amax", "amin", "mean"}) {
      if (type == E::kPred && std::string_view(reduce) == "mean") continue;
      for (bool include_self : {false, true}) {
        EXPECT_EQ(compiles("scatter_reduce", "two",
                           {t(type, {3, 4}), i64(1), t(E::kS64, {3, 2}), t(type, {3, 2}),
                            Arg{std::string(reduce)}, Arg{include_self}}),
                  t(type, {3, 4}));
      }
    }
  }
  EXPECT_EQ(compiles("gather", "", {t(E::kF32, {}), i64(0), t(E::kS64, {2}), Arg{false}}),
            t(E::kF32, {2}));
  EXPECT_EQ(compiles("gather", "", {t(E::kF32, {0, 3}), i64(1), t(E::kS64, {0, 2}), Arg{false}}),
            t(E::kF32, {0, 2}));
  EXPECT_EQ(compiles("scatter", "src", {t(E::kF32, {}), i64(0), t(E::kS64, {}), t(E::kF32, {})}),
            t(E::kF32, {}));
  EXPECT_EQ(compiles("scatter", "reduce",
                     {t(E::kBF16, {3}), i64(0), t(E::kS64, {2}), t(E::kBF16, {2}),
                      Arg{std::string("multiply")}}),
            t(E::kBF16, {3}));
  EXPECT_EQ(compiles("index_add", "",
                     {t(E::kF32, {}), i64(0), t(E::kS64, {}), t(E::kF32, {}), Number{E::kF64}}),
            t(E::kF32, {}));
  EXPECT_THROW(lower("gather", "", {t(E::kF32, {3, 4}), i64(0), t(E::kS64, {2, 5}), Arg{false}}),
               InvalidArgument);
  EXPECT_THROW(lower("gather", "", {t(E::kF32, {3, 4}), i64(0), t(E::kF32, {2, 2}), Arg{false}}),
               InvalidArgument);
  EXPECT_THROW(lower("scatter", "src", {t(E::kF32, {3}), i64(0), t(E::kS64, {2}), t(E::kF64, {2})}),
               InvalidArgument);
  EXPECT_THROW(lower("scatter_reduce", "two",
                     {t(E::kF32, {3}), i64(0), t(E::kS64, {2}), t(E::kF32, {2}),
                      Arg{std::string("maximum")}, Arg{true}}),
               InvalidArgument);
  EXPECT_THROW(
      lower("index_add", "",
            {t(E::kF32, {3, 4}), i64(0), t(E::kS64, {2}), t(E::kF32, {3, 4}), Number{E::kS64}}),
      InvalidArgument);
}

TEST(IndexingRules, GatherScatterValues) {
  const HostTensor x = host<float>(E::kF32, {2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(run("gather", "", {t(E::kF32, {2, 3}), i64(1), t(E::kS64, {2, 2}), Arg{false}},
                {x, host<int64_t>(E::kS64, {2, 2}, {2, 0, 1, 1})})
                .as<float>(),
            (std::vector<float>{2, 0, 4, 4}));
  EXPECT_EQ(
      run("scatter_add", "", {t(E::kF32, {2, 3}), i64(1), t(E::kS32, {2, 2}), t(E::kF32, {2, 2})},
          {x, host<int32_t>(E::kS32, {2, 2}, {2, 2, 0, 1}),
           host<float>(E::kF32, {2, 2}, {10, 20, 30, 40})})
          .as<float>(),
      (std::vector<float>{0, 1, 32, 33, 44, 5}));
  // Integer mean rounds down: (1 + 7) / 2 = 4, (-10 + 3) / 2 = -3.5 -> -4.
  EXPECT_EQ(run("scatter_reduce", "two",
                {t(E::kS32, {2}), i64(0), t(E::kS64, {2}), t(E::kS32, {2}),
                 Arg{std::string("mean")}, Arg{true}},
                {host<int32_t>(E::kS32, {2}, {1, -10}), host<int64_t>(E::kS64, {2}, {0, 1}),
                 host<int32_t>(E::kS32, {2}, {7, 3})})
                .as<int32_t>(),
            (std::vector<int32_t>{4, -4}));
  EXPECT_EQ(run("scatter_reduce", "two",
                {t(E::kF32, {3}), i64(0), t(E::kS64, {2}), t(E::kF32, {2}),
                 Arg{std::string("amax")}, Arg{false}},
                {host<float>(E::kF32, {3}, {9, 9, 9}), host<int64_t>(E::kS64, {2}, {0, 0}),
                 host<float>(E::kF32, {2}, {1, 2})})
                .as<float>(),
            (std::vector<float>{2, 9, 9}));
  EXPECT_EQ(run("index_add", "",
                {t(E::kF32, {2, 3}), i64(1), t(E::kS64, {2}), t(E::kF32, {2, 2}), Number{E::kS64}},
                {x, host<int64_t>(E::kS64, {2}, {2, 2}), host<float>(E::kF32, {2, 2}, {1, 2, 3, 4}),
                 host<int64_t>(E::kS64, {}, {2})})
                .as<float>(),
            (std::vector<float>{0, 1, 8, 3, 4, 19}));
}

TEST(IndexingRules, RowAndFlatWrites) {
  for (E type : kDtypes) {
    EXPECT_EQ(
        compiles("index_copy", "", {t(type, {3, 4}), i64(1), t(E::kS64, {2}), t(type, {3, 2})}),
        t(type, {3, 4}));
    EXPECT_EQ(compiles("index_fill", "int_Scalar",
                       {t(type, {3, 4}), i64(0), t(E::kS64, {2}), Number{E::kF64}}),
              t(type, {3, 4}));
    EXPECT_EQ(compiles("take", "", {t(type, {3, 4}), t(E::kS64, {2, 2})}), t(type, {2, 2}));
    EXPECT_EQ(compiles("put", "", {t(type, {3, 4}), t(E::kS64, {5}), t(type, {5}), Arg{true}}),
              t(type, {3, 4}));
  }
  EXPECT_EQ(compiles("index_copy", "", {t(E::kF32, {}), i64(0), t(E::kS64, {1}), t(E::kF32, {})}),
            t(E::kF32, {}));
  EXPECT_EQ(compiles("index_fill", "int_Tensor",
                     {t(E::kF32, {}), i64(0), t(E::kS64, {}), t(E::kF32, {})}),
            t(E::kF32, {}));
  EXPECT_EQ(compiles("take", "", {t(E::kF32, {0}), t(E::kS64, {0})}), t(E::kF32, {0}));
  EXPECT_THROW(lower("index_copy", "", {t(E::kF32, {3}), i64(0), t(E::kS32, {1}), t(E::kF32, {1})}),
               InvalidArgument);
  EXPECT_THROW(lower("index_fill", "int_Tensor",
                     {t(E::kF32, {3}), i64(0), t(E::kS64, {1}), t(E::kF32, {1})}),
               InvalidArgument);
  EXPECT_THROW(lower("take", "", {t(E::kF32, {3}), t(E::kS32, {1})}), InvalidArgument);
  EXPECT_THROW(lower("put", "", {t(E::kF32, {3}), t(E::kS64, {2}), t(E::kF32, {3}), Arg{false}}),
               IndexOutOfRange);

  const HostTensor x = host<float>(E::kF32, {2, 3}, {0, 1, 2, 3, 4, 5});
  // index_fill and take wrap negative indices; put accumulates duplicates.
  EXPECT_EQ(run("index_fill", "int_Scalar",
                {t(E::kF32, {2, 3}), i64(1), t(E::kS64, {1}), Number{E::kF64}},
                {x, host<int64_t>(E::kS64, {1}, {-1}), host<double>(E::kF64, {}, {9})})
                .as<float>(),
            (std::vector<float>{0, 1, 9, 3, 4, 9}));
  EXPECT_EQ(run("take", "", {t(E::kF32, {2, 3}), t(E::kS64, {3})},
                {x, host<int64_t>(E::kS64, {3}, {-1, 0, 4})})
                .as<float>(),
            (std::vector<float>{5, 0, 4}));
  EXPECT_EQ(
      run("put", "", {t(E::kF32, {2, 3}), t(E::kS64, {3}), t(E::kF32, {3}), Arg{true}},
          {x, host<int64_t>(E::kS64, {3}, {1, -1, 1}), host<float>(E::kF32, {3}, {10, 20, 30})})
          .as<float>(),
      (std::vector<float>{0, 41, 2, 3, 4, 25}));
  EXPECT_EQ(run("index_copy", "", {t(E::kF32, {2, 3}), i64(0), t(E::kS64, {1}), t(E::kF32, {1, 3})},
                {x, host<int64_t>(E::kS64, {1}, {1}), host<float>(E::kF32, {1, 3}, {7, 8, 9})})
                .as<float>(),
            (std::vector<float>{0, 1, 2, 7, 8, 9}));
}

}  // namespace
}  // namespace torch_pjrt::lowering
