#include "engine/view_prologue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "../stablehlo/executor.h"
#include "pjrt/pjrt.h"
#include "stablehlo/builder.h"
#include "stablehlo/pjrt_type.h"

// Every expected value here comes from a plain index loop over the host bytes
// (as_strided semantics), never from hand-written numbers, and every program
// runs on the real XLA:CPU plugin, so the tests prove what the plugin does with
// the emitted chains, not just their shapes.

namespace torch_pjrt::engine {
namespace {

using stablehlo::Builder;
using stablehlo::ElementType;
using stablehlo::Function;
using stablehlo::TensorType;
using stablehlo::Value;

// --- the device --------------------------------------------------------------

const pjrt::Client& client() { return stablehlo::testing::detail::client(); }

PJRT_Buffer_Type buffer_type(ElementType t) { return stablehlo::to_pjrt_type(t); }

// A dense row-major host tensor, as raw bytes.
struct Host {
  TensorType type;
  std::vector<uint8_t> bytes;
};

std::vector<Host> execute(const Function& fn, const std::vector<Host>& arguments) {
  const pjrt::Client& c = client();
  const pjrt::Device& device = c.addressable_devices().at(0);
  auto executable = c.compile(fn.to_mlir());
  std::vector<std::unique_ptr<pjrt::Buffer>> inputs;
  std::vector<pjrt::Buffer*> raw;
  for (const Host& a : arguments) {
    inputs.push_back(
        c.buffer_from_host(a.bytes.data(), buffer_type(a.type.element), a.type.dims, device));
    raw.push_back(inputs.back().get());
  }
  pjrt::ExecuteResult result = executable->execute(raw, device);
  const std::vector<TensorType> types = fn.result_types();
  std::vector<Host> outputs;
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    Host out{types.at(i), {}};
    out.bytes.resize(result.outputs[i]->host_size());
    result.outputs[i]->to_host(out.bytes.data(), out.bytes.size());
    outputs.push_back(std::move(out));
  }
  return outputs;
}

// --- the reference -------------------------------------------------------------

int64_t width(ElementType t) { return stablehlo::byte_width(t); }

// Calls f(linear index, element address) for every element of the view in
// row-major order of its sizes.
template <class F>
void for_each_element(const ViewLayout& v, F f) {
  const int64_t n = v.numel();
  std::vector<int64_t> index(v.sizes.size(), 0);
  for (int64_t linear = 0; linear < n; ++linear) {
    int64_t address = v.offset;
    for (size_t d = 0; d < index.size(); ++d) address += index[d] * v.strides[d];
    f(linear, address);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < v.sizes[d]) break;
      index[d] = 0;
    }
  }
}

// PyTorch's bool is one byte, 0 or 1; reading any other byte as bool gives true.
void normalize_pred(Host& h) {
  if (h.type.element != ElementType::kPred) return;
  for (uint8_t& byte : h.bytes) byte = byte != 0;
}

Host reference_read(const Host& storage, const ViewLayout& v) {
  const int64_t w = width(v.element);
  Host out{{v.element, v.sizes}, std::vector<uint8_t>(v.numel() * w)};
  for_each_element(v, [&](int64_t i, int64_t address) {
    std::memcpy(&out.bytes[i * w], &storage.bytes.at(address * w + w - 1) - (w - 1), w);
  });
  normalize_pred(out);
  return out;
}

Host reference_write(const Host& storage, const ViewLayout& v, const Host& update) {
  const int64_t w = width(v.element);
  Host out = storage;
  for_each_element(v, [&](int64_t i, int64_t address) {
    std::memcpy(&out.bytes.at(address * w + w - 1) - (w - 1), &update.bytes[i * w], w);
  });
  normalize_pred(out);
  return out;
}

bool reference_overlap(const ViewLayout& v) {
  std::set<int64_t> seen;
  bool overlap = false;
  for_each_element(
      v, [&](int64_t, int64_t address) { overlap = overlap || !seen.insert(address).second; });
  return overlap;
}

// Bytes 1..0x7e in every position: whatever type reads them, they are normal
// finite numbers (never NaN, inf or subnormal), so bit-exact comparisons hold.
Host random_host(const TensorType& type, std::mt19937& rng) {
  Host h{type, std::vector<uint8_t>(type.numel() * width(type.element))};
  std::uniform_int_distribution<int> byte(1, 0x7e);
  for (uint8_t& b : h.bytes) b = static_cast<uint8_t>(byte(rng));
  if (type.element == ElementType::kPred) {
    for (uint8_t& b : h.bytes) b &= 1;
  }
  return h;
}

std::string describe(const TensorType& storage, const ViewLayout& v) {
  auto list = [](const std::vector<int64_t>& xs) {
    std::string s = "[";
    for (size_t i = 0; i < xs.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(xs[i]);
    }
    return s + "]";
  };
  return "storage " + storage.to_string() + " view " + std::string(short_name(v.element)) +
         " sizes " + list(v.sizes) + " strides " + list(v.strides) + " offset " +
         std::to_string(v.offset);
}

std::string hex(const std::vector<uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes.size() && i < 256; ++i) {
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
    s += (i % 16 == 15) ? '\n' : ' ';
  }
  return s;
}

// --- checks: many cases share one program, so the sweep compiles a few times --

struct Case {
  Case(TensorType s, ViewLayout v) : storage(std::move(s)), view(std::move(v)) {}
  TensorType storage;
  ViewLayout view;
};

void check_reads(const std::vector<Case>& cases, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  Builder b;
  std::vector<Value> results;
  std::vector<Host> storages;
  for (const Case& c : cases) {
    storages.push_back(random_host(c.storage, rng));
    results.push_back(read_view(b, b.parameter(c.storage), c.view));
    ASSERT_EQ(b.type(results.back()), (TensorType{c.view.element, c.view.sizes}))
        << describe(c.storage, c.view);
  }
  const std::vector<Host> out = execute(b.finish(results), storages);
  ASSERT_EQ(out.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Host expected = reference_read(storages[i], cases[i].view);
    EXPECT_EQ(out[i].bytes, expected.bytes)
        << "read " << describe(cases[i].storage, cases[i].view) << "\nstorage:\n"
        << hex(storages[i].bytes) << "\ngot:\n"
        << hex(out[i].bytes) << "\nexpected:\n"
        << hex(expected.bytes);
  }
}

void check_writes(const std::vector<Case>& cases, uint32_t seed = 2) {
  std::mt19937 rng(seed);
  Builder b;
  std::vector<Value> results;
  std::vector<Host> arguments;
  for (const Case& c : cases) {
    ASSERT_FALSE(reference_overlap(c.view)) << describe(c.storage, c.view);
    arguments.push_back(random_host(c.storage, rng));
    arguments.push_back(random_host({c.view.element, c.view.sizes}, rng));
    Value storage = b.parameter(c.storage);
    Value update = b.parameter({c.view.element, c.view.sizes});
    results.push_back(write_view(b, storage, c.view, update));
    ASSERT_EQ(b.type(results.back()), c.storage) << describe(c.storage, c.view);
  }
  const std::vector<Host> out = execute(b.finish(results), arguments);
  ASSERT_EQ(out.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Host expected = reference_write(arguments[2 * i], cases[i].view, arguments[2 * i + 1]);
    EXPECT_EQ(out[i].bytes, expected.bytes)
        << "write " << describe(cases[i].storage, cases[i].view) << "\ngot:\n"
        << hex(out[i].bytes) << "\nexpected:\n"
        << hex(expected.bytes);
  }
}

void check_both(const std::vector<Case>& cases) {
  check_reads(cases);
  check_writes(cases);
}

// The names of the ops a read or write emits, to pin down which path it takes.
std::multiset<std::string> read_ops(const TensorType& storage, const ViewLayout& view) {
  Builder b;
  Value v = read_view(b, b.parameter(storage), view);
  std::multiset<std::string> ops;
  for (const auto& op : b.finish({v}).body.operations) ops.insert(op.name);
  return ops;
}

std::multiset<std::string> write_ops(const TensorType& storage, const ViewLayout& view) {
  Builder b;
  Value s = b.parameter(storage);
  Value v = write_view(b, s, view, b.parameter({view.element, view.sizes}));
  std::multiset<std::string> ops;
  for (const auto& op : b.finish({v}).body.operations) ops.insert(op.name);
  return ops;
}

bool only(const std::multiset<std::string>& ops, std::set<std::string> allowed) {
  return std::all_of(ops.begin(), ops.end(),
                     [&](const std::string& op) { return allowed.count(op) != 0; });
}

constexpr ElementType kF32 = ElementType::kF32;
constexpr ElementType kF64 = ElementType::kF64;
constexpr ElementType kS32 = ElementType::kS32;
constexpr ElementType kU8 = ElementType::kU8;
constexpr ElementType kPred = ElementType::kPred;
constexpr ElementType kC64 = ElementType::kC64;

ViewLayout view(std::vector<int64_t> sizes, std::vector<int64_t> strides, int64_t offset = 0,
                ElementType element = kF32) {
  return {std::move(sizes), std::move(strides), offset, element};
}

// --- predicates -------------------------------------------------------------------

TEST(ViewPrologueCoversStorage, NaturalOrderOnly) {
  const TensorType s{kF32, {4, 5}};
  EXPECT_TRUE(covers_storage(s, view({4, 5}, {5, 1})));
  EXPECT_TRUE(covers_storage(s, view({20}, {1})));
  EXPECT_TRUE(covers_storage(s, view({2, 1, 10}, {10, 77, 1})));  // size-1 stride is free
  EXPECT_TRUE(covers_storage(s, view({1, 20, 1}, {0, 1, 3})));
  EXPECT_FALSE(covers_storage(s, view({5, 4}, {1, 5})));                        // transposed
  EXPECT_FALSE(covers_storage(s, view({4, 4}, {5, 1})));                        // a part
  EXPECT_FALSE(covers_storage(s, view({20}, {1}, 1)));                          // offset
  EXPECT_FALSE(covers_storage(s, view({4, 5}, {5, 1}, 0, ElementType::kS32)));  // other type
  EXPECT_FALSE(covers_storage(s, view({4, 5}, {0, 1})));                        // expanded
  EXPECT_TRUE(covers_storage({kF32, {}}, view({}, {})));
  EXPECT_TRUE(covers_storage({kF32, {1}}, view({}, {})));
  EXPECT_TRUE(covers_storage({kF32, {0, 3}}, view({0}, {1})));
}

TEST(ViewPrologueOverlap, StrideZeroAndOverlappingStrides) {
  EXPECT_FALSE(has_internal_overlap(view({4, 5}, {5, 1})));
  EXPECT_FALSE(has_internal_overlap(view({5, 4}, {1, 5})));
  EXPECT_FALSE(has_internal_overlap(view({4}, {6})));              // diagonal
  EXPECT_FALSE(has_internal_overlap(view({3, 1, 4}, {4, 0, 1})));  // size-1 dims
  EXPECT_FALSE(has_internal_overlap(view({1, 1}, {0, 0})));
  EXPECT_FALSE(has_internal_overlap(view({0, 3}, {0, 0})));  // empty
  EXPECT_FALSE(has_internal_overlap(view({2, 3}, {4, 3})));  // interleaved, disjoint
  EXPECT_FALSE(has_internal_overlap(view({2, 2}, {3, 2})));
  EXPECT_TRUE(has_internal_overlap(view({3, 4}, {0, 1})));  // expand
  EXPECT_TRUE(has_internal_overlap(view({3, 4}, {2, 1})));  // unfold windows
  EXPECT_TRUE(has_internal_overlap(view({2, 2}, {1, 1})));
  EXPECT_TRUE(has_internal_overlap(view({4, 3}, {2, 3})));  // 0 + 1*3 == ... 3 + 0
  // Against brute force over all small layouts.
  for (int64_t s0 = 0; s0 <= 6; ++s0) {
    for (int64_t s1 = 0; s1 <= 6; ++s1) {
      for (int64_t n0 = 1; n0 <= 4; ++n0) {
        for (int64_t n1 = 1; n1 <= 4; ++n1) {
          const ViewLayout v = view({n0, n1, 2}, {s0, s1, 5});
          EXPECT_EQ(has_internal_overlap(v), reference_overlap(v)) << describe({kF32, {100}}, v);
        }
      }
    }
  }
}

// --- reads and writes of the usual views --------------------------------------

TEST(ViewPrologueRead, CoveringViewIsAReshape) {
  const TensorType s{kF32, {4, 5}};
  EXPECT_TRUE(read_ops(s, view({4, 5}, {5, 1})).empty());
  EXPECT_TRUE(only(read_ops(s, view({2, 10}, {10, 1})), {"stablehlo.reshape"}));
  EXPECT_TRUE(only(write_ops(s, view({20}, {1})), {"stablehlo.reshape"}));
  EXPECT_TRUE(write_ops(s, view({4, 5}, {5, 1})).empty());
  check_both({{s, view({4, 5}, {5, 1})},
              {s, view({20}, {1})},
              {s, view({2, 2, 5}, {10, 5, 1})},
              {{kF32, {}}, view({1, 1}, {3, 9})}});
}

TEST(ViewPrologueRead, Permutations) {
  const TensorType s2{kF32, {4, 5}};
  const TensorType s3{kF32, {2, 3, 4}};
  EXPECT_TRUE(
      only(read_ops(s2, view({5, 4}, {1, 5})), {"stablehlo.reshape", "stablehlo.transpose"}));
  EXPECT_TRUE(only(write_ops(s3, view({4, 2, 3}, {1, 12, 4})),
                   {"stablehlo.reshape", "stablehlo.transpose"}));
  check_both({{s2, view({5, 4}, {1, 5})},
              {s3, view({4, 3, 2}, {1, 4, 12})},
              {s3, view({3, 2, 4}, {4, 12, 1})},
              {s3, view({2, 4, 3}, {12, 1, 4})},
              {s3, view({4, 2, 3}, {1, 12, 4})}});
}

TEST(ViewPrologueRead, SlicesWithOffsetsAndSteps) {
  const TensorType s{kF32, {8, 16}};
  // A slice of the natural shape stays one slice of it, with no gather.
  EXPECT_TRUE(only(read_ops(s, view({3, 4}, {16, 1}, 2 * 16 + 3)),
                   {"stablehlo.reshape", "stablehlo.slice"}));
  EXPECT_EQ(read_ops(s, view({3, 4}, {16, 1}, 2 * 16 + 3)).count("stablehlo.slice"), 1u);
  EXPECT_TRUE(only(write_ops(s, view({3, 4}, {16, 1}, 2 * 16 + 3)),
                   {"stablehlo.reshape", "stablehlo.dynamic_update_slice", "stablehlo.constant"}));
  // Rows of 4 that run past the end of an 11-element storage: the segment is
  // padded rather than gathered.
  const ViewLayout tail = view({2, 2}, {4, 1}, 5);
  EXPECT_EQ(read_ops({kF32, {11}}, tail).count("stablehlo.pad"), 1u);
  EXPECT_EQ(read_ops({kF32, {11}}, tail).count("stablehlo.gather"), 0u);
  EXPECT_EQ(write_ops({kF32, {11}}, tail).count("stablehlo.scatter"), 0u);
  check_both({
      {{kF32, {11}}, tail},
      {s, view({3, 16}, {16, 1}, 32)},         // x[2:5]
      {s, view({8, 4}, {16, 1}, 3)},           // x[:, 3:7]
      {s, view({3, 4}, {16, 1}, 2 * 16 + 3)},  // x[2:5, 3:7]
      {s, view({4, 16}, {32, 1}, 16)},         // x[1::2]
      {s, view({8, 5}, {16, 3}, 1)},           // x[:, 1::3]
      {s, view({3, 3}, {32, 5}, 16 + 2)},      // x[1::2, 2::5]
      {s, view({16, 4}, {1, 32}, 0)},          // x[::2].t()
      {{kF32, {10}}, view({4}, {3}, 0)},       // x[::3], the last row partial
      {{kF32, {10}}, view({3}, {3}, 1)},
      {{kF32, {2, 3, 5}}, view({2, 2, 2}, {15, 5, 2}, 1)},
  });
}

TEST(ViewPrologueRead, SelectRowsAndColumns) {
  const TensorType s{kF32, {6, 7}};
  EXPECT_TRUE(only(read_ops(s, view({7}, {1}, 14)), {"stablehlo.reshape", "stablehlo.slice"}));
  EXPECT_TRUE(only(read_ops(s, view({6}, {7}, 3)), {"stablehlo.reshape", "stablehlo.slice"}));
  check_both({
      {s, view({7}, {1}, 14)},                        // x[2]
      {s, view({6}, {7}, 3)},                         // x[:, 3]
      {s, view({6}, {7}, 6)},                         // x[:, -1]
      {s, view({}, {}, 40)},                          // x[5, 5]
      {{kF32, {2, 3, 4}}, view({2, 4}, {12, 1}, 4)},  // x[:, 1]
      {{kF32, {2, 3, 4}}, view({2, 3}, {12, 4}, 3)},  // x[..., 3]
  });
}

TEST(ViewPrologueRead, ExpandIsABroadcast) {
  const TensorType s{kF32, {5}};
  const auto ops = read_ops(s, view({3, 5}, {0, 1}));
  EXPECT_TRUE(only(ops, {"stablehlo.reshape", "stablehlo.broadcast_in_dim"}));
  EXPECT_TRUE(has_internal_overlap(view({3, 5}, {0, 1})));
  check_reads({
      {s, view({3, 5}, {0, 1})},
      {s, view({5, 3}, {1, 0})},
      {s, view({2, 3, 2}, {0, 1, 0}, 1)},
      {{kF32, {1}}, view({4, 4}, {0, 0})},
      {{kF32, {4, 6}}, view({4, 3, 2}, {6, 0, 2}, 1)},
  });
}

TEST(ViewPrologueRead, SizeOneDimsWithOddStrides) {
  const TensorType s{kF32, {3, 4}};
  check_both({
      {s, view({3, 1, 4}, {4, 99, 1})},  // unsqueeze(1)
      {s, view({1, 3, 4, 1}, {0, 4, 1, 7})},
      {s, view({1, 4}, {1000, 1}, 8)},  // x[2:3]
      {s, view({3, 1}, {4, 0}, 2)},     // x[:, 2:3]
      {s, view({1, 1, 1}, {5, 6, 7}, 11)},
  });
}

TEST(ViewPrologueRead, Diagonals) {
  const TensorType s{kF32, {4, 4}};
  EXPECT_TRUE(read_ops(s, view({4}, {5})).count("stablehlo.gather") == 0);
  EXPECT_TRUE(write_ops(s, view({4}, {5})).count("stablehlo.scatter") == 0);
  check_both({
      {s, view({4}, {5})},                        // diagonal()
      {s, view({3}, {5}, 1)},                     // diagonal(1)
      {s, view({3}, {5}, 4)},                     // diagonal(-1)
      {{kF32, {3, 5}}, view({3}, {6})},           // non-square
      {{kF32, {2, 3, 3}}, view({2, 3}, {9, 4})},  // batched diagonal
      {{kF32, {3, 3, 3}}, view({3}, {13})},
  });
}

TEST(ViewPrologueRead, OverlappingWindowsGather) {
  const TensorType s{kF32, {10}};
  const ViewLayout unfold = view({8, 3}, {1, 1});  // x.unfold(0, 3, 1)
  EXPECT_EQ(read_ops(s, unfold).count("stablehlo.gather"), 1u);
  check_reads({
      {s, unfold},
      {s, view({4, 3}, {2, 1})},  // unfold(0, 3, 2)
      {s, view({3, 4}, {1, 2}, 1)},
      {{kF32, {4, 5}}, view({2, 3, 3, 3}, {5, 1, 5, 1})},  // 2-D sliding windows
      {{kF32, {11}}, view({3, 3}, {3, 2})},                // non-divisible strides, no overlap
  });
}

TEST(ViewPrologueRead, ZeroDimensionalAndEmpty) {
  const TensorType s{kF32, {3, 4}};
  EXPECT_TRUE(only(read_ops(s, view({0, 4}, {4, 1}, 5)), {"stablehlo.constant"}));
  EXPECT_TRUE(write_ops(s, view({2, 0}, {4, 1}, 5)).empty());
  check_both({
      {s, view({}, {}, 7)},
      {s, view({}, {}, 0)},
      {s, view({0, 4}, {4, 1}, 5)},
      {s, view({3, 0, 2}, {4, 1, 1}, 11)},
      {{kF32, {0}}, view({0}, {1})},
      {{kF32, {}}, view({}, {})},
  });
}

TEST(ViewPrologueWrite, NonContiguousTargets) {
  // Writes through views that are neither boxes nor contiguous blocks.
  check_writes({
      {{kF32, {11}}, view({3, 3}, {3, 2})},       // non-divisible strides: scatter
      {{kF32, {30}}, view({2, 3}, {4, 3})},       // interleaved, disjoint
      {{kF32, {4, 5}}, view({3, 2}, {5, 3}, 1)},  // strided last dim (pad + select)
      {{kF32, {12}}, view({3}, {5}, 1)},
  });
}

// --- reinterpreted element types -------------------------------------------------

TEST(ViewPrologueDtype, SameWidthPairs) {
  check_both({
      {{kF32, {2, 3}}, view({2, 3}, {3, 1}, 0, kS32)},
      {{kS32, {6}}, view({3, 2}, {1, 3}, 0, kF32)},
      {{kS32, {6}}, view({2}, {2}, 1, kF32)},
      {{kPred, {2, 4}}, view({2, 4}, {4, 1}, 0, kU8)},
      {{kU8, {8}}, view({2, 2}, {1, 4}, 1, kPred)},
      {{kPred, {8}}, view({3}, {2}, 1, kU8)},
  });
}

TEST(ViewPrologueDtype, NarrowerView) {
  check_both({
      {{kF32, {3}}, view({12}, {1}, 0, kU8)},  // x.view(torch.uint8)
      {{kF32, {2, 3}}, view({2, 12}, {12, 1}, 0, kU8)},
      {{kF32, {4}}, view({3, 2}, {4, 1}, 1, kU8)},  // a byte slice
      {{kF64, {3}}, view({6}, {1}, 0, kF32)},
      {{kF64, {2, 2}}, view({2, 2}, {1, 4}, 1, kF32)},
      {{kF32, {3}}, view({6}, {1}, 0, kPred)},       // bytes as bools (pred <- u8)
      {{kC64, {3}}, view({3, 2}, {2, 1}, 0, kF32)},  // view_as_real
      {{kC64, {2, 2}}, view({2}, {4}, 1, kF32)},     // .imag of column 0
      {{kS32, {4}}, view({2}, {3}, 2, ElementType::kS16)},
  });
}

TEST(ViewPrologueDtype, WiderView) {
  check_both({
      {{kU8, {12}}, view({3}, {1}, 0, kF32)},  // bytes.view(torch.float32)
      {{kU8, {4, 8}}, view({4, 2}, {2, 1}, 0, kF32)},
      {{kU8, {13}}, view({2}, {1}, 1, kF32)},  // bytes 4..11 of 13
      {{kF32, {6}}, view({3}, {1}, 0, kF64)},
      {{kF32, {7}}, view({2}, {1}, 1, kF64)},  // a trailing float outside
      {{kF32, {2, 4}}, view({2}, {2}, 0, kF64)},
      {{kPred, {8}}, view({2}, {1}, 0, kF32)},
      {{kF32, {2, 2}}, view({2}, {1}, 0, kC64)},  // view_as_complex
      {{kU8, {16}}, view({2}, {1}, 0, ElementType::kS64)},
      {{kPred, {4}}, view({2}, {1}, 1, ElementType::kS8)},
  });
}

// --- errors ---------------------------------------------------------------------

TEST(ViewPrologueErrors, Rejected) {
  Builder b;
  Value s = b.parameter({kF32, {4, 5}});
  EXPECT_THROW(read_view(b, s, view({5, 5}, {5, 1})), stablehlo::BuildError);
  EXPECT_THROW(read_view(b, s, view({2}, {1}, 19)), stablehlo::BuildError);
  EXPECT_THROW(read_view(b, s, view({2}, {-1}, 5)), stablehlo::BuildError);
  EXPECT_THROW(read_view(b, s, view({2, 2}, {1})), stablehlo::BuildError);
  EXPECT_THROW(read_view(b, s, view({11}, {1}, 0, kF64)), stablehlo::BuildError);
  Value u = b.parameter({kF32, {3}});
  EXPECT_THROW(write_view(b, s, view({4}, {1}), u), stablehlo::BuildError);
  EXPECT_THROW(write_view(b, s, view({3}, {1}, 0, kS32), u), stablehlo::BuildError);
}

// --- the randomized sweep -----------------------------------------------------------

struct TypePair {
  ElementType storage, view;
};

ViewLayout random_view(std::mt19937& rng, int64_t storage_bytes, ElementType element,
                       bool allow_overlap) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t capacity = storage_bytes / width(element);
  for (;;) {
    ViewLayout v;
    v.element = element;
    const int64_t rank = pick(0, 4);
    for (int64_t i = 0; i < rank; ++i) {
      const int64_t r = pick(0, 99);
      v.sizes.push_back(r < 3 ? 0 : r < 25 ? 1 : pick(2, 5));
    }
    v.strides.assign(rank, 0);
    const int64_t mode = pick(0, 9);
    if (mode < 6) {
      // Nested strides in a random memory order, with random gaps: slices,
      // steps, permutations and selects of some larger tensor.
      std::vector<int64_t> order(rank);
      for (int64_t i = 0; i < rank; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      int64_t reach = pick(0, 2) == 0 ? pick(1, 3) : 1;
      for (int64_t d : order) {
        const int64_t stride = reach + (pick(0, 2) == 0 ? pick(0, 3) : 0);
        v.strides[d] = v.sizes[d] == 1 && pick(0, 1) ? pick(0, 50) : stride;
        reach = stride * std::max<int64_t>(v.sizes[d], 1);
      }
      if (allow_overlap && rank > 0 && pick(0, 3) == 0) v.strides[pick(0, rank - 1)] = 0;
    } else {
      for (int64_t i = 0; i < rank; ++i) v.strides[i] = pick(0, 7);
    }
    int64_t last = 0;
    for (int64_t i = 0; i < rank; ++i)
      last += (std::max<int64_t>(v.sizes[i], 1) - 1) * v.strides[i];
    if (last >= capacity) continue;
    v.offset = pick(0, capacity - 1 - last);
    if (!allow_overlap && reference_overlap(v)) continue;
    return v;
  }
}

std::vector<Case> random_cases(uint32_t seed, int count, bool allow_overlap) {
  std::mt19937 rng(seed);
  const std::vector<TypePair> pairs = {
      {kF32, kF32},
      {kF32, kF32},
      {kF32, kF32},
      {kF32, kF32},
      {kS32, kS32},
      {kU8, kU8},
      {kPred, kPred},
      {kC64, kC64},
      {kF32, kU8},
      {kU8, kF32},
      {kF32, kS32},
      {kS32, kF32},
      {kF64, kF32},
      {kF32, kF64},
      {kPred, kU8},
      {kU8, kPred},
      {kC64, kF32},
      {kF32, kC64},
      {ElementType::kBF16, kF32},
      {kF32, ElementType::kBF16},
  };
  std::vector<Case> cases;
  while (static_cast<int>(cases.size()) < count) {
    const TypePair p = pairs[rng() % pairs.size()];
    TensorType storage{p.storage, {}};
    const int64_t rank = rng() % 4;
    for (int64_t i = 0; i < rank; ++i) storage.dims.push_back(1 + rng() % 6);
    const int64_t bytes = storage.numel() * width(p.storage);
    if (bytes < width(p.view)) continue;
    cases.push_back({storage, random_view(rng, bytes, p.view, allow_overlap)});
  }
  return cases;
}

// How many of `cases` emit each op: the sweep must reach every path.
std::map<std::string, int> ops_used(const std::vector<Case>& cases, bool write) {
  std::map<std::string, int> used;
  for (const Case& c : cases) {
    const std::multiset<std::string> ops =
        write ? write_ops(c.storage, c.view) : read_ops(c.storage, c.view);
    for (const std::string& op : std::set<std::string>(ops.begin(), ops.end())) ++used[op];
  }
  return used;
}

TEST(ViewPrologueSweep, RandomReads) {
  const std::vector<Case> cases = random_cases(20240601, 200, /*allow_overlap=*/true);
  std::map<std::string, int> used = ops_used(cases, /*write=*/false);
  for (const char* op : {"stablehlo.slice", "stablehlo.transpose", "stablehlo.broadcast_in_dim",
                         "stablehlo.gather", "stablehlo.bitcast_convert"}) {
    EXPECT_GT(used[op], 0) << op;
  }
  for (size_t i = 0; i < cases.size(); i += 50) {
    check_reads({cases.begin() + i, cases.begin() + std::min(i + 50, cases.size())},
                static_cast<uint32_t>(i));
  }
}

TEST(ViewPrologueSweep, RandomWrites) {
  const std::vector<Case> cases = random_cases(20240602, 200, /*allow_overlap=*/false);
  std::map<std::string, int> used = ops_used(cases, /*write=*/true);
  for (const char* op :
       {"stablehlo.dynamic_update_slice", "stablehlo.transpose", "stablehlo.scatter",
        "stablehlo.select", "stablehlo.pad", "stablehlo.bitcast_convert"}) {
    EXPECT_GT(used[op], 0) << op;
  }
  for (size_t i = 0; i < cases.size(); i += 50) {
    check_writes({cases.begin() + i, cases.begin() + std::min(i + 50, cases.size())},
                 static_cast<uint32_t>(i));
  }
}

}  // namespace
}  // namespace torch_pjrt::engine
