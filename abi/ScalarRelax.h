/*===- abi/ScalarRelax.h - Linear bounds of scalar functions, shared ----===*
 *
 * One implementation of CROWN's relaxation of a scalar function f on an
 * interval [l, u], used by the reference CROWN of the IR (ir/ops) and called
 * by the emitted crown kernels: abi/ScalarRelax.c is compiled once into an
 * object (cmake: gamma_scalar_relax) that gamma's libraries link and that
 * codegen embeds and links into every JIT session and every gammac library.
 * The kernels and their oracle run the same machine code.
 *
 * The functions are rows of a table (ScalarRelax.c): f, f', a shape class
 * (convex, concave, or S-shaped: convex left of an inflection point c and
 * concave right of it), the range of f, and whether f is increasing. One
 * generic builder turns a row into lines (Zhang et al., NeurIPS 2018, "CROWN",
 * Sec. 3.3; the case choice of auto_LiRPA's BoundSigmoid, generalised):
 *
 *   convex on [l, u]:   lower = tangent at the midpoint, upper = chord;
 *   concave on [l, u]:  lower = chord, upper = tangent at the midpoint;
 *   S-shaped, l < c < u: lower = chord if its slope is below f'(l), else the
 *                        tangent at the d <= c nearest c whose tangent passes
 *                        below f at u (bisection); upper = chord if its slope
 *                        is below f'(u), else the tangent at the d >= c
 *                        nearest c whose tangent passes above f at l.
 *
 * Rounding (docs/soundness.md, "Scalar relaxations"): f and f' are evaluated
 * in double with libm (a few ulps), a bisection step may accept a point whose
 * exact test is a few ulps wrong, and a computed slope differs from the exact
 * one by a few ulps. Each line's intercept is moved outward by
 * 2^-40 * margin * M, M = (1 + |a|)(1 + max(|l|, |u|) + |d|) + |f(l)| + |f(u)| + |f(d)|
 * (a the line's slope, d its tangent point or 0), more than 1000 times the
 * sum of those errors at any x in [l, u]. Infinite or NaN bounds, l > u, or
 * an f(l) or f(u) that overflows give the flat lines of f's range.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GAMMA_ABI_SCALAR_RELAX_H
#define GAMMA_ABI_SCALAR_RELAX_H

#ifdef __cplusplus
extern "C" {
#endif

/* Rows of the table. Append only: the kernels pass these numbers. */
enum gamma_scalar_fn {
  GAMMA_SCALAR_SIGMOID = 0,  /* 1 / (1 + e^-x): S-shaped at 0, range (0, 1) */
  GAMMA_SCALAR_SOFTPLUS = 1, /* ln(1 + e^x): convex, range (0, inf) */
  GAMMA_SCALAR_TANH = 2,     /* tanh x: S-shaped at 0, range (-1, 1) */
  GAMMA_SCALAR_EXP = 3,      /* e^x: convex, range (0, inf) */
  GAMMA_SCALAR_FN_COUNT
};

/* Bisection steps and bracket doublings of the tangent-point searches. */
#define GAMMA_SCALAR_BISECT_STEPS 60
#define GAMMA_SCALAR_BRACKET_STEPS 12
/* Relative width below which [l, u] is treated as a point (flat lines). */
#define GAMMA_SCALAR_FLAT_WIDTH 0x1p-30
/* The outward margin of every intercept, per unit of M (see above). */
#define GAMMA_SCALAR_MARGIN 0x1p-40

/* f(x) and f'(x) in double. fn must be a row of the table. */
double gamma_scalar_value(int fn, double x);
double gamma_scalar_slope(int fn, double x);
/* The range of f: out = {inf f, sup f} (neither attained, f increasing). */
void gamma_scalar_range(int fn, double out[2]);

/* Sound lines of f on [l, u]: out = {lower slope, lower intercept, upper
 * slope, upper intercept}, with lower(x) <= f(x) <= upper(x) for every real
 * x in [l, u]. `margin` multiplies every outward margin: 1, or 0 for the
 * soundness suite's mutation check only. An unbounded range gives an
 * infinite intercept (the CROWN rules then give an infinite bound). */
void gamma_scalar_relax(int fn, double l, double u, double margin, double out[4]);

#ifdef __cplusplus
}
#endif

#endif /* GAMMA_ABI_SCALAR_RELAX_H */
