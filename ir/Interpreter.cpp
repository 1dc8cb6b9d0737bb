//===- ir/Interpreter.cpp - Reference evaluation of the IR ----------------===//
//
// The oracle for generated code: loops over the schedule that apply each op's
// record (ir/OpRecord.h, ir/ops/): its concrete semantics in f32 or f64 and
// its interval transfer function, exactly as docs/soundness.md states it.
// Clarity beats speed here.
//
// Interval relaxations (IBP, Gowal et al. 2018, "On the Effectiveness of
// Interval Bound Propagation", Sec. 3): monotone elementwise ops map endpoints
// to endpoints; affine maps use the centre/radius form c ± |W|·r.
//
//===----------------------------------------------------------------------===//
#include "ir/Interpreter.h"

#include "ir/OpRecord.h"

#include <fmt/format.h>
#include <type_traits>

namespace gma::ir {
namespace {

/// Bounds of every value, for a batch.
struct Tensors {
  const Graph &g;
  std::vector<std::vector<float>> lo, hi;
  int64_t batch;

  const float *loAt(ValueId v, int64_t b) const {
    if (const Weight *w = g.constant(v))
      return w->data();
    return lo[v].data() + b * g.type(v).numel();
  }
  const float *hiAt(ValueId v, int64_t b) const {
    if (const Weight *w = g.constant(v))
      return w->data();
    return hi[v].data() + b * g.type(v).numel();
  }
};

} // namespace

/// Concrete evaluation with every operation in T (float: the network's f32
/// semantics; double: the float64 reference that counterexamples are checked
/// against). Weights are f32 in both.
template <class T>
Expected<std::vector<std::vector<T>>> evaluateValues(const Graph &g,
                                                     const std::vector<std::vector<T>> &inputs,
                                                     int64_t batch) {
  if (inputs.size() != g.inputs.size())
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("the graph has {} inputs, {} given", g.inputs.size(), inputs.size()));
  // Values by id; constants converted to T once.
  std::vector<std::vector<T>> vals(g.values.size());
  for (const Op &op : g.ops)
    if (const Weight *w = op.kind == OpKind::Const ? g.constant(op.result) : nullptr)
      vals[op.result].assign(w->data(), w->data() + w->numel());
  auto at = [&](ValueId v, int64_t b) -> const T * {
    if (g.constant(v))
      return vals[v].data();
    return vals[v].data() + b * g.type(v).numel();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueId v = g.inputs[i];
    if (static_cast<int64_t>(inputs[i].size()) != g.type(v).numel() * batch)
      return Error(ErrorCode::InvalidArgument, fmt::format("input {} has the wrong size", i));
    vals[v] = inputs[i];
  }
  for (const Op &op : g.ops) {
    if (op.kind == OpKind::Const)
      continue;
    int64_t n = g.type(op.result).numel();
    std::vector<T> &out = vals[op.result];
    out.assign(n * batch, T(0));
    const EvalFn<T> eval = [&] {
      if constexpr (std::is_same_v<T, float>)
        return opRecord(op.kind).eval;
      else
        return opRecord(op.kind).eval64;
    }();
    std::vector<const T *> in(op.operands.size());
    for (int64_t b = 0; b < batch; ++b) {
      for (size_t i = 0; i < in.size(); ++i)
        in[i] = at(op.operands[i], b);
      eval(EvalArgs<T>{g, op, in.data(), out.data() + b * n});
    }
  }
  return vals;
}

template <class T>
Expected<std::vector<std::vector<T>>> evaluateIn(const Graph &g,
                                                 const std::vector<std::vector<T>> &inputs,
                                                 int64_t batch) {
  auto all = evaluateValues<T>(g, inputs, batch);
  if (!all)
    return all.takeError();
  const std::vector<std::vector<T>> &vals = *all;
  std::vector<std::vector<T>> outs;
  for (ValueId v : g.outputs) {
    if (const Weight *w = g.constant(v)) {
      std::vector<T> o;
      for (int64_t b = 0; b < batch; ++b)
        o.insert(o.end(), w->data(), w->data() + w->numel());
      outs.push_back(std::move(o));
    } else if (g.values[v].def < 0 && vals[v].empty()) {
      outs.push_back({});
    } else {
      outs.push_back(vals[v]);
    }
  }
  return outs;
}

Expected<std::vector<std::vector<float>>>
evaluate(const Graph &g, const std::vector<std::vector<float>> &inputs, int64_t batch) {
  return evaluateIn<float>(g, inputs, batch);
}

Expected<std::vector<std::vector<double>>>
evaluate64(const Graph &g, const std::vector<std::vector<double>> &inputs, int64_t batch) {
  return evaluateIn<double>(g, inputs, batch);
}

Expected<std::vector<std::vector<float>>>
evaluateAll(const Graph &g, const std::vector<std::vector<float>> &inputs, int64_t batch) {
  return evaluateValues<float>(g, inputs, batch);
}

namespace {

/// The interval transfer function of one op (its record, docs/soundness.md).
Status ibpOpImpl(const Graph &g, const Op &op, Tensors &t, int64_t batch) {
  if (op.kind == OpKind::Const)
    return Status::ok();
  int64_t n = g.type(op.result).numel();
  t.lo[op.result].assign(n * batch, 0.0f);
  t.hi[op.result].assign(n * batch, 0.0f);
  const IntervalFn interval = opRecord(op.kind).interval;
  std::vector<const float *> lo(op.operands.size()), hi(op.operands.size());
  for (int64_t b = 0; b < batch; ++b) {
    for (size_t i = 0; i < lo.size(); ++i) {
      lo[i] = t.loAt(op.operands[i], b);
      hi[i] = t.hiAt(op.operands[i], b);
    }
    if (Status s = interval(IntervalArgs{g, op, lo.data(), hi.data(),
                                         t.lo[op.result].data() + b * n,
                                         t.hi[op.result].data() + b * n});
        !s)
      return s;
  }
  return Status::ok();
}

} // namespace

Status ibpOp(const Graph &g, const Op &op, IntervalState &state, int64_t batch) {
  Tensors t{g, {}, {}, batch};
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  Status st = ibpOpImpl(g, op, t, batch);
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  return st;
}

Expected<std::vector<IntervalBuffer>> ibp(const Graph &g, const std::vector<IntervalBuffer> &inputs,
                                          int64_t batch) {
  if (inputs.size() != g.inputs.size())
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("the graph has {} inputs, {} given", g.inputs.size(), inputs.size()));
  Tensors t{g, std::vector<std::vector<float>>(g.values.size()),
            std::vector<std::vector<float>>(g.values.size()), batch};
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueId v = g.inputs[i];
    int64_t n = g.type(v).numel() * batch;
    if (static_cast<int64_t>(inputs[i].lo.size()) != n || static_cast<int64_t>(inputs[i].hi.size()) != n)
      return Error(ErrorCode::InvalidArgument, fmt::format("input {} has the wrong size", i));
    t.lo[v] = inputs[i].lo;
    t.hi[v] = inputs[i].hi;
  }
  IntervalState state;
  state.lo.swap(t.lo);
  state.hi.swap(t.hi);
  for (const Op &op : g.ops)
    if (auto s = ibpOp(g, op, state, batch); !s)
      return s.takeError();
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  std::vector<IntervalBuffer> outs;
  for (ValueId v : g.outputs) {
    IntervalBuffer o;
    if (const Weight *w = g.constant(v)) {
      for (int64_t b = 0; b < batch; ++b) {
        o.lo.insert(o.lo.end(), w->data(), w->data() + w->numel());
        o.hi.insert(o.hi.end(), w->data(), w->data() + w->numel());
      }
    } else {
      o.lo = t.lo[v];
      o.hi = t.hi[v];
    }
    outs.push_back(std::move(o));
  }
  return outs;
}

} // namespace gma::ir
