"""One test per (op, dtype): the type rule agrees with jax.eval_shape, JAX agrees with the numpy
reference on random in-domain inputs, and every result lies inside the op's declared interval."""

from __future__ import annotations

import pytest
from opcase import TEST_DTYPES, check_case, find_case

from jaxsynth.grammar import OPS

#: PRNG ops have no numpy reference; tests/test_regions.py checks them against JAX's eager result.
CASES = [(spec, d) for spec in OPS if spec.category != "random" for d in TEST_DTYPES if d in spec.dtypes]


@pytest.mark.parametrize(("spec", "dtype"), CASES, ids=[f"{s.name}-{d.name}" for s, d in CASES])
def test_op(spec, dtype):
    case = find_case(spec, dtype)
    assert case is not None, f"no in-domain proposal of {spec.name} takes {dtype.name}"
    check_case(case)
