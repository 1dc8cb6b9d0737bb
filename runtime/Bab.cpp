//===- runtime/Bab.cpp - Branch and bound over input boxes ----------------===//
//
// The algorithm is described in runtime/Bab.h. Rounds are the unit of
// parallelism and of determinism: the domains of a round are popped in queue
// order, cut into chunks, bounded in parallel into per-domain slots, and the
// slots are merged back serially in pop order, so the queue evolves the same
// way whatever the scheduling.
//
//===----------------------------------------------------------------------===//
#include "runtime/Bab.h"
#include "runtime/LinearCut.h"

#include "abi/KernelAbi.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <queue>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace gma::runtime {

const char *verdictName(Verdict v) {
  switch (v) {
  case Verdict::Sat:
    return "sat";
  case Verdict::Unsat:
    return "unsat";
  case Verdict::Unknown:
    return "unknown";
  case Verdict::Timeout:
    return "timeout";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

/// A sub-box of a case's outer box with the conjunctions still open on it.
struct Domain {
  std::vector<float> lo, hi;
  std::vector<int32_t> open; ///< Indices into the case's disjuncts.
  int64_t caseIndex = 0;
  double score = 0;          ///< Its worst open margin (lower: more urgent).
  uint64_t seq = 0;          ///< Creation order: FIFO among equal scores.
  /// Candidate splits, most promising first: input dimensions, or (an
  /// activation search) indices into Solver::neurons_.
  std::vector<int> splitDims;
  /// An activation search's subdomain: the bounds its relaxed values are
  /// constrained to (BoundEngine::lowerBoundsOn's boundsIn: the parent's
  /// bounds with one neuron's phase fixed), empty at the root.
  std::vector<float> bounds;
  /// Sound lower bounds of the case's stacked rows on an enclosing box (the
  /// parent's), empty at the root: they hold on this box too, so a child's
  /// bounds never fall below its parent's.
  std::vector<float> rowLower;
  /// The linear lower bounds of those rows on that box (rows × (inputs + 1),
  /// BoundEngine::lowerBounds' layout), or empty (at the root, or more than
  /// kMaxInheritedLin floats): they cut the box before it is bounded.
  std::vector<float> lin;
};

/// A dimension narrower than this fraction of the widest (each relative to
/// the case's box) is not split.
constexpr double kNegligibleWidth = 0x1p-12;

/// Linear bounds larger than this (floats per domain) are not kept.
constexpr int64_t kMaxInheritedLin = 256;

struct DomainOrder {
  bool operator()(const Domain &a, const Domain &b) const {
    // priority_queue pops the largest: "largest" = lowest score, then oldest.
    if (a.score != b.score)
      return a.score > b.score;
    return a.seq > b.seq;
  }
};

/// A case's conjunctions stacked into one matrix for lowerBounds.
struct StackedCase {
  std::vector<double> C, d;
  std::vector<int64_t> firstRow; ///< Per disjunct; rows are [firstRow[j], firstRow[j+1]).
  int64_t rows = 0;
};

/// Domains bounded together in a round that stand for one choice: the two
/// halves of each candidate split of one parent ([first, first + count), in
/// runs of `width`), or a case's box (count = width = 1).
struct Group {
  size_t first = 0, count = 0, width = 1;
  const Domain *parent = nullptr; ///< Null for a case's box; runs follow parent->splitDims.
};

/// What bounding one domain produced.
struct Outcome {
  bool bounded = false;
  std::vector<int32_t> open; ///< Still open after the bounds.
  double score = 0;
  int32_t worstDisjunct = -1; ///< The open conjunction with the lowest margin.
  std::vector<int> splitDims; ///< Empty with open conjunctions: too small to split.
  std::vector<float> rowLower; ///< This box's row lower bounds (with the parent's).
  std::vector<float> lin;      ///< Its linear bounds, if small enough to keep.
  std::vector<float> bounds;   ///< An activation search's boundsOut.
  /// The box with parts that no open conjunction can hold in cut away.
  std::vector<float> lo, hi;
  std::optional<Counterexample> cex;
};

/// The f32 midpoint of [lo, hi] if it lies strictly inside.
std::optional<float> midpoint(float lo, float hi) {
  float mid = static_cast<float>(0.5 * (static_cast<double>(lo) + hi));
  if (mid > lo && mid < hi)
    return mid;
  return std::nullopt;
}

/// s = fl(a + b) and its rounding error e: a + b = s + e exactly (TwoSum).
std::pair<double, double> twoSum(double a, double b) {
  double s = a + b, bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

/// a + b if the sum is exact in double.
std::optional<double> exactSum(double a, double b) {
  auto [s, e] = twoSum(a, b);
  if (e != 0 || !std::isfinite(s))
    return std::nullopt;
  return s;
}

/// a + b rounded towards +inf.
double sumUp(double a, double b) {
  auto [s, e] = twoSum(a, b);
  return e > 0 ? std::nextafter(s, std::numeric_limits<double>::infinity()) : s;
}

/// Appends to `s` rows implied by the conjunction's: the sums of each pair
/// of rows and of all of them, each row scaled by a power of two near
/// 1/‖C_r‖₁ so that they weigh alike. Wherever all rows hold (C_r·y <= d_r)
/// so do these, so a lower bound above one refutes the conjunction too; and
/// CROWN bounds a sum tighter than the sum of the bounds, as each unstable
/// ReLU's relaxation adapts to the combined row (ACAS Xu prop_2: Y_0 is the
/// largest score, refuted where two different scores exceed it in turn).
/// Only sums that are exact in double are kept, and d is rounded up, so
/// the implication holds exactly.
void addCombinedRows(const Conjunction &conj, int64_t outputs, StackedCase &s) {
  const int64_t m = conj.rows;
  if (m < 2 || m > 8)
    return;
  std::vector<double> w(m);
  for (int64_t r = 0; r < m; ++r) {
    double l1 = 0;
    for (int64_t k = 0; k < outputs; ++k)
      l1 += std::fabs(conj.C[r * outputs + k]);
    if (!(l1 > 0) || !std::isfinite(l1))
      return;
    w[r] = std::ldexp(1.0, -std::ilogb(l1));
  }
  auto add = [&](const std::vector<int64_t> &rows) {
    std::vector<double> c(outputs, 0.0);
    double d = 0;
    for (int64_t r : rows) {
      for (int64_t k = 0; k < outputs; ++k) {
        auto v = exactSum(c[k], w[r] * conj.C[r * outputs + k]);
        if (!v)
          return;
        c[k] = *v;
      }
      d = sumUp(d, w[r] * conj.d[r]);
    }
    if (!std::isfinite(d))
      return;
    s.C.insert(s.C.end(), c.begin(), c.end());
    s.d.push_back(d);
    ++s.rows;
  };
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a + 1; b < m; ++b)
      add({a, b});
  if (m > 2) {
    std::vector<int64_t> all(m);
    for (int64_t r = 0; r < m; ++r)
      all[r] = r;
    add(all);
  }
}

/// The conjunctions of `open` that can still hold somewhere in [lo, hi] by
/// the linear bounds `lin` of the case's stacked rows (narrowBox on each);
/// [lo, hi] becomes the hull of what each of them leaves.
std::vector<int32_t> narrowConjunctions(const StackedCase &sc, const float *lin,
                                        const std::vector<int32_t> &open, std::vector<float> &lo,
                                        std::vector<float> &hi) {
  const int64_t n = static_cast<int64_t>(lo.size());
  std::vector<int32_t> still;
  std::vector<float> hullLo, hullHi;
  for (int32_t j : open) {
    std::vector<float> jl = lo, jh = hi;
    int64_t r0 = sc.firstRow[j];
    if (!narrowBox(lin + r0 * (n + 1), &sc.d[r0], sc.firstRow[j + 1] - r0, n, jl, jh))
      continue;
    if (still.empty()) {
      hullLo = std::move(jl);
      hullHi = std::move(jh);
    } else {
      for (int64_t k = 0; k < n; ++k) {
        hullLo[k] = std::min(hullLo[k], jl[k]);
        hullHi[k] = std::max(hullHi[k], jh[k]);
      }
    }
    still.push_back(j);
  }
  if (!still.empty()) {
    lo = std::move(hullLo);
    hi = std::move(hullHi);
  }
  return still;
}

class Solver {
public:
  Solver(const BoundEngine &engine, const Spec &spec, const BabOptions &opts)
      : engine_(engine), spec_(spec), opts_(opts) {
    for (const SpecCase &c : spec.cases) {
      StackedCase s;
      for (const Conjunction &conj : c.disjuncts) {
        s.firstRow.push_back(s.rows);
        s.C.insert(s.C.end(), conj.C.begin(), conj.C.end());
        s.d.insert(s.d.end(), conj.d.begin(), conj.d.end());
        s.rows += conj.rows;
        if (opts.combineRows)
          addCombinedRows(conj, spec.numOutputs, s);
      }
      s.firstRow.push_back(s.rows);
      stacked_.push_back(std::move(s));
    }
    if (const BoundEngine::RelaxedValues *rv = engine.relaxedValues()) {
      neuronFloats_ = 2 * rv->floats;
      for (size_t j = 0; j < rv->sizes.size(); ++j)
        if (rv->kinds[j] & GAMMA_RELAXED_PIECEWISE)
          for (int64_t i = 0; i < rv->sizes[j]; ++i)
            neurons_.push_back({2 * rv->offsets[j] + i, 2 * rv->offsets[j] + rv->sizes[j] + i});
    }
  }

  BabResult run() {
    auto t0 = Clock::now();
    BabResult res;
    finish(res, t0, solve(res, t0));
    return res;
  }

private:
  void finish(BabResult &res, Clock::time_point t0, Verdict v) {
    res.verdict = v;
    res.stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (v != Verdict::Sat)
      res.counterexample.reset();
  }

  Verdict stopped(BabResult &res) {
    if (opts_.stop.cancelled()) {
      res.cancelled = true;
      res.reason = "cancelled";
      return Verdict::Unknown;
    }
    return Verdict::Timeout;
  }

  /// One best-first search with its own split rule: its queue, the round
  /// being bounded, and its chunk size.
  struct Search {
    bool activation = false; ///< Splits ReLU phases, not inputs.
    int lookahead = 1;
    int64_t batch = 1;
    std::priority_queue<Domain, std::vector<Domain>, DomainOrder> queue;
    std::vector<Domain> pending, parents;
    std::vector<Group> groups;
    int64_t unresolved = 0;
    bool done = false; ///< Its queue ran empty.
  };

  Verdict solve(BabResult &res, Clock::time_point t0) {
    // Falsification in two parts around the first round of bounds: a short
    // one (sampling, a few short PGD starts), then, if the root bounds did
    // not decide the problem, the full one. On an image classifier the full
    // PGD costs ten root bounds or more (resnet_2b: 2.9 s against a 0.2 s
    // CROWN bound that proves most instances).
    auto runFalsify = [&](bool full) -> bool {
      auto t = Clock::now();
      FalsifyOptions fo = opts_.falsify;
      fo.seed = full ? mixSeed(opts_.seed, 1) : opts_.seed;
      if (!full) {
        fo.restarts = std::min(fo.restarts, 2);
        fo.steps = std::min(fo.steps, 10);
      } else {
        fo.samplesPerCase = 0; // sampled in the short part
      }
      auto cex = falsify(engine_, spec_, fo, opts_.stop);
      res.stats.falsifySeconds += std::chrono::duration<double>(Clock::now() - t).count();
      if (cex)
        res.counterexample = std::move(cex);
      return cex.has_value();
    };
    bool fullFalsifyPending = opts_.falsifyFirst;
    if (opts_.falsifyFirst && runFalsify(false))
      return Verdict::Sat;
    // One search per split rule, a round of each in turn: each rule is
    // exponentially worse than the other on some problems (ACAS Xu 2_2
    // prop_3 takes 297 domains with the top-ranked dimension alone and over
    // 300k with lookahead; 1_4 prop_1 the other way round), and alternating
    // costs at most a factor of their number over the better one.
    std::vector<int> rules = opts_.lookaheads;
    if (rules.empty())
      rules.push_back(1);
    // Activation splitting where inputs are too many to split (an image) and
    // the engine bounds subdomains; input splitting otherwise or as well.
    const bool canSplitActivations = !neurons_.empty();
    const Splitting how = opts_.splitting;
    const bool activations =
        canSplitActivations &&
        (how == Splitting::Activation || how == Splitting::Both ||
         (how == Splitting::Auto && spec_.numInputs > kAutoInputSplitInputs));
    if (activations && how == Splitting::Activation)
      rules.clear();
    std::vector<Search> searches(rules.size() + (activations ? 1 : 0));
    for (size_t s = 0; s < searches.size(); ++s) {
      searches[s].activation = s == rules.size();
      searches[s].lookahead =
          std::max(1, searches[s].activation ? opts_.activationLookahead : rules[s]);
      searches[s].batch = std::max<int64_t>(1, opts_.batch);
      seedRoots(searches[s]);
    }
    int64_t bytesPerDomain = 8 * spec_.numInputs + 160;
    if (activations)
      bytesPerDomain += 8 * (neuronFloats_ + 8 * opts_.activationLookahead);
    for (const StackedCase &c : stacked_)
      if (int64_t lin = c.rows * (spec_.numInputs + 1); lin <= kMaxInheritedLin)
        bytesPerDomain = std::max(bytesPerDomain, 8 * spec_.numInputs + 160 + 4 * lin);
    int64_t maxQueue = std::min(opts_.maxDomains, opts_.maxQueueBytes / bytesPerDomain);
    for (size_t turn = 0;; ++turn) {
      size_t live = 0;
      for (const Search &s : searches)
        live += !s.done;
      if (live == 0)
        break;
      Search &s = searches[turn % searches.size()];
      if (s.done)
        continue;
      if (opts_.stop.stop())
        return stopped(res);
      if (std::optional<Verdict> v = round(s, res, t0))
        return *v;
      if (fullFalsifyPending) {
        fullFalsifyPending = false;
        if (runFalsify(true))
          return Verdict::Sat;
        if (opts_.stop.stop())
          return stopped(res);
      }
      int64_t queued = 0;
      for (const Search &o : searches)
        queued += static_cast<int64_t>(o.queue.size());
      res.stats.maxQueue = std::max(res.stats.maxQueue, queued);
      if (queued > maxQueue) {
        res.reason = "too many open domains";
        return Verdict::Unknown;
      }
      if (s.pending.empty()) {
        s.done = true;
        if (s.unresolved == 0)
          return Verdict::Unsat; // this search covered every case's box
      }
    }
    res.reason = "domains too small to split remain undecided";
    return Verdict::Unknown;
  }

  /// Round 0 of a search bounds the cases' boxes.
  void seedRoots(Search &s) const {
    for (size_t c = 0; c < spec_.cases.size(); ++c) {
      const SpecCase &sc = spec_.cases[c];
      Domain d;
      d.lo = sc.outerLo;
      d.hi = sc.outerHi;
      d.caseIndex = static_cast<int64_t>(c);
      for (size_t j = 0; j < sc.disjuncts.size(); ++j)
        d.open.push_back(static_cast<int32_t>(j));
      if (d.open.empty())
        continue;
      s.groups.push_back({s.pending.size(), 1, 1});
      s.pending.push_back(std::move(d));
    }
  }

  /// Bounds a search's pending domains, queues the kept halves, runs the
  /// attacks that are due and prepares the next round. A verdict ends the
  /// whole problem (sat, stopped or an engine error).
  std::optional<Verdict> round(Search &s, BabResult &res, Clock::time_point t0) {
    std::vector<Domain> &pending = s.pending;
    auto roundStart = Clock::now();
    if (opts_.progress)
      opts_.progress(res.stats);
    ++res.stats.rounds;
    // Chunks: consecutive domains of one case, at most `batch` each.
    std::vector<std::pair<size_t, size_t>> chunks;
    for (size_t i = 0; i < pending.size();) {
      size_t j = i + 1;
      while (j < pending.size() && j - i < static_cast<size_t>(s.batch) &&
             pending[j].caseIndex == pending[i].caseIndex)
        ++j;
      chunks.push_back({i, j});
      i = j;
    }
    std::vector<Outcome> out(pending.size());
    std::vector<Status> errors(chunks.size());
    tbb::parallel_for(size_t(0), chunks.size(), [&](size_t k) {
      errors[k] = boundChunk(pending, chunks[k].first, chunks[k].second, s, out);
    });
    for (auto &e : errors)
      if (!e) {
        res.reason = e.error().str();
        return Verdict::Unknown;
      }
    res.stats.boundCalls += static_cast<int64_t>(chunks.size());
    if (!opts_.deterministic) {
      // Keep a round near 50 ms so that stop conditions are seen in time.
      double perDomain = std::chrono::duration<double>(Clock::now() - roundStart).count() /
                         static_cast<double>(pending.size()) *
                         static_cast<double>(std::min<int64_t>(threads_(), chunks.size()));
      int64_t fit = perDomain > 0 ? static_cast<int64_t>(0.05 / perDomain) : s.batch;
      s.batch = std::clamp<int64_t>(fit, 1, std::max<int64_t>(1, opts_.batch));
    }
    // Merge in pop order: per group, keep the split that leaves the least
    // to prove; its two halves join the queue unless refuted.
    std::vector<std::pair<Domain *, Outcome *>> kept;
    for (const Group &g : s.groups) {
      for (size_t i = g.first; i < g.first + g.count; ++i) {
        if (!out[i].bounded) { // stopped before bounding
          if (opts_.stop.stop())
            return stopped(res);
          res.reason = "a domain was not bounded";
          return Verdict::Unknown;
        }
        ++res.stats.domains;
        if (out[i].cex) {
          res.counterexample = std::move(out[i].cex);
          return Verdict::Sat;
        }
      }
      size_t best = g.first;
      double bestGain = -std::numeric_limits<double>::infinity();
      for (size_t i = g.first; i < g.first + g.count; i += g.width) {
        // The halves' margins summed, a refuted half counting 0. (Their
        // minimum instead is myopic: it prefers splits that refute
        // nothing, e.g. 3_5 prop_1 took 170x more domains.)
        double gain = 0;
        for (size_t c = i; c < i + g.width; ++c)
          gain += out[c].open.empty() ? 0.0 : std::min(out[c].score, 0.0);
        if (gain > bestGain) {
          bestGain = gain;
          best = i;
        }
      }
      // No split improves on the parent's own margin: CROWN is not
      // monotone in the box, and the halves keep the parent's bounds, so
      // every split ties up to noise. Halve the widest dimension relative
      // to the case's box instead of one the noise favours (3_3 prop_2
      // otherwise halved one dimension down to 1e-10 of its width).
      // (An activation search keeps its best-ranked neuron then.)
      if (g.parent && bestGain <= 2 * std::min(g.parent->score, 0.0) + 1e-12)
        best = g.first + g.width * (s.activation ? 0 : widestRelative(*g.parent));
      for (size_t c = best; c < best + g.width; ++c) {
        Outcome &o = out[c];
        if (o.open.empty()) {
          ++res.stats.refuted;
          continue;
        }
        if (o.splitDims.empty()) {
          ++res.stats.unresolved;
          ++s.unresolved;
          continue;
        }
        kept.push_back({&pending[c], &o});
      }
    }
    for (auto &[d, o] : kept) {
      d->lo = o->lo;
      d->hi = o->hi;
      d->open = o->open;
      d->score = o->score;
      d->splitDims = o->splitDims;
      d->rowLower = o->rowLower;
      d->lin = std::move(o->lin);
      d->bounds = std::move(o->bounds);
      d->seq = seq_++;
    }
    if (opts_.attackEvery > 0 && res.stats.rounds % opts_.attackEvery == 0 && !kept.empty())
      if (auto cex = attack(kept, res.stats.rounds)) {
        res.counterexample = std::move(cex);
        return Verdict::Sat;
      }
    // Nothing open anywhere: the proof is complete, attacks are pointless.
    bool open = !kept.empty() || !s.queue.empty();
    if (open && wideAttackDue(res.stats, t0))
      if (auto cex = wideAttack(res.stats, t0)) {
        res.counterexample = std::move(cex);
        return Verdict::Sat;
      }
    for (auto &[d, o] : kept)
      s.queue.push(std::move(*d));
    // The next round: children of the most urgent open domains, every
    // candidate split of each (lookahead), about batch × threads domains.
    std::vector<Domain> next;
    s.groups.clear();
    s.parents.clear();
    int64_t perRound = s.batch * threads_();
    while (!s.queue.empty() && static_cast<int64_t>(next.size()) < perRound) {
      s.parents.push_back(s.queue.top());
      s.queue.pop();
      const Domain &d = s.parents.back();
      Group g{next.size(), 0, 2};
      for (int k : d.splitDims) {
        for (int side = 0; side < 2; ++side) {
          Domain child;
          child.lo = d.lo;
          child.hi = d.hi;
          if (s.activation) {
            // The inactive phase (u = 0), then the active one (l = 0).
            child.bounds = d.bounds;
            const Neuron &nu = neurons_[k];
            child.bounds[side == 0 ? nu.hiAt : nu.loAt] = 0.0f;
          } else {
            float mid = *midpoint(d.lo[k], d.hi[k]);
            (side == 0 ? child.hi : child.lo)[k] = mid;
          }
          child.open = d.open;
          child.caseIndex = d.caseIndex;
          child.rowLower = d.rowLower;
          child.lin = d.lin;
          next.push_back(std::move(child));
        }
      }
      g.count = next.size() - g.first;
      s.groups.push_back(g);
    }
    for (size_t k = 0; k < s.groups.size(); ++k)
      s.groups[k].parent = &s.parents[k];
    pending = std::move(next);
    return std::nullopt;
  }

  int64_t threads_() const {
    return std::max(1, tbb::this_task_arena::max_concurrency());
  }

  /// Bounds round[begin, end) (one case) with one lowerBounds call and fills
  /// their outcomes: refuted conjunctions, score, split dimension, and a
  /// counterexample if the linear bound's minimiser or the centre is one.
  Status boundChunk(const std::vector<Domain> &round, size_t begin, size_t end,
                    const Search &search, std::vector<Outcome> &out) {
    const int lookahead = search.lookahead;
    if (opts_.stop.stop())
      return Status::ok();
    int64_t caseIndex = round[begin].caseIndex;
    const StackedCase &sc = stacked_[caseIndex];
    const SpecCase &spc = spec_.cases[caseIndex];
    const int64_t n = spec_.numInputs, R = sc.rows, L = R * (n + 1);
    // First the enclosing box's linear bounds, which hold here too: they cut
    // the box, or refute it without a bound call.
    std::vector<int64_t> idx; // domains to bound, in order
    std::vector<float> lo, hi, boundsIn;
    for (size_t i = begin; i < end; ++i) {
      const Domain &d = round[i];
      Outcome &o = out[i];
      o.bounded = true;
      o.lo = d.lo;
      o.hi = d.hi;
      o.open = d.open;
      if (static_cast<int64_t>(d.lin.size()) == L)
        o.open = narrowConjunctions(sc, d.lin.data(), d.open, o.lo, o.hi);
      if (o.open.empty())
        continue;
      idx.push_back(static_cast<int64_t>(i));
      lo.insert(lo.end(), o.lo.begin(), o.lo.end());
      hi.insert(hi.end(), o.hi.begin(), o.hi.end());
      boundsIn.insert(boundsIn.end(), d.bounds.begin(), d.bounds.end());
    }
    const int64_t b = static_cast<int64_t>(idx.size());
    std::vector<float> lower(b * R), coefs(b * L, 0.0f);
    // An activation search's domains: constrained by their bounds (none at
    // the roots, which are alone in their chunks), and their bounds out.
    const int64_t F = search.activation ? 2 * engine_.relaxedValues()->floats : 0;
    std::vector<float> boundsOut(b * F);
    if (R > 0 && b > 0) {
      Status s = search.activation
                     ? engine_.lowerBoundsOn(
                           lo.data(), hi.data(), b, sc.C.data(), R, lower.data(), coefs.data(),
                           static_cast<int64_t>(boundsIn.size()) == b * F ? boundsIn.data()
                                                                           : nullptr,
                           boundsOut.data())
                     : engine_.lowerBounds(lo.data(), hi.data(), b, sc.C.data(), R, lower.data(),
                                           coefs.data());
      if (!s)
        return s;
    }
    std::vector<float> candidates;
    std::vector<size_t> candidateOf;
    for (int64_t i = 0; i < b; ++i) {
      const Domain &d = round[idx[i]];
      Outcome &o = out[idx[i]];
      if (static_cast<int64_t>(d.rowLower.size()) == R)
        for (int64_t r = 0; r < R; ++r)
          lower[i * R + r] = std::max(lower[i * R + r], d.rowLower[r]);
      o.rowLower.assign(&lower[i * R], &lower[i * R] + R);
      // The conjunctions' margins: their best row (a row > 0 refutes one);
      // then the box is cut to where the survivors' rows can all hold by
      // their own linear bounds (nowhere refutes them too).
      std::vector<double> margin(spc.disjuncts.size());
      std::vector<int64_t> bestRow(spc.disjuncts.size(), -1);
      std::vector<int32_t> open;
      for (int32_t j : o.open) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t r = sc.firstRow[j]; r < sc.firstRow[j + 1]; ++r) {
          double v = static_cast<double>(lower[i * R + r]) - sc.d[r];
          if (std::isnan(v))
            v = -std::numeric_limits<double>::infinity();
          if (bestRow[j] < 0 || v > m) {
            m = v;
            bestRow[j] = r;
          }
        }
        margin[j] = m;
        if (m <= 0)
          open.push_back(j);
      }
      o.open = narrowConjunctions(sc, &coefs[i * L], open, o.lo, o.hi);
      if (o.open.empty())
        continue;
      if (L <= kMaxInheritedLin)
        o.lin.assign(&coefs[i * L], &coefs[i * L] + L);
      o.score = std::numeric_limits<double>::infinity();
      int32_t worstDisjunct = -1;
      int64_t worstRow = -1;
      for (int32_t j : o.open)
        if (worstDisjunct < 0 || margin[j] < o.score) {
          o.score = margin[j];
          worstDisjunct = j;
          worstRow = bestRow[j];
        }
      o.worstDisjunct = worstDisjunct;
      const float *coef = worstRow >= 0 ? &coefs[i * L + worstRow * (n + 1)] : nullptr;
      if (search.activation) {
        o.bounds.assign(&boundsOut[i * F], &boundsOut[i * F] + F);
        o.splitDims = chooseNeurons(o.bounds, lookahead);
      } else {
        o.splitDims = chooseSplits(spc, o.lo, o.hi, coef, lookahead);
      }
      // Candidates: the box's centre and the minimiser of the worst row's
      // linear lower bound, both clamped into the inner box.
      std::vector<float> clo = o.lo, chi = o.hi;
      if (!clampToInner(spc, clo, chi))
        continue;
      for (int kind = 0; kind < 2; ++kind) {
        if (kind == 1 && !coef)
          break;
        size_t at = candidates.size();
        candidates.resize(at + n);
        for (int64_t k = 0; k < n; ++k) {
          float c = static_cast<float>(0.5 * (static_cast<double>(clo[k]) + chi[k]));
          if (kind == 1 && coef[k] != 0)
            c = coef[k] > 0 ? clo[k] : chi[k];
          candidates[at + k] = std::clamp(c, clo[k], chi[k]);
        }
        candidateOf.push_back(static_cast<size_t>(idx[i]));
      }
    }
    if (!candidates.empty()) {
      int64_t count = static_cast<int64_t>(candidateOf.size());
      std::vector<float> ys(count * spec_.numOutputs);
      engine_.eval(candidates.data(), ys.data(), count);
      for (int64_t p = 0; p < count; ++p) {
        Outcome &o = out[candidateOf[p]];
        if (o.cex)
          continue;
        for (int32_t j : o.open)
          if (conjunctionMargin(spc.disjuncts[j], &ys[p * spec_.numOutputs], spec_.numOutputs) <=
              0) {
            o.cex = confirm(engine_, spec_, caseIndex, &candidates[p * n]);
            break;
          }
      }
    }
    return Status::ok();
  }

  /// The width of [lo, hi] along k relative to the case's box.
  static double relativeWidth(const SpecCase &c, const std::vector<float> &lo,
                              const std::vector<float> &hi, int64_t k) {
    double outer = static_cast<double>(c.outerHi[k]) - c.outerLo[k];
    return (static_cast<double>(hi[k]) - lo[k]) / (outer > 0 ? outer : 1.0);
  }

  /// The index in d.splitDims of the dimension widest relative to the case's box.
  size_t widestRelative(const Domain &d) const {
    const SpecCase &c = spec_.cases[d.caseIndex];
    const std::vector<int> &dims = d.splitDims;
    size_t best = 0;
    double bestRel = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
      double rel = relativeWidth(c, d.lo, d.hi, dims[i]);
      if (rel > bestRel) {
        bestRel = rel;
        best = i;
      }
    }
    return best;
  }

  /// Candidate split dimensions among the splittable ones, best first by
  /// |coef_k|·width_k (then by width): all of them when there are at most
  /// `lookahead`, else the first `lookahead`. Empty if none can be split.
  std::vector<int> chooseSplits(const SpecCase &c, const std::vector<float> &lo,
                                const std::vector<float> &hi, const float *coef,
                                int lookahead) const {
    std::vector<std::pair<double, double>> score(spec_.numInputs);
    std::vector<int> dims;
    // Dimensions far narrower (relative to the case's box) than the widest
    // are not candidates: halving them changes the bounds by next to
    // nothing, yet a half cut away by the linear bounds makes such a split
    // look best (3_3 prop_2 halved x3 down to 1e-7 while x0 stayed 0.02 wide).
    std::vector<double> rel(spec_.numInputs, 0.0);
    double widest = 0;
    for (int64_t k = 0; k < spec_.numInputs; ++k) {
      rel[k] = relativeWidth(c, lo, hi, k);
      if (midpoint(lo[k], hi[k]))
        widest = std::max(widest, rel[k]);
    }
    for (int64_t k = 0; k < spec_.numInputs; ++k) {
      if (!midpoint(lo[k], hi[k]) || rel[k] < widest * kNegligibleWidth)
        continue;
      double w = static_cast<double>(hi[k]) - lo[k];
      double s = coef ? std::fabs(static_cast<double>(coef[k])) * w : 0.0;
      score[k] = {std::isfinite(s) ? s : 0.0, w};
      dims.push_back(static_cast<int>(k));
    }
    std::stable_sort(dims.begin(), dims.end(), [&](int a, int b) { return score[a] > score[b]; });
    dims.resize(std::min<size_t>(dims.size(), std::max(1, lookahead)));
    return dims;
  }

  /// The `lookahead` unstable neurons (l < 0 < u in `bounds`) with the
  /// largest relaxation gap u·(-l)/(u - l) (the triangle's height at the
  /// kink: how far the relaxation is from the ReLU), best first. Empty if
  /// none is unstable.
  std::vector<int> chooseNeurons(const std::vector<float> &bounds, int lookahead) const {
    std::vector<std::pair<double, int>> ranked;
    for (size_t t = 0; t < neurons_.size(); ++t) {
      double l = bounds[neurons_[t].loAt], u = bounds[neurons_[t].hiAt];
      if (l < 0 && u > 0)
        ranked.push_back({u * -l / (u - l), static_cast<int>(t)});
    }
    size_t k = std::min<size_t>(ranked.size(), std::max(1, lookahead));
    std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end(),
                      [](const auto &a, const auto &b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    std::vector<int> out;
    for (size_t i = 0; i < k; ++i)
      out.push_back(ranked[i].second);
    return out;
  }

  bool wideAttackDue(const BabStats &stats, Clock::time_point t0) const {
    if (opts_.wideStarts <= 0 || opts_.wideSteps <= 0)
      return false;
    if (opts_.deterministic)
      return opts_.attackEvery > 0 && stats.rounds % (4 * opts_.attackEvery) == 0;
    // Due once the next attack (costing what the last one did; 50 ms before
    // the first) fits in the share: quick proofs pay nothing.
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    double next = wideAttacks_ ? lastWideSeconds_ : 0.05;
    return stats.attackSeconds + next <= opts_.wideFraction * elapsed;
  }

  /// PGD from random points of every case's box, on every conjunction
  /// (falsify without sampling), with a fresh seed each time. It stops at
  /// the end of its share (at least 50 ms): on large models the first one
  /// would otherwise take seconds (1024 starts on ERAN's 9x200 MLP: 9 s).
  std::optional<Counterexample> wideAttack(BabStats &stats, Clock::time_point t0) {
    auto t = Clock::now();
    FalsifyOptions fo;
    fo.seed = mixSeed(opts_.seed, (uint64_t(1) << 48) + wideAttacks_);
    fo.samplesPerCase = 0;
    fo.restarts = opts_.wideStarts;
    fo.steps = opts_.wideSteps;
    StopCondition stop = opts_.stop;
    if (!opts_.deterministic) {
      double elapsed = std::chrono::duration<double>(t - t0).count();
      double share = std::max(0.05, opts_.wideFraction * elapsed - stats.attackSeconds);
      auto end = t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(share));
      stop.deadline = stop.hasDeadline ? std::min(stop.deadline, end) : end;
      stop.hasDeadline = true;
    }
    auto cex = falsify(engine_, spec_, fo, stop);
    ++wideAttacks_;
    lastWideSeconds_ = std::chrono::duration<double>(Clock::now() - t).count();
    stats.attackSeconds += lastWideSeconds_;
    return cex;
  }

  /// PGD in the worst open domains of the round (lowest scores first).
  std::optional<Counterexample> attack(std::vector<std::pair<Domain *, Outcome *>> kept,
                                       int64_t roundNo) {
    std::stable_sort(kept.begin(), kept.end(),
                     [&](const auto &a, const auto &b) { return a.second->score < b.second->score; });
    kept.resize(std::min<size_t>(kept.size(), std::max(0, opts_.attackDomains)));
    std::vector<std::optional<Counterexample>> found(kept.size());
    tbb::parallel_for(size_t(0), kept.size(), [&](size_t t) {
      const Domain &d = *kept[t].first;
      const SpecCase &c = spec_.cases[d.caseIndex];
      std::vector<float> lo = d.lo, hi = d.hi;
      if (!clampToInner(c, lo, hi))
        return;
      std::vector<float> centre(lo.size());
      for (size_t k = 0; k < lo.size(); ++k)
        centre[k] = static_cast<float>(0.5 * (static_cast<double>(lo[k]) + hi[k]));
      int32_t j = kept[t].second->worstDisjunct;
      uint64_t seed = mixSeed(opts_.seed, (static_cast<uint64_t>(roundNo) << 16) + t);
      found[t] = pgd(engine_, spec_, d.caseIndex, j, lo.data(), hi.data(), centre.data(), 1,
                     opts_.attackSteps, seed, opts_.stop);
    });
    for (auto &f : found)
      if (f)
        return f;
    return std::nullopt;
  }

  const BoundEngine &engine_;
  const Spec &spec_;
  const BabOptions &opts_;
  std::vector<StackedCase> stacked_;
  /// The splittable neurons (of piecewise-linear relaxed values): where
  /// their lower and upper bounds sit in a bounds array.
  struct Neuron {
    int64_t loAt, hiAt;
  };
  std::vector<Neuron> neurons_;
  int64_t neuronFloats_ = 0; ///< 2 · relaxed floats: one bounds array.
  uint64_t seq_ = 0;
  uint64_t wideAttacks_ = 0;
  double lastWideSeconds_ = 0;
};

} // namespace

BabResult verify(const BoundEngine &engine, const Spec &spec, const BabOptions &opts) {
  int threads = opts.deterministic ? 1 : opts.threads;
  if (threads <= 0)
    threads = tbb::info::default_concurrency();
  tbb::task_arena arena(threads);
  BabResult res;
  arena.execute([&] { res = Solver(engine, spec, opts).run(); });
  return res;
}

} // namespace gma::runtime
