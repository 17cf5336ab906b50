#include "engine/compile_settings.h"

#include <sstream>
#include <stdexcept>

namespace torch_pjrt::engine {

std::vector<std::pair<std::string, pjrt::OptionOverride>> parse_xla_flags(
    const std::string& flags) {
  std::vector<std::pair<std::string, pjrt::OptionOverride>> result;
  std::istringstream words(flags);
  std::string word;
  while (words >> word) {
    if (!word.starts_with("--") || word.size() == 2 || word[2] == '=') {
      throw std::invalid_argument("TORCH_PJRT_XLA_FLAGS: expected --flag=value words, got '" +
                                  word + "'");
    }
    const size_t equals = word.find('=');
    if (equals == std::string::npos) {
      result.emplace_back(word.substr(2), true);
      continue;
    }
    std::string name = word.substr(2, equals - 2);
    std::string value = word.substr(equals + 1);
    // XLA's string parsing of bool fields takes neither spelling: booleans go as bools.
    if (value == "true" || value == "false") {
      result.emplace_back(std::move(name), value == "true");
    } else {
      result.emplace_back(std::move(name), std::move(value));
    }
  }
  return result;
}

pjrt::CompileOptions compile_options_with(const std::string& xla_flags) {
  pjrt::CompileOptions options;
  options.env_option_overrides.emplace_back("xla_cpu_enable_fast_min_max", false);
  // XLA:CPU's XNNPACK dots keep what they derived from an operand by its
  // address; a donated buffer is rewritten in place at the same address (an
  // in-place update of a weight), so the next matmul with it used the old
  // weight. Without XNNPACK the same step is as fast here (benchmarks/).
  options.env_option_overrides.emplace_back("xla_cpu_use_xnnpack", false);
  for (auto& flag : parse_xla_flags(xla_flags)) options.env_option_overrides.push_back(flag);
  return options;
}

}  // namespace torch_pjrt::engine
