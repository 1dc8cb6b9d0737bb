//===- runtime/Bab.h - Branch and bound over input boxes --------*- C++ -*-===//
//
// Decides a verification problem (runtime/Spec.h) on a model seen through a
// BoundEngine, by input splitting (and, for many inputs, activation
// splitting: point 7):
//
//   1. Falsification first (runtime/Falsify.h): sampling and PGD.
//   2. A best-first queue of open domains (a sub-box of a case's box, the
//      conjunctions not yet refuted on it and its rows' lower bounds), lowest
//      worst-row margin first.
//   3. Each round pops open domains until it holds about threads × batch
//      children to bound: for each domain, both halves of each candidate
//      split (lookahead). Children are bounded with one lowerBounds call per
//      chunk of `batch` domains of the same case, chunks running in parallel
//      on oneTBB. A child's row bounds are the better of its own and its
//      parent's (which hold on the sub-box too). A conjunction is refuted on a
//      domain when some row's sound lower bound of C_r·f(x) exceeds d_r.
//      Conjunctions of 2 to 8 rows are bounded with extra rows, the sums of
//      each pair and of all their rows (implied by them; CROWN bounds a sum
//      tighter than the sum of bounds). Each row's linear lower bound then
//      cuts the box down to where all rows of an open conjunction can hold
//      (runtime/LinearCut.h; nowhere refutes it), and the parent's linear
//      bounds cut each child before it is bounded.
//   4. Of each domain's candidate splits, the one whose halves leave the
//      least to prove (their margins summed, a refuted half counting 0) is
//      kept and its open halves are queued; the other children are dropped.
//      Candidates are the dimensions ranked by |coef_k|·width_k of the lower
//      bound's input coefficients (the row closest to refuting the hardest
//      open conjunction), then by width: all of them up to `lookahead`,
//      leaving out dimensions under 2^-12 of the widest (relative to the
//      case's box), which a cut half would otherwise make look best.
//   5. Several searches run side by side, a round of each in turn, each with
//      its own queue and split rule (by default lookahead 8 and 1): either
//      rule can be exponentially worse than the other on a given problem, and
//      the first search that covers every box proves it.
//   6. Falsification is interleaved: the centre and the minimiser of each
//      open domain's linear lower bound are evaluated, every few rounds PGD
//      runs in the worst domains, and wide PGD attacks over each case's whole
//      box take up to `wideFraction` of the time (they find counterexamples
//      in regions too small for sampling, e.g. ACAS Xu 1_5 prop_2).
//
//   7. An activation search (Splitting): a domain is the case's box with the
//      phases of some unstable ReLUs fixed, given to the engine as bounds on
//      its relaxed values (BoundEngine::lowerBoundsOn: [0, +inf] active,
//      [-inf, 0] inactive); children start from the bounds their parent's
//      bounding used. Its candidates are the `activationLookahead` unstable
//      neurons with the largest relaxation gap, each bounded in both phases,
//      the best kept as in point 4. A domain with no unstable neuron left that
//      is not refuted is undecided (the phases constrain the bounds, not the
//      inputs: no β-CROWN multipliers).
//
// Domains too small to split (no f32 strictly inside along any dimension) are
// decided by concrete evaluation if possible; otherwise the answer becomes
// `unknown`. Stop conditions are checked between rounds (a round of the
// default batch takes well under 0.1 s on small models).
//
// Deterministic mode: one thread, the given seed, FIFO order among equal
// margins; the same inputs give the same verdict and statistics every run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/BoundEngine.h"
#include "runtime/Falsify.h"
#include "runtime/Spec.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace gma::runtime {

enum class Verdict { Sat, Unsat, Unknown, Timeout };

/// "sat", "unsat", "unknown", "timeout" (VNN-COMP's words).
const char *verdictName(Verdict v);

struct BabStats;

/// What a search splits: input dimensions (the box), or the phase of an
/// unstable ReLU (the engine's relaxed values: BoundEngine::lowerBoundsOn).
/// Auto: inputs alone for up to kAutoInputSplitInputs inputs, else
/// activations and inputs side by side (inputs alone when the engine cannot
/// bound subdomains). Measured (docs/benchmarks.md): on safenlp's 30 inputs
/// both searches solve 955/1080 at 10 s against 960 with inputs alone; on
/// mnist_fc's 784, more with both.
enum class Splitting { Auto, Input, Activation, Both };
constexpr int64_t kAutoInputSplitInputs = 64;

struct BabOptions {
  StopCondition stop;        ///< Deadline and cancellation flag.
  /// Called with the statistics so far at the start of every round (about
  /// every 50 ms), from the searching thread; may be empty. gamma verify's
  /// watchdog reports them when it answers for a search that overran.
  std::function<void(const BabStats &)> progress;
  int threads = 0;           ///< 0: the hardware's concurrency.
  bool deterministic = false; ///< One thread and FIFO tie-breaks.
  uint64_t seed = 0;
  /// Domains per lowerBounds call, at most. Outside deterministic mode the
  /// chunks shrink when bounding is slow, so a round stays near 50 ms.
  int64_t batch = 16;
  /// Split rules, one search each, run a round each in turn; the first to
  /// cover every box proves the problem. A rule is the number of candidate
  /// split dimensions bounded on both halves per open domain (the split
  /// leaving the least to prove is kept); 1: only the dimension with the
  /// largest |coef|·width.
  std::vector<int> lookaheads = {8, 1};
  Splitting splitting = Splitting::Auto;
  /// The activation search's rule: the unstable ReLU neurons (ranked by
  /// the gap of their relaxation, u·(-l)/(u - l)) bounded in both phases per
  /// open domain, the split leaving the least to prove kept (as the input
  /// searches' lookahead; filtered smart branching, De Palma et al. 2021).
  int activationLookahead = 4;
  /// Also bound sums of pairs (and all) of each conjunction's rows
  /// (2 to 8 rows): implied by them, and often refuted where no row is.
  bool combineRows = true;
  /// Open domains kept over all searches (and their memory, estimated);
  /// beyond either the answer is unknown.
  int64_t maxDomains = 2'000'000;
  int64_t maxQueueBytes = int64_t(1) << 30;
  bool falsifyFirst = true;
  FalsifyOptions falsify;
  int attackEvery = 8;       ///< Rounds between PGD runs in the worst domains; 0: never.
  int attackDomains = 4;     ///< Worst domains attacked each time.
  int attackSteps = 10;
  /// Wide attacks: PGD from `wideStarts` random points of each case's box
  /// (split over the threads), `wideSteps` steps, run whenever one more
  /// keeps them within `wideFraction` of the time so far, each stopping at
  /// the end of that share (every 4·attackEvery rounds, unstopped, in
  /// deterministic mode). None once no domain is open. 0 starts: never.
  int wideStarts = 1024;
  int wideSteps = 50;
  double wideFraction = 0.15;
};

struct BabStats {
  int64_t domains = 0;     ///< Domains bounded.
  int64_t boundCalls = 0;  ///< lowerBounds calls.
  int64_t refuted = 0;     ///< Domains closed by their bounds.
  int64_t unresolved = 0;  ///< Domains too small to split and undecided.
  int64_t maxQueue = 0;
  int64_t rounds = 0;
  double seconds = 0;      ///< Wall time of verify().
  double falsifySeconds = 0; ///< Falsification before the search.
  double attackSeconds = 0;  ///< Wide attacks during the search.
};

struct BabResult {
  Verdict verdict = Verdict::Unknown;
  std::optional<Counterexample> counterexample; ///< Set iff verdict is Sat (confirmed).
  BabStats stats;
  bool cancelled = false;  ///< Stopped by the cancellation flag (verdict Unknown).
  std::string reason;      ///< Why the answer is unknown, or an engine error.
};

/// Runs falsification and branch-and-bound until the problem is decided or
/// a stop condition holds.
BabResult verify(const BoundEngine &engine, const Spec &spec, const BabOptions &opts);

} // namespace gma::runtime
