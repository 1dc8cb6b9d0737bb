//===- ir/OpKinds.cpp - Operation kinds and their traits ------------------===//
#include "ir/OpKinds.h"

namespace gma::ir {
namespace {

struct OpInfo {
  std::string_view mnemonic;
  int numOperands;
  uint32_t traits;
};

constexpr OpInfo kOpInfo[] = {
#define GAMMA_OP(Enum, Mnemonic, NumOperands, Traits) {Mnemonic, NumOperands, Traits},
#include "ir/Ops.def"
#undef GAMMA_OP
};

} // namespace

std::string_view mnemonic(OpKind kind) { return kOpInfo[static_cast<int>(kind)].mnemonic; }
int numOperands(OpKind kind) { return kOpInfo[static_cast<int>(kind)].numOperands; }
uint32_t traits(OpKind kind) { return kOpInfo[static_cast<int>(kind)].traits; }

std::optional<OpKind> opKindFromMnemonic(std::string_view name) {
  for (int i = 0; i < kNumOpKinds; ++i)
    if (kOpInfo[i].mnemonic == name)
      return static_cast<OpKind>(i);
  return std::nullopt;
}

} // namespace gma::ir
