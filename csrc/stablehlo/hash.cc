// Structural hash: a 64-bit hash over a canonical serialization of the
// function. Values are renumbered in definition order, so the hash depends on
// the wiring only, not on the ids the builder happened to hand out.

#include "stablehlo/function.h"

namespace torch_pjrt::stablehlo {
namespace {

class Hasher {
 public:
  explicit Hasher(const Function& fn) : fn_(fn), canonical_(fn.value_types.size(), -1) {}

  uint64_t hash() {
    body();
    word(fn_.results.size());
    for (Value v : fn_.results) use(v);
    // Only when present, so programs without donation keep their hashes.
    if (!fn_.parameter_aliases.empty()) {
      word(fn_.parameter_aliases.size());
      for (int32_t alias : fn_.parameter_aliases) word(static_cast<uint64_t>(alias));
    }
    return finish();
  }

  Function::BodyKey body_key() {
    body();
    Function::BodyKey key;
    key.hash = finish();
    key.results.reserve(fn_.results.size());
    for (Value v : fn_.results) key.results.push_back(canonical_[v.id]);
    return key;
  }

 private:
  void body() {
    word(fn_.body.arguments.size());
    for (Value v : fn_.body.arguments) define(v);
    block_operations(fn_.body);
  }

  // Word-at-a-time multiply-xorshift mixing; fixed constants and explicit
  // byte order keep it identical on every platform and process.
  static constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;

  void word(uint64_t w) {
    state_ = (state_ ^ w) * kMul;
    state_ ^= state_ >> 29;
  }

  void bytes(std::string_view s) {
    word(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w = 0;
      for (size_t j = 0; j < 8; ++j) {
        w |= static_cast<uint64_t>(static_cast<uint8_t>(s[i + j])) << (8 * j);
      }
      word(w);
    }
    uint64_t tail = 0;
    for (size_t j = 0; i + j < s.size(); ++j) {
      tail |= static_cast<uint64_t>(static_cast<uint8_t>(s[i + j])) << (8 * j);
    }
    word(tail);
  }

  void type(const TensorType& t) {
    word(static_cast<uint64_t>(t.element) | (static_cast<uint64_t>(t.dims.size()) << 8));
    for (int64_t d : t.dims) word(static_cast<uint64_t>(d));
  }

  void define(Value v) {
    canonical_[v.id] = next_++;
    type(fn_.type(v));
  }

  void use(Value v) { word(static_cast<uint64_t>(canonical_[v.id])); }

  void block_operations(const Block& block) {
    word(block.operations.size());
    for (const Operation& op : block.operations) {
      bytes(op.name);
      word(op.operands.size());
      for (Value v : op.operands) use(v);
      bytes(op.attributes);
      word(op.regions.size());
      for (const Block& region : op.regions) {
        word(region.arguments.size());
        for (Value v : region.arguments) define(v);
        block_operations(region);
      }
      word(op.results.size());
      for (Value v : op.results) define(v);
    }
  }

  uint64_t finish() {
    uint64_t h = state_;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
  }

  const Function& fn_;
  std::vector<int32_t> canonical_;
  int32_t next_ = 0;
  uint64_t state_ = 0xCBF29CE484222325ull;
};

}  // namespace

uint64_t Function::structural_hash() const { return Hasher(*this).hash(); }

Function::BodyKey Function::body_key() const { return Hasher(*this).body_key(); }

}  // namespace torch_pjrt::stablehlo
