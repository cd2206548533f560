"""The breadth families (jax.nn / special, bits, index, complex / fft): what the per-op tests in
test_ops.py do not show — scipy-free references against known values, dtype sets that keep the new
dtypes out of old ops, new categories set explicitly in every built-in config, and their reach."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import tomllib

from jaxsynth.grammar import OPS, REGISTRY, builtin_names, load_config
from jaxsynth.grammar.config import builtin_dir
from jaxsynth.grammar.ops_nn import digamma, erfinv, lgamma, underflow_floor
from jaxsynth.grammar.types import COMPLEX, DType, Interval, TensorType
from jaxsynth.synth import sample

NEW_CATEGORIES = ("nn", "special", "bits", "index", "gradient", "complex", "fft")


def test_special_references_match_known_values():
    # digamma(1) = -Euler's gamma, digamma(1/2) = -gamma - 2 ln 2, digamma(x + 1) = digamma(x) + 1/x
    gamma = 0.5772156649015329
    np.testing.assert_allclose(digamma(np.array([1.0, 0.5])), [-gamma, -gamma - 2 * math.log(2)], rtol=1e-13)
    x = np.linspace(0.1, 30, 57)
    np.testing.assert_allclose(digamma(x + 1), digamma(x) + 1 / x, rtol=1e-12, atol=1e-13)
    y = np.linspace(-0.999, 0.999, 101)
    np.testing.assert_allclose(np.vectorize(math.erf)(erfinv(y)), y, rtol=0, atol=1e-15)
    np.testing.assert_allclose(lgamma(np.array([0.5, 3.0])), [math.log(math.sqrt(math.pi)), math.log(2.0)])


def test_new_dtypes_stay_out_of_old_ops():
    """Complex values reach only ops whose rules are sound for them; unsigned ints skip abs and square."""
    complex_ops = sorted(s.name for s in OPS if s.dtypes & COMPLEX)
    assert complex_ops == sorted(["add", "subtract", "conj", "real", "imag", "complex_abs", "complex_multiply",
                                  "fft", "ifft", "irfft"])
    for name in ("abs", "square", "negative", "sum", "prod", "pow_scalar", "dot"):
        assert DType.uint32 not in REGISTRY[name].dtypes, name


def test_new_categories_are_explicit_in_every_builtin_config():
    """A category missing from a config weighs 1.0, so every built-in config sets the new ones itself."""
    for path in sorted(builtin_dir().glob("*.toml")):
        categories = tomllib.loads(path.read_text())["weights"]["categories"]
        missing = [c for c in NEW_CATEGORIES if c not in categories]
        assert not missing, (path.name, missing)


def test_breadth_configs_reach_every_new_op():
    pooled: Counter[str] = Counter()
    for name in ("nn-special", "numerics"):
        config = load_config(name)
        for index in range(300):
            pooled.update(n.op for n in sample(config, 0, index).walk())
    new_ops = [s.name for s in OPS if s.category in NEW_CATEGORIES]
    assert len(new_ops) >= 45
    assert [op for op in new_ops if pooled[op] == 0] == []


@pytest.mark.parametrize("name", builtin_names())
def test_complex_only_where_configured(name):
    config = load_config(name)
    wants_complex = any(DType.parse(d).is_complex for d, w in config.types.dtypes.items() if w > 0)
    seen = {t.dtype for i in range(40) for n in sample(config, 1, i).walk() for t in n.types}
    assert bool(seen & COMPLEX) == wants_complex, name


def test_tails_stay_above_the_underflow_floor():
    """erfc and softplus are placed only where their results are normal after later products."""
    erfc, softplus = REGISTRY["erfc"], REGISTRY["softplus"]
    f32 = [TensorType(DType.float32, (3,))]
    assert erfc.range_rule([Interval(0.0, 5.0)], f32, f32[0], {}) is not None
    assert erfc.range_rule([Interval(0.0, 12.0)], f32, f32[0], {}) is None  # erfc(12) ~ 1e-64
    assert softplus.range_rule([Interval(-120.0, 0.0)], f32, f32[0], {}) is None
    assert math.erfc(5.0) > underflow_floor(DType.float32) > 1e-20


def test_an_op_whose_rendering_needs_a_newer_jax_is_left_out_there(monkeypatch) -> None:
    """On JAX 0.4.26 (compat.jax_version patched), ``jax.nn.standardize(algorithm=...)`` (0.10.1) is never sampled
    and ``lax.top_k`` takes the last axis only (``axis=`` from 0.8.1): otherwise every such program fails as a
    false finding of an old JAX. On the installed JAX, the same programs hold both."""
    from jaxsynth import compat
    from jaxsynth.grammar import parse_config, unavailable_ops
    from jaxsynth.synth import sample

    def census() -> tuple[int, int, int]:
        config = parse_config("[types]\ndtypes = { float32 = 1.0 }\nmin_rank = 2\n"
                              "[weights.ops]\nstandardize = 30.0\ntop_k = 30.0\n", name="newer-apis")
        standardize = top_k = other_axis = 0
        for index in range(80):
            for node in sample(config, 5, index).walk():
                standardize += node.op == "standardize"
                if node.op == "top_k":
                    top_k += 1
                    other_axis += not node.params["last"]
        return standardize, top_k, other_axis

    assert compat.jax_version() >= (0, 10, 1) and unavailable_ops() == {}
    standardize, top_k, other_axis = census()
    assert standardize > 10 and top_k > 10 and other_axis > 0
    monkeypatch.setattr(compat, "jax_version", lambda: (0, 4, 26))
    assert unavailable_ops() == {"standardize": "0.10.1"}
    standardize, top_k, other_axis = census()
    assert standardize == 0 and top_k > 10 and other_axis == 0


def test_popcount_counts_bytes_where_numpy_has_no_bitwise_count() -> None:
    """numpy < 2.0 (which JAX 0.4.26 needs) has no ``np.bitwise_count``: the population_count reference failed in
    every program that held one (80 internal errors of a campaign on 0.4.26). Its fallback counts the same bits."""
    import numpy as np

    from jaxsynth.grammar.ops_bits import popcount, popcount_by_bytes

    rng = np.random.default_rng(0)
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64):
        info = np.iinfo(dtype)
        for shape in ((), (0,), (7,), (3, 5)):
            x = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
            u = x.view(np.dtype(f"u{x.dtype.itemsize}"))
            np.testing.assert_array_equal(popcount_by_bytes(u), np.bitwise_count(u))
            assert popcount(x).dtype == dtype and popcount(x).shape == shape
        assert popcount_by_bytes(np.array([info.max, info.min], dtype=dtype).view(f"u{np.dtype(dtype).itemsize}")
                                 ).tolist() == [np.dtype(dtype).itemsize * 8 - (info.min < 0), int(info.min < 0)]


def test_the_scatter_add_error_scale_keeps_a_negative_index_as_it_is():
    """fuzz seed 1030 (every oracle), program 26: ``x.at[:, idx].add(u)`` with idx = -1 over a dimension of 1; the
    error scale took the magnitude of every argument, the index array too, and index 1 was out of bounds: an
    internal error in every oracle. The scale is the sum of |u| landing on each element, plus |x|."""
    spec = REGISTRY["at_add"]
    x = np.array([[2.0], [-3.0]], dtype=np.float32)
    u = np.array([[-1.0, 0.5], [4.0, -2.0]], dtype=np.float32)
    index = np.array([-1, 0], dtype=np.int32)
    scale = spec.error_scale([x, u, index], {"axis": 1}, None)
    np.testing.assert_array_equal(scale, [[3.5], [9.0]])
