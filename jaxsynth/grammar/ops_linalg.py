"""Dense linear algebra on well-conditioned matrices built by construction.

Every factorization or solve takes a sampled matrix ``a`` and works on ``S = a @ a.T + c * I`` (or
``a.T @ a + c * I``) with ``c >= 1``, which the rendering builds itself. ``S`` is symmetric positive
definite with eigenvalues in ``[c, c + ||a||_F**2]``, so ``||inv(S)|| <= 1/c`` and every interval rule
below follows from norm bounds; an ``a`` whose interval allows a condition number above ``COND_CAP``
is rejected (float32 results would carry too little accuracy to compare).

Outputs that are unique only up to sign or rotation are used in a form that is unique:
``|Q|`` and ``|R|`` of a QR factorization (the factors of a full-rank matrix are unique up to the
signs of Q's columns and R's rows), the matrix function ``V f(w) V^T`` built from ``eigh`` (unique even
for repeated eigenvalues) and ``U diag(s) V^T`` rebuilt from the SVD (unique for any ``a``; another
``f(s)`` would have to vanish at 0 and stay Lipschitz, or the rounding of tiny singular values would
dominate). Eigenvalues and singular values are used as they are.

An operand that is not a plain name is bound once with an assignment expression,
``(gram := <expr>) @ gram.T``, so it is computed once (Python evaluates left to right, so nested
bindings of the same name stay correct).
"""

from __future__ import annotations

import math

import libcst as cst
import numpy as np

from jaxsynth.grammar.opspec import (
    Context,
    Operand,
    OpSpec,
    Proposal,
    attribute,
    binop,
    call,
    literal,
    paren,
    subscript,
)
from jaxsynth.grammar.types import DType, Interval, TensorType

LINALG_FLOATS = frozenset({DType.float32, DType.float64})
#: Largest allowed bound on cond(S) = lambda_max / c.
COND_CAP = 1000.0
SHIFTS = (1.0, 2.0, 4.0)
#: Relative slack added to every bound (rounding inside a factorization is not one op's rounding).
SLACK = 1e-3


def _loose(lo: float, hi: float) -> Interval:
    pad = SLACK * max(abs(lo), abs(hi), 1.0)
    return Interval(lo - pad, hi + pad)


def _symmetric(bound: float) -> Interval:
    return _loose(-bound, bound)


def _bind(expr: cst.BaseExpression, name: str) -> tuple[cst.BaseExpression, cst.BaseExpression]:
    """``expr`` for its first use and a name for the later ones (an assignment expression unless it is a name)."""
    if isinstance(expr, cst.Name):
        return expr, expr
    return paren(cst.NamedExpr(target=cst.Name(name), value=expr)), cst.Name(name)


# ---------------------------------------------------------------- S = a a^T + c I


def _propose_gram(ctx: Context, n: int, dtype: DType) -> tuple[Operand, dict]:
    m = ctx.pick_dim()
    gram = ctx.draw.choice(("outer", "inner"))
    shape = (n, m) if gram == "outer" else (m, n)
    return Operand(TensorType(dtype, shape)), {"n": n, "m": m, "gram": gram, "c": ctx.draw.choice(SHIFTS)}


def _gram_bounds(a: Interval, params) -> tuple[float, float] | None:
    """(largest diagonal entry, largest eigenvalue) bounds of S, or None above the condition cap."""
    square = a.mag**2
    diagonal = params["c"] + params["m"] * square
    top = params["c"] + params["n"] * params["m"] * square
    return (diagonal, top) if top <= COND_CAP * params["c"] else None


def gram_reference(a: np.ndarray, params) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    product = a @ a.T if params["gram"] == "outer" else a.T @ a
    return product + params["c"] * np.eye(params["n"])


def gram_render(a: cst.BaseExpression, params) -> cst.BaseExpression:
    first, again = _bind(a, "gram")
    if params["gram"] == "outer":
        product = binop(first, cst.MatrixMultiply, attribute(again, "T"))
    else:
        product = binop(attribute(first, "T"), cst.MatrixMultiply, again)
    eye = call("jnp.eye", literal(params["n"]), dtype=attribute(again, "dtype"))
    return binop(product, cst.Add, binop(literal(params["c"]), cst.Multiply, eye))


def _check_gram(a: TensorType, params) -> None:
    n, m = params["n"], params["m"]
    if a.dtype not in LINALG_FLOATS or a.shape != ((n, m) if params["gram"] == "outer" else (m, n)):
        raise TypeError(f"{a} is not the {params['gram']} Gram operand of an {n}x{n} matrix")


def _propose_square(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in LINALG_FLOATS or t.rank != 2 or t.shape[0] != t.shape[1]:
        return None
    operand, params = _propose_gram(ctx, t.shape[0], t.dtype)
    params["part"] = ctx.draw.randint(0, 1)
    params["fn"] = ctx.draw.choice(("sqrt", "log"))
    return Proposal((operand,), params)


def _square_type(types, params):
    _check_gram(types[0], params)
    return types[0].with_shape((params["n"], params["n"]))


# ---------------------------------------------------------------- cholesky, inv, eigh, qr


def _cholesky_range(ins, types, out, params):
    bounds = _gram_bounds(ins[0], params)
    return None if bounds is None else _symmetric(math.sqrt(bounds[0]))


def _inv_range(ins, types, out, params):
    return None if _gram_bounds(ins[0], params) is None else _symmetric(1.0 / params["c"])


_FNS = {"sqrt": (np.sqrt, "jnp.sqrt"), "log": (np.log, "jnp.log")}


def _eigh_fn_range(ins, types, out, params):
    bounds = _gram_bounds(ins[0], params)
    return None if bounds is None else _symmetric(float(_FNS[params["fn"]][0](bounds[1])))


def _eigh_fn_reference(args, params):
    w, v = np.linalg.eigh(gram_reference(args[0], params))
    return (v * _FNS[params["fn"]][0](w)) @ v.T


def _eigh_fn_render(args, params):
    first, again = _bind(call("jnp.linalg.eigh", gram_render(args[0], params)), "eig")
    scaled = binop(subscript(first, 1), cst.Multiply, call(_FNS[params["fn"]][1], subscript(again, 0)))
    return binop(scaled, cst.MatrixMultiply, attribute(subscript(again, 1), "T"))


def _qr_range(ins, types, out, params):
    bounds = _gram_bounds(ins[0], params)
    if bounds is None:
        return None
    return _loose(0.0, 1.0) if params["part"] == 0 else _loose(0.0, math.sqrt(params["n"]) * bounds[0])


def _qr_reference(args, params):
    return np.abs(np.linalg.qr(gram_reference(args[0], params))[params["part"]])


def _qr_render(args, params):
    return call("jnp.abs", subscript(call("jnp.linalg.qr", gram_render(args[0], params)), params["part"]))


# ---------------------------------------------------------------- eigenvalues, slogdet


def _propose_eigvals(t, ctx):
    if t.dtype not in LINALG_FLOATS or t.rank != 1:
        return None
    operand, params = _propose_gram(ctx, t.shape[0], t.dtype)
    params["style"] = ctx.draw.choice(("eigh", "eigvalsh"))
    return Proposal((operand,), params)


def _eigvals_range(ins, types, out, params):
    bounds = _gram_bounds(ins[0], params)
    return None if bounds is None else _loose(params["c"], bounds[1])


def _eigvals_render(args, params):
    s = gram_render(args[0], params)
    return call("jnp.linalg.eigvalsh", s) if params["style"] == "eigvalsh" else subscript(call("jnp.linalg.eigh", s), 0)


def _cond_range(ins, types, out, params):
    """The 2-norm condition number of S, its largest eigenvalue over its smallest: at least 1, at most top / c."""
    bounds = _gram_bounds(ins[0], params)
    return None if bounds is None else _loose(1.0, bounds[1] / params["c"])


def _gram_scalar_type(types, params):
    _check_gram(types[0], params)
    return types[0].with_shape(())


def _propose_slogdet(t, ctx):
    if t.dtype not in LINALG_FLOATS or t.rank != 0:
        return None
    operand, params = _propose_gram(ctx, ctx.pick_dim(), t.dtype)
    return Proposal((operand,), params)


def _slogdet_range(ins, types, out, params):
    bounds = _gram_bounds(ins[0], params)
    if bounds is None:
        return None
    n = params["n"]
    return _loose(n * math.log(params["c"]), n * math.log(bounds[0]))  # Hadamard: det S <= prod S_ii


def _slogdet_reference(args, params):
    return np.linalg.slogdet(gram_reference(args[0], params))[1]


def _det_range(ins, types, out, params):
    logdet = _slogdet_range(ins, types, out, params)
    if logdet is None or logdet.hi > 700.0:
        return None
    return _loose(math.exp(logdet.lo), math.exp(logdet.hi))


def _det_error(args, params, value) -> np.ndarray:
    """The log-determinant's absolute error is the determinant's relative one."""
    return np.abs(value) * _logdet_error(args, params, value)


# ---------------------------------------------------------------- solves


def _propose_solve(t, ctx):
    if t.dtype not in LINALG_FLOATS or t.rank not in (1, 2):
        return None
    operand, params = _propose_gram(ctx, t.shape[0], t.dtype)
    params["lower"] = ctx.draw.bernoulli(0.7)
    params["trans"] = ctx.draw.choice((0, 0, 1))
    return Proposal((operand, Operand(t)), params)


def _solve_type(types, params):
    a, b = types
    _check_gram(a, params)
    if b.dtype is not a.dtype or b.rank not in (1, 2) or b.shape[0] != params["n"]:
        raise TypeError(f"solve: right-hand side {b} does not match an {params['n']}x{params['n']} matrix")
    return b


def _solve_range(root: bool):
    """|x_i| <= ||x||_2 <= ||inv(S)|| ||b||_2 with ||inv(S)|| <= 1/c (and ||inv(L)|| <= 1/sqrt(c) for the
    Cholesky factor L of S)."""

    def rule(ins, types, out, params):
        if _gram_bounds(ins[0], params) is None:
            return None
        norm_b = math.sqrt(params["n"]) * ins[1].mag
        return _symmetric(norm_b / (math.sqrt(params["c"]) if root else params["c"]))

    return rule


def _solve_reference(args, params):
    return np.linalg.solve(gram_reference(args[0], params), np.asarray(args[1], dtype=np.float64))


def _triangular(params, factor: np.ndarray) -> np.ndarray:
    m = factor if params["lower"] else factor.T
    return m.T if params["trans"] else m


def _solve_triangular_reference(args, params):
    factor = np.linalg.cholesky(gram_reference(args[0], params))
    return np.linalg.solve(_triangular(params, factor), np.asarray(args[1], dtype=np.float64))


def _solve_triangular_render(args, params):
    factor = call("jnp.linalg.cholesky", gram_render(args[0], params))
    if not params["lower"]:
        factor = attribute(factor, "T")
    kwargs = {"lower": params["lower"]}
    if params["trans"]:
        kwargs["trans"] = params["trans"]
    return call("jax.scipy.linalg.solve_triangular", factor, args[1], **kwargs)


def _lu_solve_render(args, params):
    factors = call("jax.scipy.linalg.lu_factor", gram_render(args[0], params))
    return call("jax.scipy.linalg.lu_solve", factors, args[1])


def _propose_cho_solve(t, ctx):
    """``cho_solve(cho_factor(S, lower=...), b)``: the solve of Gaussian processes and Newton steps, S's Cholesky
    factor reused (``lower`` picks the triangle; no transposed form)."""
    proposal = _propose_solve(t, ctx)
    if proposal is not None:
        del proposal.params["trans"]
    return proposal


def _cho_solve_render(args, params):
    kwargs = {"lower": True} if params["lower"] else {}
    factors = call("jax.scipy.linalg.cho_factor", gram_render(args[0], params), **kwargs)
    return call("jax.scipy.linalg.cho_solve", factors, args[1])


# ---------------------------------------------------------------- multivariate normal log density


def _propose_mvn(t, ctx):
    """``jax.scipy.stats.multivariate_normal.logpdf(x, mean, S)``: the Gaussian log likelihood of a batch of
    points ``x`` (``t.shape + (n,)``) under a mean and a covariance ``S``, in Gaussian processes, VAEs and Kalman
    filters; JAX takes S's Cholesky factor and a triangular solve."""
    if t.dtype not in LINALG_FLOATS or t.rank > 1:
        return None
    operand, params = _propose_gram(ctx, ctx.pick_dim(), t.dtype)
    n = params["n"]
    return Proposal((Operand(t.with_shape(t.shape + (n,))), Operand(t.with_shape((n,))), operand), params)


def _mvn_type(types, params):
    x, mean, a = types
    _check_gram(a, params)
    n = params["n"]
    if x.dtype is not a.dtype or mean.dtype is not a.dtype or x.rank < 1 or x.shape[-1] != n or mean.shape != (n,):
        raise TypeError(f"multivariate_normal.logpdf: points {x} and mean {mean} do not match an {n}x{n} covariance")
    return x.with_shape(x.shape[:-1])


def _mvn_range(ins, types, out, params):
    """``-(n log 2 pi + log det S + d^T inv(S) d) / 2`` with ``n log c <= log det S <= n log(max S_ii)`` (Hadamard)
    and ``0 <= d^T inv(S) d <= ||d||^2 / c``."""
    bounds = _gram_bounds(ins[2], params)
    if bounds is None:
        return None
    x, mean = ins[0], ins[1]
    n, c = params["n"], params["c"]
    d = max(abs(x.hi - mean.lo), abs(x.lo - mean.hi))
    base = n * math.log(2.0 * math.pi)
    return _loose(-0.5 * (base + n * math.log(bounds[0]) + n * d * d / c), -0.5 * (base + n * math.log(c)))


def _mvn_reference(args, params):
    s = gram_reference(args[2], params)
    factor = np.linalg.cholesky(s)
    d = np.asarray(args[0], dtype=np.float64) - np.asarray(args[1], dtype=np.float64)
    z = np.linalg.solve(factor, d.reshape(-1, params["n"]).T)
    maha = np.sum(z * z, axis=0).reshape(d.shape[:-1])
    logdet = 2.0 * np.sum(np.log(np.diag(factor)))
    return -0.5 * (params["n"] * math.log(2.0 * math.pi) + logdet + maha)


def _mvn_error(args, params, value):
    """A Cholesky factorization and a triangular solve of S (its Gram operand last): ``_conditioned``."""
    return _conditioned(args[2:], params, value)


def _mvn_render(args, params):
    return call("jax.scipy.stats.multivariate_normal.logpdf", args[0], args[1], gram_render(args[2], params))


# ---------------------------------------------------------------- tridiagonal solve

#: Shifts added to a tridiagonal system's diagonal, the interval its three vectors are asked for, and the least
#: diagonal dominance the shift must leave: each row's diagonal exceeds its two neighbours' magnitudes by at least
#: this much, so ``||inv(A)||_inf <= 1 / margin``.
TRIDIAGONAL_SHIFTS = (4.0, 4.0, 8.0)
TRIDIAGONAL_NEED = Interval(-1.0, 1.0)
TRIDIAGONAL_MARGIN = 1.0


def _propose_tridiagonal(t, ctx):
    """``lax.linalg.tridiagonal_solve(dl, d + c, du, b)``: an ``m x m`` tridiagonal system (splines, implicit
    diffusion steps) from three vectors in [-1, 1] (``dl[0]`` and ``du[-1]`` are not read), its diagonal shifted by
    ``c`` so that every row is diagonally dominant; ``b`` has ``n`` columns."""
    if t.dtype not in LINALG_FLOATS or t.rank != 2:
        return None
    vector = Operand(t.with_shape(t.shape[:1]), need=TRIDIAGONAL_NEED)
    return Proposal((vector, vector, vector, Operand(t)), {"c": ctx.draw.choice(TRIDIAGONAL_SHIFTS)})


def _tridiagonal_type(types, params):
    dl, d, du, b = types
    if b.rank != 2 or any(v != b.with_shape(b.shape[:1]) for v in (dl, d, du)) or b.dtype not in LINALG_FLOATS:
        raise TypeError(f"tridiagonal_solve: diagonals {dl}, {d}, {du} do not fit {b}")
    return b


def _tridiagonal_range(ins, types, out, params):
    margin = ins[1].lo + params["c"] - ins[0].mag - ins[2].mag  # the least diagonal dominance of a row
    return None if margin < TRIDIAGONAL_MARGIN else _symmetric(ins[3].mag / margin)


def _tridiagonal_parts(args, params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The system's diagonal, and its entries below and above it by row (0 where a row has none), in float64."""
    dl, d, du = (np.asarray(a, dtype=np.float64) for a in args[:3])
    return np.concatenate([[0.0], dl[1:]]), d + params["c"], np.concatenate([du[:-1], [0.0]])


def _tridiagonal_reference(args, params):
    import scipy.linalg

    below, diagonal, above = _tridiagonal_parts(args, params)
    bands = np.stack([np.roll(above, 1), diagonal, np.roll(below, -1)])  # scipy.linalg.solve_banded's layout
    return scipy.linalg.solve_banded((1, 1), bands, np.asarray(args[3], dtype=np.float64))


def _tridiagonal_error(args, params, value) -> float:
    """Gaussian elimination with partial pivoting (LAPACK's gtsv), backward stable: ``m`` times the system's
    condition number (in the infinity norm: at most its largest row over its least dominance) times the result."""
    below, diagonal, above = _tridiagonal_parts(args, params)
    off = np.abs(below) + np.abs(above)
    dominance = max(float(np.min(np.abs(diagonal) - off)), TRIDIAGONAL_MARGIN / 2)
    cond = float(np.max(np.abs(diagonal) + off)) / dominance
    return np.shape(value)[0] * cond * max(float(np.max(np.abs(value), initial=0.0)), 1.0)


def _tridiagonal_render(args, params):
    shifted = binop(args[1], cst.Add, literal(params["c"]))
    return call("lax.linalg.tridiagonal_solve", args[0], shifted, args[2], args[3])


# ---------------------------------------------------------------- SVD


def _propose_svd(t, ctx):
    if t.dtype not in LINALG_FLOATS or t.rank != 1:
        return None
    k, other = t.shape[0], ctx.pick_dim()
    if other < k:
        return None
    shape = (k, other) if ctx.draw.bernoulli(0.5) else (other, k)
    return Proposal((Operand(t.with_shape(shape)),), {})


def _sigma_max(a: TensorType, x: Interval) -> float:
    """||a||_2 <= ||a||_F <= sqrt(size) * max|a|."""
    return math.sqrt(a.size) * x.mag


def _matrix(t: TensorType) -> TensorType:
    if t.rank != 2:
        raise TypeError(f"svd: needs a matrix, got {t}")
    return t


def _propose_svd_fn(t, ctx):
    if t.dtype not in LINALG_FLOATS or t.rank != 2:
        return None
    return Proposal((Operand(t),), {})


def _svd_fn_range(ins, types, out, params):
    return _symmetric(_sigma_max(types[0], ins[0]))


def _svd_fn_reference(args, params):
    u, s, vh = np.linalg.svd(np.asarray(args[0], dtype=np.float64), full_matrices=False)
    return (u * s) @ vh


def _svd_fn_render(args, params):
    first, again = _bind(call("jnp.linalg.svd", args[0], full_matrices=False), "usv")
    return binop(binop(subscript(first, 0), cst.Multiply, subscript(again, 1)), cst.MatrixMultiply, subscript(again, 2))


# ---------------------------------------------------------------- rounding error models (units of eps)


def _spectrum(args, params) -> tuple[float, float]:
    """(condition number, largest eigenvalue) of S."""
    w = np.linalg.eigvalsh(gram_reference(args[0], params))
    return float(w[-1] / w[0]), float(w[-1])


def _conditioned(args, params, value) -> float:
    """A backward-stable factorization or solve: n * cond(S) * |result|."""
    cond, _ = _spectrum(args, params)
    return params["n"] * cond * max(float(np.max(np.abs(value), initial=0.0)), 1.0)


def _eigenvalue_error(args, params, value) -> float:
    return params["n"] * _spectrum(args, params)[1]


def _logdet_error(args, params, value) -> float:
    return params["n"] * _spectrum(args, params)[0]


def _singular_error(args, params, value) -> float:
    a = np.asarray(args[0], dtype=np.float64)
    return max(a.shape) * float(np.linalg.norm(a, 2))


# ---------------------------------------------------------------- matrix exponential

#: ``expm``'s largest matrix (a Pade approximant and an LU solve per call) and the 1-norm its operand's entries
#: keep it under (``2 / n`` each): ``e ** 2`` at most, where JAX's float32 approximant needs no squaring.
EXPM_MAX_SIZE = 16
EXPM_NORM = 2.0


def _propose_expm(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.scipy.linalg.expm(a)`` of a square matrix (a rotation's or a rate matrix's exponential, an ODE's
    propagator): a Pade approximant chosen by the matrix's norm (a ``cond`` over the degrees), squarings in a
    loop, and an LU solve, in the lowered program. Entries within ``2 / n``, so the 1-norm is at most 2."""
    if t.dtype not in LINALG_FLOATS or t.rank != 2 or t.shape[0] != t.shape[1] or t.shape[0] > EXPM_MAX_SIZE:
        return None
    bound = EXPM_NORM / t.shape[0]
    return Proposal((Operand(t, Interval(-bound, bound)),))


def _expm_type(types, params):
    (a,) = types
    if a.rank != 2 or a.shape[0] != a.shape[1] or a.dtype not in LINALG_FLOATS:
        raise TypeError(f"expm: {a} is not a square float32 or float64 matrix")
    return a


def _expm_range(ins, types, out, params):
    """``|expm(a)| <= expm(|a|) <= e ** ||a||``, entry by entry, with ``||a|| <= n |a|``."""
    norm = types[0].shape[0] * ins[0].mag
    if norm > 40:
        return None
    bound = math.exp(norm)
    return Interval(-bound, bound) if ins[0].lo < 0 else Interval(0.0, bound)


def _expm64(a: np.ndarray) -> np.ndarray:
    """The exponential in float64: scaled to a 1-norm of at most 1/2, a Taylor series to 1e-17, squared back."""
    a = np.asarray(a, dtype=np.float64)
    norm = float(np.max(np.sum(np.abs(a), axis=0))) if a.size else 0.0
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    b = a / 2.0**squarings
    out = term = np.eye(a.shape[0])
    for k in range(1, 20):
        term = term @ b / k
        out = out + term
    for _ in range(squarings):
        out = out @ out
    return out


def _expm_error(args, params, value):
    """Products and a solve of matrices about as large as the result: ulps of its largest entry, ``n`` per product
    (a few of them), in every entry (an entry that is 0 may come out as eps times the largest)."""
    big = np.max(_expm64(np.abs(args[0])))
    return np.full(np.shape(value), 4.0 * np.shape(value)[0] * big)


def _op(name, family, propose, type_rule, range_rule, reference, render, differentiable=True,
        error_scale=_conditioned):
    # Ops that need a square result are weighted up: the sampler asks for a square matrix only now and then.
    weight = 2.5 if propose is _propose_square else 1.0
    return OpSpec(name=name, category="decomposition", family=family, dtypes=LINALG_FLOATS, propose=propose,
                  type_rule=type_rule, range_rule=range_rule, reference=reference, render=render, weight=weight,
                  differentiable=differentiable, error_scale=error_scale)


def _gram_op(fn: str):
    return lambda a, p: call(fn, gram_render(a[0], p))


LINALG_OPS: tuple[OpSpec, ...] = (
    _op("cholesky", "cholesky", _propose_square, _square_type, _cholesky_range,
        lambda a, p: np.linalg.cholesky(gram_reference(a[0], p)), _gram_op("jnp.linalg.cholesky")),
    _op("inv", "inv", _propose_square, _square_type, _inv_range,
        lambda a, p: np.linalg.inv(gram_reference(a[0], p)), _gram_op("jnp.linalg.inv")),
    # The gradient of eigenvalues, of eigh's vectors and of singular values is not unique where they repeat
    # (S = a a^T + cI repeats c whenever a is rank deficient), so these stay out of the gradient oracle.
    _op("eigh_fn", "eigh_fn", _propose_square, _square_type, _eigh_fn_range, _eigh_fn_reference, _eigh_fn_render,
        differentiable=False),
    # the pseudo-inverse through an SVD (S is invertible: its singular values, at least c, stay above the cutoff);
    # JAX differentiates it by its own formula, not the SVD's
    _op("pinv", "inv", _propose_square, _square_type, _inv_range,
        lambda a, p: np.linalg.pinv(gram_reference(a[0], p)), _gram_op("jnp.linalg.pinv")),
    _op("qr", "qr", _propose_square, _square_type, _qr_range, _qr_reference, _qr_render, differentiable=False),
    _op("eigh", "eigh", _propose_eigvals, lambda t, p: (_check_gram(t[0], p), t[0].with_shape((p["n"],)))[1],
        _eigvals_range, lambda a, p: np.linalg.eigvalsh(gram_reference(a[0], p)), _eigvals_render,
        differentiable=False, error_scale=_eigenvalue_error),
    _op("slogdet", "slogdet", _propose_slogdet, _gram_scalar_type,
        _slogdet_range, _slogdet_reference,
        lambda a, p: subscript(call("jnp.linalg.slogdet", gram_render(a[0], p)), 1), error_scale=_logdet_error),
    _op("condition_number", "svd", _propose_slogdet, _gram_scalar_type, _cond_range,
        lambda a, p: np.linalg.cond(gram_reference(a[0], p)), _gram_op("jnp.linalg.cond"), differentiable=False),
    # an LU factorization and the product of its diagonal (slogdet's sum of logs, not taken)
    _op("det", "slogdet", _propose_slogdet, _gram_scalar_type,
        _det_range, lambda a, p: np.linalg.det(gram_reference(a[0], p)), _gram_op("jnp.linalg.det"),
        error_scale=_det_error),
    _op("solve", "solve", _propose_solve, _solve_type, _solve_range(False), _solve_reference,
        lambda a, p: call("jnp.linalg.solve", gram_render(a[0], p), a[1])),
    _op("lu_solve", "solve", _propose_solve, _solve_type, _solve_range(False), _solve_reference, _lu_solve_render),
    # a least-squares solve of the square system through an SVD (no gradient: S's singular values repeat)
    _op("lstsq", "solve", _propose_solve, _solve_type, _solve_range(False), _solve_reference,
        lambda a, p: subscript(call("jnp.linalg.lstsq", gram_render(a[0], p), a[1]), 0), differentiable=False),
    _op("solve_triangular", "solve", _propose_solve, _solve_type, _solve_range(True), _solve_triangular_reference,
        _solve_triangular_render),
    _op("cho_solve", "cho_solve", _propose_cho_solve, _solve_type, _solve_range(False), _solve_reference,
        _cho_solve_render),
    _op("mvn_logpdf", "mvn_logpdf", _propose_mvn, _mvn_type, _mvn_range, _mvn_reference, _mvn_render,
        error_scale=_mvn_error),
    # not differentiated: older JAX releases (0.4.35 among them) transpose it in ``b`` only
    _op("tridiagonal_solve", "tridiagonal_solve", _propose_tridiagonal, _tridiagonal_type, _tridiagonal_range,
        _tridiagonal_reference, _tridiagonal_render, differentiable=False, error_scale=_tridiagonal_error),
    # smooth; its reference a scaled Taylor series in float64 (``_expm64``)
    _op("expm", "expm", _propose_expm, _expm_type, _expm_range, lambda a, p: _expm64(a[0]),
        lambda a, p: call("jax.scipy.linalg.expm", a[0]), error_scale=_expm_error),
    _op("svd", "svd", _propose_svd, lambda t, p: _matrix(t[0]).with_shape((min(t[0].shape),)),
        lambda i, t, o, p: _loose(0.0, _sigma_max(t[0], i[0])),
        lambda a, p: np.linalg.svd(np.asarray(a[0], dtype=np.float64), compute_uv=False),
        lambda a, p: call("jnp.linalg.svd", a[0], compute_uv=False), differentiable=False,
        error_scale=_singular_error),
    _op("svd_fn", "svd_fn", _propose_svd_fn, lambda t, p: _matrix(t[0]), _svd_fn_range, _svd_fn_reference,
        _svd_fn_render, differentiable=False, error_scale=_singular_error),
)
