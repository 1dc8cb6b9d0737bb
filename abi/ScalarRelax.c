/*===- abi/ScalarRelax.c - Linear bounds of scalar functions, shared ----===*
 *
 * See the header. Plain C with libm only: this object is linked into gamma
 * and into every library gammac writes, so it must not need the C++ runtime.
 * Compiled with -ffp-contract=off (every product and sum separately rounded,
 * the assumption of docs/soundness.md) and without sanitizers. Symbols are
 * hidden: each verifier library keeps its own copy.
 *
 *===----------------------------------------------------------------------===*/
#include "abi/ScalarRelax.h"

#include <math.h>

#define GAMMA_HIDDEN __attribute__((visibility("hidden")))

enum shape { CONVEX, CONCAVE, S_SHAPED };

struct scalar_fn {
  double (*f)(double);
  double (*df)(double);
  enum shape shape;
  double inflection; /* S_SHAPED: convex on (-inf, c], concave on [c, inf) */
  double range_lo, range_hi;
};

static double sigmoid_f(double x) { return 1.0 / (1.0 + exp(-x)); }
static double sigmoid_df(double x) {
  double s = sigmoid_f(x);
  return s * (1.0 - s);
}
/* ln(1 + e^x) without overflow: x + ln(1 + e^-x) for x > 0. */
static double softplus_f(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double tanh_f(double x) { return tanh(x); }
static double tanh_df(double x) {
  double t = tanh(x);
  return 1.0 - t * t;
}
static double exp_f(double x) { return exp(x); }

/* Every row is increasing (the flat lines and the bracket fallbacks use it). */
static const struct scalar_fn kFns[GAMMA_SCALAR_FN_COUNT] = {
    [GAMMA_SCALAR_SIGMOID] = {sigmoid_f, sigmoid_df, S_SHAPED, 0.0, 0.0, 1.0},
    [GAMMA_SCALAR_SOFTPLUS] = {softplus_f, sigmoid_f, CONVEX, 0.0, 0.0, INFINITY},
    [GAMMA_SCALAR_TANH] = {tanh_f, tanh_df, S_SHAPED, 0.0, -1.0, 1.0},
    [GAMMA_SCALAR_EXP] = {exp_f, exp_f, CONVEX, 0.0, 0.0, INFINITY},
};

GAMMA_HIDDEN double gamma_scalar_value(int fn, double x) { return kFns[fn].f(x); }
GAMMA_HIDDEN double gamma_scalar_slope(int fn, double x) { return kFns[fn].df(x); }
GAMMA_HIDDEN void gamma_scalar_range(int fn, double out[2]) {
  out[0] = kFns[fn].range_lo;
  out[1] = kFns[fn].range_hi;
}

/* f(d) + f'(d)(x - d) - f(x), f(x) given: the tangent at d minus f at x. */
static double tangent_gap(const struct scalar_fn *r, double d, double x, double fx) {
  return r->f(d) + r->df(d) * (x - d) - fx;
}

/* S-shaped, u > c: the d <= c nearest c whose tangent lies below f at u (so
 * below f on all of (-inf, u]); sets *ok = 0 if the bracket finds none. */
static double lower_tangent_point(const struct scalar_fn *r, double u, int *ok) {
  const double c = r->inflection, fu = r->f(u);
  double lo = c - 1.0;
  for (int i = 0; i < GAMMA_SCALAR_BRACKET_STEPS; ++i)
    lo = tangent_gap(r, lo, u, fu) > 0 ? c + 2.0 * (lo - c) : lo;
  *ok = tangent_gap(r, lo, u, fu) <= 0;
  double hi = c; /* the tangent at c lies above f at u > c */
  for (int i = 0; i < GAMMA_SCALAR_BISECT_STEPS; ++i) {
    double mid = 0.5 * (lo + hi);
    int below = tangent_gap(r, mid, u, fu) <= 0;
    lo = below ? mid : lo;
    hi = below ? hi : mid;
  }
  return lo;
}

/* S-shaped, l < c: the d >= c nearest c whose tangent lies above f at l. */
static double upper_tangent_point(const struct scalar_fn *r, double l, int *ok) {
  const double c = r->inflection, fl = r->f(l);
  double hi = c + 1.0;
  for (int i = 0; i < GAMMA_SCALAR_BRACKET_STEPS; ++i)
    hi = tangent_gap(r, hi, l, fl) < 0 ? c + 2.0 * (hi - c) : hi;
  *ok = tangent_gap(r, hi, l, fl) >= 0;
  double lo = c;
  for (int i = 0; i < GAMMA_SCALAR_BISECT_STEPS; ++i) {
    double mid = 0.5 * (lo + hi);
    int above = tangent_gap(r, mid, l, fl) >= 0;
    hi = above ? mid : hi;
    lo = above ? lo : mid;
  }
  return hi;
}

struct line {
  double a, b, d, fd; /* slope, intercept; tangent point and f there (0, 0: none) */
};

static struct line tangent_at(const struct scalar_fn *r, double d) {
  struct line t;
  t.fd = r->f(d);
  t.a = r->df(d);
  t.b = t.fd - t.a * d;
  t.d = d;
  return t;
}

GAMMA_HIDDEN void gamma_scalar_relax(int fn, double l, double u, double margin, double out[4]) {
  const struct scalar_fn *r = &kFns[fn];
  out[0] = 0.0;
  out[1] = r->range_lo;
  out[2] = 0.0;
  out[3] = r->range_hi;
  if (!(isfinite(l) && isfinite(u) && l <= u))
    return;
  const double m = 1.0 + fmax(fabs(l), fabs(u));
  const double fl = r->f(l), fu = r->f(u);
  if (!(isfinite(fl) && isfinite(fu))) /* e^x overflows from x > 709.78 */
    return;
  const double e = GAMMA_SCALAR_MARGIN * margin;
  if (u - l < GAMMA_SCALAR_FLAT_WIDTH * m) {
    /* A point, or nearly: every row is increasing, f(l) <= f(x) <= f(u). */
    out[1] = fl - e * (m + fabs(fl) + fabs(fu));
    out[3] = fu + e * (m + fabs(fl) + fabs(fu));
    return;
  }
  const double k = (fu - fl) / (u - l);
  const struct line chord = {k, fl - k * l, 0.0, 0.0};
  const double c = r->inflection, mid = 0.5 * (l + u);
  struct line lower = chord, upper = chord;
  if (r->shape == CONVEX || (r->shape == S_SHAPED && u <= c)) {
    lower = tangent_at(r, mid);
  } else if (r->shape == CONCAVE || (r->shape == S_SHAPED && l >= c)) {
    upper = tangent_at(r, mid);
  } else {
    int ok = 1;
    if (!(k < r->df(l))) {
      double d = lower_tangent_point(r, u, &ok);
      lower = tangent_at(r, d);
      if (!ok) /* increasing: f(l) is a lower bound */
        lower = (struct line){0.0, fl, 0.0, 0.0};
    }
    if (!(k < r->df(u))) {
      double d = upper_tangent_point(r, l, &ok);
      upper = tangent_at(r, d);
      if (!ok)
        upper = (struct line){0.0, fu, 0.0, 0.0};
    }
  }
  const double sl = (1.0 + fabs(lower.a)) * (m + fabs(lower.d)) + fabs(fl) + fabs(fu) + fabs(lower.fd);
  const double su = (1.0 + fabs(upper.a)) * (m + fabs(upper.d)) + fabs(fl) + fabs(fu) + fabs(upper.fd);
  out[0] = lower.a;
  out[1] = lower.b - e * sl;
  out[2] = upper.a;
  out[3] = upper.b + e * su;
}
