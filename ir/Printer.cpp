//===- ir/Printer.cpp - Textual form of the IR ----------------------------===//
//
// Prints the format documented in ir/Printer.h and docs/ir.md. The printer and
// the parser (ir/Parser.cpp) are kept in step: print → parse → print is the
// identity, which test/unit/ir and the lit round-trip test check.
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"

#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <sstream>
#include <unordered_map>

namespace gma::ir {
namespace {

bool isBareName(const std::string &s) {
  // A leading digit would read as the printer's own %0, %1 numbering.
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.')
      return false;
  return true;
}

std::string quoted(const std::string &s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      r += '\\';
    r += c;
  }
  return r + "\"";
}

std::string nameToken(const std::string &s) { return isBareName(s) ? s : quoted(s); }

void printAttrs(const Attrs &attrs, std::ostream &os) {
  if (attrs.empty())
    return;
  os << " {";
  bool first = true;
  for (const auto &[name, attr] : attrs) {
    os << (first ? "" : ", ") << name << " = ";
    if (attr.isList)
      os << fmt::format("[{}]", fmt::join(attr.ints, ", "));
    else
      os << attr.asInt();
    first = false;
  }
  os << "}";
}

void printDense(const Weight &w, std::ostream &os) {
  os << "dense<[";
  for (int64_t i = 0; i < w.numel(); ++i) {
    if (i)
      os << ", ";
    os << formatFloat(w.at(i));
  }
  os << "]>";
}

class GraphPrinter {
public:
  GraphPrinter(const Graph &g, std::ostream &os, const PrintOptions &opts)
      : g_(g), os_(os), opts_(opts) {}

  void print() {
    os_ << "graph @" << nameToken(g_.name) << "(";
    for (size_t i = 0; i < g_.inputs.size(); ++i) {
      ValueId v = g_.inputs[i];
      std::string n = g_.values[v].name.empty() ? fmt::format("arg{}", i) : g_.values[v].name;
      names_[v] = "%" + nameToken(n);
      os_ << (i ? ", " : "") << names_[v] << ": " << g_.type(v).str();
    }
    os_ << ") -> (";
    for (size_t i = 0; i < g_.outputs.size(); ++i)
      os_ << (i ? ", " : "") << g_.type(g_.outputs[i]).str();
    os_ << ")";
    if (!g_.attrs.empty()) {
      os_ << " attributes";
      printAttrs(g_.attrs, os_);
    }
    os_ << " {\n";
    int next = 0;
    for (const Op &op : g_.ops) {
      if (op.erased)
        continue;
      names_[op.result] = fmt::format("%{}", next++);
      printOp(op);
    }
    os_ << "  return";
    for (size_t i = 0; i < g_.outputs.size(); ++i) {
      ValueId v = g_.outputs[i];
      os_ << (i ? ", " : " ") << name(v);
      if (!g_.values[v].name.empty())
        os_ << " name(" << quoted(g_.values[v].name) << ")";
    }
    os_ << "\n}\n";
    if (opts_.printWeights && !referenced_.empty()) {
      os_ << "weights {\n";
      for (WeightId w : referenced_) {
        const Weight &wt = g_.weights.get(w);
        os_ << "  @" << nameToken(wt.name()) << " = ";
        printDense(wt, os_);
        os_ << " : " << wt.type().str() << "\n";
      }
      os_ << "}\n";
    }
  }

private:
  std::string name(ValueId v) {
    auto it = names_.find(v);
    return it == names_.end() ? fmt::format("%<undefined:{}>", v) : it->second;
  }

  void printOp(const Op &op) {
    os_ << "  " << names_[op.result] << " = " << mnemonic(op.kind);
    if (op.kind == OpKind::Const) {
      const Weight &w = g_.weights.get(op.weight);
      os_ << " ";
      if (w.numel() <= opts_.inlineWeightLimit) {
        printDense(w, os_);
      } else {
        os_ << "@" << nameToken(w.name());
        if (!referencedSet_.count(op.weight)) {
          referencedSet_[op.weight] = true;
          referenced_.push_back(op.weight);
        }
      }
    }
    for (size_t i = 0; i < op.operands.size(); ++i)
      os_ << (i ? ", " : " ") << name(op.operands[i]);
    printAttrs(op.attrs, os_);
    os_ << " : " << g_.type(op.result).str();
    if (opts_.printLocations && !op.loc.empty())
      os_ << " loc(" << quoted(op.loc) << ")";
    os_ << "\n";
  }

  const Graph &g_;
  std::ostream &os_;
  const PrintOptions &opts_;
  std::unordered_map<ValueId, std::string> names_;
  std::unordered_map<WeightId, bool> referencedSet_;
  std::vector<WeightId> referenced_;
};

} // namespace

std::string formatFloat(float f) {
  if (std::isnan(f))
    return "nan";
  if (std::isinf(f))
    return f > 0 ? "inf" : "-inf";
  return fmt::format("{:.9g}", f);
}

void printGraph(const Graph &g, std::ostream &os, const PrintOptions &opts) {
  GraphPrinter(g, os, opts).print();
}

std::string printGraph(const Graph &g, const PrintOptions &opts) {
  std::ostringstream os;
  printGraph(g, os, opts);
  return os.str();
}

} // namespace gma::ir
