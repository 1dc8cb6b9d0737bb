//===- passes/PlanBuffers.cpp - The buffer plan ---------------------------===//
//
// 1. Alias classes: a view op's result is its operand's storage, so every value
//    has a root (itself, or its view chain's first non-view value). A view of a
//    constant is its own root: it is materialised like any computed value.
// 2. Live ranges over the schedule, per root: from its definition (-1 for graph
//    inputs) to the last op that reads it or any of its views; graph outputs
//    stay live to the end. Intervals are closed: an op reads its operands while
//    writing its result, so a value dying at op t and op t's result overlap.
// 3. Pinned roots: the single graph input lives in region 1; the root of the
//    single graph output in region 2 (the producing op writes straight into the
//    caller's buffer), and so does each operand that an in-place op (kInPlace)
//    on that chain may overwrite. Other inputs and outputs use the arena, and
//    an output that is a view of the input stays in region 1 (codegen copies).
// 4. Arena slots, in schedule order: an in-place op whose operand 0 dies at it
//    (with the same element count) joins its operand's slot; any other value
//    opens a new slot.
// 5. First-fit packing: slots by decreasing size (ties by start), each at the
//    lowest offset that overlaps no placed slot with an overlapping interval.
//
//===----------------------------------------------------------------------===//
#include "passes/PlanBuffers.h"

#include <algorithm>
#include <fmt/format.h>

namespace gma::passes {
namespace {

using namespace ir;

constexpr int64_t kArena = 0, kInputRegion = 1, kOutputRegion = 2;

/// Roots and live ranges of a graph (steps 1-2); shared with the checker so
/// that both agree on what "live" means.
struct Liveness {
  std::vector<ValueId> root;
  std::vector<int64_t> start, end; ///< Per root: first and last schedule position.
  std::vector<bool> isConst;

  explicit Liveness(const Graph &g)
      : root(g.values.size(), kNoValue), start(g.values.size(), 0), end(g.values.size(), -1),
        isConst(g.values.size(), false) {
    for (ValueId v : g.inputs) {
      root[v] = v;
      start[v] = end[v] = -1;
    }
    const int64_t n = static_cast<int64_t>(g.ops.size());
    for (int64_t i = 0; i < n; ++i) {
      const Op &op = g.ops[i];
      isConst[op.result] = op.kind == OpKind::Const;
      bool aliases = hasTrait(op.kind, kView) && !isConst[root[op.operands[0]]];
      root[op.result] = aliases ? root[op.operands[0]] : op.result;
      start[op.result] = end[op.result] = i;
      for (ValueId o : op.operands)
        end[root[o]] = std::max(end[root[o]], i);
    }
    for (ValueId v : g.outputs)
      end[root[v]] = n;
  }
  bool isRoot(ValueId v) const { return root[v] == v && !isConst[v]; }
};

struct Slot {
  int64_t start, end, size, offset = -1;
};

bool overlaps(int64_t s1, int64_t e1, int64_t s2, int64_t e2) { return s1 <= e2 && s2 <= e1; }

} // namespace

bool planBuffers(Graph &g) {
  Liveness live(g);
  const size_t nv = g.values.size();
  std::vector<int64_t> region(nv, kArena), slotOf(nv, -1);
  std::vector<bool> pinned(nv, false);
  auto numel = [&](ValueId v) { return g.type(v).numel(); };

  // 3. Pinned roots.
  if (g.inputs.size() == 1) {
    region[g.inputs[0]] = kInputRegion;
    pinned[g.inputs[0]] = true;
  }
  if (g.outputs.size() == 1 && g.values[live.root[g.outputs[0]]].def >= 0 &&
      live.isRoot(live.root[g.outputs[0]])) {
    for (ValueId r = live.root[g.outputs[0]];;) {
      region[r] = kOutputRegion;
      pinned[r] = true;
      const Op &op = g.ops[g.values[r].def];
      if (!hasTrait(op.kind, kInPlace) || op.operands.empty())
        break;
      ValueId r0 = live.root[op.operands[0]];
      if (!live.isRoot(r0) || pinned[r0] || g.values[r0].def < 0 || live.end[r0] != live.start[r] ||
          numel(op.operands[0]) != numel(r))
        break;
      r = r0;
    }
  }

  // 4. Arena slots, in schedule order (graph inputs first).
  std::vector<Slot> slots;
  auto open = [&](ValueId r) {
    slotOf[r] = static_cast<int64_t>(slots.size());
    slots.push_back({live.start[r], live.end[r], numel(r)});
  };
  for (ValueId v : g.inputs)
    if (!pinned[v])
      open(v);
  for (const Op &op : g.ops) {
    ValueId r = op.result;
    if (!live.isRoot(r) || pinned[r])
      continue;
    if (hasTrait(op.kind, kInPlace) && !op.operands.empty()) {
      ValueId r0 = live.root[op.operands[0]];
      if (live.isRoot(r0) && slotOf[r0] >= 0 && live.end[r0] == live.start[r] &&
          numel(op.operands[0]) == numel(r) && slots[slotOf[r0]].end == live.start[r]) {
        slotOf[r] = slotOf[r0];
        slots[slotOf[r]].end = live.end[r];
        continue;
      }
    }
    open(r);
  }

  // 5. First-fit packing.
  std::vector<size_t> order(slots.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return slots[a].size != slots[b].size ? slots[a].size > slots[b].size
                                          : slots[a].start < slots[b].start;
  });
  int64_t arena = 0;
  std::vector<size_t> placed;
  for (size_t s : order) {
    Slot &slot = slots[s];
    std::vector<std::pair<int64_t, int64_t>> busy; // [offset, offset + size)
    for (size_t p : placed)
      if (overlaps(slot.start, slot.end, slots[p].start, slots[p].end))
        busy.emplace_back(slots[p].offset, slots[p].offset + slots[p].size);
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [b, e] : busy) {
      if (offset + slot.size <= b)
        break;
      offset = std::max(offset, e);
    }
    slot.offset = offset;
    arena = std::max(arena, offset + slot.size);
    placed.push_back(s);
  }

  // Emit, noting whether anything differs from an existing plan.
  bool changed = false;
  auto set = [&changed](Attrs &attrs, const std::string &name, Attribute a) {
    auto it = attrs.find(name);
    if (it == attrs.end() || !(it->second == a)) {
      attrs[name] = std::move(a);
      changed = true;
    }
  };
  auto bufferOf = [&](ValueId r) {
    return Attribute::list({region[r], region[r] == kArena ? slots[slotOf[r]].offset : 0});
  };
  for (Op &op : g.ops)
    if (op.kind != OpKind::Const)
      set(op.attrs, "buffer", bufferOf(live.root[op.result]));
  set(g.attrs, "arena", Attribute::scalar(arena));
  if (g.inputs.size() != 1) {
    std::vector<int64_t> offsets;
    for (ValueId v : g.inputs)
      offsets.push_back(slots[slotOf[v]].offset);
    set(g.attrs, "input_offsets", Attribute::list(offsets));
  } else if (g.attrs.erase("input_offsets")) {
    changed = true;
  }
  return changed;
}

Status checkBufferPlan(const Graph &g) {
  auto fail = [](std::string msg) { return Status(Error(ErrorCode::IrVerify, std::move(msg))); };
  auto arenaIt = g.attrs.find("arena");
  if (arenaIt == g.attrs.end())
    return fail("the graph has no 'arena' attribute");
  const int64_t arena = arenaIt->second.asInt();
  Liveness live(g);

  // Each value's buffer: graph inputs from the region-1 rule or input_offsets.
  struct Buffer {
    int64_t region = -1, offset = 0;
  };
  std::vector<Buffer> buf(g.values.size());
  if (g.inputs.size() == 1) {
    buf[g.inputs[0]] = {kInputRegion, 0};
  } else {
    auto it = g.attrs.find("input_offsets");
    if (it == g.attrs.end() || it->second.ints.size() != g.inputs.size())
      return fail("graph inputs live in the arena but 'input_offsets' does not list them");
    for (size_t i = 0; i < g.inputs.size(); ++i)
      buf[g.inputs[i]] = {kArena, it->second.ints[i]};
  }
  for (const Op &op : g.ops) {
    if (op.kind == OpKind::Const)
      continue;
    auto it = op.attrs.find("buffer");
    if (it == op.attrs.end() || it->second.ints.size() != 2)
      return fail(
          fmt::format("op '{}' ({}) has no buffer = [region, offset]", op.loc, mnemonic(op.kind)));
    buf[op.result] = {it->second.ints[0], it->second.ints[1]};
  }

  const size_t nv = g.values.size();
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v) {
    if (live.root[v] == kNoValue || live.isConst[v])
      continue;
    const Buffer &b = buf[v];
    int64_t size = g.type(v).numel();
    int64_t limit =
        b.region == kArena          ? arena
        : b.region == kInputRegion  ? (g.inputs.size() == 1 ? g.type(g.inputs[0]).numel() : -1)
        : b.region == kOutputRegion ? (g.outputs.size() == 1 ? g.type(g.outputs[0]).numel() : -1)
                                    : -1;
    if (b.offset < 0 || b.offset + size > limit)
      return fail(fmt::format("value {} at [{}, {}] with {} elements is outside its region", v,
                              b.region, b.offset, size));
    const Buffer &rb = buf[live.root[v]];
    if (rb.region != b.region || rb.offset != b.offset)
      return fail(fmt::format("view {} does not share its operand's buffer", v));
    if (b.region == kInputRegion && g.inputs.size() == 1 && live.root[v] != g.inputs[0])
      return fail(fmt::format("value {} is written into the caller's input buffer", v));
  }

  // No two roots that are live together overlap, except an in-place op's result
  // and the operand root that dies at it.
  std::vector<ValueId> roots;
  for (ValueId v = 0; v < static_cast<ValueId>(nv); ++v)
    if (live.root[v] != kNoValue && live.isRoot(v))
      roots.push_back(v);
  for (size_t i = 0; i < roots.size(); ++i)
    for (size_t j = i + 1; j < roots.size(); ++j) {
      ValueId a = roots[i], b = roots[j];
      if (live.start[a] > live.start[b])
        std::swap(a, b);
      if (buf[a].region != buf[b].region ||
          !overlaps(live.start[a], live.end[a], live.start[b], live.end[b]))
        continue;
      int64_t sa = g.type(a).numel(), sb = g.type(b).numel();
      if (buf[a].offset >= buf[b].offset + sb || buf[b].offset >= buf[a].offset + sa)
        continue;
      bool inPlace = false;
      if (live.end[a] == live.start[b] && live.start[b] >= 0) {
        const Op &op = g.ops[live.start[b]];
        inPlace = hasTrait(op.kind, kInPlace) && !hasTrait(op.kind, kView) &&
                  live.root[op.operands[0]] == a && buf[a].offset == buf[b].offset &&
                  g.type(op.operands[0]).numel() == sb;
      }
      if (!inPlace)
        return fail(fmt::format("values {} (live {}..{}) and {} (live {}..{}) overlap in region "
                                "{}",
                                a, live.start[a], live.end[a], b, live.start[b], live.end[b],
                                buf[a].region));
    }
  return Status::ok();
}

} // namespace gma::passes
