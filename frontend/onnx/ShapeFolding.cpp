//===- frontend/onnx/ShapeFolding.cpp - Shape rules and int folding -------===//
//
// Import-time evaluation of the integer shape sub-graphs exporters emit, and
// the static shape rules of ONNX's view operators. Index arithmetic follows
// the ONNX operator specifications (Gather, Concat, Slice with clamping,
// numpy broadcasting); every index is range-checked before it is used.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ShapeFolding.h"

#include "ir/Shapes.h"

#include <algorithm>
#include <fmt/format.h>
#include <limits>
#include <numeric>

namespace gma::frontend {
namespace {

Error mismatch(std::string msg) { return Error(ErrorCode::OnnxShapeMismatch, std::move(msg)); }

std::string str(const ir::Shape &s) { return fmt::format("[{}]", fmt::join(s, ",")); }

int64_t product(const ir::Shape &s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i)
    n *= s[i];
  return n;
}

/// For every element of a tensor of shape `out`, the flat index of the element
/// of a tensor of shape `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastSources(const ir::Shape &out, const ir::Shape &in) {
  size_t rank = out.size(), offset = rank - in.size();
  ir::Shape inStrides = ir::stridesOf(in);
  int64_t n = product(out, 0, rank);
  std::vector<int64_t> src(n, 0);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t s = 0;
    for (size_t d = offset; d < rank; ++d)
      if (in[d - offset] != 1)
        s += idx[d] * inStrides[d - offset];
    src[flat] = s;
    for (size_t d = rank; d-- > 0;) { // Advance the multi-index, last dim fastest.
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  return src;
}

/// Shape data is small; a larger folded result means a model gamma cannot
/// handle (or a hostile one), and is refused before memory is allocated.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 24;

Status checkFoldedSize(const ir::Shape &s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d != 0 && n > kMaxFoldedElements / d)
      return Error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("an integer shape computation of shape {} is too large", str(s)));
    n *= d;
  }
  return Status::ok();
}

Expected<ir::Shape> broadcast(const ir::Shape &a, const ir::Shape &b) {
  auto s = ir::broadcastShapes(a, b);
  if (!s)
    return mismatch(fmt::format("shapes {} and {} do not broadcast", str(a), str(b)));
  if (Status ok = checkFoldedSize(*s); !ok)
    return ok.takeError();
  return *s;
}

/// Two's-complement wrap-around instead of signed overflow (undefined).
int64_t wrap(uint64_t v) { return static_cast<int64_t>(v); }

} // namespace

Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return mismatch(fmt::format("axis {} is out of range for rank {}", axis, rank));
  return axis < 0 ? axis + rank : axis;
}

Expected<ir::Shape> flattenShape(const ir::Shape &in, int64_t axis) {
  int64_t rank = static_cast<int64_t>(in.size());
  if (axis < -rank || axis > rank)
    return mismatch(fmt::format("Flatten axis {} is out of range for rank {}", axis, rank));
  size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  return ir::Shape{product(in, 0, a), product(in, a, in.size())};
}

Expected<ir::Shape> reshapeShape(const ir::Shape &in, const std::vector<int64_t> &spec,
                                 bool allowZero) {
  ir::Shape out(spec.size());
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowZero) {
      if (i >= in.size())
        return mismatch(fmt::format("Reshape target {} copies dim {} of the {}-D input {}",
                                    str(spec), i, in.size(), str(in)));
      d = in[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return mismatch(fmt::format("Reshape target {} has more than one -1", str(spec)));
      inferred = static_cast<int>(i);
      continue;
    }
    if (d < 0)
      return mismatch(fmt::format("Reshape target {} has a negative size", str(spec)));
    out[i] = d;
    // The element count must equal the input's, which is far below 2^63:
    // a product that overflows can never be right (and must not wrap around
    // to the right value).
    if (__builtin_mul_overflow(known, d, &known))
      return mismatch(
          fmt::format("Reshape target {} has more elements than int64 can count", str(spec)));
  }
  int64_t total = product(in, 0, in.size());
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return mismatch(
          fmt::format("Reshape cannot infer the -1 in {} from input {}", str(spec), str(in)));
    out[inferred] = total / known;
  } else if (known != total) {
    return mismatch(
        fmt::format("Reshape from {} to {} changes the element count", str(in), str(out)));
  }
  return out;
}

Expected<ir::Shape> squeezeShape(const ir::Shape &in,
                                 const std::optional<std::vector<int64_t>> &axes) {
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> drop(in.size(), false);
  if (!axes) {
    for (size_t i = 0; i < in.size(); ++i)
      drop[i] = in[i] == 1;
  } else {
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, rank);
      if (!axis)
        return axis.takeError();
      if (in[*axis] != 1)
        return mismatch(
            fmt::format("Squeeze axis {} of {} has size {}, not 1", a, str(in), in[*axis]));
      drop[*axis] = true;
    }
  }
  ir::Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i])
      out.push_back(in[i]);
  return out;
}

Expected<ir::Shape> unsqueezeShape(const ir::Shape &in, const std::vector<int64_t> &axes) {
  int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    auto axis = normalizeAxis(a, rank);
    if (!axis)
      return axis.takeError();
    if (inserted[*axis])
      return mismatch(fmt::format("Unsqueeze axis {} is listed twice", a));
    inserted[*axis] = true;
  }
  ir::Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(inserted[i] ? 1 : in[next++]);
  return out;
}

Expected<std::vector<int64_t>> transposePerm(int64_t rank,
                                             const std::optional<std::vector<int64_t>> &perm) {
  if (!perm) {
    std::vector<int64_t> rev(rank);
    std::iota(rev.rbegin(), rev.rend(), 0);
    return rev;
  }
  if (static_cast<int64_t>(perm->size()) != rank)
    return mismatch(
        fmt::format("Transpose perm has {} entries for a rank-{} tensor", perm->size(), rank));
  std::vector<bool> seen(rank, false);
  for (int64_t p : *perm) {
    if (p < 0 || p >= rank || seen[p])
      return mismatch(
          fmt::format("Transpose perm [{}] is not a permutation", fmt::join(*perm, ",")));
    seen[p] = true;
  }
  return *perm;
}

ConstTensor transposeInts(const ConstTensor &in, const std::vector<int64_t> &perm) {
  size_t rank = perm.size();
  ir::Shape out(rank);
  for (size_t i = 0; i < rank; ++i)
    out[i] = in.shape[perm[i]];
  ir::Shape inStrides = ir::stridesOf(in.shape);
  std::vector<int64_t> data(in.ints.size());
  std::vector<int64_t> idx(rank, 0);
  for (size_t flat = 0; flat < data.size(); ++flat) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d)
      src += idx[d] * inStrides[perm[d]];
    data[flat] = in.ints[src];
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  return ConstTensor::ofInts(std::move(out), std::move(data));
}

Status normalizeIndices(std::vector<int64_t> &idx, int64_t dim) {
  for (int64_t &i : idx) {
    if (i < -dim || i >= dim)
      return mismatch(fmt::format("Gather index {} is out of range for size {}", i, dim));
    if (i < 0)
      i += dim;
  }
  return Status::ok();
}

Expected<ConstTensor> gatherInts(const ConstTensor &data, const ConstTensor &indices,
                                 int64_t axis) {
  int64_t rank = static_cast<int64_t>(data.shape.size());
  if (rank == 0)
    return mismatch("Gather needs data of rank >= 1");
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return a.takeError();
  size_t ax = static_cast<size_t>(*a);
  int64_t dim = data.shape[ax];
  int64_t outer = product(data.shape, 0, ax), inner = product(data.shape, ax + 1, rank);

  std::vector<int64_t> idx(indices.ints);
  if (Status ok = normalizeIndices(idx, dim); !ok)
    return ok.error();
  ir::Shape out(data.shape.begin(), data.shape.begin() + ax);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), data.shape.begin() + ax + 1, data.shape.end());
  if (Status ok = checkFoldedSize(out); !ok)
    return ok.takeError();
  std::vector<int64_t> values;
  values.reserve(outer * idx.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx)
      for (int64_t k = 0; k < inner; ++k)
        values.push_back(data.ints[(o * dim + i) * inner + k]);
  return ConstTensor::ofInts(std::move(out), std::move(values));
}

Expected<ConstTensor> concatInts(const std::vector<const ConstTensor *> &parts, int64_t axis) {
  if (parts.empty())
    return mismatch("Concat has no inputs");
  const ir::Shape &first = parts[0]->shape;
  int64_t rank = static_cast<int64_t>(first.size());
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return a.takeError();
  size_t ax = static_cast<size_t>(*a);
  ir::Shape out = first;
  out[ax] = 0;
  for (const ConstTensor *p : parts) {
    bool ok = p->shape.size() == first.size();
    for (size_t d = 0; ok && d < first.size(); ++d)
      ok = d == ax || p->shape[d] == first[d];
    if (!ok)
      return mismatch(fmt::format("Concat inputs {} and {} differ outside axis {}", str(first),
                                  str(p->shape), axis));
    out[ax] += p->shape[ax];
  }
  int64_t outer = product(first, 0, ax);
  std::vector<int64_t> values;
  for (int64_t o = 0; o < outer; ++o)
    for (const ConstTensor *p : parts) {
      int64_t chunk = product(p->shape, ax, p->shape.size());
      values.insert(values.end(), p->ints.begin() + o * chunk, p->ints.begin() + (o + 1) * chunk);
    }
  return ConstTensor::ofInts(std::move(out), std::move(values));
}

Expected<SliceGeometry> sliceGeometry(const ir::Shape &shape, const std::vector<int64_t> &starts,
                                      const std::vector<int64_t> &ends,
                                      const std::vector<int64_t> &axesIn,
                                      const std::vector<int64_t> &stepsIn) {
  int64_t rank = static_cast<int64_t>(shape.size());
  size_t n = starts.size();
  if (ends.size() != n || (!axesIn.empty() && axesIn.size() != n) ||
      (!stepsIn.empty() && stepsIn.size() != n))
    return mismatch("Slice starts, ends, axes and steps differ in length");
  // Per dimension: first index, step and count; untouched dims take everything.
  std::vector<int64_t> first(rank, 0), step(rank, 1), count(shape);
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    auto a = normalizeAxis(axesIn.empty() ? static_cast<int64_t>(i) : axesIn[i], rank);
    if (!a)
      return a.takeError();
    if (seen[*a])
      return mismatch("Slice lists an axis twice");
    seen[*a] = true;
    int64_t dim = shape[*a], s = starts[i], e = ends[i];
    int64_t st = stepsIn.empty() ? 1 : stepsIn[i];
    if (st == 0 || st == std::numeric_limits<int64_t>::min())
      return mismatch(fmt::format("Slice step {} is not supported", st));
    if (s < 0)
      s = std::max<int64_t>(s, -dim) + dim;
    if (e < 0)
      e = std::max<int64_t>(e, std::numeric_limits<int64_t>::min() + dim) + dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count[*a] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count[*a] = s > e ? (s - e - 1) / -st + 1 : 0;
    }
    first[*a] = s;
    step[*a] = st;
  }
  return SliceGeometry{std::move(first), std::move(step), std::move(count)};
}

Expected<ConstTensor> sliceInts(const ConstTensor &data, const std::vector<int64_t> &starts,
                                const std::vector<int64_t> &ends,
                                const std::vector<int64_t> &axesIn,
                                const std::vector<int64_t> &stepsIn) {
  auto geo = sliceGeometry(data.shape, starts, ends, axesIn, stepsIn);
  if (!geo)
    return geo.takeError();
  const int64_t rank = static_cast<int64_t>(data.shape.size());
  const std::vector<int64_t> &first = geo->starts, &step = geo->steps, &count = geo->sizes;
  ir::Shape inStrides = ir::stridesOf(data.shape);
  int64_t total = product(count, 0, count.size());
  std::vector<int64_t> values(total);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (first[d] + idx[d] * step[d]) * inStrides[d];
    values[flat] = data.ints[src];
    for (int64_t d = rank; d-- > 0;) {
      if (++idx[d] < count[d])
        break;
      idx[d] = 0;
    }
  }
  return ConstTensor::ofInts(ir::Shape(count.begin(), count.end()), std::move(values));
}

Expected<ConstTensor> binaryInts(IntOp op, const ConstTensor &a, const ConstTensor &b) {
  auto shape = broadcast(a.shape, b.shape);
  if (!shape)
    return shape.takeError();
  std::vector<int64_t> sa = broadcastSources(*shape, a.shape);
  std::vector<int64_t> sb = broadcastSources(*shape, b.shape);
  std::vector<int64_t> out(sa.size());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t x = a.ints[sa[i]], y = b.ints[sb[i]];
    switch (op) {
    case IntOp::Add:
      out[i] = wrap(uint64_t(x) + uint64_t(y));
      break;
    case IntOp::Sub:
      out[i] = wrap(uint64_t(x) - uint64_t(y));
      break;
    case IntOp::Mul:
      out[i] = wrap(uint64_t(x) * uint64_t(y));
      break;
    case IntOp::Equal:
      out[i] = x == y;
      break;
    case IntOp::Div:
      if (y == 0 || (y == -1 && x == std::numeric_limits<int64_t>::min()))
        return mismatch("integer division by zero or overflow in a shape computation");
      out[i] = x / y; // Truncates toward zero, as C and onnxruntime do.
      break;
    }
  }
  return ConstTensor::ofInts(*shape, std::move(out));
}

Expected<ConstTensor> whereInts(const ConstTensor &cond, const ConstTensor &x,
                                const ConstTensor &y) {
  auto xy = broadcast(x.shape, y.shape);
  if (!xy)
    return xy.takeError();
  auto shape = broadcast(cond.shape, *xy);
  if (!shape)
    return shape.takeError();
  std::vector<int64_t> sc = broadcastSources(*shape, cond.shape);
  std::vector<int64_t> sx = broadcastSources(*shape, x.shape);
  std::vector<int64_t> sy = broadcastSources(*shape, y.shape);
  std::vector<int64_t> out(sc.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = cond.ints[sc[i]] ? x.ints[sx[i]] : y.ints[sy[i]];
  return ConstTensor::ofInts(*shape, std::move(out));
}

} // namespace gma::frontend
