"""XLA's SPMD partitioner mishandles an FFT inside a partial-manual ``shard_map`` whose result is constrained to
its FFT dim: a verifier error (Shardy) or a CHECK failure that aborts the process (Shardy and GSPMD).

Found by ``jaxsynth fuzz --config numerics -n 910 --seed 111`` (program 848, the ``sharding`` oracle's
partial-manual variant; reduced from 10 ops to ``jnp.fft.fft(x0)``). ``shard_map(vmap(f))`` manual over the
batch axis ``b`` of a (4, 2) mesh (``axis_names={'b'}``), ``d0`` left to the partitioner, ``f(v) = fft(v)`` with
its result constrained to ``P(None, 'd0')`` (the FFT dim) on the abstract mesh:

- the input (c64[8, 2, 4]) placed on ``('b', 'd0', None)``: the compile fails ``[hlo verifier]: Expected
  instruction to have shape equal to c64[2,1,4], actual shape is c64[2,2,2]`` under Shardy (the default);
  with ``jax_use_shardy_partitioner=False`` it compiles and is right;
- the input (c64[8, 2, 2]) placed on ``('b', None, None)``: ``fft_handler.cc:117] Check failed:
  size_per_partition % num_partitions == 0 (1 vs. 0)`` aborts the process under either partitioner (an FFT
  length of 4 compiles).

The same programs under a plain ``jit`` (no manual axis, the same shardings and constraint) compile and are
right. The abort is the one openxla/xla pull request #45402 ("[SPMD] Fall back when FFT halo exchange is not
possible", closed) describes for ``fft(c64[1,1,2])`` sharded ``[1,1,2]``; no upstream issue was found for the
verifier error.

Each compile runs in a subprocess, so an abort is reported rather than ending this script. Exits 1 while
either bug is present, 0 once both are fixed. jax/jaxlib 0.10.2: exits 1 (both present).
"""

import subprocess
import sys

CHILD = """
import os, sys
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

shape, placement = {"verifier": ((8, 2, 4), P("b", "d0", None)), "check": ((8, 2, 2), P("b"))}[sys.argv[1]]
mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("b", "d0"))


def f(v):
    return jax.lax.with_sharding_constraint(jnp.fft.fft(v),
                                            NamedSharding(jax.sharding.get_abstract_mesh(), P(None, "d0")))


g = jax.shard_map(jax.vmap(f), mesh=mesh, in_specs=P("b"), out_specs=P("b"), axis_names={"b"}, check_vma=False)
x = (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1j).astype(np.complex64)
try:
    got = np.asarray(jax.jit(g)(jax.device_put(x, NamedSharding(mesh, placement))))
except Exception as exc:
    print(str(exc).splitlines()[0][:200])
    sys.exit(1)
print("OK" if np.allclose(got, np.fft.fft(x), atol=1e-3) else "wrong values")
"""

present = False
for form in ("verifier", "check"):
    child = subprocess.run([sys.executable, "-c", CHILD, form], capture_output=True, text=True)
    output = (child.stdout + child.stderr).splitlines()
    lines = [ln for ln in output if "Check failed" in ln or "verifier" in ln or ln in ("OK", "wrong values")]
    print(f"{form}: {lines[0] if lines else f'exit {child.returncode}: {child.stderr.strip()[-300:]}'}")
    present |= not (child.returncode == 0 and lines == ["OK"])
sys.exit(1 if present else 0)
