//===- ir/ops/Views.cpp - const, reshape, identity and the index-map ops --===//
//
// Ops that move no arithmetic: a weight-store constant, a reshape (same
// elements, new static shape), a pass-through copy, and the index-map ops
// (transpose, slice, concat, gather, expand), each of whose result elements is one element of
// one operand. An index-map op is its shape rule and its source map; eval,
// interval, CROWN and gradient rules are the generic `gather` ones below
// (CROWN: Λ's columns move to the source elements, exact terms; the only
// rounding is the sum with the operand's other consumers' terms, the fan-in
// γ, counted from the source map). Adding one is a shape rule and a source map.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/Shapes.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <fmt/format.h>
#include <numeric>

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

// --- Index-map ops --------------------------------------------------------

using Source = IndexSource; // ir/OpRecord.h
using SourceFn = SourceMapFn;

/// Per-dimension first index, step and count of a slice (attrs starts,
/// steps, sizes; validated by sliceShape).
struct SliceDims {
  std::vector<int64_t> starts, steps, sizes;
};
SliceDims sliceDims(const Attrs &attrs) {
  auto get = [&](const char *name) {
    auto it = attrs.find(name);
    return it == attrs.end() ? std::vector<int64_t>{} : it->second.ints;
  };
  return {get("starts"), get("steps"), get("sizes")};
}

SourceMap transposeSrc(const Graph &g, const Op &op) {
  SourceMap m;
  for (int64_t i : transposeSource(g, op))
    m.push_back({0, i});
  return m;
}

SourceMap sliceSrc(const Graph &g, const Op &op) {
  const Shape &is = g.type(op.operands[0]).shape;
  SliceDims d = sliceDims(op.attrs);
  Shape inStrides = stridesOf(is);
  const size_t rank = is.size();
  int64_t total = TensorType{d.sizes}.numel();
  SourceMap m;
  m.reserve(static_cast<size_t>(total));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t src = 0;
    for (size_t k = 0; k < rank; ++k)
      src += (d.starts[k] + idx[k] * d.steps[k]) * inStrides[k];
    m.push_back({0, src});
    for (size_t k = rank; k-- > 0;) { // next multi-index, last dim fastest
      if (++idx[k] < d.sizes[k])
        break;
      idx[k] = 0;
    }
  }
  return m;
}

SourceMap concatSrc(const Graph &g, const Op &op) {
  const Shape &rs = g.type(op.result).shape;
  const size_t ax = static_cast<size_t>(op.intAttr("axis"));
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < ax; ++k)
    outer *= rs[k];
  for (size_t k = ax + 1; k < rs.size(); ++k)
    inner *= rs[k];
  SourceMap m;
  m.reserve(static_cast<size_t>(TensorType{rs}.numel()));
  for (int64_t o = 0; o < outer; ++o)
    for (size_t p = 0; p < op.operands.size(); ++p) {
      int64_t chunk = g.type(op.operands[p]).shape[ax] * inner;
      for (int64_t j = 0; j < chunk; ++j)
        m.push_back({static_cast<int32_t>(p), o * chunk + j});
    }
  return m;
}

/// gather {axis, indices, index_shape}: ONNX Gather with constant indices
/// (normalised to [0, dim)); result dims x[:axis] + index_shape + x[axis+1:].
SourceMap gatherSrc(const Graph &g, const Op &op) {
  const Shape &xs = g.type(op.operands[0]).shape;
  const size_t ax = static_cast<size_t>(op.intAttr("axis"));
  const std::vector<int64_t> &idx = op.attrs.at("indices").ints;
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < ax; ++k)
    outer *= xs[k];
  for (size_t k = ax + 1; k < xs.size(); ++k)
    inner *= xs[k];
  SourceMap m;
  m.reserve(static_cast<size_t>(outer) * idx.size() * static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : idx)
      for (int64_t i = 0; i < inner; ++i)
        m.push_back({0, (o * xs[ax] + j) * inner + i});
  return m;
}

/// expand {shape}: x broadcast (numpy rules) to `shape`.
SourceMap expandSrc(const Graph &g, const Op &op) {
  const Shape &xs = g.type(op.operands[0]).shape, &rs = g.type(op.result).shape;
  Shape xStrides = stridesOf(xs);
  const size_t off = rs.size() - xs.size();
  int64_t total = TensorType{rs}.numel();
  SourceMap m;
  m.reserve(static_cast<size_t>(total));
  std::vector<int64_t> idx(rs.size(), 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t src = 0;
    for (size_t k = 0; k < xs.size(); ++k)
      src += (xs[k] == 1 ? 0 : idx[off + k]) * xStrides[k];
    m.push_back({0, src});
    for (size_t k = rs.size(); k-- > 0;) {
      if (++idx[k] < rs[k])
        break;
      idx[k] = 0;
    }
  }
  return m;
}

template <SourceFn S, class T> void evalGather(const EvalArgs<T> &a) {
  SourceMap src = S(a.g, a.op);
  for (size_t i = 0; i < src.size(); ++i)
    a.out[i] = a.in[src[i].operand][src[i].index];
}

template <SourceFn S> Status intervalGather(const IntervalArgs &a) {
  SourceMap src = S(a.g, a.op);
  for (size_t i = 0; i < src.size(); ++i) {
    a.outLo[i] = a.lo[src[i].operand][src[i].index];
    a.outHi[i] = a.hi[src[i].operand][src[i].index];
  }
  return Status::ok();
}

/// Λ's column i moves to its source element: an activation operand gets the
/// exact terms λ (charged only for the sum with its other consumers' terms,
/// the fan-in γ, bounded with the source's magnitudes); a constant operand's
/// elements go into c as one dot product per row (γ_n·Σ|λ·c|).
template <SourceFn S> Status crownGather(CrownBackward &ctx, const Op &op) {
  const Graph &g = ctx.graph();
  const CrownMat &L = ctx.lambda();
  SourceMap src = S(g, op);
  const int64_t n = static_cast<int64_t>(src.size());
  CrownVec cv = CrownVec::Zero(n);
  int64_t constTerms = 0;
  for (size_t k = 0; k < op.operands.size(); ++k) {
    ValueId v = op.operands[k];
    if (g.isConstant(v)) {
      const Weight *w = g.constant(v);
      for (int64_t i = 0; i < n; ++i)
        if (src[i].operand == static_cast<int32_t>(k)) {
          cv[i] = w->at(src[i].index);
          ++constTerms;
        }
      continue;
    }
    CrownVec mag = ctx.bounds(v).mag();
    CrownVec magOut = CrownVec::Zero(n);
    CrownMat M = CrownMat::Zero(L.rows(), g.type(v).numel());
    for (int64_t i = 0; i < n; ++i)
      if (src[i].operand == static_cast<int32_t>(k)) {
        M.col(src[i].index) += L.col(i);
        magOut[i] = mag[src[i].index];
      }
    if (double gv = ctx.termGamma(v, 0); gv > 0)
      ctx.err() += gv * (L.cwiseAbs() * magOut);
    ctx.accumulate(v, M);
  }
  if (constTerms > 0) {
    ctx.err() += gammaBound(constTerms) * (L.cwiseAbs() * cv.cwiseAbs());
    ctx.addConstant(L * cv);
  }
  return Status::ok();
}

template <SourceFn S> Status gradGather(const GradArgs &a) {
  SourceMap src = S(a.g, a.op);
  for (size_t i = 0; i < src.size(); ++i)
    a.add(static_cast<size_t>(src[i].operand), src[i].index, a.adjoint[i]);
  return Status::ok();
}

Expected<TensorType> transposeShape(const ShapeArgs &args) {
  const TensorType &x = args.operands[0];
  int64_t rank = x.rank();
  std::vector<int64_t> perm;
  if (auto it = args.attrs.find("perm"); it != args.attrs.end()) {
    perm = it->second.ints;
  } else {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    return shapeError("transpose perm length differs from the operand rank");
  std::vector<bool> seen(rank, false);
  Shape r(rank);
  for (int64_t i = 0; i < rank; ++i) {
    if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
      return shapeError("transpose perm is not a permutation");
    seen[perm[i]] = true;
    r[i] = x.shape[perm[i]];
  }
  return TensorType{r};
}

/// slice %x {starts, steps, sizes}: one entry per dimension of x; element
/// idx of the result is x[starts + idx·steps]. Every index it reads must lie
/// in x: 0 <= starts[k] + j·steps[k] < dim for j < sizes[k].
Expected<TensorType> sliceShape(const ShapeArgs &args) {
  const Shape &xs = args.operands[0].shape;
  SliceDims d = sliceDims(args.attrs);
  if (d.starts.size() != xs.size() || d.steps.size() != xs.size() || d.sizes.size() != xs.size())
    return shapeError("slice needs starts, steps and sizes of one entry per dimension");
  for (size_t k = 0; k < xs.size(); ++k) {
    int64_t dim = xs[k], s = d.starts[k], st = d.steps[k], n = d.sizes[k];
    if (n < 0 || st == 0 || std::llabs(st) > dim + 1)
      return shapeError(fmt::format("slice dimension {}: size {} or step {} is invalid", k, n, st));
    if (n == 0)
      continue;
    // n - 1 <= dim and |st| <= dim + 1, so the last index cannot overflow.
    int64_t last = s + (n - 1) * st;
    if (n > dim || s < 0 || s >= dim || last < 0 || last >= dim)
      return shapeError(fmt::format("slice dimension {} reads outside [0, {})", k, dim));
  }
  return TensorType{d.sizes};
}

/// concat %a, %b, ... {axis}: operands of one rank that agree outside `axis`.
Expected<TensorType> concatShape(const ShapeArgs &args) {
  if (args.operands.empty())
    return shapeError("concat needs at least one operand");
  auto it = args.attrs.find("axis");
  const Shape &first = args.operands[0].shape;
  int64_t axis = it == args.attrs.end() ? -1 : it->second.asInt();
  if (axis < 0 || axis >= static_cast<int64_t>(first.size()))
    return shapeError(fmt::format("concat axis {} is not a dimension of {}", axis, shapeStr(first)));
  Shape r = first;
  r[axis] = 0;
  for (const TensorType &t : args.operands) {
    bool ok = t.shape.size() == first.size();
    for (size_t k = 0; ok && k < first.size(); ++k)
      ok = static_cast<int64_t>(k) == axis || t.shape[k] == first[k];
    if (!ok)
      return shapeError(fmt::format("concat operands {} and {} differ outside axis {}",
                                    shapeStr(first), shapeStr(t.shape), axis));
    r[axis] += t.shape[axis];
  }
  return TensorType{r};
}

Expected<TensorType> gatherShape(const ShapeArgs &args) {
  const Shape &xs = args.operands[0].shape;
  auto get = [&](const char *name) -> const std::vector<int64_t> * {
    auto it = args.attrs.find(name);
    return it == args.attrs.end() ? nullptr : &it->second.ints;
  };
  const std::vector<int64_t> *axis = get("axis"), *idx = get("indices"), *ishape = get("index_shape");
  if (!axis || !idx || !ishape)
    return shapeError("gather needs axis, indices and index_shape");
  int64_t ax = axis->empty() ? -1 : (*axis)[0];
  if (ax < 0 || ax >= static_cast<int64_t>(xs.size()))
    return shapeError(fmt::format("gather axis {} is not a dimension of {}", ax, shapeStr(xs)));
  int64_t count = 1;
  for (int64_t d : *ishape) {
    if (d < 0 || (d > 0 && count > (int64_t{1} << 40) / d))
      return shapeError("gather index_shape is invalid");
    count *= d;
  }
  if (count != static_cast<int64_t>(idx->size()))
    return shapeError("gather indices do not fill index_shape");
  for (int64_t j : *idx)
    if (j < 0 || j >= xs[ax])
      return shapeError(fmt::format("gather index {} is outside [0, {})", j, xs[ax]));
  Shape r(xs.begin(), xs.begin() + ax);
  r.insert(r.end(), ishape->begin(), ishape->end());
  r.insert(r.end(), xs.begin() + ax + 1, xs.end());
  return TensorType{r};
}

Expected<TensorType> expandShape(const ShapeArgs &args) {
  const Shape &xs = args.operands[0].shape;
  auto it = args.attrs.find("shape");
  if (it == args.attrs.end())
    return shapeError("expand needs a shape");
  const Shape &rs = it->second.ints;
  auto b = broadcastShapes(xs, rs);
  if (!b || *b != rs)
    return shapeError(fmt::format("expand cannot broadcast {} to {}", shapeStr(xs), shapeStr(rs)));
  return TensorType{rs};
}

Graph gatherInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng, 1, 3);
  int64_t ax = std::uniform_int_distribution<int64_t>(0, static_cast<int64_t>(s.size()) - 1)(rng);
  Shape ishape = randomShape(rng, 0, 2, 3);
  std::vector<int64_t> idx(static_cast<size_t>(TensorType{ishape}.numel()));
  for (int64_t &j : idx) // repeats allowed: a source read twice
    j = std::uniform_int_distribution<int64_t>(0, s[ax] - 1)(rng);
  Attrs attrs;
  attrs["axis"] = Attribute::scalar(ax);
  attrs["indices"] = Attribute::list(idx);
  attrs["index_shape"] = Attribute::list(ishape);
  return instanceOf(rng, OpKind::Gather, {TensorType{s}}, {false}, attrs);
}

Graph expandInstance(std::mt19937_64 &rng) {
  Shape r = randomShape(rng, 1, 3);
  Shape x;
  size_t drop = std::uniform_int_distribution<size_t>(0, r.size() - 1)(rng);
  for (size_t k = drop; k < r.size(); ++k)
    x.push_back(std::bernoulli_distribution(0.5)(rng) ? 1 : r[k]);
  Attrs attrs;
  attrs["shape"] = Attribute::list(r);
  return instanceOf(rng, OpKind::Expand, {TensorType{x}}, {false}, attrs);
}

Graph transposeInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng, 1, 4);
  std::vector<int64_t> perm(s.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  Attrs attrs;
  attrs["perm"] = Attribute::list(perm);
  return instanceOf(rng, OpKind::Transpose, {TensorType{s}}, {false}, attrs);
}

/// A random valid slice per dimension: steps 1, 2, -1 or -2, sometimes empty.
Graph sliceInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng, 1, 3, 6);
  std::vector<int64_t> starts, steps, sizes;
  for (int64_t dim : s) {
    static const int64_t kSteps[] = {1, 1, 2, -1, -2};
    int64_t st = kSteps[std::uniform_int_distribution<int>(0, 4)(rng)];
    int64_t first = std::uniform_int_distribution<int64_t>(0, dim - 1)(rng);
    int64_t room = st > 0 ? (dim - 1 - first) / st + 1 : first / -st + 1;
    int64_t n = std::uniform_int_distribution<int64_t>(1, room)(rng);
    starts.push_back(first);
    steps.push_back(st);
    sizes.push_back(n);
  }
  Attrs attrs;
  attrs["starts"] = Attribute::list(starts);
  attrs["steps"] = Attribute::list(steps);
  attrs["sizes"] = Attribute::list(sizes);
  return instanceOf(rng, OpKind::Slice, {TensorType{s}}, {false}, attrs);
}

/// Two or three parts along a random axis: the input x (reused: a value
/// read twice, whose Λ adds up from both), constants, and now and then a
/// second input.
Graph concatInstance(std::mt19937_64 &rng) {
  Shape base = randomShape(rng, 1, 3);
  int64_t axis =
      std::uniform_int_distribution<int64_t>(0, static_cast<int64_t>(base.size()) - 1)(rng);
  Graph g;
  g.name = "concat_instance";
  ValueId x = g.addInput("x0", TensorType{base});
  int parts = std::uniform_int_distribution<int>(2, 3)(rng);
  std::vector<ValueId> operands = {x};
  Shape r = base;
  for (int p = 1; p < parts; ++p) {
    int form = std::uniform_int_distribution<int>(0, 5)(rng);
    if (form <= 2) { // x again
      operands.push_back(x);
      r[axis] += base[axis];
      continue;
    }
    Shape s = base;
    s[axis] = std::uniform_int_distribution<int64_t>(1, 3)(rng);
    TensorType t{s};
    operands.push_back(form <= 4 ? g.addConst(fmt::format("c{}", p), t, randomData(rng, t.numel()))
                                 : g.addInput(fmt::format("x{}", p), t));
    r[axis] += s[axis];
  }
  Attrs attrs;
  attrs["axis"] = Attribute::scalar(axis);
  ValueId out = g.addOp(OpKind::Concat, operands, TensorType{r}, attrs);
  g.values[out].name = "y";
  g.outputs = {out};
  return g;
}

/// The most terms an index-map op adds into one coefficient of operand k:
/// the most result elements that read one source element (1 for transpose,
/// slice and concat; repeated indices of gather; expand's broadcast).
template <SourceFn S> int64_t gatherTerms(const Graph &g, const Op &op, size_t k) {
  SourceMap src = S(g, op);
  std::vector<int64_t> count(static_cast<size_t>(g.type(op.operands[k]).numel()), 0);
  int64_t most = 0;
  for (const Source &e : src)
    if (e.operand == static_cast<int32_t>(k))
      most = std::max(most, ++count[static_cast<size_t>(e.index)]);
  return std::max<int64_t>(most, 1);
}

/// The record of an index-map op: its shape rule and instances; eval,
/// interval, CROWN, fan-in count and gradient from its source map.
template <SourceFn S> constexpr OpRecord indexMapRecord(ShapeFn shape, InstanceFn instance) {
  return {
      .shape = shape,
      .eval = evalGather<S, float>,
      .eval64 = evalGather<S, double>,
      .interval = intervalGather<S>,
      .instance = instance,
      .crown = crownGather<S>,
      .crownTerms = gatherTerms<S>,
      .grad = gradGather<S>,
      .sourceMap = S,
  };
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

extern const OpRecord kTransposeRecord =
    indexMapRecord<transposeSrc>(transposeShape, transposeInstance);
extern const OpRecord kSliceRecord = indexMapRecord<sliceSrc>(sliceShape, sliceInstance);
extern const OpRecord kConcatRecord = indexMapRecord<concatSrc>(concatShape, concatInstance);
extern const OpRecord kGatherRecord = indexMapRecord<gatherSrc>(gatherShape, gatherInstance);
extern const OpRecord kExpandRecord = indexMapRecord<expandSrc>(expandShape, expandInstance);

} // namespace gma::ir
