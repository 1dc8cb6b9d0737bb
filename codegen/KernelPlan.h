//===- codegen/KernelPlan.h - The lowered schedule codegen emits -*- C++ -*-===//
//
// The bridge between the IR and LLVM: `buildKernelPlan` reads a planned graph
// (the buffer plan of docs/ir.md), resolves views to the buffers they alias,
// checks that every op is one the kernels implement, and returns a flat list
// of steps with everything the emitters need: buffer locations, static sizes
// and constants in the layout the loops read (affine weights as [K, N]
// row-major, their column sums of |W| rounded up, broadcast constants).
//
// No LLVM here, so unsupported graphs are rejected with a CodegenFailed error
// naming the op before any LLVM object exists.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/ConvGeometry.h"
#include "ir/Graph.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gma::codegen {

/// Where a value's floats live: `region` base + `offset`·B, `numel` floats per
/// sample (region 0 = scratch arena, 1 = the caller's input, 2 = the output).
struct BufferRef {
  int region = 0;
  int64_t offset = 0;
  int64_t numel = 0;
  bool operator==(const BufferRef &o) const {
    return region == o.region && offset == o.offset && numel == o.numel;
  }
};

enum class StepKind {
#define GAMMA_STEP(Name, doc) Name,
#include "codegen/Steps.def"
};
constexpr int kNumStepKinds = 0
#define GAMMA_STEP(Name, doc) +1
#include "codegen/Steps.def"
    ;

enum class BinOp { Add, Sub, Mul, Div };

/// Constant floats: borrowed from the weight store (`keep` is the weight's
/// owner) or computed by the lowering (`keep` owns the vector). Either way
/// `keep` keeps `data` alive, so a plan's weights outlive its graph.
struct ConstData {
  std::shared_ptr<const void> keep;
  const float *data = nullptr;
  int64_t size = 0;
};

/// One block of a gather step (Step::gatherBlocks): `count` pairs whose
/// result indices start at entry `dstAt` of Step::gatherIndex and source
/// indices at `srcAt` (-1: the constants' block, values from Step::constant).
/// `contiguous`: result dst0 + j takes source src0 + j (a copy).
struct GatherBlock {
  int64_t count = 0;
  int64_t dstAt = 0, srcAt = -1;
  bool contiguous = false;
  int64_t dst0 = 0, src0 = 0;
};

struct Step {
  StepKind kind = StepKind::Copy;
  std::string name; ///< For symbol names and messages: "affine_3" etc.
  BufferRef out;
  std::vector<BufferRef> in;
  /// Value numbers of `out` and of each `in` (views resolved to the value
  /// they alias). Unlike buffers, which the plan reuses, a value number
  /// names one result for the whole schedule: the CROWN kernel keeps the
  /// bounds of every value at once (codegen/CrownLayout.h).
  int32_t outValue = -1;
  std::vector<int32_t> inValues;

  // Affine.
  int64_t rows = 1; ///< Rows per sample (leading dims of the activation).
  int64_t k = 0, n = 0;
  ConstData weight;     ///< [K, N] row-major.
  ConstData bias;       ///< [N], or empty for no bias.
  ConstData colAbsSum;  ///< [N]: roundUp(sum_k |W[k, n]|).
  ConstData weightT;    ///< [N, K] row-major: W transposed (the crown rule's).
  int64_t ulpError = 0; ///< The op's ulp_error attribute (docs/ir.md).

  // LeakyRelu: the slope below 0 (an f32).
  float alpha = 0.0f;

  // Sigmoid, Softplus, Tanh, Exp: the row of the scalar table
  // (abi/ScalarRelax.h) whose lines, values and slopes the rules take.
  int scalarFn = -1;

  // BinaryConst / BinaryAct.
  BinOp bin = BinOp::Add;
  bool constOnLeft = false; ///< C (op) in rather than in (op) C.
  /// Per sample, element ((o·mid) + m)·inner + i uses C[m].
  int64_t outer = 1, mid = 1, inner = 1;
  ConstData constant; ///< [mid]

  // Conv: weight in ONNX's [M, C/group, kernel...] layout, bias [M]; per
  // sample the input is [N, C, in...] and the output [N, M, out...].
  std::shared_ptr<const ir::ConvGeometry> conv;

  // Gather: an index-map op (ir::OpRecord::sourceMap) of activations and
  // constants. One block per distinct operand value (inValues in order of
  // first appearance), then one for the constant operands; in gatherIndex
  // (int32 bit patterns in f32 slots) each block's result indices followed
  // by its source indices (the constants' block has result indices only;
  // their values are `constant`).
  std::vector<GatherBlock> gatherBlocks;
  ConstData gatherIndex;
  /// Per operand position (inValues): the most results that read one of its
  /// elements (its terms per Λ coefficient, the fan-in charge).
  std::vector<int64_t> gatherTerms;
  /// The distinct operand values, in the order of gatherBlocks.
  std::vector<int32_t> distinctInValues() const;
};

struct KernelPlan {
  std::string modelName;
  ir::Shape inputShape, outputShape;
  int64_t inputSize = 0, outputSize = 0;
  int64_t arena = 0; ///< Scratch floats per sample (eval); IBP uses 2·arena.
  std::vector<Step> steps;
  /// Value numbers (Step::outValue, Step::inValues) are < numValues; the
  /// graph input is `inputValue`, the graph output `outputValue`.
  int32_t numValues = 0, inputValue = -1, outputValue = -1;
  /// The weight table (abi/KernelAbi.def, ABI 5): every distinct non-empty
  /// constant the steps hold, in step order, each once. Kernels read entry i
  /// through their `weights` parameter; weightIndex finds a step's.
  std::vector<ConstData> weights;
  /// Index of `c` (one of the steps' constants) in `weights`, or -1.
  int64_t weightIndex(const ConstData &c) const;
  std::map<std::pair<const float *, int64_t>, int64_t> weightIds; ///< weightIndex's
};

/// Lowers a planned graph. A graph without any buffer plan (no `arena`
/// attribute and no `buffer` attributes) gets a trivial plan: every
/// intermediate its own arena slot, the output's producer in region 2.
Expected<KernelPlan> buildKernelPlan(const ir::Graph &g);

/// Whether the kernels lower ops of `kind` at all (some forms of them may
/// still be refused: a product of two activations, a transposed activation).
bool kernelsImplement(ir::OpKind kind);

/// The first step of `plan` whose kind has no backward rule in the kernels
/// (so the plan gets no crown/grad kernels whatever the budgets), or null.
const Step *stepWithoutCrownRule(const KernelPlan &plan);

} // namespace gma::codegen
