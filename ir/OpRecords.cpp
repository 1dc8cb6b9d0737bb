//===- ir/OpRecords.cpp - The table of op records -------------------------===//
//
// One entry per row of ir/Ops.def, in its order; each k<Enum>Record is
// defined beside its op's semantics in ir/ops/.
//
//===----------------------------------------------------------------------===//
#include "ir/OpRecord.h"

namespace gma::ir {

#define GAMMA_OP(Enum, Mnemonic, NumOperands, Traits) extern const OpRecord k##Enum##Record;
#include "ir/Ops.def"
#undef GAMMA_OP

namespace {
const OpRecord *const kRecords[] = {
#define GAMMA_OP(Enum, Mnemonic, NumOperands, Traits) &k##Enum##Record,
#include "ir/Ops.def"
#undef GAMMA_OP
};
static_assert(sizeof(kRecords) / sizeof(kRecords[0]) == kNumOpKinds);
} // namespace

const OpRecord &opRecord(OpKind kind) { return *kRecords[static_cast<int>(kind)]; }

} // namespace gma::ir
