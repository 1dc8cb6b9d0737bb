//===- ir/Parser.h - Parse the textual IR -----------------------*- C++ -*-===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <string>
#include <string_view>

namespace gma::ir {

/// Parses one graph (and its optional weights section) in the format that
/// ir/Printer.h prints. Errors carry line and column; `fileName` names the
/// source in them.
Expected<Graph> parseGraph(std::string_view text, const std::string &fileName = "<input>");

/// Splits a file on lines that are exactly `// -----` (lit's --split-input-file).
std::vector<std::string> splitInputFile(std::string_view text);

} // namespace gma::ir
