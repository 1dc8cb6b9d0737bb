//===- ir/OpKinds.h - Operation kinds and their traits ----------*- C++ -*-===//
//
// Operation kinds are data: each row of ir/Ops.def gives a kind's mnemonic,
// operand count and traits. Code that needs to know "is this op elementwise?"
// asks `hasTrait`, so a new op is one table row plus its semantics.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gma::ir {

/// Trait bits of an operation kind.
enum OpTrait : uint32_t {
  kNone = 0,
  kConstant = 1u << 0,        ///< Produces a weight-store constant.
  kElementwise = 1u << 1,     ///< result[i] depends on operand elements at i only.
  kBroadcast = 1u << 2,       ///< Operands broadcast numpy-style.
  kCommutative = 1u << 3,     ///< Operands 0 and 1 may be swapped.
  kInPlace = 1u << 4,         ///< Result may overwrite operand 0's buffer.
  kAffineWithConst = 1u << 5, ///< Affine in its activation when all other operands are constant.
  kBilinear = 1u << 6,        ///< A product of two activations when neither is constant.
  kMonotone = 1u << 7,        ///< Elementwise non-decreasing function of operand 0.
  kRelaxed = 1u << 8,         ///< Nonlinear, bounded by a linear relaxation (CROWN).
  kView = 1u << 9,            ///< Result aliases operand 0's buffer (no data moves).
  kPassThrough = 1u << 10,    ///< Result equals operand 0 exactly (can be elided).
};

enum class OpKind : uint8_t {
#define GAMMA_OP(Enum, Mnemonic, NumOperands, Traits) Enum,
#include "ir/Ops.def"
#undef GAMMA_OP
};

/// Number of rows in ir/Ops.def.
constexpr int kNumOpKinds = 0
#define GAMMA_OP(Enum, Mnemonic, NumOperands, Traits) +1
#include "ir/Ops.def"
#undef GAMMA_OP
    ;

std::string_view mnemonic(OpKind kind);
/// Fixed operand count, or -1 for variadic.
int numOperands(OpKind kind);
uint32_t traits(OpKind kind);
inline bool hasTrait(OpKind kind, OpTrait t) { return (traits(kind) & t) != 0; }
/// Look up a kind by its mnemonic ("relu").
std::optional<OpKind> opKindFromMnemonic(std::string_view name);

} // namespace gma::ir
