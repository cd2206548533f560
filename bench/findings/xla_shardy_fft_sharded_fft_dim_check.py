"""XLA aborts compiling a plain ``jax.jit`` FFT of a rank-3 array whose FFT dim is sharded down to one element per
device under Shardy: ``fft_handler.cc:117] Check failed: size_per_partition % num_partitions == 0 (1 vs. 0)``.

Found by ``jaxsynth fuzz --config all -n 20 --seed 1130`` (``numerics`` program 17, the ``sharding`` oracle's
``NamedSharding`` variant: a sharded c64[8] input broadcast against a (1, 8, 8) value that is then
``jnp.fft.fft``-ed, so the partitioner carries the input's sharding onto the FFT dim). Reduced by hand to
``jax.jit(jnp.fft.fft)`` of c64[1, 8, 8] placed on ``P(None, None, 'd0')`` over 8 devices (also c64[1, 1, 8],
c64[2, 8, 8], and c64[1, 8, 8] over 4 devices: ``(2 vs. 0)``). Rank 1 and rank 2 compile and are right.
Right with ``jax_use_shardy_partitioner=False`` (GSPMD), and on jax/jaxlib 0.4.35 and 0.6.2.

The abort is the one openxla/xla pull request #45402 ("[SPMD] Fall back when FFT halo exchange is not possible",
closed unmerged) describes for ``fft(c64[1,1,2])`` sharded ``[1,1,2]``; no upstream issue found. The
partial-manual ``shard_map`` forms are ``xla_spmd_partial_manual_fft.py``.

Each compile runs in a subprocess, so an abort is reported rather than ending this script. Exits 1 while the bug is
present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import subprocess
import sys

CHILD = """
import os, sys
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

shape = tuple(int(s) for s in sys.argv[1].split(","))
mesh = Mesh(np.array(jax.devices()[:8]), ("d0",))
x = (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1j).astype(np.complex64)
placed = jax.device_put(x, NamedSharding(mesh, P(*[None] * (len(shape) - 1), "d0")))
got = np.asarray(jax.jit(jnp.fft.fft)(placed))
print("OK" if np.allclose(got, np.fft.fft(x), atol=1e-3) else "wrong values")
"""

present = False
for shape in ("8", "1,8", "1,8,8"):  # the first two are the controls: they compile and are right
    child = subprocess.run([sys.executable, "-c", CHILD, shape], capture_output=True, text=True)
    output = (child.stdout + child.stderr).splitlines()
    lines = [ln for ln in output if "Check failed" in ln or ln in ("OK", "wrong values")]
    print(f"c64[{shape}]: {lines[0] if lines else f'exit {child.returncode}: {child.stderr.strip()[-300:]}'}")
    present |= not (child.returncode == 0 and lines == ["OK"])
sys.exit(1 if present else 0)
