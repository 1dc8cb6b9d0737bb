//===- codegen/KernelPlan.cpp - The lowered schedule codegen emits --------===//
//
// Walks the schedule once:
//   1. Every value gets a location: graph inputs live in region 1 at offset 0,
//      views alias their operand, constants (and views of constants) have none,
//      every other op reads its `buffer = [region, offset]` attribute.
//   2. Each op becomes a Step, or a CodegenFailed error naming the op when the
//      kernels do not implement it (products of two activations, transposes
//      of activations, ...).
//   3. The plan is checked where a wrong plan would silently corrupt results:
//      ranges fit their region, nothing writes the caller's input, and an op's
//      result overlaps an operand only exactly (in place) and only for
//      elementwise ops.
//   4. A graph output that does not live at offset 0 of region 2 gets a copy.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelPlan.h"

#include "abi/ScalarRelax.h"
#include "codegen/StepRecord.h"

#include "ir/OpRecord.h"
#include "ir/Rounding.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <cmath>
#include <cstring>
#include <limits>
#include <fmt/format.h>
#include <optional>
#include <vector>

namespace gma::codegen {
namespace {

using ir::Graph;
using ir::Op;
using ir::OpKind;
using ir::ValueId;

Error opError(const Op &op, std::string msg, ErrorCode code = ErrorCode::CodegenFailed) {
  Location loc;
  loc.node = op.loc;
  loc.opType = std::string(ir::mnemonic(op.kind));
  return Error(code, std::move(msg), std::move(loc));
}

ConstData borrow(const std::shared_ptr<const void> &owner, const float *data, int64_t size) {
  ConstData c;
  c.keep = owner;
  c.data = data;
  c.size = size;
  return c;
}

ConstData own(std::vector<float> v) {
  ConstData c;
  auto p = std::make_shared<const std::vector<float>>(std::move(v));
  c.data = p->data();
  c.size = static_cast<int64_t>(p->size());
  c.keep = std::move(p);
  return c;
}

class Lowering {
public:
  explicit Lowering(const Graph &g)
      : g_(g), loc_(g.values.size()), constOf_(g.values.size()), ownerOf_(g.values.size()),
        root_(g.values.size()) {
    for (size_t v = 0; v < root_.size(); ++v)
      root_[v] = static_cast<int32_t>(v);
  }

  Expected<KernelPlan> run();

  /// The ops the kernels implement, and the lowering of each to a step.
  struct LoweringEntry {
    OpKind kind;
    Status (Lowering::*lower)(const Op &, Step &);
  };
  static const std::vector<LoweringEntry> &loweringTable() {
    static const std::vector<LoweringEntry> table = {
        {OpKind::Affine, &Lowering::lowerAffine}, {OpKind::MatMul, &Lowering::lowerMatMul},
        {OpKind::Conv, &Lowering::lowerConv},     {OpKind::Add, &Lowering::lowerBinary},
        {OpKind::Sub, &Lowering::lowerBinary},    {OpKind::Mul, &Lowering::lowerBinary},
        {OpKind::Div, &Lowering::lowerBinary},    {OpKind::Relu, &Lowering::lowerUnary},
        {OpKind::Sigmoid, &Lowering::lowerUnary}, {OpKind::Neg, &Lowering::lowerUnary},
        {OpKind::Softplus, &Lowering::lowerUnary}, {OpKind::Tanh, &Lowering::lowerUnary},
        {OpKind::Exp, &Lowering::lowerUnary},
        {OpKind::LeakyRelu, &Lowering::lowerLeakyRelu},
        {OpKind::Max, &Lowering::lowerMax},
    };
    return table;
  }

private:
  Status assignLocations();
  Status lowerOp(const Op &op, int index);
  Status lowerAffine(const Op &op, Step &s);
  Status lowerMatMul(const Op &op, Step &s);
  Status lowerBinary(const Op &op, Step &s);
  Status lowerConv(const Op &op, Step &s);
  Status lowerUnary(const Op &op, Step &s);
  Status lowerLeakyRelu(const Op &op, Step &s);
  Status lowerGather(const Op &op, Step &s);
  Status lowerMax(const Op &op, Step &s);
  Status checkStep(const Op &op, const Step &s, bool elementwise);

  /// The weight data of a constant value (through views), or nullptr.
  const float *constData(ValueId v) const { return constOf_[v]; }
  bool isConst(ValueId v) const { return constOf_[v] != nullptr; }
  /// `size` floats of constant `v`, borrowed (its weight kept alive).
  ConstData borrowConst(ValueId v, int64_t size) const {
    return borrow(ownerOf_[v], constOf_[v], size);
  }

  const Graph &g_;
  KernelPlan plan_;
  std::vector<std::optional<BufferRef>> loc_;
  std::vector<const float *> constOf_;
  std::vector<std::shared_ptr<const void>> ownerOf_;
  std::vector<int32_t> root_; ///< The value a view aliases (itself otherwise).
};

Expected<KernelPlan> Lowering::run() {
  if (g_.inputs.size() != 1 || g_.outputs.size() != 1)
    return Error(ErrorCode::CodegenFailed,
                 fmt::format("compiled kernels take exactly one input and one output; graph "
                             "'{}' has {} inputs and {} outputs",
                             g_.name, g_.inputs.size(), g_.outputs.size()));
  plan_.modelName = g_.name;
  plan_.inputShape = g_.type(g_.inputs[0]).shape;
  plan_.inputSize = g_.type(g_.inputs[0]).numel();
  plan_.outputShape = g_.type(g_.outputs[0]).shape;
  plan_.outputSize = g_.type(g_.outputs[0]).numel();

  if (Status st = assignLocations(); !st)
    return st.takeError();

  int index = 0;
  for (const Op &op : g_.ops) {
    if (op.erased)
      continue;
    if (Status st = lowerOp(op, index++); !st)
      return st.takeError();
  }

  ValueId out = g_.outputs[0];
  plan_.numValues = static_cast<int32_t>(g_.values.size());
  plan_.inputValue = root_[g_.inputs[0]];
  plan_.outputValue = root_[out];
  if (!loc_[out])
    return Error(ErrorCode::CodegenFailed,
                 fmt::format("the output of graph '{}' is a constant; nothing to compile", g_.name));
  BufferRef where = *loc_[out];
  BufferRef dest{2, 0, plan_.outputSize};
  if (!(where == dest)) {
    Step s;
    s.kind = StepKind::Copy;
    s.name = "output_copy";
    s.in = {where};
    s.out = dest;
    s.inValues = {plan_.outputValue};
    s.outValue = plan_.outputValue = plan_.numValues++;
    plan_.steps.push_back(std::move(s));
  }
  for (const Step &s : plan_.steps)
    for (const ConstData *c :
         {&s.weight, &s.bias, &s.colAbsSum, &s.weightT, &s.constant, &s.gatherIndex})
      if (c->size > 0 && plan_.weightIndex(*c) < 0) {
        plan_.weightIds[{c->data, c->size}] = static_cast<int64_t>(plan_.weights.size());
        plan_.weights.push_back(*c);
      }
  return std::move(plan_);
}

Status Lowering::assignLocations() {
  bool planned = g_.attrs.count("arena") != 0;
  for (const Op &op : g_.ops)
    if (!op.erased && op.hasAttr("buffer"))
      planned = true;
  plan_.arena = planned ? (g_.attrs.count("arena") ? g_.attrs.at("arena").asInt() : 0) : 0;

  // Without a plan, the producer of the output (through views) writes region 2.
  int outputProducer = -1;
  if (!planned) {
    ValueId v = g_.outputs[0];
    while (const Op *d = g_.defOp(v)) {
      if (!ir::hasTrait(d->kind, ir::kView)) {
        outputProducer = g_.values[v].def;
        break;
      }
      v = d->operands[0];
    }
  }

  ValueId in = g_.inputs[0];
  loc_[in] = BufferRef{1, 0, g_.type(in).numel()};
  for (size_t i = 0; i < g_.ops.size(); ++i) {
    const Op &op = g_.ops[i];
    if (op.erased)
      continue;
    int64_t numel = g_.type(op.result).numel();
    if (op.kind == OpKind::Const) {
      constOf_[op.result] = g_.weights.get(op.weight).data();
      ownerOf_[op.result] = g_.weights.get(op.weight).owner();
      continue;
    }
    if (ir::hasTrait(op.kind, ir::kView)) {
      ValueId src = op.operands[0];
      if (isConst(src)) {
        constOf_[op.result] = constOf_[src];
        ownerOf_[op.result] = ownerOf_[src];
      } else if (loc_[src]) {
        loc_[op.result] = BufferRef{loc_[src]->region, loc_[src]->offset, numel};
        root_[op.result] = root_[src];
      }
      continue;
    }
    bool allConst = !op.operands.empty();
    for (ValueId v : op.operands)
      allConst = allConst && isConst(v);
    if (allConst)
      return opError(op, "an op on constants only reached codegen; run fold-constants first");

    if (!planned) {
      if (static_cast<int>(i) == outputProducer) {
        loc_[op.result] = BufferRef{2, 0, numel};
      } else {
        loc_[op.result] = BufferRef{0, plan_.arena, numel};
        plan_.arena += numel;
      }
      continue;
    }
    auto it = op.attrs.find("buffer");
    if (it == op.attrs.end() || it->second.ints.size() != 2)
      return opError(op, "op has no `buffer = [region, offset]` attribute; run plan-buffers "
                         "before codegen");
    BufferRef b{static_cast<int>(it->second.ints[0]), it->second.ints[1], numel};
    if (b.region == 1)
      return opError(op, "the buffer plan writes an op's result into the caller's input buffer");
    if (b.region != 0 && b.region != 2)
      return opError(op, fmt::format("unknown buffer region {}", b.region));
    int64_t limit = b.region == 0 ? plan_.arena : plan_.outputSize;
    if (b.offset < 0 || b.offset + numel > limit)
      return opError(op, fmt::format("buffer [{}, {}] with {} floats does not fit its region "
                                     "({} floats per sample)",
                                     b.region, b.offset, numel, limit));
    loc_[op.result] = b;
  }
  return Status::ok();
}

bool overlaps(const BufferRef &a, const BufferRef &b) {
  return a.region == b.region && a.offset < b.offset + b.numel && b.offset < a.offset + a.numel;
}

Status Lowering::checkStep(const Op &op, const Step &s, bool elementwise) {
  for (const BufferRef &in : s.in) {
    if (!overlaps(in, s.out))
      continue;
    if (!(in == s.out))
      return opError(op, "the buffer plan makes an op's result partially overlap an operand");
    if (!elementwise)
      return opError(op, "the buffer plan runs a non-elementwise op in place");
  }
  return Status::ok();
}

Status Lowering::lowerOp(const Op &op, int index) {
  if (op.kind == OpKind::Const || ir::hasTrait(op.kind, ir::kView))
    return Status::ok();
  Step s;
  s.name = fmt::format("{}_{}", ir::mnemonic(op.kind), index);
  s.out = *loc_[op.result];
  const auto &table = loweringTable();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const LoweringEntry &e) { return e.kind == op.kind; });
  // Every index-map op (transpose, slice, concat, gather, expand) is one
  // gather step, built from its record's source map.
  const bool indexMap = ir::opRecord(op.kind).sourceMap != nullptr;
  if (it == table.end() && !indexMap) {
    return opError(op, fmt::format("the kernels do not implement '{}'", ir::mnemonic(op.kind)),
                   ErrorCode::KernelUnsupported);
  }
  if (Status st = indexMap ? lowerGather(op, s) : (this->*(it->lower))(op, s); !st)
    return st;
  bool elementwise = !stepRecord(s).fixedOperands;
  if (Status st = checkStep(op, s, elementwise); !st)
    return st;
  s.outValue = root_[op.result];
  for (ValueId v : op.operands)
    if (!isConst(v))
      s.inValues.push_back(root_[v]);
  assert(s.inValues.size() == s.in.size() && "one value number per operand buffer");
  plan_.steps.push_back(std::move(s));
  return Status::ok();
}

/// Column sums of |W| ([K, N]), computed in double and rounded up so that the
/// stored f32 is >= the exact sum (K additions: slack K + 2).
ConstData columnAbsSums(const float *w, int64_t k, int64_t n) {
  std::vector<double> acc(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      acc[j] += std::fabs(static_cast<double>(w[i * n + j]));
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    out[j] = ir::roundUp(acc[j], static_cast<double>(k) + 2.0);
  return own(std::move(out));
}

/// W ([K, N] row-major) as [N, K]: the crown rule's product runs along K.
ConstData transposeWeight(const float *w, int64_t k, int64_t n) {
  // In 64 × 64 tiles, each row of t written contiguously: the element-wise
  // loop wrote with a stride of k floats (64 KB for k = 16384, every write in
  // the same cache set). With the plan built once, this took the prepare
  // time of a 1.25 GB model from 8.2 to 5.6 s (docs/benchmarks.md).
  std::vector<float> t(static_cast<size_t>(k * n));
  constexpr int64_t kTile = 64;
  for (int64_t i0 = 0; i0 < k; i0 += kTile)
    for (int64_t j0 = 0; j0 < n; j0 += kTile) {
      int64_t i1 = std::min(k, i0 + kTile), j1 = std::min(n, j0 + kTile);
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = i0; i < i1; ++i)
          t[j * k + i] = w[i * n + j];
    }
  return own(std::move(t));
}

Status Lowering::lowerAffine(const Op &op, Step &s) {
  ValueId x = op.operands[0], w = op.operands[1], b = op.operands[2];
  if (isConst(x) || !loc_[x])
    return opError(op, "affine needs an activation as its first operand");
  if (!isConst(w) || !isConst(b))
    return opError(op, "affine with a non-constant weight or bias is not supported",
                   ErrorCode::KernelUnsupported);
  const ir::Shape &ws = g_.type(w).shape;
  if (ws.size() != 2)
    return opError(op, "affine weight must be 2-D");
  bool transposed = op.intAttr("transposed", 0) != 0;
  s.k = transposed ? ws[1] : ws[0];
  s.n = transposed ? ws[0] : ws[1];
  const ir::Shape &xs = g_.type(x).shape;
  if (xs.empty() || xs.back() != s.k)
    return opError(op, fmt::format("affine input's last dimension is not K = {}", s.k));
  s.rows = g_.type(x).numel() / s.k;
  if (g_.type(op.result).numel() != s.rows * s.n)
    return opError(op, "affine result size does not match rows x N");
  // The kernels read W as [K, N] and the crown rule as [N, K]: one of the
  // two is the stored weight, the other a transposed copy.
  if (transposed) {
    s.weightT = borrowConst(w, s.k * s.n);
    s.weight = transposeWeight(s.weightT.data, s.n, s.k);
  } else {
    s.weight = borrowConst(w, s.k * s.n);
    s.weightT = transposeWeight(s.weight.data, s.k, s.n);
  }
  int64_t bn = g_.type(b).numel();
  if (bn == s.n) {
    s.bias = borrowConst(b, bn);
  } else if (bn == 1) {
    s.bias = own(std::vector<float>(static_cast<size_t>(s.n), constData(b)[0]));
  } else {
    return opError(op, fmt::format("affine bias has {} elements, expected {}", bn, s.n));
  }
  s.ulpError = op.intAttr("ulp_error", 0);
  s.colAbsSum = columnAbsSums(s.weight.data, s.k, s.n);
  s.kind = StepKind::Affine;
  s.in = {*loc_[x]};
  return Status::ok();
}

Status Lowering::lowerUnary(const Op &op, Step &s) {
  // The op kinds lowerUnary takes (loweringTable), their step kind and, for
  // the scalar-table functions, their row.
  struct UnaryStep {
    OpKind op;
    StepKind step;
    int scalarFn;
  };
  static constexpr UnaryStep kUnary[] = {
      {OpKind::Relu, StepKind::Relu, -1},
      {OpKind::Neg, StepKind::Neg, -1},
      {OpKind::Sigmoid, StepKind::Sigmoid, GAMMA_SCALAR_SIGMOID},
      {OpKind::Softplus, StepKind::Softplus, GAMMA_SCALAR_SOFTPLUS},
      {OpKind::Tanh, StepKind::Tanh, GAMMA_SCALAR_TANH},
      {OpKind::Exp, StepKind::Exp, GAMMA_SCALAR_EXP},
  };
  const UnaryStep *u = std::find_if(std::begin(kUnary), std::end(kUnary),
                                    [&](const UnaryStep &e) { return e.op == op.kind; });
  if (u == std::end(kUnary))
    return opError(op, "internal error: no unary step for this op", ErrorCode::KernelUnsupported);
  s.kind = u->step;
  s.scalarFn = u->scalarFn;
  if (isConst(op.operands[0]) || !loc_[op.operands[0]])
    return opError(op, "operand has no buffer");
  s.in = {*loc_[op.operands[0]]};
  return Status::ok();
}

Status Lowering::lowerLeakyRelu(const Op &op, Step &s) {
  ValueId x = op.operands[0], a = op.operands[1];
  if (isConst(x) || !loc_[x])
    return opError(op, "operand has no buffer");
  if (!isConst(a) || g_.type(a).numel() != 1)
    return opError(op, "leaky_relu needs a constant scalar alpha", ErrorCode::KernelUnsupported);
  s.alpha = constData(a)[0];
  if (!(s.alpha >= 0.0f && s.alpha <= 1.0f))
    return opError(op, "leaky_relu alpha outside [0, 1]", ErrorCode::KernelUnsupported);
  s.kind = StepKind::LeakyRelu;
  s.in = {*loc_[x]};
  return Status::ok();
}

/// The source map as one block of (result, source) pairs per distinct
/// operand value and a block of (result, constant) for the constant
/// operands (Step's gather fields). Indices are int32: a model whose
/// tensors have 2^31 elements or more is refused.
Status Lowering::lowerGather(const Op &op, Step &s) {
  ir::SourceMap src = ir::opRecord(op.kind).sourceMap(g_, op);
  const size_t operands = op.operands.size();
  constexpr int64_t kMaxIndex = std::numeric_limits<int32_t>::max();
  if (g_.type(op.result).numel() > kMaxIndex)
    return opError(op, "an index-map op with 2^31 result elements or more",
                   ErrorCode::KernelUnsupported);
  std::vector<int32_t> distinct;
  std::vector<int> blockOf(operands, -1);
  for (size_t k = 0; k < operands; ++k) {
    ValueId v = op.operands[k];
    if (isConst(v))
      continue;
    if (!loc_[v])
      return opError(op, "operand has no buffer");
    if (g_.type(v).numel() > kMaxIndex)
      return opError(op, "an index-map op reading 2^31 elements or more",
                     ErrorCode::KernelUnsupported);
    s.in.push_back(*loc_[v]);
    auto it = std::find(distinct.begin(), distinct.end(), root_[v]);
    blockOf[k] = static_cast<int>(it - distinct.begin());
    if (it == distinct.end())
      distinct.push_back(root_[v]);
  }
  for (const BufferRef &in : s.in)
    if (overlaps(in, s.out))
      return opError(op, "the buffer plan makes an index-map op's result overlap an operand");
  const size_t blocks = distinct.size();
  std::vector<std::vector<int32_t>> dst(blocks + 1), from(blocks);
  std::vector<float> constants;
  std::vector<std::vector<int64_t>> reads(operands);
  for (size_t k = 0; k < operands; ++k)
    if (blockOf[k] >= 0)
      reads[k].assign(static_cast<size_t>(g_.type(op.operands[k]).numel()), 0);
  for (size_t i = 0; i < src.size(); ++i) {
    const ir::IndexSource &e = src[i];
    const size_t k = static_cast<size_t>(e.operand);
    if (blockOf[k] < 0) {
      dst[blocks].push_back(static_cast<int32_t>(i));
      constants.push_back(constData(op.operands[k])[e.index]);
      continue;
    }
    dst[blockOf[k]].push_back(static_cast<int32_t>(i));
    from[blockOf[k]].push_back(static_cast<int32_t>(e.index));
    ++reads[k][static_cast<size_t>(e.index)];
  }
  std::vector<int32_t> table;
  for (size_t b = 0; b <= blocks; ++b) {
    GatherBlock g;
    g.count = static_cast<int64_t>(dst[b].size());
    g.dstAt = static_cast<int64_t>(table.size());
    table.insert(table.end(), dst[b].begin(), dst[b].end());
    if (b < blocks) {
      g.srcAt = static_cast<int64_t>(table.size());
      table.insert(table.end(), from[b].begin(), from[b].end());
      g.contiguous = g.count > 0;
      for (int64_t j = 0; j < g.count && g.contiguous; ++j)
        g.contiguous = dst[b][j] == dst[b][0] + j && from[b][j] == from[b][0] + j;
      if (g.count > 0) {
        g.dst0 = dst[b][0];
        g.src0 = from[b][0];
      }
    }
    s.gatherBlocks.push_back(g);
  }
  for (size_t k = 0; k < operands; ++k)
    if (blockOf[k] >= 0) {
      int64_t most = 1;
      for (int64_t c : reads[k])
        most = std::max(most, c);
      s.gatherTerms.push_back(most);
    }
  std::vector<float> bits(table.size());
  std::memcpy(bits.data(), table.data(), table.size() * sizeof(int32_t));
  s.kind = StepKind::Gather;
  s.gatherIndex = own(std::move(bits));
  if (!constants.empty())
    s.constant = own(std::move(constants));
  return Status::ok();
}

Status Lowering::lowerMax(const Op &op, Step &s) {
  ValueId a = op.operands[0], b = op.operands[1];
  if (isConst(a) || isConst(b) || !loc_[a] || !loc_[b])
    return opError(op, "max of a constant is not supported by the kernels",
                   ErrorCode::KernelUnsupported);
  if (root_[a] == root_[b])
    return opError(op, "max of a value with itself is not supported by the kernels",
                   ErrorCode::KernelUnsupported);
  s.kind = StepKind::Max;
  s.in = {*loc_[a], *loc_[b]};
  return Status::ok();
}

Status Lowering::lowerConv(const Op &op, Step &s) {
  ValueId x = op.operands[0], w = op.operands[1], b = op.operands[2];
  if (isConst(x) || !loc_[x])
    return opError(op, "conv needs an activation as its first operand");
  if (!isConst(w) || !isConst(b))
    return opError(op, "conv with a non-constant weight or bias is not supported",
                   ErrorCode::KernelUnsupported);
  auto gm = ir::convGeometry(g_.type(x), g_.type(w), op.attrs);
  if (!gm)
    return opError(op, gm.error().message());
  s.kind = StepKind::Conv;
  s.conv = std::make_shared<const ir::ConvGeometry>(*gm);
  s.weight = borrowConst(w, g_.type(w).numel());
  s.bias = borrowConst(b, g_.type(b).numel());
  s.in = {*loc_[x]};
  return Status::ok();
}

Status Lowering::lowerMatMul(const Op &op, Step &s) {
  ValueId a = op.operands[0], b = op.operands[1];
  if (!isConst(a) && !isConst(b))
    return opError(op, "matmul of two activations (a bilinear product) is not supported by "
                       "the kernels",
                   ErrorCode::KernelUnsupported);
  if (isConst(a))
    return opError(op, "matmul with a constant left operand (W @ x) is not supported; only "
                       "x @ W",
                   ErrorCode::KernelUnsupported);
  if (!loc_[a])
    return opError(op, "operand has no buffer");
  const ir::Shape &bs = g_.type(b).shape;
  if (bs.size() == 2) {
    s.k = bs[0];
    s.n = bs[1];
  } else if (bs.size() == 1) {
    s.k = bs[0];
    s.n = 1;
  } else {
    return opError(op, "matmul with a constant of rank > 2 is not supported",
                   ErrorCode::KernelUnsupported);
  }
  const ir::Shape &as = g_.type(a).shape;
  if (as.empty() || as.back() != s.k)
    return opError(op, fmt::format("matmul input's last dimension is not K = {}", s.k));
  s.rows = g_.type(a).numel() / s.k;
  if (g_.type(op.result).numel() != s.rows * s.n)
    return opError(op, "matmul result size does not match rows x N");
  s.weight = borrowConst(b, s.k * s.n);
  s.bias = own(std::vector<float>(static_cast<size_t>(s.n), 0.0f));
  s.colAbsSum = columnAbsSums(s.weight.data, s.k, s.n);
  s.weightT = transposeWeight(s.weight.data, s.k, s.n);
  s.kind = StepKind::Affine;
  s.in = {*loc_[a]};
  return Status::ok();
}

Status Lowering::lowerBinary(const Op &op, Step &s) {
  s.bin = op.kind == OpKind::Add   ? BinOp::Add
          : op.kind == OpKind::Sub ? BinOp::Sub
          : op.kind == OpKind::Mul ? BinOp::Mul
                                   : BinOp::Div;
  ValueId a = op.operands[0], b = op.operands[1];
  const ir::TensorType &rt = g_.type(op.result);
  if (!isConst(a) && !isConst(b)) {
    if (s.bin == BinOp::Mul || s.bin == BinOp::Div)
      return opError(op, fmt::format("{} of two activations (a bilinear product) is not "
                                     "supported by the kernels",
                                     ir::mnemonic(op.kind)),
                   ErrorCode::KernelUnsupported);
    if (g_.type(a) != rt || g_.type(b) != rt)
      return opError(op, "broadcasting between two activations is not supported",
                   ErrorCode::KernelUnsupported);
    s.kind = StepKind::BinaryAct;
    s.in = {*loc_[a], *loc_[b]};
    return Status::ok();
  }
  s.constOnLeft = isConst(a);
  ValueId act = s.constOnLeft ? b : a;
  ValueId cst = s.constOnLeft ? a : b;
  if (s.constOnLeft && s.bin == BinOp::Div)
    return opError(op, "division by an activation is not supported by the kernels",
                   ErrorCode::KernelUnsupported);
  if (g_.type(act) != rt)
    return opError(op, "broadcasting the activation operand is not supported; only the "
                       "constant may broadcast",
                   ErrorCode::KernelUnsupported);
  if (!loc_[act])
    return opError(op, "operand has no buffer");

  // Align the constant's shape to the result's and find the block of dims in
  // which it varies. A contiguous block gives C[m] with (outer, mid, inner);
  // anything else is expanded to the full per-sample shape.
  const ir::Shape &rs = rt.shape;
  ir::Shape cs = g_.type(cst).shape;
  if (cs.size() > rs.size())
    return opError(op, "constant operand has a higher rank than the result");
  cs.insert(cs.begin(), rs.size() - cs.size(), 1);
  int first = -1, last = -1;
  for (size_t d = 0; d < rs.size(); ++d) {
    if (cs[d] == 1)
      continue;
    if (cs[d] != rs[d])
      return opError(op, "constant operand does not broadcast to the result shape");
    if (first < 0)
      first = static_cast<int>(d);
    last = static_cast<int>(d);
  }
  const float *cd = constData(cst);
  int64_t total = rt.numel();
  bool contiguous = true;
  for (int d = first; first >= 0 && d <= last; ++d)
    contiguous = contiguous && cs[d] == rs[d];
  if (first < 0) {
    s.outer = total;
    s.mid = 1;
    s.inner = 1;
    s.constant = borrowConst(cst, 1);
  } else if (contiguous) {
    s.outer = s.mid = s.inner = 1;
    for (int d = 0; d < static_cast<int>(rs.size()); ++d)
      (d < first ? s.outer : d <= last ? s.mid : s.inner) *= rs[d];
    s.constant = borrowConst(cst, s.mid);
  } else {
    ir::Shape cstrides(cs.size(), 0);
    int64_t st = 1;
    for (int d = static_cast<int>(cs.size()) - 1; d >= 0; --d) {
      cstrides[d] = cs[d] == 1 ? 0 : st;
      st *= cs[d];
    }
    std::vector<float> full(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) {
      int64_t rem = i, ci = 0;
      for (int d = static_cast<int>(rs.size()) - 1; d >= 0; --d) {
        ci += (rem % rs[d]) * cstrides[d];
        rem /= rs[d];
      }
      full[i] = cd[ci];
    }
    s.outer = s.inner = 1;
    s.mid = total;
    s.constant = own(std::move(full));
  }
  s.kind = StepKind::BinaryConst;
  s.in = {*loc_[act]};
  return Status::ok();
}

} // namespace

Expected<KernelPlan> buildKernelPlan(const ir::Graph &g) { return Lowering(g).run(); }

int64_t KernelPlan::weightIndex(const ConstData &c) const {
  auto it = weightIds.find({c.data, c.size});
  return it == weightIds.end() ? -1 : it->second;
}

const Step *stepWithoutCrownRule(const KernelPlan &plan) {
  for (const Step &s : plan.steps)
    if (!stepRecord(s).crownRule)
      return &s;
  return nullptr;
}

bool kernelsImplement(ir::OpKind kind) {
  for (const auto &e : Lowering::loweringTable())
    if (e.kind == kind)
      return true;
  return ir::opRecord(kind).sourceMap != nullptr;
}

std::vector<int32_t> Step::distinctInValues() const {
  std::vector<int32_t> out;
  for (int32_t v : inValues)
    if (std::find(out.begin(), out.end(), v) == out.end())
      out.push_back(v);
  return out;
}

} // namespace gma::codegen
