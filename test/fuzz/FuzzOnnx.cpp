//===- test/fuzz/FuzzOnnx.cpp - libFuzzer harness for the ONNX importer ---===//
//
// Feeds arbitrary bytes to importOnnxBytes. The importer must return a graph
// or a coded error for every input; a graph it returns must pass the IR
// verifier (a failure there is an importer bug, so the harness aborts).
// External-data locations resolve against the current folder: run the fuzzer
// in an empty one.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/OnnxImporter.h"
#include "ir/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  auto g = gma::frontend::importOnnxBytes(bytes, "fuzz.onnx");
  if (!g) {
    // Every error must carry a real code (E1xxx..E6xxx).
    int code = static_cast<int>(g.error().code());
    if (code < 1000 || code > 6999)
      std::abort();
    (void)g.error().str();
    return 0;
  }
  if (gma::Status s = gma::ir::verifyGraph(*g); !s) {
    std::fprintf(stderr, "imported graph fails the IR verifier: %s\n", s.error().str().c_str());
    std::abort();
  }
  return 0;
}
