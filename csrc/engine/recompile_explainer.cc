#include "engine/recompile_explainer.h"

#include <algorithm>
#include <limits>
#include <string_view>

namespace torch_pjrt::engine {
namespace {

using stablehlo::TensorType;

struct Differences {
  std::vector<std::string> phrases;  // e.g. "input 1 dtype f64 (was f32)", "3 inputs (was 2)"
  size_t weight = 0;                 // a dtype and a shape change of one value count twice
};

void add_type_differences(Differences& out, const char* what, const std::vector<TensorType>& now,
                          const std::vector<TensorType>& before) {
  if (now.size() != before.size()) {
    out.phrases.push_back(std::to_string(now.size()) + " " + what + "s (was " +
                          std::to_string(before.size()) + ")");
    out.weight += 1;
  }
  for (size_t i = 0; i < std::min(now.size(), before.size()); ++i) {
    const TensorType& a = now[i];
    const TensorType& b = before[i];
    const std::string value = std::string(what) + " " + std::to_string(i);
    const bool dtype = a.element != b.element;
    const bool shape = a.dims != b.dims;
    if (dtype && shape) {
      out.phrases.push_back(value + " " + a.to_string() + " (was " + b.to_string() + ")");
    } else if (dtype) {
      out.phrases.push_back(value + " dtype " + std::string(stablehlo::short_name(a.element)) +
                            " (was " + std::string(stablehlo::short_name(b.element)) + ")");
    } else if (shape) {
      out.phrases.push_back(value + " shape " + a.to_string() + " (was " + b.to_string() + ")");
    }
    out.weight += (dtype ? 1 : 0) + (shape ? 1 : 0);
  }
}

std::string_view line_at(std::string_view text, size_t position) {
  const size_t begin = text.rfind('\n', position == 0 ? 0 : position - 1);
  const size_t start = begin == std::string_view::npos ? 0 : begin + 1;
  const size_t end = text.find('\n', position);
  std::string_view line = text.substr(start, end == std::string_view::npos ? end : end - start);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return line;
}

std::string shortened(std::string_view line) {
  constexpr size_t kMax = 120;
  return line.size() <= kMax ? std::string(line) : std::string(line.substr(0, kMax)) + "...";
}

// Same value types, different program: the first line that differs shows the
// constant, attribute or view (slice, transpose) that changed.
std::string body_difference(const std::string& now, const std::string& before) {
  const auto [a, b] = std::mismatch(now.begin(), now.end(), before.begin(), before.end());
  const size_t position = static_cast<size_t>(a - now.begin());
  return "same input and output types, the program differs (a constant, an attribute or a "
         "view layout) at `" +
         shortened(line_at(now, position)) + "` (was `" +
         shortened(line_at(before, static_cast<size_t>(b - before.begin()))) + "`)";
}

}  // namespace

std::string RecompileExplainer::explain(const std::string& label,
                                        const stablehlo::Function& function,
                                        const std::string& mlir) {
  Program program{function.parameter_types(), function.result_types(), mlir};
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Program>& earlier = programs_by_label_[label];
  std::string explanation;
  if (earlier.empty()) {
    explanation = "first compile of " + label;
  } else {
    // The nearest earlier program is the one with the fewest type differences;
    // among equals, the latest.
    Differences best;
    best.weight = std::numeric_limits<size_t>::max();
    const Program* nearest = nullptr;
    for (const Program& candidate : earlier) {
      Differences differences;
      add_type_differences(differences, "input", program.inputs, candidate.inputs);
      add_type_differences(differences, "output", program.outputs, candidate.outputs);
      if (differences.weight <= best.weight) {
        best = std::move(differences);
        nearest = &candidate;
      }
    }
    explanation = label + ": ";
    const std::vector<std::string>& phrases = best.phrases;
    if (phrases.empty()) {
      explanation += body_difference(program.mlir, nearest->mlir);
    } else {
      constexpr size_t kShown = 3;
      for (size_t i = 0; i < std::min(phrases.size(), kShown); ++i) {
        explanation += (i == 0 ? "" : ", ") + phrases[i];
      }
      if (phrases.size() > kShown) {
        explanation += " and " + std::to_string(phrases.size() - kShown) + " more";
      }
    }
  }
  earlier.push_back(std::move(program));
  return explanation;
}

}  // namespace torch_pjrt::engine
