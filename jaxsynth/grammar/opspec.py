"""The OpSpec row: one op's type rule, range rule, numpy reference and libcst rendering.

An op is data. The sampler asks ``propose`` how an op could produce a wanted type (the inverse type
rule, used for type-directed sampling); ``type_rule`` is the forward rule checked against
``jax.eval_shape``; ``range_rule`` is the interval transfer that returns ``None`` where the op's domain
does not hold; ``reference`` computes the op with numpy; ``render`` builds the libcst expression.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import libcst as cst
import numpy as np

from jaxsynth.grammar.types import DType, Interval, Shape, TensorType

Params = dict[str, Any]
CATEGORIES = (
    "elementwise",
    "scalar_array",
    "unary",
    "compare_logical",
    "bitwise",
    "branching",
    "loops",
    "reductions",
    "linalg",
    "shape",
    "cast",
    "nn",
    "special",
    "bits",
    "index",
    "gradient",
    "indexing",
    "sorting",
    "window",
    "decomposition",
    "transforms",
    "random",
    "complex",
    "fft",
)


class Draw(Protocol):
    """The single seeded source of randomness the sampler passes to every decision."""

    def random(self) -> float: ...
    def randint(self, lo: int, hi: int) -> int: ...  # inclusive bounds
    def choice(self, items: Sequence[Any]) -> Any: ...
    def bernoulli(self, p: float) -> bool: ...


class Context(Protocol):
    """What ``propose`` may consult: the draw, the program's dim pool, the allowed dtypes and whether
    the program runs under x64 (where JAX's default integer result type is int64)."""

    draw: Draw
    dims: tuple[int, ...]
    x64: bool

    def pick_dim(self) -> int: ...
    def pick_dtype(self, allowed: frozenset[DType]) -> DType | None: ...
    def partner_shape(self, shape: Shape) -> Shape: ...


@dataclass(frozen=True, slots=True)
class Operand:
    """One operand the sampler must build: its type, the interval its values must lie in, and
    whether it must (``"literal"``), may (``"either"``) or must not (``"array"``) be a Python literal."""

    type: TensorType
    need: Interval | None = None
    kind: Literal["array", "literal", "either"] = "array"


@dataclass(frozen=True, slots=True)
class Proposal:
    operands: tuple[Operand, ...]
    params: Params = field(default_factory=dict)


ProposeFn = Callable[[TensorType, Context], Proposal | None]
TypeRule = Callable[[Sequence[TensorType], Params], TensorType]
RangeRule = Callable[[Sequence[Interval], Sequence[TensorType], TensorType, Params], Interval | None]
Reference = Callable[..., np.ndarray]
Render = Callable[..., cst.BaseExpression]
ErrorScale = Callable[[Sequence[np.ndarray], Params, np.ndarray], "np.ndarray | float"]


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One row of the op table.

    ``family`` groups ops that accept each other's proposals (same operand types and params), so a
    sampler whose operands miss one op's domain can try a sibling on the same operands.
    ``regions`` > 0 marks structured control flow whose bodies the sampler builds (see ``control.py``).
    ``special_values``: the op has defined semantics on NaN, ±Inf, -0.0, subnormals and integer extremes
    (IEEE 754 / two's-complement wraparound) that its numpy ``reference`` follows exactly, so the fuzzer's
    special-values mode may feed it such values. Default False: an op whose edge cases are
    implementation-defined (float->int casts of NaN, shifts past the width, library routines) stays out.
    """

    name: str
    category: str
    family: str
    dtypes: frozenset[DType]
    propose: ProposeFn
    type_rule: TypeRule
    range_rule: RangeRule
    reference: Reference
    render: Render
    weight: float = 1.0
    regions: int = 0
    differentiable: bool = True
    #: The absolute rounding error the op can make, in units of its dtype's epsilon, from its float64
    #: operands and exact result (elementwise or one number). ``None``: a few ulps of the result itself.
    #: Sums grow with the sum of their terms' magnitudes; factorizations and solves with matrix norms
    #: and condition numbers, so an entry that is exactly 0 may come out as eps * ||S||.
    error_scale: ErrorScale | None = None
    #: JAX or XLA computes the op's bfloat16 and float16 operands in float32 and rounds the result (measured): for
    #: those types its ``error_scale`` counts float32 ulps, beside the result's own rounding. Default False: an op
    #: computed in the narrow type itself (``jnp`` arithmetic) is off by ulps of that type.
    narrow_in_float32: bool = False
    special_values: bool = False
    #: The first JAX release with every API the rendering calls (``(0, 10, 1)``): the op is left out of
    #: sampling under an older one (:func:`available`), where it would fail as a false finding.
    since: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"op {self.name}: unknown category {self.category!r}")


def available(since: tuple[int, ...]) -> bool:
    """Whether the installed JAX is release ``since`` or later (``OpSpec.since``; ``()``: any)."""
    if not since:
        return True
    from jaxsynth import compat

    return compat.jax_version() >= since


# --------------------------------------------------------------------------------------------
# libcst helpers shared by the op families. Precedence follows Python's grammar.

BINARY_PRECEDENCE = {
    cst.Power: 9,
    cst.Multiply: 7,
    cst.Divide: 7,
    cst.FloorDivide: 7,
    cst.Modulo: 7,
    cst.MatrixMultiply: 7,
    cst.Add: 6,
    cst.Subtract: 6,
    cst.LeftShift: 5,
    cst.RightShift: 5,
    cst.BitAnd: 4,
    cst.BitXor: 3,
    cst.BitOr: 2,
}
_ATOM = 10


def _prec(expr: cst.BaseExpression) -> int:
    if getattr(expr, "lpar", None):
        return _ATOM
    if isinstance(expr, cst.BinaryOperation):
        return BINARY_PRECEDENCE[type(expr.operator)]
    if isinstance(expr, cst.UnaryOperation):
        return 8
    if isinstance(expr, cst.Comparison):
        return 1
    return _ATOM


def paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def binop(left: cst.BaseExpression, op: type[cst.BaseBinaryOp], right: cst.BaseExpression) -> cst.BaseExpression:
    """``left <op> right`` with the parentheses Python's precedence requires, and no others."""
    prec = BINARY_PRECEDENCE[op]
    right_assoc = op is cst.Power
    lp, rp = _prec(left), _prec(right)
    if lp < prec or (lp == prec and right_assoc) or (op is cst.Power and isinstance(left, cst.UnaryOperation)):
        left = paren(left)
    if rp < prec or (rp == prec and not right_assoc):
        right = paren(right)
    return cst.BinaryOperation(left=left, operator=op(), right=right)


def compare(left: cst.BaseExpression, op: type[cst.BaseCompOp], right: cst.BaseExpression) -> cst.BaseExpression:
    if _prec(left) <= 1:
        left = paren(left)
    if _prec(right) <= 1:
        right = paren(right)
    return cst.Comparison(left=left, comparisons=[cst.ComparisonTarget(operator=op(), comparator=right)])


def unary(op: type[cst.BaseUnaryOp], operand: cst.BaseExpression) -> cst.BaseExpression:
    if _prec(operand) < 8:
        operand = paren(operand)
    return cst.UnaryOperation(operator=op(), expression=operand)


@functools.lru_cache(maxsize=512)
def dotted(path: str) -> cst.BaseExpression:
    """``"jnp.linalg.norm"`` -> Attribute(Attribute(Name(jnp), linalg), norm).

    Cached: libcst nodes are immutable, so one node can appear in many trees."""
    head, *rest = path.split(".")
    expr: cst.BaseExpression = cst.Name(head)
    for part in rest:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr


def listed(exprs: Sequence[cst.BaseExpression]) -> cst.List:
    """``[e0, e1, ...]``: the list some calls take their operands in (``jnp.stack``, ``jnp.linalg.multi_dot``)."""
    return cst.List([cst.Element(e) for e in exprs])


def array_literal(values: Sequence[Any], **kwargs: Any) -> cst.Call:
    """``jnp.array([v0, v1, ...], key=value)``: a constant array of Python literals (indices, boundaries,
    coefficients)."""
    return call("jnp.array", listed([literal(v) for v in values]), **kwargs)


def literal(value: Any) -> cst.BaseExpression:
    """A Python literal: bool, int, float (negative numbers and -0.0 as unary minus), or a tuple of them."""
    if isinstance(value, bool | np.bool_):
        return cst.Name("True" if value else "False")
    if isinstance(value, tuple):
        if len(value) == 1:
            return cst.Tuple([cst.Element(literal(value[0]), comma=cst.Comma())])
        return cst.Tuple([cst.Element(literal(v)) for v in value])
    if value is None:
        return cst.Name("None")
    if value < 0 or (value == 0 and np.signbit(value)):  # -0.0 too: "-0.0" is no float token, and keeps its sign
        return cst.UnaryOperation(operator=cst.Minus(), expression=literal(-value))
    if isinstance(value, int | np.integer):
        return cst.Integer(str(int(value)))
    return cst.Float(repr(float(value)))


def call(func: str, *args: cst.BaseExpression, **kwargs: Any) -> cst.Call:
    """``func(arg, ..., key=value)``; keyword values that are not libcst nodes become literals."""
    cargs = [cst.Arg(a) for a in args]
    for key, value in kwargs.items():
        node = value if isinstance(value, cst.BaseExpression) else literal(value)
        cargs.append(cst.Arg(node, keyword=cst.Name(key), equal=_KEYWORD_EQUAL))
    return cst.Call(func=dotted(func), args=cargs)


_KEYWORD_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def atom(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` parenthesized if it is not already an atom (for ``.attr`` or ``[...]`` after it)."""
    return paren(expr) if _prec(expr) < _ATOM else expr


def subscript(expr: cst.BaseExpression, value: Any) -> cst.Subscript:
    """``expr[value]`` for a literal ``value`` (an int; ``None``, a new axis): one result of a call that returns
    several, a row of a batch."""
    return cst.Subscript(value=atom(expr), slice=[cst.SubscriptElement(cst.Index(literal(value)))])


def attribute(obj: cst.BaseExpression, name: str) -> cst.Attribute:
    return cst.Attribute(value=atom(obj), attr=cst.Name(name))


def method(obj: cst.BaseExpression, name: str, *args: cst.BaseExpression, **kwargs: Any) -> cst.Call:
    """``obj.name(args, key=value)``."""
    return call("_", *args, **kwargs).with_changes(func=attribute(obj, name))


def dtype_expr(dtype: DType) -> cst.BaseExpression:
    return dotted(f"jnp.{dtype.jnp_name}")
