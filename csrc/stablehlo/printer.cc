// MLIR text of a Function. Ops are printed in generic form, which every
// plugin's parser accepts without knowing each op's custom syntax; only the
// module and func.func wrappers use their (stable) pretty form.

#include <charconv>

#include "stablehlo/function.h"

namespace torch_pjrt::stablehlo {
namespace {

class Printer {
 public:
  explicit Printer(const Function& fn) : fn_(fn) {}

  std::string print() {
    out_.reserve(256 + 96 * fn_.body.operations.size());
    out_ += "module @torch_pjrt {\n  func.func public @main(";
    for (size_t i = 0; i < fn_.body.arguments.size(); ++i) {
      if (i) out_ += ", ";
      value_with_type(fn_.body.arguments[i]);
      if (i < fn_.parameter_aliases.size() && fn_.parameter_aliases[i] >= 0) {
        out_ += " {tf.aliasing_output = ";
        integer(fn_.parameter_aliases[i]);
        out_ += " : i32}";
      }
    }
    out_ += ") -> (";
    type_list(fn_.results);
    out_ += ") {\n";
    for (const Operation& op : fn_.body.operations) operation(op, 2);
    indent(2);
    out_ += "\"func.return\"(";
    value_list(fn_.results);
    out_ += ") : (";
    type_list(fn_.results);
    out_ += ") -> ()\n  }\n}\n";
    return std::move(out_);
  }

 private:
  void integer(int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, end);
  }

  void value(Value v) {
    out_ += '%';
    integer(v.id);
  }

  void type(const TensorType& t) {
    out_ += "tensor<";
    for (int64_t d : t.dims) {
      integer(d);
      out_ += 'x';
    }
    out_ += mlir_name(t.element);
    out_ += '>';
  }

  void value_with_type(Value v) {
    value(v);
    out_ += ": ";
    type(fn_.type(v));
  }

  void value_list(const std::vector<Value>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_ += ", ";
      value(values[i]);
    }
  }

  void type_list(const std::vector<Value>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_ += ", ";
      type(fn_.type(values[i]));
    }
  }

  void indent(int depth) { out_.append(static_cast<size_t>(depth) * 2, ' '); }

  void operation(const Operation& op, int depth) {
    indent(depth);
    if (!op.results.empty()) {
      value_list(op.results);
      out_ += " = ";
    }
    out_ += '"';
    out_ += op.name;
    out_ += "\"(";
    value_list(op.operands);
    out_ += ')';
    if (!op.regions.empty()) {
      out_ += " (";
      for (size_t i = 0; i < op.regions.size(); ++i) {
        if (i) out_ += ", ";
        region(op.regions[i], depth);
      }
      out_ += ')';
    }
    if (!op.attributes.empty()) {
      out_ += " {";
      out_ += op.attributes;
      out_ += '}';
    }
    out_ += " : (";
    type_list(op.operands);
    out_ += ") -> ";
    if (op.results.size() == 1) {
      type(fn_.type(op.results[0]));
    } else {
      out_ += '(';
      type_list(op.results);
      out_ += ')';
    }
    out_ += '\n';
  }

  void region(const Block& block, int depth) {
    out_ += "{\n";
    if (!block.arguments.empty()) {
      indent(depth);
      out_ += "^bb0(";
      for (size_t i = 0; i < block.arguments.size(); ++i) {
        if (i) out_ += ", ";
        value_with_type(block.arguments[i]);
      }
      out_ += "):\n";
    }
    for (const Operation& op : block.operations) operation(op, depth + 1);
    indent(depth);
    out_ += '}';
  }

  const Function& fn_;
  std::string out_;
};

}  // namespace

std::string Function::to_mlir() const { return Printer(*this).print(); }

}  // namespace torch_pjrt::stablehlo
