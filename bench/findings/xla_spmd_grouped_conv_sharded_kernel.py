"""XLA's SPMD partitioner rejects a grouped convolution whose kernel is sharded on its output-feature dim.

Found by ``jaxsynth fuzz --config structured --seed 11`` (program 14, the ``sharding`` oracle). The program
runs on one device; with the same program jitted over inputs placed with legal NamedShardings on 8 virtual
CPU devices (the kernel's output-feature dim, of size 2, split over a mesh axis of size 2), compilation fails:
``INVALID_ARGUMENT: Expected output feature dimension (value 1) to be divisible by feature_group_count
(value 2)``. The partitioner shards the feature dim without rescaling ``feature_group_count`` (compare
openxla/xla#47945, a batch-sharded grouped conv, and tenstorrent/tt-metal#45396 for the same invariant
under Shardy); no upstream issue for this exact case was found.

A second form (structured program 198 of ``jaxsynth fuzz --config all --seed 98``, reduced to the conv): a grouped
conv whose kernel (``HIO``, [1, 2, 4]) has its input-feature dim split 2 ways and its output-feature dim 4 ways
fails with ``INVALID_ARGUMENT: feature_group_count must be a positive number, got 0``. Either split alone is
right. This one is Shardy's: right with ``jax_use_shardy_partitioner=False``, and on 0.4.26-0.6.2 under their
default GSPMD; 0.6.2 with Shardy fails the same way.

A third form (structured program 367 of ``jaxsynth fuzz --config structured,... --oracles sharding --seed 102``,
reduced by hand to the conv): a depthwise conv (``feature_group_count=4``, kernel ``HIO`` [1, 1, 4]) whose kernel
has its output-feature dim split 2 ways **aborts the compiler** with ``free(): invalid pointer`` (heap corruption),
under Shardy and GSPMD alike, on a 4x2 or a 2x2x2 mesh. Right on jaxlib 0.4.26 and 0.4.35; aborts on 0.6.2 and
0.10.2. It runs in a subprocess here, so the abort is reported rather than ending this script.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.lax as lax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def f(x, w):
    return lax.conv_general_dilated(x[None], w, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"),
                                    feature_group_count=2)[0]


def g(x, w):
    return lax.conv_general_dilated(x, w, (2,), "VALID", dimension_numbers=("NHC", "HIO", "NHC"), feature_group_count=2)


mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("d0", "d1"))
cases = [
    ("sharded kernel (output features)", f, np.linspace(0.0, 1.0, 4 * 13, dtype=np.float32).reshape(4, 13),
     np.full((2, 2, 1), 0.5, dtype=np.float32), PartitionSpec("d0", None, None)),
    ("sharded kernel (input and output features)", g,
     np.linspace(0.0, 1.0, 7 * 7 * 4, dtype=np.float32).reshape(7, 7, 4),
     np.linspace(-1.0, 1.0, 8, dtype=np.float32).reshape(1, 2, 4), PartitionSpec(None, "d0", "d1")),
]
present = False
for name, fn, x, w, spec in cases:
    want = np.asarray(jax.jit(fn)(x, w))
    try:
        got = np.asarray(jax.jit(fn)(x, jax.device_put(w, NamedSharding(mesh, spec))))
    except Exception as exc:  # the partitioner's INVALID_ARGUMENT
        print(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        present = True
        continue
    ok = np.allclose(got, want, rtol=1e-5, atol=1e-6)
    print(f"{name}:", "OK" if ok else "wrong values")
    present |= not ok

DEPTHWISE = """
import os
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
import jax, jax.lax as lax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("d0", "d1"))
x = np.full((1, 4, 4), 0.86, dtype=np.float32)
w = np.linspace(0.1, 0.4, 4, dtype=np.float32).reshape(1, 1, 4)
f = jax.jit(lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID", dimension_numbers=("NHC", "HIO", "NHC"),
                                                  feature_group_count=4))
want = np.asarray(f(x, w))
got = np.asarray(f(x, jax.device_put(w, NamedSharding(mesh, PartitionSpec(None, None, "d1")))))
print("OK" if np.allclose(got, want, rtol=1e-5, atol=1e-6) else "wrong values")
"""
import subprocess  # noqa: E402

done = subprocess.run([sys.executable, "-c", DEPTHWISE], capture_output=True, text=True, timeout=300)
name = "depthwise conv, kernel sharded on output features"
if done.returncode < 0:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("    @")]
    print(f"{name}: the compiler died of signal {-done.returncode} ({lines[-1] if lines else 'no message'})")
    present = True
else:
    result = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-300:]
    print(f"{name}: {result}")
    present |= result != "OK"
sys.exit(1 if present else 0)
