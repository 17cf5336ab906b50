#include "pjrt/c_api.h"

// Field numbers from openxla/xla, xla/pjrt/proto/compile_options.proto. Only
// the fields we set are listed; proto3 leaves every other one at its default.
namespace torch_pjrt::pjrt {
namespace {

namespace compile_options_proto {
constexpr int kExecutableBuildOptions = 3;     // ExecutableBuildOptionsProto
constexpr int kCompilePortableExecutable = 4;  // bool
constexpr int kEnvOptionOverrides = 7;         // map<string, OptionOverrideProto>
}  // namespace compile_options_proto

// A map field is a repeated message of (key = 1, value = 2).
namespace map_entry_proto {
constexpr int kKey = 1;
constexpr int kValue = 2;
}  // namespace map_entry_proto

// OptionOverrideProto is a oneof: a member set to its default value (false, 0)
// is still written, which is how XLA tells "set to false" from "not set".
namespace option_override_proto {
constexpr int kStringField = 1;
constexpr int kBoolField = 2;
constexpr int kIntField = 3;
}  // namespace option_override_proto

namespace executable_build_options_proto {
constexpr int kDeviceOrdinal = 1;  // int64
constexpr int kNumReplicas = 4;    // int64
constexpr int kNumPartitions = 5;  // int64
}  // namespace executable_build_options_proto

enum WireType { kVarint = 0, kLengthDelimited = 2 };

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_tag(std::string& out, int field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}

// int64 and bool are varints; a negative int64 takes all ten bytes.
void put_int(std::string& out, int field, int64_t value) {
  put_tag(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(value));
}

void put_message(std::string& out, int field, const std::string& message) {
  put_tag(out, field, kLengthDelimited);
  put_varint(out, message.size());
  out += message;
}

std::string encode(const OptionOverride& value) {
  namespace override_proto = option_override_proto;
  std::string out;
  if (const auto* text = std::get_if<std::string>(&value)) {
    put_message(out, override_proto::kStringField, *text);
  } else if (const auto* flag = std::get_if<bool>(&value)) {
    put_int(out, override_proto::kBoolField, *flag ? 1 : 0);
  } else {
    put_int(out, override_proto::kIntField, std::get<int64_t>(value));
  }
  return out;
}

}  // namespace

std::string CompileOptions::serialize() const {
  namespace build = executable_build_options_proto;
  std::string build_options;
  // -1 is ExecutableBuildOptions' "no particular device"; proto3's implicit 0
  // would instead ask for device 0.
  put_int(build_options, build::kDeviceOrdinal, -1);
  put_int(build_options, build::kNumReplicas, num_replicas);
  put_int(build_options, build::kNumPartitions, num_partitions);

  std::string options;
  put_message(options, compile_options_proto::kExecutableBuildOptions, build_options);
  // XLA refuses a portable executable with several replicas or partitions:
  // those run on the device assignment chosen at compile time instead.
  if (num_replicas == 1 && num_partitions == 1) {
    put_int(options, compile_options_proto::kCompilePortableExecutable, 1);
  }
  for (const auto& [name, value] : env_option_overrides) {
    std::string entry;
    put_message(entry, map_entry_proto::kKey, name);
    put_message(entry, map_entry_proto::kValue, encode(value));
    put_message(options, compile_options_proto::kEnvOptionOverrides, entry);
  }
  return options;
}

}  // namespace torch_pjrt::pjrt
