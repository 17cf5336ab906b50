#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt::detail {

std::string to_string(const char* data, size_t size) {
  return data == nullptr ? std::string() : std::string(data, size);
}

NamedValue from_c(const PJRT_NamedValue& value) {
  switch (value.type) {
    case PJRT_NamedValue_kString:
      return to_string(value.string_value, value.value_size);
    case PJRT_NamedValue_kInt64:
      return value.int64_value;
    case PJRT_NamedValue_kInt64List:
      if (value.int64_array_value == nullptr) return std::vector<int64_t>();
      return std::vector<int64_t>(value.int64_array_value,
                                  value.int64_array_value + value.value_size);
    case PJRT_NamedValue_kFloat:
      return value.float_value;
    case PJRT_NamedValue_kBool:
      return value.bool_value;
  }
  throw Error("PJRT named value '" + to_string(value.name, value.name_size) +
                  "' has unknown type " + std::to_string(static_cast<int>(value.type)),
              PJRT_Error_Code_UNIMPLEMENTED);
}

std::map<std::string, NamedValue> from_c(const PJRT_NamedValue* values, size_t count) {
  std::map<std::string, NamedValue> result;
  for (size_t i = 0; i < count; ++i) {
    result.emplace(to_string(values[i].name, values[i].name_size), from_c(values[i]));
  }
  return result;
}

std::vector<PJRT_NamedValue> to_c(const std::map<std::string, NamedValue>& values) {
  std::vector<PJRT_NamedValue> result;
  result.reserve(values.size());
  for (const auto& [name, value] : values) {
    auto c = make_args<PJRT_NamedValue>(PJRT_NamedValue_STRUCT_SIZE);
    c.name = name.data();
    c.name_size = name.size();
    c.value_size = 1;
    if (const auto* s = std::get_if<std::string>(&value)) {
      c.type = PJRT_NamedValue_kString;
      c.string_value = s->data();
      c.value_size = s->size();
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      c.type = PJRT_NamedValue_kInt64;
      c.int64_value = *i;
    } else if (const auto* list = std::get_if<std::vector<int64_t>>(&value)) {
      c.type = PJRT_NamedValue_kInt64List;
      c.int64_array_value = list->data();
      c.value_size = list->size();
    } else if (const auto* f = std::get_if<float>(&value)) {
      c.type = PJRT_NamedValue_kFloat;
      c.float_value = *f;
    } else {
      c.type = PJRT_NamedValue_kBool;
      c.bool_value = std::get<bool>(value);
    }
    result.push_back(c);
  }
  return result;
}

}  // namespace torch_pjrt::pjrt::detail
