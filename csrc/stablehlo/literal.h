#pragma once

// Text of one element of a dense constant, exact for every element type:
// floats as their bit pattern in hex, so inf, NaN and the rounding to narrow
// types are decided here once rather than by each parser.

#include <cstdint>
#include <string>

#include "stablehlo/element_type.h"

namespace torch_pjrt::stablehlo {

// `value` converted to `type` (round to nearest even for floats; integers
// truncate toward zero, saturate, NaN -> 0, then wrap to the type's width;
// pred: nonzero is true; complex: imaginary part 0).
void append_literal(std::string& out, double value, ElementType type);
// As above from an integer, without going through double for integer types.
void append_literal(std::string& out, int64_t value, ElementType type);

// Bit pattern of `value` rounded to nearest even in a float type; exposed for tests.
uint64_t float_bits(double value, ElementType type);

}  // namespace torch_pjrt::stablehlo
