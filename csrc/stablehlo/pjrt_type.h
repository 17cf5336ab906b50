#pragma once

// The PJRT buffer type that holds each element type, for whoever moves
// values of a Function in and out of a plugin.

#include "pjrt/pjrt.h"
#include "stablehlo/element_type.h"

namespace torch_pjrt::stablehlo {

PJRT_Buffer_Type to_pjrt_type(ElementType type);
// Throws std::invalid_argument for PJRT types with no element type here.
ElementType from_pjrt_type(PJRT_Buffer_Type type);

}  // namespace torch_pjrt::stablehlo
