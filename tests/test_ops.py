"""One test per (op, dtype): the type rule agrees with jax.eval_shape, JAX agrees with the numpy
reference on random in-domain inputs, and every result lies inside the op's declared interval."""

from __future__ import annotations

import numpy as np
import pytest
from opcase import TEST_DTYPES, check_case, find_case

from jaxsynth.grammar import OPS, REGISTRY, DType

#: Dtypes that share their handling with the others of their kind (one type rule, range rule and reference,
#: parametrized by the dtype): the default suite tests each op in one real float and one integer, taken in turn
#: along the op table, and the slow suite in the others (run on purpose before a change to an op lands).
ROTATED = ((DType.float32, DType.bfloat16, DType.float16), (DType.int32, DType.int8, DType.uint8, DType.uint32))


def _default_suite(position: int, spec, dtype) -> bool:
    for group in ROTATED:
        if dtype in group:
            admitted = [d for d in group if d in spec.dtypes]
            return dtype is admitted[position % len(admitted)]
    return True


#: PRNG ops have no numpy reference; tests/test_regions.py checks them against JAX's eager result.
CASES = [pytest.param(spec, d, id=f"{spec.name}-{d.name}",
                      marks=() if _default_suite(position, spec, d) else pytest.mark.slow)
         for position, spec in enumerate(s for s in OPS if s.category != "random")
         for d in TEST_DTYPES if d in spec.dtypes]


@pytest.mark.parametrize(("spec", "dtype"), CASES)
def test_op(spec, dtype):
    case = find_case(spec, dtype)
    assert case is not None, f"no in-domain proposal of {spec.name} takes {dtype.name}"
    check_case(case)


CONTRACTIONS = [("dot", {}, (4, 5), (5, 6), np.dot), ("matmul", {}, (4, 5), (5, 6), np.matmul),
                ("vdot", {}, (30,), (30,), np.vdot),
                ("einsum", {"spec": "bij,bjk->bik"}, (3, 4, 5), (3, 5, 6),
                 lambda a, b: np.einsum("bij,bjk->bik", a, b)),
                ("einsum", {"spec": "ij,ij->i"}, (4, 5), (4, 5), lambda a, b: np.einsum("ij,ij->i", a, b))]


@pytest.mark.parametrize(("name", "params", "left", "right", "numpy_loop"), CONTRACTIONS,
                         ids=[f"{c[0]}-{c[1].get('spec', '')}" for c in CONTRACTIONS])
def test_integer_contractions_are_exact_and_wrap_as_numpy_integer_loops(name, params, left, right, numpy_loop):
    # the reference computes int32 contractions through float64 BLAS where every partial sum is exact, and
    # must give numpy's own integer result: small values, products that wrap int32, and int32 extremes
    # (past 2**53, where it keeps numpy's integer loop)
    rng = np.random.default_rng(7)
    for bound in (5, 60_000, 2**31 - 1):
        a = rng.integers(-bound, bound, left, dtype=np.int32, endpoint=True)
        b = rng.integers(-bound, bound, right, dtype=np.int32, endpoint=True)
        a.flat[0] = -bound - 1  # abs() of int32's minimum wraps; the exactness bound must not
        got, want = np.asarray(REGISTRY[name].reference([a, b], params)), np.asarray(numpy_loop(a, b))
        assert got.dtype == want.dtype == np.int32
        np.testing.assert_array_equal(got, want)
