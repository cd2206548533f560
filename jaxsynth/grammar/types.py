"""Types of the IR: dtypes, tensor types and value intervals.

Pure Python and numpy only: the grammar knows nothing about how JAX lowers a program.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import ml_dtypes
import numpy as np


class DType(enum.Enum):
    """Element types the grammar can sample. The value is the JAXPR short name."""

    float64 = "f64"
    float32 = "f32"
    float16 = "f16"
    bfloat16 = "bf16"
    int32 = "i32"
    int8 = "i8"
    uint32 = "u32"
    uint8 = "u8"
    bool = "bool"
    complex64 = "c64"
    complex128 = "c128"
    #: JAX's typed PRNG key (``jax.random.key``, threefry). Never a sampled result type or a config dtype:
    #: keys are program inputs or built by the PRNG ops (``ops_random.py``). The numpy interpreter (and the
    #: flat function, ``Program.flat_function``) holds a key array of shape ``s`` as its key data, uint32
    #: of shape ``s + (2,)``.
    key = "key<fry>"

    # Members are singletons: identity hashing is exact and, unlike Enum's name-based hash, runs in C.
    # (Code must never iterate a set of dtypes to make a decision; iterate a tuple instead.)
    __hash__ = object.__hash__

    @property
    def short(self) -> str:
        return self.value

    @property
    def is_float(self) -> bool:
        return self in FLOATS

    @property
    def is_int(self) -> bool:
        return self in INTS

    @property
    def is_signed(self) -> bool:
        return self in (DType.int32, DType.int8)

    @property
    def is_complex(self) -> bool:
        return self in COMPLEX

    @property
    def is_inexact(self) -> bool:
        """Float or complex: values drawn from float ranges, compared with a tolerance."""
        return self in FLOATS or self in COMPLEX

    @property
    def real_dtype(self) -> DType:
        """The float type of a complex type's parts (the dtype itself for the other types)."""
        return _REAL.get(self, self)

    @property
    def complex_dtype(self) -> DType:
        """The complex type whose parts are this float type."""
        return _COMPLEX_OF[self]

    @property
    def is_bool(self) -> bool:
        return self is DType.bool

    @property
    def jnp_name(self) -> str:
        """Attribute of ``jax.numpy`` naming this dtype (``bool_`` for bool)."""
        return "bool_" if self is DType.bool else self.name

    @property
    def is_key(self) -> bool:
        return self is DType.key

    @property
    def np_dtype(self) -> np.dtype:
        """The numpy dtype of a value (for a key: of its key data)."""
        if self is DType.key:
            return np.dtype(np.uint32)
        if self is DType.bfloat16:
            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype("bool" if self is DType.bool else self.name)

    @property
    def bits(self) -> int:
        return 1 if self is DType.bool else 64 if self is DType.key else self.np_dtype.itemsize * 8

    @property
    def eps(self) -> float:
        """Relative rounding error of one operation (0 for exact types; a complex type's is its parts')."""
        return _EPS[self]

    @property
    def bounds(self) -> Interval:
        """Values a result of this dtype may take: representable for ints, a safety cap for floats.

        Float caps keep every intermediate far from overflow so that programs stay finite after
        rounding; they are deliberately conservative (float16 saturates at 65504).
        """
        return _BOUNDS[self]

    @property
    def intermediate_cap(self) -> float:
        """The largest magnitude a float value that an op computes inside itself, in this dtype, may reach: an
        eighth of the dtype's largest finite value (float16: 8188).

        Some ops round a value larger than their result to their dtype before they finish: ``jnp.std`` the
        variance under its square root, ``jnp.linalg.norm`` its sum of squares, ``squareplus`` and the Cauchy and
        t densities a square, ``rel_entr`` ``p log p`` and ``p log q``, ``multi_dot`` its first product. A result
        inside ``bounds`` says nothing about those; in float16 they overflow to inf while the result would be
        moderate (``std`` of a row 600 wide is 300; its variance, 90,000, is past float16's 65504), and the
        program is no longer the finite one the reference computes. Such ops are placed only where that value
        stays below this cap. Integers have none (inf): they wrap, as the reference's integer arithmetic does."""
        return _INTERMEDIATE_CAP[self]

    @property
    def margin(self) -> float:
        """Smallest magnitude that a domain boundary must keep away from (e.g. log's lo >= margin)."""
        return _MARGIN.get(self, 1.0)

    @classmethod
    def parse(cls, name: str) -> DType:
        """Accept either the long name (``float32``) or the JAXPR short name (``f32``)."""
        for d in cls:
            if name in (d.name, d.value):
                return d
        allowed = ", ".join(d.name for d in cls)
        raise ValueError(f"unknown dtype {name!r}; allowed: {allowed}")


FLOATS = frozenset({DType.float64, DType.float32, DType.float16, DType.bfloat16})
INTS = frozenset({DType.int32, DType.int8, DType.uint32, DType.uint8})
UNSIGNED = frozenset({DType.uint32, DType.uint8})
#: Complex values carry one Interval that bounds both their real and their imaginary parts (a box):
#: sums and differences then follow the real rules part by part, and |z| <= sqrt(2) * mag.
COMPLEX = frozenset({DType.complex64, DType.complex128})
LOW_PRECISION = frozenset({DType.float16, DType.bfloat16})
NUMERIC = FLOATS | INTS
ALL = NUMERIC | {DType.bool}
#: Integers and bools: whether two values are equal, or a value is zero, does not hang on rounding.
DISCRETE = INTS | {DType.bool}
#: Types that need ``jax_enable_x64`` (``types.x64 = true``).
X64_ONLY = frozenset({DType.float64, DType.complex128})
_REAL = {DType.complex64: DType.float32, DType.complex128: DType.float64}
_COMPLEX_OF = {DType.float32: DType.complex64, DType.float64: DType.complex128}

_BOUNDS: dict[DType, Interval]
_MARGIN = {DType.float64: 1e-3, DType.float32: 1e-3, DType.float16: 1e-2, DType.bfloat16: 1e-2,
           DType.complex64: 1e-3, DType.complex128: 1e-3}


@dataclass(frozen=True, slots=True)
class Interval:
    """Closed interval [lo, hi] that bounds every value a node can take."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (self.lo <= self.hi) or math.isnan(self.lo) or math.isnan(self.hi):
            raise ValueError(f"empty or NaN interval [{self.lo}, {self.hi}]")

    @property
    def mag(self) -> float:
        """Largest absolute value in the interval."""
        return max(abs(self.lo), abs(self.hi))

    def within(self, other: Interval) -> bool:
        return other.lo <= self.lo and self.hi <= other.hi

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def excludes_zero(self, margin: float) -> bool:
        return self.lo >= margin or self.hi <= -margin

    def widen(self, dtype: DType) -> Interval:
        """Grow by the rounding error one float operation of ``dtype`` can add (no-op for ints)."""
        if not dtype.is_inexact:
            return self
        pad = 4 * dtype.eps * self.mag + 1e-30
        return Interval(self.lo - pad, self.hi + pad)

    def as_list(self) -> list[float]:
        return [self.lo, self.hi]

    @staticmethod
    def of(*values: float) -> Interval:
        """Hull of a set of points (e.g. the corners of a monotone function)."""
        return Interval(min(values), max(values))

    def __str__(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]"


_EPS = {d: float(ml_dtypes.finfo(d.real_dtype.np_dtype).eps) if d.is_inexact else 0.0 for d in DType}
_INTERMEDIATE_CAP = {d: float(ml_dtypes.finfo(d.real_dtype.np_dtype).max) / 8 if d.is_inexact else math.inf
                     for d in DType}
_BOUNDS = {
    DType.float64: Interval(-1e6, 1e6),
    DType.float32: Interval(-1e6, 1e6),
    DType.bfloat16: Interval(-1e6, 1e6),
    DType.float16: Interval(-1e4, 1e4),
    DType.int32: Interval(-(2**31), 2**31 - 1),
    DType.int8: Interval(-128, 127),
    DType.uint32: Interval(0, 2**32 - 1),
    DType.uint8: Interval(0, 255),
    DType.bool: Interval(0, 1),
    DType.complex64: Interval(-1e6, 1e6),
    DType.complex128: Interval(-1e6, 1e6),
    DType.key: Interval(0, 2**32 - 1),  # of the key data
}

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TensorType:
    """A dtype and a static shape, printed as in a JAXPR: ``f32[3,4]``."""

    dtype: DType
    shape: Shape

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def with_dtype(self, dtype: DType) -> TensorType:
        return TensorType(dtype, self.shape)

    def with_shape(self, shape: Shape) -> TensorType:
        return TensorType(self.dtype, tuple(shape))

    def __str__(self) -> str:
        return f"{self.dtype.short}[{','.join(map(str, self.shape))}]"

    @staticmethod
    def parse(text: str) -> TensorType:
        """Inverse of ``str``: ``"f32[3,4]"`` -> TensorType(float32, (3, 4))."""
        name, _, rest = text.partition("[")
        if not rest.endswith("]"):
            raise ValueError(f"bad tensor type {text!r}; expected e.g. f32[3,4] or i32[]")
        dims = rest[:-1].strip()
        try:
            shape = tuple(int(d) for d in dims.split(",")) if dims else ()
        except ValueError:
            raise ValueError(f"bad tensor type {text!r}: dimensions must be integers") from None
        if any(d < 0 for d in shape):
            raise ValueError(f"bad tensor type {text!r}: negative dimension")
        return TensorType(DType.parse(name), shape)


def broadcast_shapes(*shapes: Shape) -> Shape | None:
    """Numpy broadcasting of shapes, or None when they are incompatible."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(rank):
        dims = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0}
        dims.discard(1)
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else 1)
    return tuple(out)
