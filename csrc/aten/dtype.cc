#include "aten/dtype.h"

#include <c10/util/Exception.h>

namespace torch_pjrt::aten {

using stablehlo::ElementType;

ElementType to_element_type(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kBool:
      return ElementType::kPred;
    case c10::kChar:
      return ElementType::kS8;
    case c10::kShort:
      return ElementType::kS16;
    case c10::kInt:
      return ElementType::kS32;
    case c10::kLong:
      return ElementType::kS64;
    case c10::kByte:
      return ElementType::kU8;
    case c10::kUInt16:
      return ElementType::kU16;
    case c10::kUInt32:
      return ElementType::kU32;
    case c10::kUInt64:
      return ElementType::kU64;
    case c10::kHalf:
      return ElementType::kF16;
    case c10::kBFloat16:
      return ElementType::kBF16;
    case c10::kFloat:
      return ElementType::kF32;
    case c10::kDouble:
      return ElementType::kF64;
    case c10::kComplexFloat:
      return ElementType::kC64;
    case c10::kComplexDouble:
      return ElementType::kC128;
    case c10::kFloat8_e5m2:
      return ElementType::kF8E5M2;
    case c10::kFloat8_e4m3fn:
      return ElementType::kF8E4M3FN;
    case c10::kFloat8_e5m2fnuz:
      return ElementType::kF8E5M2FNUZ;
    case c10::kFloat8_e4m3fnuz:
      return ElementType::kF8E4M3FNUZ;
    default:
      break;
  }
  TORCH_CHECK_TYPE(false, "dtype ", dtype, " is not supported on the tpu device");
}

c10::ScalarType to_scalar_type(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return c10::kBool;
    case ElementType::kS8:
      return c10::kChar;
    case ElementType::kS16:
      return c10::kShort;
    case ElementType::kS32:
      return c10::kInt;
    case ElementType::kS64:
      return c10::kLong;
    case ElementType::kU8:
      return c10::kByte;
    case ElementType::kU16:
      return c10::kUInt16;
    case ElementType::kU32:
      return c10::kUInt32;
    case ElementType::kU64:
      return c10::kUInt64;
    case ElementType::kF16:
      return c10::kHalf;
    case ElementType::kBF16:
      return c10::kBFloat16;
    case ElementType::kF32:
      return c10::kFloat;
    case ElementType::kF64:
      return c10::kDouble;
    case ElementType::kC64:
      return c10::kComplexFloat;
    case ElementType::kC128:
      return c10::kComplexDouble;
    case ElementType::kF8E5M2:
      return c10::kFloat8_e5m2;
    case ElementType::kF8E4M3FN:
      return c10::kFloat8_e4m3fn;
    case ElementType::kF8E5M2FNUZ:
      return c10::kFloat8_e5m2fnuz;
    case ElementType::kF8E4M3FNUZ:
      return c10::kFloat8_e4m3fnuz;
  }
  TORCH_CHECK(false, "unknown element type");
}

}  // namespace torch_pjrt::aten
