//===- tools/gamma-opt/main.cpp - Run passes on textual IR ----------------===//
//
// gamma-opt reads one graph in textual IR (or imports an ONNX model), verifies
// it, runs the passes named on the command line in the order given, and prints
// the result. It is what the lit tests drive:
//
//   gamma-opt --split-input-file --fuse-affine test.gir | FileCheck test.gir
//
// Pass flags come from passes/Passes.def, one per pass; `--pass-pipeline=a,b`
// and `--default-pipeline` add several at once, all in command-line order.
// User mistakes (unreadable input, syntax errors, unknown pass names) exit with
// ExitCode::UserError; a pass that breaks the IR is a bug in gamma and exits
// with ExitCode::InternalError.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "support/InputFile.h"
#ifdef GAMMA_HAVE_ONNX_FRONTEND
#include "frontend/onnx/OnnxImporter.h"
#endif

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace {

using namespace gma;

enum class ExitCode { Success = 0, UserError = 1, InternalError = 2 };

struct Options {
  std::string input = "-";
  std::string output = "-";
  bool splitInputFile = false;
  bool printWeights = false;
  int64_t inlineWeights = 16;
  passes::PipelineOptions pipeline;
  std::vector<const passes::PassInfo *> passes;
};

/// A user-facing failure of one step, with the exit code it maps to.
struct Failure {
  Error error;
  ExitCode code;
};

Location inFile(const std::string &path) {
  Location loc;
  loc.file = path;
  return loc;
}

/// Textual IR larger than this is refused unread (a 100k-op graph is ~5 MB).
constexpr uint64_t kMaxIrBytes = uint64_t(1) << 30;

/// Reads the input without blocking on a FIFO or reading /dev/zero forever:
/// files through support::mapInputFile, stdin up to the same limit.
Expected<std::string> readInput(const std::string &path) {
  if (path == "-") {
    std::string text;
    char buf[1 << 16];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      text.append(buf, static_cast<size_t>(std::cin.gcount()));
      if (text.size() > kMaxIrBytes)
        return Error(ErrorCode::IrSyntax,
                     fmt::format("the input on stdin is larger than {} bytes", kMaxIrBytes),
                     inFile("<stdin>"));
    }
    return text;
  }
  auto file = support::mapInputFile(path, kMaxIrBytes, ErrorCode::IrSyntax, "textual IR file");
  if (!file)
    return file.takeError();
  return std::string((*file)->bytes());
}

/// Writes `text` to `path` through a temporary file and a rename, so that a
/// failed run never leaves a partial file behind.
Status writeOutput(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return Status::ok();
  }
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return Error(ErrorCode::FileWrite, fmt::format("cannot write '{}'", tmp), inFile(path));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Error(ErrorCode::FileWrite, fmt::format("cannot write '{}': {}", path, ec.message()),
                 inFile(path));
  }
  return Status::ok();
}

bool isOnnxPath(const std::string &path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

Expected<ir::Graph> importOnnx(const std::string &path) {
#ifdef GAMMA_HAVE_ONNX_FRONTEND
  return frontend::importOnnxFile(path);
#else
  return Error(ErrorCode::InvalidArgument,
               "this gamma-opt was built without the ONNX frontend; pass textual IR", inFile(path));
#endif
}

/// Verifies, transforms and prints one graph. Returns the printed IR.
Expected<std::string> process(Expected<ir::Graph> graph, const Options &opts, ExitCode &code) {
  code = ExitCode::UserError;
  if (!graph)
    return graph.takeError();
  if (Status s = ir::verifyGraph(*graph); !s)
    return s.takeError();
  code = ExitCode::InternalError;
  if (Status s = passes::runPipeline(*graph, opts.passes, opts.pipeline); !s)
    return s.takeError();
  ir::PrintOptions print;
  print.inlineWeightLimit = opts.inlineWeights;
  print.printWeights = opts.printWeights;
  code = ExitCode::Success;
  return ir::printGraph(*graph, print);
}

ExitCode run(const Options &opts) {
  std::vector<std::string> chunks;
  std::vector<Expected<ir::Graph>> graphs;
  if (isOnnxPath(opts.input)) {
    graphs.push_back(importOnnx(opts.input));
  } else {
    Expected<std::string> text = readInput(opts.input);
    if (!text) {
      std::cerr << text.error().str() << "\n";
      return ExitCode::UserError;
    }
    std::string fileName = opts.input == "-" ? "<stdin>" : opts.input;
    if (!opts.splitInputFile) {
      graphs.push_back(ir::parseGraph(*text, fileName));
    } else {
      // Pad each chunk with the newlines before it, so that errors name the
      // line in the whole file (each separator line was one line too).
      int line = 0;
      for (std::string &chunk : ir::splitInputFile(*text)) {
        std::string padded = std::string(static_cast<size_t>(line), '\n') + chunk;
        line += static_cast<int>(std::count(chunk.begin(), chunk.end(), '\n')) + 1;
        graphs.push_back(ir::parseGraph(padded, fileName));
      }
    }
  }

  ExitCode worst = ExitCode::Success;
  std::string out;
  for (size_t i = 0; i < graphs.size(); ++i) {
    ExitCode code;
    Expected<std::string> printed = process(std::move(graphs[i]), opts, code);
    if (i > 0)
      out += "// -----\n";
    if (printed) {
      out += *printed;
    } else {
      std::cerr << printed.error().str() << "\n";
      if (static_cast<int>(code) > static_cast<int>(worst))
        worst = code;
    }
  }
  // A failed run leaves no output file; on stdout the chunks that worked are
  // still useful (as with mlir-opt --split-input-file).
  if (worst != ExitCode::Success && opts.output != "-")
    return worst;
  if (Status s = writeOutput(opts.output, out); !s) {
    std::cerr << s.error().str() << "\n";
    return ExitCode::UserError;
  }
  return worst;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gamma-opt: run gamma's graph passes on textual IR or an ONNX model"};
  Options opts;
  app.add_option("input", opts.input, "Input: textual IR (.gir), an ONNX model (.onnx) or '-'");
  app.add_option("-o", opts.output, "Output file ('-' for stdout)");
  app.add_flag("--split-input-file", opts.splitInputFile,
               "Process each chunk between '// -----' lines on its own");
  app.add_flag("--print-after-all", opts.pipeline.printAfterAll,
               "Print the IR after each pass that changed it (to stderr)");
  app.add_flag("--verify-each", opts.pipeline.verifyEach, "Run the IR verifier after each pass");
  app.add_flag("--time-passes", opts.pipeline.timePasses,
               "Print a table of pass wall times (to stderr)");
  app.add_option("--inline-weights", opts.inlineWeights,
                 "Print weights with at most this many elements inline")
      ->capture_default_str();
  app.add_flag("--print-weights", opts.printWeights,
               "Append a weights section with every weight printed by reference");

  // Pass options, applied in command-line order.
  std::map<const CLI::Option *, const passes::PassInfo *> passFlags;
  for (const passes::PassInfo &p : passes::allPasses())
    passFlags[app.add_flag(std::string("--") + p.name, p.summary)->group("Passes")] = &p;
  CLI::Option *pipelineOpt =
      app.add_option("--pass-pipeline", "Run a comma-separated list of passes")
          ->group("Passes")
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI::Option *defaultOpt =
      app.add_flag("--default-pipeline")
          ->description(std::string("Run the default pipeline: ") + passes::kDefaultPipeline)
          ->group("Passes");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? static_cast<int>(ExitCode::Success)
                            : static_cast<int>(ExitCode::UserError);
  }

  size_t pipelineIndex = 0;
  for (const CLI::Option *o : app.parse_order()) {
    std::string spec;
    if (auto it = passFlags.find(o); it != passFlags.end()) {
      opts.passes.push_back(it->second);
      continue;
    }
    if (o == pipelineOpt)
      spec = pipelineOpt->results().at(pipelineIndex++);
    else if (o == defaultOpt)
      spec = passes::kDefaultPipeline;
    else
      continue;
    auto parsed = passes::parsePipeline(spec);
    if (!parsed) {
      std::cerr << parsed.error().str() << "\n";
      return static_cast<int>(ExitCode::UserError);
    }
    opts.passes.insert(opts.passes.end(), parsed->begin(), parsed->end());
  }

  try {
    return static_cast<int>(run(opts));
  } catch (const std::exception &e) {
    std::cerr << "gamma-opt: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::InternalError);
  }
}
