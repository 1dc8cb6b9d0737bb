//===- frontend/onnx/Lowering.h - Lowering of each ONNX operator -*- C++ -*-===//
//
// One function per supported ONNX operator (default domain, opsets 7-21). Each
// reads its node through NodeLowering, then either emits IR ops or folds the
// node at import time, and binds the node's outputs in the tensor table.
//
// LowerLayers.cpp: the float operators that become IR ops (Gemm, Conv, MatMul,
// elementwise arithmetic, activations). LowerShapes.cpp: Constant, view
// operators (Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Identity,
// Dropout) and the integer shape operators folded at import.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/onnx/ImportContext.h"

#include <string>
#include <vector>

namespace gma::frontend {

/// Lowers one node: emits its IR ops or folds it, and binds its outputs.
using LowerFn = Status (*)(NodeLowering &n);

/// The lowering function of an ONNX op type in the default domain, or nullptr.
LowerFn findLowering(const std::string &opType);

/// The supported op types, sorted (for error messages and docs).
std::vector<std::string> supportedOnnxOps();

// LowerLayers.cpp
Status lowerGemm(NodeLowering &n);
Status lowerConv(NodeLowering &n);
Status lowerBatchNormalization(NodeLowering &n);
Status lowerAveragePool(NodeLowering &n);
Status lowerMaxPool(NodeLowering &n);
Status lowerMax(NodeLowering &n);
Status lowerPad(NodeLowering &n);
Status lowerGlobalAveragePool(NodeLowering &n);
Status lowerMatMul(NodeLowering &n);
Status lowerAdd(NodeLowering &n);
Status lowerSub(NodeLowering &n);
Status lowerMul(NodeLowering &n);
Status lowerDiv(NodeLowering &n);
Status lowerRelu(NodeLowering &n);
/// Output 0 = `kind` applied to input 0 with `attrs` (the IR's shape rule
/// checks it at this node).
Status lowerUnary(NodeLowering &n, ir::OpKind kind, ir::Attrs attrs = {});
Status lowerSigmoid(NodeLowering &n);
Status lowerSoftplus(NodeLowering &n);
Status lowerLeakyRelu(NodeLowering &n);
Status lowerNeg(NodeLowering &n);
Status lowerTanh(NodeLowering &n);
Status lowerExp(NodeLowering &n);
Status lowerClip(NodeLowering &n);
Status lowerReduceSum(NodeLowering &n);
Status lowerReduceMean(NodeLowering &n);

// LowerShapes.cpp
Status lowerConstant(NodeLowering &n);
Status lowerConstantOfShape(NodeLowering &n);
Status lowerIdentity(NodeLowering &n);
Status lowerDropout(NodeLowering &n);
Status lowerFlatten(NodeLowering &n);
Status lowerReshape(NodeLowering &n);
Status lowerSqueeze(NodeLowering &n);
Status lowerUnsqueeze(NodeLowering &n);
Status lowerTranspose(NodeLowering &n);
Status lowerShape(NodeLowering &n);
Status lowerGather(NodeLowering &n);
Status lowerExpand(NodeLowering &n);
Status lowerSplit(NodeLowering &n);
Status lowerResize(NodeLowering &n);
Status lowerUpsample(NodeLowering &n);
Status lowerConcat(NodeLowering &n);
Status lowerCast(NodeLowering &n);
Status lowerSlice(NodeLowering &n);
Status lowerEqual(NodeLowering &n);
Status lowerWhere(NodeLowering &n);

} // namespace gma::frontend
