#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pjrt/pjrt.h"

namespace torch_pjrt::engine {

// "--xla_foo=1 --xla_bar" (TORCH_PJRT_XLA_FLAGS) as compile option overrides,
// in order; a flag without a value is true. `true`/`false` become bools, any
// other value stays a string that XLA parses by the type of its DebugOptions
// field. Throws std::invalid_argument for a word that is not a --flag.
std::vector<std::pair<std::string, pjrt::OptionOverride>> parse_xla_flags(const std::string& flags);

// What every program is compiled with: XLA:CPU's fast min/max off, so
// stablehlo.maximum/minimum propagate NaN from either operand as PyTorch does,
// then the user's flags (which may override that).
pjrt::CompileOptions compile_options_with(const std::string& xla_flags);

}  // namespace torch_pjrt::engine
