"""The isolation mechanism: child processes, how they ended, and the frames they talk in.

Never ``fork`` a process that has used JAX: pools ``spawn`` (:mod:`.pool`), and
:class:`ChildProcess` runs ``python -m MODULE`` through ``subprocess`` (fork + immediate exec), in a
new session so a hang can be killed with its whole process group; or, with ``forked=True``, has a fork server
(:mod:`.zygote`) that imported ``MODULE`` but never started a JAX backend fork it, in a session of its own too.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import pickle
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, TypeVar

__all__ = ["SITE_BYTES", "TAIL_BYTES", "ChildProcess", "crash_site", "describe_exit", "die_with_parent",
           "fork_child", "recv", "send", "signal_name", "start_child", "steady_text"]

#: Bytes of a child's stderr kept for a crash report.
TAIL_BYTES = 4000
#: Bytes of a dead child's stderr searched for its :func:`crash_site`: an XLA CHECK failure's line comes
#: before its C++ stack trace and Python's faulthandler stack, together often more than :data:`TAIL_BYTES`.
SITE_BYTES = 1 << 16

#: What a process that aborts itself prints last about why, one pattern a source: absl's FATAL log line
#: (XLA's ``CHECK``/``LOG(FATAL)``: ``F1202 15:27:13.374130    3798 file.cc:497] Check failed: ...``),
#: glibc's heap-corruption aborts, LLVM's fatal errors and an uncaught C++ exception.
_FATAL = re.compile(
    r"^F\d{4} [\d:.]+\s+\d+ (?P<absl>[\w.+-]+:\d+\] .*?)\s*$"
    r"|^(?P<glibc>(?:free|malloc|realloc|munmap_chunk|malloc_consolidate)\(\): .+"
    r"|double free or corruption.*|corrupted (?:size|double-linked list).*)$"
    r"|^(?P<llvm>LLVM ERROR: .+)$"
    r"|^(?P<cxx>terminate called after throwing an instance of .+)$",
    re.MULTILINE,
)
_HEADER = struct.Struct(">Q")


def signal_name(number: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(number).name
    return f"signal {number}"


def describe_exit(exitcode: int | None) -> str:
    """``worker killed by SIGSEGV``, ``worker exited with status 3``, ``worker vanished``."""
    if exitcode is None:
        return "worker vanished"
    if exitcode < 0:
        return f"worker killed by {signal_name(-exitcode)}"
    return f"worker exited with status {exitcode}"


def crash_site(stderr: str) -> str:
    """The line where a dead process said why it aborted (the last such line in ``stderr``), or "".

    ``spmd_partitioner_util.cc:497] Check failed: ...`` for an XLA CHECK failure (the log prefix with
    its time and thread dropped), ``free(): invalid pointer`` for glibc. A plain segfault says nothing
    of where: "" then."""
    site = ""
    for match in _FATAL.finditer(stderr):
        site = next(group for group in match.groups() if group is not None)
    return site[:500]


#: What differs between two runs of one crash: an absl log line's time and thread (``E1203 06:29:39.243320   29642
#: file.cc:58]``), addresses (ASLR: a C++ stack's frames, Python's ``Thread 0x00007f...``), a signal's time and CPU,
#: and faulthandler's list of extension modules (those the process happened to import for earlier programs).
_VOLATILE: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"^([FEWI])\d{4} [\d:.]+\s+\d+ ", re.MULTILINE), r"\g<1>0000 00:00:00.000000 0 "),
    (re.compile(r"\b0x[0-9a-fA-F]{4,}\b"), "0x_"),
    (re.compile(r"received at time=\d+ on cpu \d+"), "received"),
    (re.compile(r"^Extension modules: .*$", re.MULTILINE), "Extension modules: (left out)"),
)


@functools.lru_cache(maxsize=1)
def _install_dirs() -> tuple[re.Pattern[str], dict[str, str]]:
    """Where this interpreter's code is installed, each with the name it is masked as: the site-packages
    directories (``<site-packages>``), the standard library (``<stdlib>``), the directory jaxsynth is imported
    from (``<jaxsynth>``: a checkout, for an editable install) and the interpreter's prefixes (``<prefix>``),
    as given and as resolved; one pattern, longest first, so the most specific name wins."""
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    named = [(paths.get("purelib"), "<site-packages>"), (paths.get("platlib"), "<site-packages>"),
             *((d, "<site-packages>") for d in site.getsitepackages()),
             (site.getusersitepackages() if site.ENABLE_USER_SITE else None, "<site-packages>"),
             (paths.get("stdlib"), "<stdlib>"), (paths.get("platstdlib"), "<stdlib>"),
             (os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "<jaxsynth>"),
             (sys.prefix, "<prefix>"), (sys.base_prefix, "<prefix>"), (sys.exec_prefix, "<prefix>")]
    names: dict[str, str] = {}
    for directory, name in named:
        for form in {directory, os.path.realpath(directory)} if directory and len(directory) > 1 else ():
            names.setdefault(form.rstrip(os.sep) + os.sep, name + os.sep)
    alternatives = "|".join(re.escape(d) for d in sorted(names, key=len, reverse=True))
    return re.compile(alternatives or "(?!)"), names  # (?!): nothing to name, nothing matches


def steady_text(text: str, size: int | None = None) -> str:
    """``text`` (a crash's stderr) with what differs from run to run masked (:data:`_VOLATILE`), and the
    directories this interpreter's code is installed in named (:func:`_install_dirs`: a Python stack's
    ``File "<site-packages>/jax/_src/compiler.py"``), so a finding written twice, or on another machine with
    the same toolchain, is the same bytes; the lines, their order and every message stay (:func:`crash_site`
    still finds the site). With ``size``: its last ``size`` characters from the start of a line (the lengths of
    what is masked vary, so a cut through a line would too)."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    installed, names = _install_dirs()
    text = installed.sub(lambda match: names[match.group(0)], text)
    if size is not None and len(text) > size:
        text = text[-size:]
        text = text[text.find("\n") + 1:]
    return text


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (e.g. ``kill -9`` of the run).

    To the kernel the parent is the *thread* that started the child: start children with :func:`start_child`."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl
            os._exit(0)


_T = TypeVar("_T")
_starter: ThreadPoolExecutor | None = None
_starter_lock = threading.Lock()


def start_child(start: Callable[[], _T]) -> _T:
    """``start()`` (a ``Popen``, a ``Process.start``) on a thread that lives as long as this process.

    :func:`die_with_parent` has Linux kill a child when its parent dies, and for the kernel the parent is the
    thread that started the child. A fuzz worker that a campaign's tester thread had started was SIGKILLed when
    testing ended; the reduction that took the worker over next read "worker killed by SIGKILL" as a candidate
    that no longer fails, so a 2-worker campaign reduced a finding differently from a 1-worker one. The main
    thread lives as long as the process and starts its children itself; any other thread hands the start to
    one long-lived thread."""
    global _starter
    if threading.current_thread() is threading.main_thread():
        return start()
    with _starter_lock:
        if _starter is None:
            _starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jaxsynth-child-starter")
    return _starter.submit(start).result()


# ---------------------------------------------------------------- frames: length-prefixed pickles
def send(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def recv(stream: BinaryIO) -> Any:
    """The next message, or None at end of stream."""
    header = _read_exact(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    payload = _read_exact(stream, size)
    if payload is None:
        return None
    return pickle.loads(payload)  # noqa: S301 - our own parent or child process


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- fork servers
#: Fork servers kept at once (one per module and environment; each holds an interpreter with JAX imported).
MAX_ZYGOTES = 4
#: Seconds a fork server may take to import its module.
ZYGOTE_STARTUP_TIMEOUT = 300.0
#: The most bytes of one message between a fork server and its parent (each one small pickle, either way).
ZYGOTE_MESSAGE_BYTES = 1 << 16


class _Zygote:
    """The parent's side of one fork server (:mod:`.zygote`): forks children, hears of their exits."""

    def __init__(self, module: str, env: dict[str, str] | None, preload: tuple[str, ...]) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile(prefix="jaxsynth-zygote-")
        try:
            self.proc = start_child(lambda: subprocess.Popen(
                [sys.executable, "-m", "jaxsynth.workers.zygote", module, str(theirs.fileno()), *preload],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env, pass_fds=(theirs.fileno(),),
                start_new_session=True))
        finally:
            theirs.close()
        self.lock = threading.Lock()
        self.exits: dict[int, int | None] = {}
        self.children: set[int] = set()
        self.ready: bool | None = None  # None: not heard from yet; False: unusable (use subprocess instead)
        self.refused = False  # did not come up, or with more than one thread: not to be tried again

    def _handle(self, message: tuple) -> Any:
        if message[0] == "exit":
            self.exits[message[1]] = message[2]
            self.children.discard(message[1])
        return message

    def _receive(self, timeout: float | None) -> tuple | None:
        """The next message within ``timeout`` seconds (None: wait); None on none, or when the server is gone
        (then every child not yet reported is reported killed: they die with it)."""
        if self.sock.fileno() < 0:  # closed
            return None
        if timeout is not None:
            ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
            if not ready:
                return None
        try:
            data = self.sock.recv(ZYGOTE_MESSAGE_BYTES)
        except OSError:
            data = b""
        if not data:
            self.ready = False
            for pid in self.children:
                self.exits.setdefault(pid, None)
            self.children.clear()
            return None
        return self._handle(pickle.loads(data))  # noqa: S301 - our own fork server

    def usable(self) -> bool:
        """Whether the server is up, with one thread and no JAX backend (waits for it to say so)."""
        with self.lock:
            if self.ready is None:
                message = self._receive(ZYGOTE_STARTUP_TIMEOUT)
                self.ready = bool(message) and message[0] == "ready" and message[1] is True
                self.refused = not self.ready
            return self.ready

    def fork(self, fds: tuple[int, int, int]) -> int | None:
        """A child with ``fds`` as its stdin, stdout and stderr: its pid, or None where the server is gone."""
        if not self.usable():
            return None
        with self.lock:
            try:
                socket.send_fds(self.sock, [pickle.dumps(("fork",))], list(fds))
            except OSError:
                self.ready = False
                return None
            while (message := self._receive(None)) is not None:
                if message[0] == "forked":
                    if message[1] is not None:
                        self.children.add(message[1])
                    return message[1]
            return None

    def status(self, pid: int, timeout: float = 0.0) -> tuple[bool, int | None]:
        """(whether child ``pid`` has ended, its exit status) after waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                while pid not in self.exits and self._receive(0.0) is not None:
                    pass
                if pid in self.exits:
                    return True, self.exits[pid]
                if self.ready is False and pid not in self.children:
                    return True, None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False, None
            if self.sock.fileno() < 0:
                return True, None
            select.select([self.sock], [], [], min(remaining, 0.05))

    def idle(self) -> bool:
        with self.lock:
            while self._receive(0.0) is not None:
                pass
            return not self.children

    def close(self) -> None:
        """End the server (its children die with it)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        self.log.close()


_zygotes: dict[tuple[Any, ...], _Zygote] = {}
_zygotes_lock = threading.Lock()


def _zygote(module: str, env: dict[str, str] | None, preload: tuple[str, ...] = ()) -> _Zygote | None:
    """The fork server for ``module`` (and ``preload``) under ``env`` (started on first use), or None where none
    can serve: the most recent :data:`MAX_ZYGOTES` are kept, an idle one makes way for a new one."""
    key = (module, preload, tuple(sorted((os.environ if env is None else env).items())))
    with _zygotes_lock:
        zygote = _zygotes.pop(key, None)
        if zygote is not None and not zygote.refused and (zygote.ready is False or zygote.proc.poll() is not None):
            # it died (killed from outside): start another
            zygote.close()
            zygote = None
        if zygote is None:
            if len(_zygotes) >= MAX_ZYGOTES:
                idle = next((k for k, z in _zygotes.items() if z.ready is False or z.idle()), None)
                if idle is None:
                    return None
                _zygotes.pop(idle).close()
            zygote = _Zygote(module, env, preload)
        _zygotes[key] = zygote  # most recently used last
        return zygote


@atexit.register
def _close_zygotes() -> None:
    with _zygotes_lock:
        for zygote in _zygotes.values():
            zygote.close()
        _zygotes.clear()


def fork_child(module: str, env: dict[str, str] | None, fds: tuple[int, int, int], preload: tuple[str, ...] = ()
               ) -> _Forked | None:
    """A child forked by the fork server of ``module`` (after ``MODULE.prepare()`` and importing ``preload``)
    under ``env``, running ``MODULE.main()`` with ``fds`` as its stdin, stdout and stderr (this process keeps its
    own copies); None where no fork server can serve, and the caller starts the child another way."""
    zygote = _zygote(module, env, preload)
    pid = zygote.fork(fds) if zygote is not None else None
    return None if pid is None else _Forked(zygote, pid)


class _Forked:
    """A fork server's child, with the part of ``subprocess.Popen``'s interface :class:`ChildProcess` uses, and of
    ``multiprocessing.Process``'s that :class:`~jaxsynth.workers.pool.WorkerPool` uses (``sentinel``,
    ``exitcode``, ``is_alive``, ``join``)."""

    def __init__(self, zygote: _Zygote, pid: int) -> None:
        self.zygote, self.pid = zygote, pid
        self.stdin: BinaryIO | None = None
        self.stdout: BinaryIO | None = None
        self.returncode: int | None = None
        self._pidfd: int | None = None

    @property
    def sentinel(self) -> int:
        """A descriptor that becomes readable when the child ends (a pidfd), for ``multiprocessing.connection.wait``
        (Linux 5.3 and later)."""
        if self._pidfd is None:
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except ProcessLookupError:  # ended and reaped already: a descriptor that is readable at once
                self._pidfd, done = os.pipe()
                os.close(done)
        return self._pidfd

    def _ended(self, status: int | None) -> int:
        self.returncode = -signal.SIGKILL if status is None else status  # None: died with its fork server
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return self.returncode

    @property
    def exitcode(self) -> int | None:
        return self.poll()

    def is_alive(self) -> bool:
        return self.poll() is None

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.wait(timeout)

    def poll(self) -> int | None:
        if self.returncode is None:
            ended, status = self.zygote.status(self.pid)
            if ended:
                self._ended(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ended, status = self.zygote.status(self.pid, 1e9 if timeout is None else timeout)
            if not ended:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            self._ended(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:  # never a pid the fork server has reaped (and the system may have given out again)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


# ---------------------------------------------------------------- a child in its own session
class ChildProcess:
    """``python -m MODULE`` with pipes on stdin/stdout (frames) and stderr captured to a temporary file.

    With ``forked=True``, the child is forked by a fork server (:mod:`.zygote`) for ``MODULE`` and ``env``
    instead, which runs ``MODULE.prepare()`` once and ``MODULE.main()`` in each child: the same process, ready
    sooner. Where no server can serve (one that did not come up, with a single thread and no JAX backend, or too
    many busy), it is ``python -m MODULE`` after all."""

    def __init__(self, module: str, env: dict[str, str] | None, forked: bool = False) -> None:
        self.log = tempfile.TemporaryFile(prefix="jaxsynth-worker-")
        self.proc: subprocess.Popen | _Forked
        forked_child = None
        if forked:
            stdin_r, stdin_w = os.pipe()
            stdout_r, stdout_w = os.pipe()
            try:
                forked_child = fork_child(module, env, (stdin_r, stdout_w, self.log.fileno()))
            finally:
                os.close(stdin_r)
                os.close(stdout_w)
            if forked_child is None:
                os.close(stdin_w)
                os.close(stdout_r)
            else:
                forked_child.stdin = os.fdopen(stdin_w, "wb", buffering=0)
                forked_child.stdout = os.fdopen(stdout_r, "rb", buffering=0)
                self.proc = forked_child
        if forked_child is None:
            self.proc = start_child(lambda: subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                env=env,
                start_new_session=True,
                bufsize=0,
            ))
        self.ready = False

    @property
    def stdin(self) -> BinaryIO:
        return self.proc.stdin  # type: ignore[return-value]

    @property
    def stdout(self) -> BinaryIO:
        return self.proc.stdout  # type: ignore[return-value]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, size: int = TAIL_BYTES) -> str:
        """The last ``size`` bytes of the child's stderr."""
        try:
            self.log.flush()
            end = self.log.seek(0, os.SEEK_END)
            self.log.seek(max(0, end - size))
            return self.log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def wait_readable(self, deadline: float) -> bool:
        """Whether the child has written something before ``deadline`` (``time.monotonic``)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
        return bool(ready)

    def wait(self, timeout: float = 30) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover
            return None

    def kill(self) -> None:
        """SIGKILL the child's whole process group and release its pipes and log."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream:
                    stream.close()
        self.log.close()
