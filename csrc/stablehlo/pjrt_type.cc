#include "stablehlo/pjrt_type.h"

#include <stdexcept>
#include <string>

namespace torch_pjrt::stablehlo {

PJRT_Buffer_Type to_pjrt_type(ElementType type) {
  switch (type) {
    case ElementType::kPred:
      return PJRT_Buffer_Type_PRED;
    case ElementType::kS8:
      return PJRT_Buffer_Type_S8;
    case ElementType::kS16:
      return PJRT_Buffer_Type_S16;
    case ElementType::kS32:
      return PJRT_Buffer_Type_S32;
    case ElementType::kS64:
      return PJRT_Buffer_Type_S64;
    case ElementType::kU8:
      return PJRT_Buffer_Type_U8;
    case ElementType::kU16:
      return PJRT_Buffer_Type_U16;
    case ElementType::kU32:
      return PJRT_Buffer_Type_U32;
    case ElementType::kU64:
      return PJRT_Buffer_Type_U64;
    case ElementType::kF16:
      return PJRT_Buffer_Type_F16;
    case ElementType::kBF16:
      return PJRT_Buffer_Type_BF16;
    case ElementType::kF32:
      return PJRT_Buffer_Type_F32;
    case ElementType::kF64:
      return PJRT_Buffer_Type_F64;
    case ElementType::kC64:
      return PJRT_Buffer_Type_C64;
    case ElementType::kC128:
      return PJRT_Buffer_Type_C128;
    case ElementType::kF8E5M2:
      return PJRT_Buffer_Type_F8E5M2;
    case ElementType::kF8E4M3FN:
      return PJRT_Buffer_Type_F8E4M3FN;
    case ElementType::kF8E5M2FNUZ:
      return PJRT_Buffer_Type_F8E5M2FNUZ;
    case ElementType::kF8E4M3FNUZ:
      return PJRT_Buffer_Type_F8E4M3FNUZ;
  }
  throw std::invalid_argument("unknown element type");
}

ElementType from_pjrt_type(PJRT_Buffer_Type type) {
  for (int i = 0; i <= static_cast<int>(ElementType::kF8E4M3FNUZ); ++i) {
    auto candidate = static_cast<ElementType>(i);
    if (to_pjrt_type(candidate) == type) return candidate;
  }
  throw std::invalid_argument("PJRT buffer type " + std::to_string(type) + " has no PyTorch dtype");
}

}  // namespace torch_pjrt::stablehlo
