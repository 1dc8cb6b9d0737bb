//===- tools/gammac/main.cpp - The gamma compiler driver ------------------===//
//
//   gammac MODEL.onnx [-o OUT] [-emit=ir|ir-opt|llvm|asm|obj|header|so]
//          [--prefix NAME] [--mcpu CPU] [-O0..3] [--pass-pipeline P,Q,...]
//
// Reads an ONNX model (or textual IR, *.gir), runs the pass pipeline and
// writes one artefact. The default, `so`, writes OUT (default
// `<stem>_verifier.so`), its C header (`<stem>_verifier.h`) and the weights
// its kernels read (`<stem>_verifier.weights`) beside it; `obj` writes the
// object and `OUT.weights`.
// `-o -` sends textual output to stdout. Outputs are written to a temporary
// and renamed, so a failure never leaves a partial file. The model hash
// recorded in the library is the model digest (support/Hash.h).
//
// A thin driver: the work is in frontend/, passes/ and codegen/.
//
//===----------------------------------------------------------------------===//
#include "generated/Version.h"
#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "support/Diagnostic.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "passes/PassManager.h"
#include "support/Files.h"
#include "support/Hash.h"
#include "tools/common/ExitCode.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

using namespace gma;
using gma::tools::ExitCode;
using gma::tools::exitWith;

namespace {

struct Options {
  std::string input;
  std::string output;
  std::string emit = "so";
  std::string prefix;
  std::string mcpu = "native";
  int optLevel = 3;
  std::string pipeline = passes::kDefaultPipeline;
  std::string linker = "cc";
};

struct EmitInfo {
  const char *name;
  const char *extension; ///< Of the default output file.
  bool textual;
};

const EmitInfo kEmits[] = {
    {"ir", ".gir", true},       {"ir-opt", ".gir", true},    {"llvm", ".ll", true},
    {"asm", ".s", true},        {"obj", ".o", false},        {"header", ".h", true},
    {"so", ".so", false},
};

const EmitInfo &emitInfo(const std::string &name) {
  for (const EmitInfo &e : kEmits)
    if (name == e.name)
      return e;
  return kEmits[6];
}

/// "mlp-gemm.v2" -> "mlp_gemm_v2": a C identifier for symbols and macros.
std::string identifierFrom(const std::string &stem) {
  std::string r;
  for (char c : stem)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "m_" + r;
  return r;
}

int fail(const Error &e, ExitCode code = ExitCode::UserError) {
  std::fprintf(stderr, "%s\n", e.str().c_str());
  return exitWith(code);
}

Status writeText(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return Status::ok();
  }
  return codegen::writeFileAtomically(path, text);
}

int run(const Options &o) {
  namespace fs = std::filesystem;
  const EmitInfo &emit = emitInfo(o.emit);
  std::string stem = fs::path(o.input).stem().string();
  std::string output = o.output.empty() ? stem + "_verifier" + emit.extension : o.output;
  if (output == "-" && !emit.textual)
    return fail(Error(ErrorCode::InvalidArgument,
                      fmt::format("-emit={} writes a binary file; give -o FILE", o.emit)));

  // Every output path is checked before any work: never a link, device,
  // FIFO or the input itself, and `-o x.h` cannot make the header replace
  // the library.
  {
    std::vector<std::string> targets;
    if (output != "-")
      targets.push_back(output);
    if (o.emit == "so") {
      std::string headerPath = fs::path(output).replace_extension(".h").string();
      if (headerPath == output)
        return fail(Error(ErrorCode::OutputTarget,
                          fmt::format("-o '{}': the header would be written over the library; "
                                      "name the library *.so",
                                      output)));
      targets.push_back(headerPath);
    }
    if (o.emit == "so" || o.emit == "obj")
      targets.push_back(support::weightsPathFor(output));
    for (const std::string &t : targets)
      if (std::string why = support::checkOutputTarget(t, {o.input}); !why.empty()) {
        Location loc;
        loc.file = t;
        return fail(Error(ErrorCode::OutputTarget, "cannot write the output here: " + why, loc));
      }
  }

  // ONNX models are memory-mapped by the importer; textual IR is read here.
  bool textualIr = fs::path(o.input).extension() == ".gir";
  std::string data;
  if (textualIr) {
    // A regular file of sane size: never /dev/zero or a FIFO read forever.
    constexpr uintmax_t kMaxTextualIrBytes = uintmax_t(1) << 30;
    std::error_code ec;
    if (fs::is_regular_file(o.input, ec) && fs::file_size(o.input, ec) > kMaxTextualIrBytes) {
      Location loc;
      loc.file = o.input;
      return fail(Error(ErrorCode::InvalidArgument,
                        "textual IR larger than 1 GiB is not supported; use the ONNX model", loc));
    }
    std::ifstream in(o.input, std::ios::binary);
    if (!fs::is_regular_file(o.input, ec) || !in) {
      Location loc;
      loc.file = o.input;
      return fail(Error(ErrorCode::FileNotFound, "cannot read the model file", loc));
    }
    std::stringstream bytes;
    bytes << in.rdbuf();
    data = bytes.str();
  }
  auto graph = textualIr ? ir::parseGraph(data, o.input) : frontend::importOnnxFile(o.input);
  if (!graph)
    return fail(graph.error());
  if (textualIr)
    graph->sourceDigest = support::digestHex(data);
  if (textualIr && graph->name.empty())
    graph->name = stem;

  ir::PrintOptions print;
  print.printWeights = true;
  if (o.emit == "ir") {
    Status st = writeText(output, ir::printGraph(*graph, print));
    return st ? exitWith(ExitCode::Success) : fail(st.error());
  }

  auto pipeline = passes::parsePipeline(o.pipeline);
  if (!pipeline)
    return fail(pipeline.error());
  if (Status st = passes::runPipeline(*graph, *pipeline); !st)
    return fail(st.error(), ExitCode::InternalError); // A pass broke an invariant: our bug.
  if (o.emit == "ir-opt") {
    Status st = writeText(output, ir::printGraph(*graph, print));
    return st ? exitWith(ExitCode::Success) : fail(st.error());
  }

  codegen::CodegenOptions cg;
  cg.prefix = o.prefix.empty() ? identifierFrom(stem) : o.prefix;
  cg.cpu = o.mcpu;
  cg.optLevel = o.optLevel;
  cg.modelDigest = graph->sourceDigest;
  cg.linker = o.linker;

  using codegen::EmitKind;
  if (emit.textual) {
    EmitKind kind = o.emit == "llvm" ? EmitKind::LlvmIr
                    : o.emit == "asm" ? EmitKind::Assembly
                                      : EmitKind::Header;
    if (output != "-") {
      Status st = codegen::emitToFile(*graph, kind, output, cg);
      return st ? exitWith(ExitCode::Success) : fail(st.error());
    }
    auto text = codegen::emitToString(*graph, kind, cg);
    if (!text)
      return fail(text.error());
    Status st = writeText("-", *text);
    return st ? exitWith(ExitCode::Success) : fail(st.error());
  }
  if (o.emit == "obj") {
    Status st = codegen::emitToFile(*graph, EmitKind::Object, output, cg);
    return st ? exitWith(ExitCode::Success) : fail(st.error());
  }

  // so: the library and, beside it, its header. The header is generated
  // first (it cannot fail once the library could be built, and it validates
  // the graph cheaply); if writing it fails, the library is removed again.
  auto header = codegen::emitToString(*graph, EmitKind::Header, cg);
  if (!header)
    return fail(header.error());
  if (Status st = codegen::emitToFile(*graph, EmitKind::SharedLibrary, output, cg); !st)
    return fail(st.error());
  std::string headerPath = fs::path(output).replace_extension(".h").string();
  if (Status st = codegen::writeFileAtomically(headerPath, *header); !st) {
    std::error_code ec;
    fs::remove(output, ec);
    fs::remove(support::weightsPathFor(output), ec);
    return fail(st.error());
  }
  return exitWith(ExitCode::Success);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gammac: compile an ONNX model into a specialised verifier"};
  app.set_version_flag("--version", "gammac " GAMMA_VERSION);
  Options o;
  app.add_option("model", o.input, "ONNX model (or textual IR, *.gir)")->required();
  app.add_option("-o,--output", o.output,
                 "Output file ('-' for stdout); default <stem>_verifier.<ext>");
  std::vector<std::string> emitNames;
  for (const EmitInfo &e : kEmits)
    emitNames.push_back(e.name);
  app.add_option("--emit", o.emit,
                 "ir: imported IR; ir-opt: IR after the pipeline; llvm: optimised LLVM IR; "
                 "asm; obj; header: the C header; so: shared library + header")
      ->check(CLI::IsMember(emitNames))
      ->capture_default_str();
  app.add_option("--prefix", o.prefix, "Symbol prefix (<prefix>_eval, ...); default: the stem");
  app.add_option("--mcpu", o.mcpu, "Target CPU; 'native' is the host")->capture_default_str();
  app.add_option("-O", o.optLevel, "Optimisation level 0..3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  app.add_option("--pass-pipeline", o.pipeline, "Comma-separated passes")->capture_default_str();
  app.add_option("--linker", o.linker, "C compiler driver used to link shared libraries")
      ->capture_default_str();

  std::vector<std::string> args;
  for (int i = argc - 1; i > 0; --i) {
    std::string a = argv[i];
    if (a.rfind("-emit=", 0) == 0)
      a = "--emit=" + a.substr(6);
    else if (a == "-emit")
      a = "--emit";
    args.push_back(a);
  }
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? exitWith(ExitCode::Success) : exitWith(ExitCode::UserError);
  }
  try {
    return run(o);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "gammac: internal error: %s\n", e.what());
    return exitWith(ExitCode::InternalError);
  }
}
