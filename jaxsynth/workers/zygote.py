"""The fork server behind :func:`jaxsynth.workers.process.fork_child` (fuzz workers, corpus workers):
``python -m jaxsynth.workers.zygote MODULE FD [PRELOAD ...]``.

It imports ``MODULE``, runs its ``prepare()`` (the environment a child needs, never a JAX backend) and imports
the ``PRELOAD`` modules, then forks a child for each request on the Unix socket ``FD``: the request carries the
child's stdin, stdout and stderr as file descriptors; the child starts its own session, takes them as 0, 1 and
2, and runs ``MODULE.main()``. A fuzz worker so started is ready in about a fifth of the time a fresh interpreter takes
(``import jax`` alone is most of a second, and ``ml_dtypes`` 0.7 another half).

It forks only while it has a single thread and no JAX backend (it says first whether that holds; where it does
not, the parent starts its children another way), so no lock, thread pool or state of XLA's is copied into a
child. It reaps its children and reports each one's exit status (``-signal`` for a signal, as
``subprocess`` does) on the socket; the children die with it (``die_with_parent``), and it dies with its parent.

Messages on the socket (SOCK_SEQPACKET, one pickle each): to the parent ``("ready", usable)``,
``("forked", pid)``, ``("exit", pid, status)``; from the parent ``("fork",)`` with three descriptors.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import select
import signal
import socket
import sys
import traceback

from jaxsynth.workers.process import ZYGOTE_MESSAGE_BYTES, die_with_parent


def thread_count() -> int:
    """This process's threads (0 where /proc cannot tell)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def _send(sock: socket.socket, message: tuple) -> None:
    sock.send(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _child(module, sock: socket.socket, fds: list[int], wake: tuple[int, int]) -> None:
    """In the forked child: the request's descriptors as 0, 1, 2, a session of its own, then ``module.main()``;
    never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        for fd in wake:
            os.close(fd)
        os.setsid()  # a hang is killed with its whole process group, as a child of subprocess's is
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds) - {0, 1, 2}:
            os.close(fd)
        die_with_parent()
        module.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child's last words go to its stderr, as an uncaught error's would
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, ("exit", pid, os.waitstatus_to_exitcode(status)))


def serve(module_name: str, fd: int, preload: list[str]) -> None:
    die_with_parent()
    sock = socket.socket(fileno=fd)
    module = importlib.import_module(module_name)
    module.prepare()
    for name in preload:
        importlib.import_module(name)
    from jaxsynth.lowering.workers import backend_initialized

    threads = thread_count()
    usable = threads == 1 and not backend_initialized()
    _send(sock, ("ready", usable))
    if not usable:
        return  # forking a process with other threads could copy a lock one of them holds, or XLA's state
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup descriptor hears of each exit
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(sock)
        if sock not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, ZYGOTE_MESSAGE_BYTES, 3)
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        if not data:
            return  # the parent closed the socket (or died): the children die with this process
        if len(fds) != 3:
            for received in fds:
                os.close(received)
            _send(sock, ("forked", None))
            continue
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            _child(module, sock, fds, (wake_r, wake_w))
        for received in fds:
            os.close(received)
        _send(sock, ("forked", pid))


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
