//===- frontend/vnnlib/VnnLib.cpp - VNN-LIB properties --------------------===//
//
// 1. Lex into S-expressions (`;` comments, any whitespace), keeping each atom's
//    line and column.
// 2. Check the commands: `declare-const` of X_i / Y_i with sort Real, `assert`.
// 3. Turn each asserted formula into DNF: a list of conjunctions of linear atoms
//    `sum coef·var + const <= 0`. `and` multiplies DNFs, `or` concatenates them.
//    The size is capped (disjuncts, atoms, box entries) so a pathological file
//    gets a coded error instead of exhausting memory.
// 4. Split each conjunction into input bounds (atoms on one X variable) and
//    output rows (atoms over Y only), and group conjunctions by input box.
//
// Hostile input: the file is fstat-checked and memory-mapped (no FIFO or
// /dev/zero is read); nesting is capped at kMaxDepth so recursion cannot
// overflow the stack (also under ASan, whose frames are several times larger);
// numbers follow SMT-LIB's decimal grammar and must be finite, and so must
// every coefficient arithmetic produces.
//
//===----------------------------------------------------------------------===//
#include "frontend/vnnlib/VnnLib.h"

#include "support/InputFile.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

namespace gma::frontend {

using support::MappedFile;
using support::mapInputFile;
namespace {

constexpr size_t kMaxDisjuncts = 1u << 16;
/// Atoms over all conjunctions of a DNF (~150 bytes each).
constexpr size_t kMaxAtoms = 1u << 21;
/// Doubles in the built property: input boxes and output rows.
constexpr uint64_t kMaxPropertyCells = uint64_t(1) << 25;
/// Parentheses nesting. VNN-COMP files nest 3-5 deep.
constexpr int64_t kMaxDepth = 256;
/// The largest VNN-LIB file read (VNN-COMP's largest are tens of MB).
constexpr uint64_t kMaxFileBytes = uint64_t(1) << 30;

struct SExpr {
  bool isList = false;
  std::string atom;
  std::vector<SExpr> items;
  int line = 0, col = 0;
};

/// A linear term: sum coefs[var] * var + constant. Vars are "X_3" / "Y_0".
struct Linear {
  std::map<std::string, double> coefs;
  double constant = 0;
  /// Every coefficient and the constant are exactly the written values.
  bool exact = true;
};

/// Whether the decimal `s` (already checked by isDecimal) denotes exactly the
/// double `v` that strtod made of it: both as (significant digits, decimal
/// exponent) without leading or trailing zeros. glibc prints the exact
/// expansion of a double for any precision (at most 767 significant digits).
bool decimalIsExactly(const std::string &s, double v) {
  auto normalise = [](std::string digits, long exp10) {
    size_t nz = digits.find_first_not_of('0');
    if (nz == std::string::npos)
      return std::make_pair(std::string(), 0L);
    digits.erase(0, nz);
    while (!digits.empty() && digits.back() == '0') {
      digits.pop_back();
      ++exp10;
    }
    return std::make_pair(digits, exp10);
  };
  std::string digits;
  long exp10 = 0;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    ++i;
  bool frac = false;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      frac = true;
      continue;
    }
    digits += s[i];
    if (frac)
      --exp10;
  }
  if (i < s.size()) {
    errno = 0;
    long e = std::strtol(s.c_str() + i + 1, nullptr, 10);
    if (errno || e > 100000 || e < -100000)
      return false; // absurd exponents never denote a finite, non-zero double exactly
    exp10 += e;
  }
  auto written = normalise(digits, exp10);
  // Fast answers without printing v's expansion (which dominated the parse of
  // a big file). Every double is a dyadic rational, and strtod rounds
  // correctly, so a representable decimal is exactly v.
  if (written.first.empty())
    return v == 0;
  if (written.first.size() <= 19 && written.second >= -27 && written.second <= 0) {
    uint64_t m = std::stoull(written.first); // m·10^e, m not a multiple of 10
    uint64_t five = 1;
    for (long k = 0; k < -written.second; ++k)
      five *= 5;
    if (m % five != 0)
      return false; // not dyadic: 5^-e does not divide m
    // m·10^e = q·2^e with q = m / 5^-e: a double if q <= 2^53.
    if (m / five <= (uint64_t(1) << 53))
      return true;
  } else if (written.first.size() <= 19 && written.second < -27) {
    return false; // 5^28 > 10^19 > m: not dyadic
  }
  char buf[900];
  std::snprintf(buf, sizeof buf, "%.800e", std::fabs(v));
  std::string out(buf);
  size_t ePos = out.find('e');
  std::string vd = out.substr(0, 1) + out.substr(2, ePos - 2);
  long vexp = std::strtol(out.c_str() + ePos + 1, nullptr, 10) - static_cast<long>(vd.size() - 1);
  return written == normalise(vd, vexp);
}

/// Whether a op b, computed as r in double, is exact (sums by TwoSum,
/// products and quotients by FMA residuals).
bool sumIsExact(double a, double b, double r) {
  double bv = r - a, av = r - bv;
  return std::isfinite(r) && (a - av) + (b - bv) == 0;
}
bool productIsExact(double a, double b, double r) {
  return std::isfinite(r) && std::fma(a, b, -r) == 0 && (r != 0 || a == 0 || b == 0);
}
bool quotientIsExact(double n, double k, double q) {
  return std::isfinite(q) && std::fma(q, k, -n) == 0 && (q != 0 || n == 0);
}

/// An atom `lin <= 0`, with where it was written.
struct Atom {
  Linear lin;
  int line = 0, col = 0;
};

using Conjunction = std::vector<Atom>;
using Dnf = std::vector<Conjunction>;

size_t atomCount(const Dnf &d) {
  size_t n = 0;
  for (const Conjunction &c : d)
    n += c.size();
  return n;
}

class VnnlibParser {
public:
  VnnlibParser(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {}

  Expected<VnnlibProperty> parse() {
    std::vector<SExpr> commands;
    while (true) {
      skipSpace();
      if (pos_ >= text_.size())
        break;
      auto e = readExpr();
      if (!e)
        return e.takeError();
      commands.push_back(std::move(*e));
    }
    Dnf all = {Conjunction{}};
    for (const SExpr &c : commands) {
      if (!c.isList || c.items.empty() || c.items[0].isList)
        return error(c, "expected a command '(declare-const ...)' or '(assert ...)'");
      const std::string &head = c.items[0].atom;
      if (head == "declare-const") {
        if (auto s = declare(c); !s)
          return s.takeError();
      } else if (head == "assert") {
        if (c.items.size() != 2)
          return error(c, "'assert' takes one formula");
        auto d = toDnf(c.items[1]);
        if (!d)
          return d.takeError();
        if (d->size() == 1) {
          // The common case (one bound per assert): extend in place, since a
          // full product would copy every conjunction once per assert.
          if (atomCount(all) + all.size() * d->front().size() > kMaxAtoms)
            return error(c, fmt::format("the property has more than {} constraints in disjunctive "
                                        "normal form",
                                        kMaxAtoms),
                         ErrorCode::VnnlibLimit);
          for (Conjunction &conj : all)
            conj.insert(conj.end(), d->front().begin(), d->front().end());
          continue;
        }
        auto p = product(all, *d, c);
        if (!p)
          return p.takeError();
        all = std::move(*p);
      } else if (head == "check-sat" || head == "get-model" || head == "set-logic" ||
                 head == "set-info" || head == "exit") {
        continue; // SMT-LIB commands with no meaning for the property
      } else {
        return error(c.items[0], fmt::format("unsupported command '{}'", head),
                     ErrorCode::VnnlibUnsupported);
      }
    }
    return buildProperty(all);
  }

private:
  template <typename... A> Error error(const SExpr &at, std::string msg,
                                       ErrorCode code = ErrorCode::VnnlibSyntax) const {
    Location loc;
    loc.file = file_;
    loc.line = at.line;
    loc.column = at.col;
    return Error(code, std::move(msg), loc);
  }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void skipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ';') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else {
        break;
      }
    }
  }

  Expected<SExpr> readExpr() {
    skipSpace();
    SExpr e;
    e.line = line_;
    e.col = col_;
    if (pos_ >= text_.size())
      return error(e, "unexpected end of file");
    char c = text_[pos_];
    if (c == ')')
      return error(e, "unbalanced ')'");
    if (c == '(') {
      // Deeply nested input must not overflow the stack: readExpr, toDnf and
      // linear recurse once per level.
      if (depth_ >= kMaxDepth)
        return error(e, fmt::format("parentheses nest more than {} deep", kMaxDepth),
                     ErrorCode::VnnlibLimit);
      advance();
      ++depth_;
      e.isList = true;
      while (true) {
        skipSpace();
        if (pos_ >= text_.size()) {
          SExpr at;
          at.line = e.line;
          at.col = e.col;
          return error(at, "'(' is never closed");
        }
        if (text_[pos_] == ')') {
          advance();
          break;
        }
        auto item = readExpr();
        if (!item)
          return item.takeError();
        e.items.push_back(std::move(*item));
      }
      --depth_;
      return e;
    }
    size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
           text_[pos_] != '(' && text_[pos_] != ')' && text_[pos_] != ';')
      advance();
    e.atom = std::string(text_.substr(start, pos_ - start));
    return e;
  }

  /// Index of "X_12" → ('X', 12); anything else → ('\0', -1).
  static std::pair<char, int64_t> varIndex(const std::string &name) {
    if (name.size() < 3 || (name[0] != 'X' && name[0] != 'Y') || name[1] != '_')
      return {'\0', -1};
    int64_t v = 0;
    for (size_t i = 2; i < name.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(name[i])) || v > (1LL << 40))
        return {'\0', -1};
      v = v * 10 + (name[i] - '0');
    }
    return {name[0], v};
  }

  Status declare(const SExpr &c) {
    if (c.items.size() != 3 || c.items[1].isList || c.items[2].isList)
      return error(c, "expected '(declare-const NAME Real)'");
    if (c.items[2].atom != "Real")
      return error(c.items[2], fmt::format("sort '{}' is not supported (only Real)", c.items[2].atom),
                   ErrorCode::VnnlibUnsupported);
    auto [kind, idx] = varIndex(c.items[1].atom);
    if (kind == '\0')
      return error(c.items[1],
                   fmt::format("variable '{}' is not named X_<i> or Y_<i>", c.items[1].atom),
                   ErrorCode::VnnlibUnsupported);
    if (!declared_.insert({c.items[1].atom, true}).second)
      return error(c.items[1], fmt::format("'{}' is declared twice", c.items[1].atom));
    int64_t &n = kind == 'X' ? numX_ : numY_;
    n = std::max(n, idx + 1);
    (kind == 'X' ? countX_ : countY_)++;
    return Status::ok();
  }

  /// SMT-LIB numerals and decimals, with the sign and exponent VNN-COMP files
  /// use: [+-]?digits[.digits]?([eE][+-]?digits)?. strtod alone would also
  /// take "inf", "nan", hex floats, and stop silently at a NUL byte.
  static bool isDecimal(const std::string &s) {
    size_t i = 0, n = s.size();
    auto digits = [&] {
      size_t start = i;
      while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
      return i > start;
    };
    if (i < n && (s[i] == '+' || s[i] == '-'))
      ++i;
    bool intPart = digits();
    bool fracPart = false;
    if (i < n && s[i] == '.') {
      ++i;
      fracPart = digits();
    }
    if (!intPart && !fracPart)
      return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < n && (s[i] == '+' || s[i] == '-'))
        ++i;
      if (!digits())
        return false;
    }
    return i == n;
  }

  Expected<double> number(const SExpr &e) {
    const std::string &s = e.atom;
    if (!isDecimal(s))
      return error(e, fmt::format("'{}' is not a number or a declared variable", s));
    double v = std::strtod(s.c_str(), nullptr);
    // Overflow gives ±HUGE_VAL (infinity); underflow to 0 or a subnormal is
    // harmless for bounds and thresholds.
    if (!std::isfinite(v))
      return error(e, fmt::format("'{}' is outside the range of double", s),
                   ErrorCode::VnnlibNumber);
    return v;
  }

  /// Arithmetic on large numbers can overflow to infinity or produce NaN
  /// (inf - inf, 0 * inf): refuse the term rather than compare with NaN.
  Expected<Linear> finite(Linear r, const SExpr &at) {
    bool ok = std::isfinite(r.constant);
    for (auto &[v, k] : r.coefs)
      ok = ok && std::isfinite(k);
    if (!ok)
      return error(at, "the arithmetic term evaluates to an infinite or NaN coefficient",
                   ErrorCode::VnnlibNumber);
    return r;
  }

  Expected<Linear> linear(const SExpr &e) {
    Linear r;
    if (!e.isList) {
      if (declared_.count(e.atom)) {
        r.coefs[e.atom] = 1;
        return r;
      }
      if (varIndex(e.atom).first != '\0')
        return error(e, fmt::format("'{}' is used but not declared", e.atom));
      auto v = number(e);
      if (!v)
        return v.takeError();
      r.constant = *v;
      r.exact = decimalIsExactly(e.atom, *v);
      return r;
    }
    if (e.items.empty() || e.items[0].isList)
      return error(e, "expected an arithmetic term");
    const std::string &op = e.items[0].atom;
    std::vector<Linear> args;
    for (size_t i = 1; i < e.items.size(); ++i) {
      auto a = linear(e.items[i]);
      if (!a)
        return a.takeError();
      args.push_back(std::move(*a));
    }
    if (args.empty())
      return error(e, fmt::format("'{}' needs operands", op));
    // acc += s·b, keeping track of whether every operation was exact.
    auto addInto = [](Linear &acc, const Linear &b, double s) {
      acc.exact = acc.exact && b.exact;
      auto madd = [&](double &into, double c) {
        double p = s * c, sum = into + p;
        acc.exact = acc.exact && productIsExact(s, c, p) && sumIsExact(into, p, sum);
        into = sum;
      };
      for (auto &[v, c] : b.coefs)
        madd(acc.coefs[v], c);
      madd(acc.constant, b.constant);
    };
    if (op == "+" || op == "-") {
      if (op == "-" && args.size() == 1) {
        addInto(r, args[0], -1);
        return finite(std::move(r), e);
      }
      r = args[0];
      for (size_t i = 1; i < args.size(); ++i)
        addInto(r, args[i], op == "+" ? 1 : -1);
      return finite(std::move(r), e);
    }
    if (op == "*") {
      r = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        const Linear &b = args[i];
        if (!b.coefs.empty() && !r.coefs.empty())
          return error(e, "a product of two variables is not linear", ErrorCode::VnnlibUnsupported);
        const Linear &lin = r.coefs.empty() ? b : r;
        double k = r.coefs.empty() ? r.constant : b.constant;
        bool kExact = r.coefs.empty() ? r.exact : b.exact;
        Linear p;
        p.exact = kExact;
        addInto(p, lin, k);
        r = std::move(p);
      }
      return finite(std::move(r), e);
    }
    return error(e.items[0], fmt::format("unsupported arithmetic operator '{}'", op),
                 ErrorCode::VnnlibUnsupported);
  }

  Error tooLarge(const SExpr &at) const {
    return error(at,
                 fmt::format("the property has more than {} disjuncts or {} constraints in "
                             "disjunctive normal form",
                             kMaxDisjuncts, kMaxAtoms),
                 ErrorCode::VnnlibLimit);
  }

  Expected<Dnf> product(const Dnf &a, const Dnf &b, const SExpr &at) {
    // Sizes are checked before anything is allocated; both factors are
    // within the limits, so these products cannot overflow size_t.
    if (a.size() * b.size() > kMaxDisjuncts ||
        a.size() * atomCount(b) + b.size() * atomCount(a) > kMaxAtoms)
      return tooLarge(at);
    Dnf r;
    r.reserve(a.size() * b.size());
    for (const Conjunction &x : a)
      for (const Conjunction &y : b) {
        Conjunction c = x;
        c.insert(c.end(), y.begin(), y.end());
        r.push_back(std::move(c));
      }
    return r;
  }

  Expected<Dnf> toDnf(const SExpr &f) {
    if (!f.isList || f.items.empty() || f.items[0].isList)
      return error(f, "expected a formula such as (<= X_0 1)");
    const std::string &op = f.items[0].atom;
    if (op == "and" || op == "or") {
      Dnf r = op == "and" ? Dnf{Conjunction{}} : Dnf{};
      size_t atoms = 0; // atomCount(r) of an `or`, kept as it grows (linear)
      for (size_t i = 1; i < f.items.size(); ++i) {
        auto d = toDnf(f.items[i]);
        if (!d)
          return d.takeError();
        if (op == "or") {
          size_t more = atomCount(*d);
          if (r.size() + d->size() > kMaxDisjuncts || atoms + more > kMaxAtoms)
            return tooLarge(f);
          atoms += more;
          r.insert(r.end(), d->begin(), d->end());
        } else {
          auto p = product(r, *d, f);
          if (!p)
            return p.takeError();
          r = std::move(*p);
        }
      }
      return r;
    }
    if (op == "<=" || op == ">=") {
      if (f.items.size() < 3)
        return error(f, fmt::format("'{}' needs two operands", op));
      // Chains (<= a b c) mean a <= b and b <= c.
      Conjunction c;
      for (size_t i = 1; i + 1 < f.items.size(); ++i) {
        auto a = linear(f.items[i]);
        if (!a)
          return a.takeError();
        auto b = linear(f.items[i + 1]);
        if (!b)
          return b.takeError();
        Atom atom;
        atom.line = f.line;
        atom.col = f.col;
        // a <= b  ⇔  a - b <= 0;  a >= b  ⇔  b - a <= 0.
        const Linear &lhs = op == "<=" ? *a : *b;
        const Linear &rhs = op == "<=" ? *b : *a;
        atom.lin = lhs;
        atom.lin.exact = lhs.exact && rhs.exact;
        auto minus = [&](double &into, double k) {
          double r = into - k;
          atom.lin.exact = atom.lin.exact && sumIsExact(into, -k, r);
          into = r;
        };
        for (auto &[v, k] : rhs.coefs)
          minus(atom.lin.coefs[v], k);
        minus(atom.lin.constant, rhs.constant);
        auto checked = finite(std::move(atom.lin), f);
        if (!checked)
          return checked.takeError();
        atom.lin = std::move(*checked);
        c.push_back(std::move(atom));
      }
      return Dnf{c};
    }
    if (op == "<" || op == ">" || op == "=" || op == "not" || op == "=>")
      return error(f.items[0], fmt::format("'{}' is not in the VNN-COMP subset of VNN-LIB", op),
                   ErrorCode::VnnlibUnsupported);
    return error(f.items[0], fmt::format("unknown operator '{}'", op));
  }

  Expected<VnnlibProperty> buildProperty(const Dnf &all) {
    SExpr fileStart;
    fileStart.line = 1;
    fileStart.col = 1;
    if (numX_ == 0 || countX_ != numX_)
      return error(fileStart, fmt::format("inputs must be declared as X_0 .. X_{} without gaps",
                                          std::max<int64_t>(numX_ - 1, 0)),
                   ErrorCode::VnnlibDimension);
    if (numY_ == 0 || countY_ != numY_)
      return error(fileStart, fmt::format("outputs must be declared as Y_0 .. Y_{} without gaps",
                                          std::max<int64_t>(numY_ - 1, 0)),
                   ErrorCode::VnnlibDimension);
    VnnlibProperty prop;
    prop.numInputs = numX_;
    prop.numOutputs = numY_;
    uint64_t cells = 0;
    auto budget = [&](uint64_t n, const Atom *a) -> std::optional<Error> {
      cells += n;
      if (cells <= kMaxPropertyCells)
        return std::nullopt;
      SExpr at;
      at.line = a ? a->line : 1;
      at.col = a ? a->col : 1;
      return error(at,
                   fmt::format("the property's input boxes and output rows need more than {} "
                               "numbers",
                               kMaxPropertyCells),
                   ErrorCode::VnnlibLimit);
    };
    // The first empty box seen, for the error if no box is left.
    std::optional<std::pair<SExpr, std::string>> emptyBox;
    std::map<std::pair<std::vector<double>, std::vector<double>>, size_t> caseOf;
    const double inf = std::numeric_limits<double>::infinity();
    for (const Conjunction &conj : all) {
      std::vector<double> lo(numX_, -inf), hi(numX_, inf);
      // A bound is exact if every atom that gives its value is.
      std::vector<bool> loExact(numX_, true), hiExact(numX_, true);
      OutputConjunction out;
      for (const Atom &a : conj) {
        bool hasX = false, hasY = false;
        for (auto &[v, k] : a.lin.coefs) {
          if (k == 0)
            continue;
          (v[0] == 'X' ? hasX : hasY) = true;
        }
        SExpr at;
        at.line = a.line;
        at.col = a.col;
        if (hasX && hasY)
          return error(at, "a constraint mixing inputs and outputs is not supported",
                       ErrorCode::VnnlibUnsupported);
        if (hasX) {
          int nonzero = 0;
          std::string var;
          double k = 0;
          for (auto &[v, c] : a.lin.coefs)
            if (c != 0) {
              ++nonzero;
              var = v;
              k = c;
            }
          if (nonzero != 1)
            return error(at, "only bounds on single inputs are supported (X_i <= c)",
                         ErrorCode::VnnlibUnsupported);
          // k·x + c <= 0  ⇔  x <= -c/k (k > 0) or x >= -c/k (k < 0).
          int64_t i = varIndex(var).second;
          double bound = -a.lin.constant / k;
          bool exact = a.lin.exact && quotientIsExact(-a.lin.constant, k, bound);
          auto tighten = [&](std::vector<double> &side, std::vector<bool> &sideExact, bool upper) {
            if (side[i] == bound) {
              sideExact[i] = sideExact[i] && exact;
            } else if (upper ? bound < side[i] : bound > side[i]) {
              side[i] = bound;
              sideExact[i] = exact;
            }
          };
          if (k > 0)
            tighten(hi, hiExact, true);
          else
            tighten(lo, loExact, false);
        } else if (hasY) {
          if (auto e = budget(static_cast<uint64_t>(numY_), &a))
            return *e;
          std::vector<double> row(numY_, 0.0);
          for (auto &[v, c] : a.lin.coefs)
            row[varIndex(v).second] += c;
          out.C.push_back(std::move(row));
          out.d.push_back(-a.lin.constant);
          out.exact.push_back(a.lin.exact);
        } else if (a.lin.constant > 0) {
          // A constant constraint that is false: this disjunct is empty.
          goto nextConjunction;
        }
      }
      for (int64_t i = 0; i < numX_; ++i) {
        if (std::isinf(lo[i]) || std::isinf(hi[i])) {
          SExpr at;
          at.line = conj.empty() ? 1 : conj.front().line;
          at.col = conj.empty() ? 1 : conj.front().col;
          return error(at, fmt::format("input X_{} has no {} bound", i,
                                       std::isinf(lo[i]) ? "lower" : "upper"),
                       ErrorCode::VnnlibUnbounded);
        }
        if (lo[i] > hi[i]) {
          // An empty box: nothing to check here. One disjunct of a union may
          // be empty; if all are, the property is an error (below).
          if (!emptyBox) {
            SExpr at;
            at.line = conj.empty() ? 1 : conj.front().line;
            at.col = conj.empty() ? 1 : conj.front().col;
            emptyBox.emplace(at, fmt::format("X_{} has lower bound {} above its upper bound {}",
                                             i, lo[i], hi[i]));
          }
          goto nextConjunction;
        }
      }
      {
        auto key = std::make_pair(lo, hi);
        auto it = caseOf.find(key);
        if (it == caseOf.end()) {
          if (auto e = budget(2 * static_cast<uint64_t>(numX_), conj.empty() ? nullptr
                                                                             : &conj.front()))
            return *e;
          it = caseOf.emplace(key, prop.cases.size()).first;
          prop.cases.push_back(PropertyCase{lo, hi, loExact, hiExact, {}});
        } else {
          PropertyCase &pc = prop.cases[it->second];
          for (int64_t i = 0; i < numX_; ++i) {
            pc.loExact[i] = pc.loExact[i] && loExact[i];
            pc.hiExact[i] = pc.hiExact[i] && hiExact[i];
          }
        }
        prop.cases[it->second].disjuncts.push_back(std::move(out));
      }
    nextConjunction:;
    }
    if (prop.cases.empty()) {
      // Every disjunct is empty: its input box is (or a constant constraint
      // is false). Nothing would be checked, so a verdict would be vacuous.
      if (emptyBox)
        return error(emptyBox->first,
                     fmt::format("the property's input region is empty: {}", emptyBox->second),
                     ErrorCode::VnnlibEmptyRegion);
      SExpr fileStart;
      fileStart.line = 1;
      fileStart.col = 1;
      return error(fileStart,
                   "the property's input region is empty: every disjunct contains a constant "
                   "constraint that is false",
                   ErrorCode::VnnlibEmptyRegion);
    }
    return prop;
  }

  std::string_view text_;
  std::string file_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int64_t depth_ = 0;
  int64_t numX_ = 0, numY_ = 0, countX_ = 0, countY_ = 0;
  std::map<std::string, bool> declared_;
};

} // namespace

Expected<VnnlibProperty> parseVnnlib(std::string_view text, const std::string &fileName) {
  try {
    return VnnlibParser(text, fileName).parse();
  } catch (const std::bad_alloc &) {
    // The limits above keep the parser's memory to a few hundred MB; this is
    // for a machine that has less.
    Location loc;
    loc.file = fileName;
    return Error(ErrorCode::VnnlibLimit, "out of memory while reading the property", loc);
  }
}

Expected<VnnlibProperty> parseVnnlibFile(const std::string &path) {
  auto file = mapInputFile(path, kMaxFileBytes, ErrorCode::VnnlibLimit, "VNN-LIB file");
  if (!file)
    return file.takeError();
  return parseVnnlib((*file)->bytes(), path);
}

} // namespace gma::frontend
