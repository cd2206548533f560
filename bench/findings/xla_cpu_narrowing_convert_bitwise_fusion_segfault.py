"""XLA:CPU dies of SIGSEGV compiling ``x.astype(jnp.int8) & y``: a signed narrowing convert fused with a bitwise op.

Found by ``jaxsynth fuzz --config all --seed 105`` (``default`` program 28, the ``reference`` oracle, while the
program's own jit compiled) and reduced by the fuzzer to ``f(x0, x1) = x0.astype(jnp.int8) & x1`` over int32[3]
and int8[3]. The compile itself crashes (``.lower(...).compile()``), before anything runs. By hand, on an AMD EPYC
host: ``&`` and ``|`` crash, so does int32 -> int16 with ``&``; ``+`` instead of the bitwise op, the convert alone,
``&`` of two int8 arguments, and the same through uint8 compile and run. Arrays of 2 or more elements crash, a
1-element one does not. Disabling the ``fusion`` pass, or ``--xla_cpu_use_fusion_emitters=false``, avoids it;
turning YNN fusions off does not, nor does ``--xla_cpu_max_isa=AVX2``. Earlier campaigns (on other hosts) never
hit this one-line program, so the host may matter. No upstream issue found (searched the stored openxla/xla
issue threads).

Each form compiles in a fresh child process, so a crash is reported rather than ending this script. Exits 1 while
a bitwise form dies of SIGSEGV, 0 once none does, 3 if a child fails another way. jax/jaxlib 0.10.2: exits 1;
0.6.2 on the same host: exits 0 (every form compiles and is right), so it is a regression.
"""

import signal
import subprocess
import sys

CHILD = """
import sys
import jax, jax.numpy as jnp, numpy as np
forms = {
    "x.astype(int8) & y": lambda x, y: x.astype(jnp.int8) & y,
    "x.astype(int8) | y": lambda x, y: x.astype(jnp.int8) | y,
    "x.astype(int16) & y.astype(int16)": lambda x, y: x.astype(jnp.int16) & y.astype(jnp.int16),
    "x.astype(uint8) & y.astype(uint8)": lambda x, y: x.astype(jnp.uint8) & y.astype(jnp.uint8),
    "x.astype(int8) + y": lambda x, y: x.astype(jnp.int8) + y,
}
x, y = np.array([1, 2, 3], np.int32), np.array([3, 3, 3], np.int8)
print(jax.jit(forms[sys.argv[1]])(x, y))
"""

BITWISE = ("x.astype(int8) & y", "x.astype(int8) | y", "x.astype(int16) & y.astype(int16)")
CONTROLS = ("x.astype(uint8) & y.astype(uint8)", "x.astype(int8) + y")

crashed = False
for form in BITWISE + CONTROLS:
    done = subprocess.run([sys.executable, "-c", CHILD, form], capture_output=True, text=True, timeout=300)
    if done.returncode == -signal.SIGSEGV:
        print(f"{form}: the compile died of SIGSEGV")
        crashed |= form in BITWISE
    elif done.returncode != 0:
        print(f"{form}: the child failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        sys.exit(3)
    else:
        print(f"{form}: ok, {done.stdout.strip()}")
sys.exit(1 if crashed else 0)
