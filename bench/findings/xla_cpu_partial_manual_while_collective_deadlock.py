"""XLA:CPU deadlocks (then aborts) running a partial-manual ``shard_map`` whose body has a data-dependent loop:
``jnp.gcd`` of uint32 values, its result constrained to ``P('d0', None, None)``, inside a ``shard_map`` manual
over ``b`` of a ``(b, d0, d1) = (2, 2, 2)`` mesh of 8 CPU devices.

Found by ``jaxsynth fuzz --config all -n 20 --seed 5004`` (``numerics`` program 17, the ``sharding`` oracle,
reduced from 10 ops to ``jnp.gcd(x0 // jnp.full((4, 4, 1), 10, jnp.uint32), x1)``). ``jnp.gcd`` is a
``while_loop`` that runs until every element is done; the SPMD partitioner puts a ``collective-permute`` (the
reshard to ``d0``) inside its body, and the loop's condition is all-reduced within each ``b`` group only
(replica groups ``{0,2},{1,3},{4,6},{5,7}`` then ``{0,1},{2,3},{4,5},{6,7}``), as it must be: each manual group
has its own data, so the two groups run different numbers of steps. But XLA:CPU's collective-permute waits for
all 8 devices at one rendezvous (``global_devices=[0, 1, ..., 7]``, although every source-target pair stays in its
group), so the group that finishes first leaves the other waiting: after 40 s, ``rendezvous.cc:161] Termination
timeout ... Expected 8 threads to join the rendezvous, but only 4 of them arrived on time`` and SIGABRT. The same
program under plain ``jit`` with the same shardings, and the ``shard_map`` without ``gcd`` (an add in its place),
run fine. Deterministic: every run aborts. No upstream issue found (searched openxla/xla for a collective-permute
rendezvous timeout in a while loop under partial-manual sharding).

Runs the program in a child process (with the fuzz worker's ``XLA_FLAGS``) and exits 1 if it aborts on the
rendezvous timeout or is still stuck after 150 s (the bug), 0 if it finishes, 3 if it fails another way.
jax/jaxlib 0.10.2: exits 1 (after about a minute).
"""
import os
import signal
import subprocess
import sys

FLAGS = "--xla_force_host_platform_device_count=8 --xla_cpu_multi_thread_eigen=false"  # as the fuzz worker


def child() -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[:8]).reshape((2, 2, 2)), ("b", "d0", "d1"))
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, 30, (8,)).astype(np.uint32)
    x1 = rng.integers(1, 32, (8, 4, 4, 1)).astype(np.uint32)

    def f(a, b):
        r = jnp.gcd(a // jnp.full((4, 4, 1), 10, jnp.uint32), b)
        return jax.lax.with_sharding_constraint(r, NamedSharding(jax.sharding.get_abstract_mesh(), P("d0", None, None)))

    g = jax.shard_map(lambda a, b: jax.lax.all_gather(jax.vmap(f)(a, b), "b", tiled=True), mesh=mesh, out_specs=P(),
                      in_specs=(P("b"), P("b")), axis_names={"b"}, check_vma=False)
    out = jax.jit(g)(jax.device_put(x0, NamedSharding(mesh, P("b"))),
                     jax.device_put(x1, NamedSharding(mesh, P("b", "d1", "d0", None))))
    expected = np.gcd(x0[:, None, None, None] // 10, x1)
    print("finished; right:", bool((np.asarray(out) == expected).all()))


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        child()
        sys.exit(0)
    env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {FLAGS}".strip())
    try:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "child"], capture_output=True, text=True,
                              env=env, timeout=150)
    except subprocess.TimeoutExpired:
        print("still stuck after 150 s: the bug is present")
        sys.exit(1)
    if done.returncode == -signal.SIGABRT and "Termination timeout" in done.stderr:
        line = next(line for line in done.stderr.splitlines() if "Termination timeout" in line)
        print(f"aborted on the rendezvous timeout: the bug is present\n{line[line.index('Termination'):][:240]}")
        sys.exit(1)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        print("this script itself failed (exit 3): not evidence of the bug", file=sys.stderr)
        sys.exit(3)
    print(done.stdout.strip())
    sys.exit(0)
