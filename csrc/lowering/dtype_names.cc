#include "lowering/dtype_names.h"

#include <sstream>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

using stablehlo::ElementType;

std::string_view scalar_type_name(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return "Bool";
    case ElementType::kS8:
      return "Char";
    case ElementType::kS16:
      return "Short";
    case ElementType::kS32:
      return "Int";
    case ElementType::kS64:
      return "Long";
    case ElementType::kU8:
      return "Byte";
    case ElementType::kU16:
      return "UInt16";
    case ElementType::kU32:
      return "UInt32";
    case ElementType::kU64:
      return "UInt64";
    case ElementType::kF16:
      return "Half";
    case ElementType::kBF16:
      return "BFloat16";
    case ElementType::kF32:
      return "Float";
    case ElementType::kF64:
      return "Double";
    case ElementType::kC64:
      return "ComplexFloat";
    case ElementType::kC128:
      return "ComplexDouble";
    case ElementType::kF8E5M2:
      return "Float8_e5m2";
    case ElementType::kF8E4M3FN:
      return "Float8_e4m3fn";
    case ElementType::kF8E5M2FNUZ:
      return "Float8_e5m2fnuz";
    case ElementType::kF8E4M3FNUZ:
      return "Float8_e4m3fnuz";
  }
  return "Unknown";
}

std::string_view type_meta_name(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return "bool";
    case ElementType::kS8:
      return "signed char";
    case ElementType::kS16:
      return "short int";
    case ElementType::kS32:
      return "int";
    case ElementType::kS64:
      return "long int";
    case ElementType::kU8:
      return "unsigned char";
    case ElementType::kU16:
      return "unsigned short";
    case ElementType::kU32:
      return "unsigned int";
    case ElementType::kU64:
      return "unsigned long";
    case ElementType::kF16:
      return "c10::Half";
    case ElementType::kBF16:
      return "c10::BFloat16";
    case ElementType::kF32:
      return "float";
    case ElementType::kF64:
      return "double";
    case ElementType::kC64:
      return "c10::complex<float>";
    case ElementType::kC128:
      return "c10::complex<double>";
    case ElementType::kF8E5M2:
      return "c10::Float8_e5m2";
    case ElementType::kF8E4M3FN:
      return "c10::Float8_e4m3fn";
    case ElementType::kF8E5M2FNUZ:
      return "c10::Float8_e5m2fnuz";
    case ElementType::kF8E4M3FNUZ:
      return "c10::Float8_e4m3fnuz";
  }
  return "unknown";
}

std::string format_double(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

void throw_no_kernel(std::string_view kernel, stablehlo::ElementType type) {
  throw Unsupported("\"" + std::string(kernel) + "\" not implemented for '" +
                    std::string(scalar_type_name(type)) + "'");
}

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

}  // namespace torch_pjrt::lowering
