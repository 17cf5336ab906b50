#pragma once

#include <c10/core/ScalarType.h>

#include "stablehlo/element_type.h"

namespace torch_pjrt::aten {

// Throws c10::TypeError for dtypes XLA cannot hold (quantized, bits, ...).
stablehlo::ElementType to_element_type(c10::ScalarType dtype);
c10::ScalarType to_scalar_type(stablehlo::ElementType type);

}  // namespace torch_pjrt::aten
