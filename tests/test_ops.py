"""One test per (op, dtype): the type rule agrees with jax.eval_shape, JAX agrees with the numpy
reference on random in-domain inputs, and every result lies inside the op's declared interval."""

from __future__ import annotations

import jax
import jax.lax as lax
import jax.numpy as jnp
import numpy as np
import pytest
from opcase import TEST_DTYPES, find_case

from jaxsynth.grammar import OPS, DType
from jaxsynth.synth.interpret import compute_dtype

#: PRNG ops have no numpy reference; tests/test_regions.py checks them against JAX's eager result.
CASES = [(spec, d) for spec in OPS if spec.category != "random" for d in TEST_DTYPES if d in spec.dtypes]


def _tolerance(dtype: DType, scale: float) -> tuple[float, float]:
    if not dtype.is_inexact:
        return 0.0, 0.0
    eps = {DType.float32: 1e-6, DType.float16: 1e-3, DType.bfloat16: 8e-3, DType.complex64: 1e-6}[dtype]
    return 8 * eps, 8 * eps * max(1.0, scale)


@pytest.mark.parametrize(("spec", "dtype"), CASES, ids=[f"{s.name}-{d.name}" for s, d in CASES])
def test_op(spec, dtype):
    case = find_case(spec, dtype)
    assert case is not None, f"no in-domain proposal of {spec.name} takes {dtype.name}"
    namespace = {"jax": jax, "jnp": jnp, "lax": lax}
    exec(case.source(), namespace)
    fn = namespace["op"]
    array_types = [t for i, t in enumerate(case.types) if i not in case.literals]
    structs = [jax.ShapeDtypeStruct(t.shape, t.dtype.np_dtype) for t in array_types]

    shape = jax.eval_shape(fn, *structs)
    assert (shape.shape, np.dtype(shape.dtype)) == (case.out.shape, case.out.dtype.np_dtype), case.source()

    rng = np.random.default_rng(0)
    for _ in range(3):
        arrays = case.arrays(rng)
        got = np.asarray(jax.jit(fn)(*arrays))
        feed = iter(arrays)
        operands = [
            np.asarray(case.literals[i]) if i in case.literals else next(feed).astype(compute_dtype(t))
            for i, t in enumerate(case.types)
        ]
        with np.errstate(all="ignore"):
            want = np.asarray(spec.reference(operands, case.proposal.params))
        want = want.astype(case.out.dtype.np_dtype)
        rtol, atol = _tolerance(case.out.dtype, case.result.mag)
        if case.out.dtype.is_inexact:
            wide = np.complex128 if case.out.dtype.is_complex else np.float64
            np.testing.assert_allclose(got.astype(wide), want.astype(wide), rtol=rtol, atol=atol,
                                       err_msg=case.source())
            assert np.all(np.isfinite(got.astype(wide)))
        else:
            np.testing.assert_array_equal(got, want, err_msg=case.source())
        # a complex value's interval bounds its real and its imaginary part
        values = np.stack([got.real, got.imag]) if got.dtype.kind == "c" else got
        values = values.astype(np.float64)
        assert np.all(values >= case.result.lo) and np.all(values <= case.result.hi), (
            f"{spec.name}: values {values.min()}..{values.max()} outside declared {case.result}"
        )
