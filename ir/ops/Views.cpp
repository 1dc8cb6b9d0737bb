//===- ir/ops/Views.cpp - const, reshape, identity ------------------------===//
//
// Ops that move no arithmetic: a weight-store constant, a reshape (same
// elements, new static shape) and a pass-through copy. Their interval rules
// copy the bounds.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <fmt/format.h>

namespace gma::ir {
using namespace ops;
namespace {

Expected<TensorType> constShape(const ShapeArgs &a) {
  if (!a.declared)
    return shapeError("const needs a declared type");
  return *a.declared;
}

Expected<TensorType> reshapeShape(const ShapeArgs &a) {
  if (!a.declared)
    return shapeError("reshape needs a declared result type");
  if (a.declared->numel() != a.operands[0].numel())
    return shapeError(fmt::format("reshape from {} to {} changes the element count",
                                  shapeStr(a.operands[0].shape), shapeStr(a.declared->shape)));
  return *a.declared;
}

/// A constant's value is its weight; the interpreter reads it directly.
template <class T> void evalNothing(const EvalArgs<T> &) {}
Status intervalNothing(const IntervalArgs &) { return Status::ok(); }
Graph noInstance(std::mt19937_64 &) { return Graph{}; }

template <class T> void evalCopy(const EvalArgs<T> &a) {
  int64_t n = a.g.type(a.op.result).numel();
  std::copy(a.in[0], a.in[0] + n, a.out);
}

Status intervalCopy(const IntervalArgs &a) {
  int64_t n = a.g.type(a.op.result).numel();
  std::copy(a.lo[0], a.lo[0] + n, a.outLo);
  std::copy(a.hi[0], a.hi[0] + n, a.outHi);
  return Status::ok();
}

Graph reshapeInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng);
  int64_t n = TensorType{s}.numel();
  // The same elements as [n] or [1, n] or [n, 1].
  int form = std::uniform_int_distribution<int>(0, 2)(rng);
  TensorType to{form == 0 ? Shape{n} : form == 1 ? Shape{1, n} : Shape{n, 1}};
  return instanceOf(rng, OpKind::Reshape, {TensorType{s}}, {false}, {}, &to);
}

Graph identityInstance(std::mt19937_64 &rng) {
  return instanceOf(rng, OpKind::Identity, {TensorType{randomShape(rng)}}, {false});
}

} // namespace

extern const OpRecord kConstRecord = {
    .shape = constShape,
    .eval = evalNothing<float>,
    .eval64 = evalNothing<double>,
    .interval = intervalNothing,
    .instance = noInstance,
};
extern const OpRecord kReshapeRecord = {
    .shape = reshapeShape,
    .eval = evalCopy<float>,
    .eval64 = evalCopy<double>,
    .interval = intervalCopy,
    .instance = reshapeInstance,
    .crown = crownSigned<1>,
    .grad = gradSigned<1>,
};
extern const OpRecord kIdentityRecord = {
    .shape = sameShape,
    .eval = evalCopy<float>,
    .eval64 = evalCopy<double>,
    .interval = intervalCopy,
    .instance = identityInstance,
    .crown = crownSigned<1>,
    .grad = gradSigned<1>,
};

} // namespace gma::ir
