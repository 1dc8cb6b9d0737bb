//===- test/fuzz/FuzzVnnlib.cpp - libFuzzer harness for the VNN-LIB parser -===//
//
// Feeds arbitrary text to parseVnnlib. Every input must give a property or a
// coded error; a property must be well formed: finite boxes with lo <= hi,
// rows as wide as the outputs, finite coefficients.
//
//===----------------------------------------------------------------------===//
#include "frontend/vnnlib/VnnLib.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
void require(bool ok) {
  if (!ok)
    std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto p = gma::frontend::parseVnnlib(text, "fuzz.vnnlib");
  if (!p) {
    int code = static_cast<int>(p.error().code());
    require(code >= 4000 && code <= 4999);
    (void)p.error().str();
    return 0;
  }
  require(!p->cases.empty());
  for (const auto &c : p->cases) {
    require(static_cast<int64_t>(c.lo.size()) == p->numInputs);
    require(static_cast<int64_t>(c.hi.size()) == p->numInputs);
    for (size_t i = 0; i < c.lo.size(); ++i)
      require(std::isfinite(c.lo[i]) && std::isfinite(c.hi[i]) && c.lo[i] <= c.hi[i]);
    for (const auto &d : c.disjuncts) {
      require(d.C.size() == d.d.size());
      for (size_t r = 0; r < d.C.size(); ++r) {
        require(static_cast<int64_t>(d.C[r].size()) == p->numOutputs);
        require(std::isfinite(d.d[r]));
        for (double k : d.C[r])
          require(std::isfinite(k));
      }
    }
  }
  return 0;
}
