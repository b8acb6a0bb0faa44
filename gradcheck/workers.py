"""User code out of process: claims are checked in worker processes, and the run that owns the
exit code and the report only schedules and collects (STYLE 12).

A worker is ``python -m gradcheck.workers``: it imports the checking machinery once, then checks
one claim per task (the spec read again, and cached, on its side) and sends the Verdict back as
a value. Each worker runs in its own session (its forks and threads die with it), under an
address-space limit (``RLIMIT_AS``, ``--memory-limit``), and before every task its working
directory, search path, environment, standard streams and recursion limit are pinned to the
supervisor's again: what one claim does to its process does not leak into the next. The
supervisor enforces the claim's wall-clock deadline itself: the worker's own alarm (which ends
the claim with its examples so far) first, then SIGKILL after a grace period, which no C call
and no ignored signal outlives. A worker that dies is an ``error`` verdict about its claim; the
run goes on in a fresh worker. Workers are reused across claims (and across runs in one
process) and replaced only when one dies.

Messages (pickled over two pipes): supervisor -> worker ``Task``; worker -> supervisor
``("ready",)`` once, then per task ``("verdict", Verdict)``, ``("failure", message, line)`` (a
python entry that cannot be imported) or ``("oom",)``. The supervisor unpickles only verdict
values (:class:`_VerdictUnpickler`): a worker cannot make it run anything.
"""

from __future__ import annotations

import atexit
import io
import itertools
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterable, Iterator

__all__ = [
    "Died",
    "Pool",
    "Task",
    "claim_timeout",
    "default_memory_limit",
    "died_verdict",
    "error_verdict",
    "new_run",
    "pool",
]

STARTUP_LIMIT = 300.0  # seconds a new worker may take to import numpy, scipy and Hypothesis


def grace(timeout: float) -> float:
    """Seconds between the worker's own alarm and SIGKILL: time to unwind and send the verdict."""
    return max(2.0, 0.1 * timeout)


def default_memory_limit() -> float:
    """The physical memory of the machine in MiB (0 where unknown: no limit)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return 0.0


@dataclass(frozen=True)
class Task:
    """Check ``problem.plans[index]`` of the spec ``file`` under ``options`` and the run ``seed``.

    The worker builds the CheckSettings itself: the supervisor need not import the numerics.
    """

    file: str
    index: int
    options: Any  # RunOptions
    seed: int
    cwd: str
    path: tuple[str, ...]
    env: dict[str, str]
    run: int  # which run of this supervisor: a worker reads each spec again once per run


_runs = itertools.count()


def new_run() -> int:
    """A token for one run: tasks of the same run share the worker's reading of each spec."""
    return next(_runs)


@dataclass(frozen=True)
class Died:
    """The worker did not return a verdict: why, in the words of the message."""

    reason: str  # "signal 11", "exit status 0 before returning", "out of memory", "timed out after 1 s, killed"
    hint: str


# ---------------------------------------------------------------------------------------------
# the supervisor's side


class _VerdictUnpickler(pickle.Unpickler):
    """Unpickles verdicts and nothing else: gradcheck's value classes, numpy arrays, a few builtins."""

    _BUILTINS = {"complex", "frozenset", "set", "slice", "range", "float", "int", "bytearray"}
    _NUMPY = {"_reconstruct", "scalar", "_frombuffer", "ndarray", "dtype"}

    def find_class(self, module: str, name: str):
        allowed = (
            (module == "builtins" and name in self._BUILTINS)
            or (module.startswith("gradcheck.verdict.") or module == "gradcheck.errors")
            or ((module == "numpy" or module.startswith("numpy.")) and name in self._NUMPY)
        )
        if allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it sent {module}.{name}, which is not a verdict value")


def _loads(data: bytes):
    return _VerdictUnpickler(io.BytesIO(data)).load()


class _Worker:
    """One worker process and its two pipes; ``end`` is when its current claim's time is up."""

    def __init__(self, memory_limit: float) -> None:
        down_r, down_w = os.pipe()  # supervisor -> worker
        up_r, up_w = os.pipe()  # worker -> supervisor
        try:
            out = sys.stderr.fileno()  # the user's prints go to stderr, never into the report on stdout
        except (AttributeError, ValueError, OSError):
            out = subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gradcheck.workers", str(down_r), str(up_w), repr(float(memory_limit))],
                pass_fds=(down_r, up_w),
                stdin=subprocess.DEVNULL,
                stdout=out,
                start_new_session=True,  # its own process group: its forks die with it; no Ctrl-C of its own
            )
        finally:
            os.close(down_r)
            os.close(up_w)
        self.tx = Connection(down_w, readable=False)
        self.rx = Connection(up_r, writable=False)
        self.ready = False
        self.timeout = 0.0  # the current claim's --timeout (0: none)
        self.end: float | None = time.monotonic() + STARTUP_LIMIT

    def send(self, task: Task, timeout: float) -> Died | None:
        """Hand over a task (the pipe holds it while the worker is still starting)."""
        self.timeout = timeout
        if self.ready:
            self._arm()
        try:
            self.tx.send(task)
        except OSError:
            return self._died()
        return None

    def _arm(self) -> None:
        t = self.timeout
        self.end = time.monotonic() + t + grace(t) if t and t > 0 else None

    def receive(self):
        """The next message, when ``rx`` is readable: None for "ready", else a reply or Died."""
        try:
            reply = _loads(self.rx.recv_bytes())
        except (EOFError, OSError):
            return self._died()
        except pickle.UnpicklingError as err:
            self.kill()
            return Died(
                f"killed: {err}",
                "its reply held more than plain values: an object array from the claim,"
                " or the claim's code wrote into gradcheck's pipe",
            )
        if reply == ("ready",):
            self.ready = True
            self._arm()
            return None
        if reply == ("oom",):
            self.kill()
            return Died("out of memory", "raise the limit with --memory-limit MIB (0 = none)")
        return reply

    def overdue(self) -> Died:
        """The deadline passed and the worker did not answer: kill it."""
        self.kill()
        if not self.ready:
            return Died(f"it did not start within {STARTUP_LIMIT:g} s", "is the machine overloaded?")
        return Died(
            f"timed out after {self.timeout:g} s, killed",
            "it ignored the deadline's alarm (a long call in C code, or code that swallows it): it was killed",
        )

    def _died(self) -> Died:
        self.kill()
        code = self.proc.returncode
        if code is not None and code < 0:
            return Died(
                f"signal {-code}",
                "a crash in compiled code, or a signal from outside; the other claims ran on in a new process",
            )
        return Died(
            f"exit status {code} before returning",
            "the claim's code ended its process (os._exit?); the other claims ran on in a new process",
        )

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (its forks too) and reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
        for conn in (self.tx, self.rx):
            conn.close()


_PENDING = object()


class Pool:
    """``size`` worker processes; :meth:`ordered` runs tasks on them and yields the replies in order."""

    def __init__(self, memory_limit: float, size: int = 1) -> None:
        self.memory_limit = memory_limit
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self.owner = threading.current_thread()  # its workers die with this thread (PR_SET_PDEATHSIG)

    def start(self) -> None:
        """Start a worker now, so that its imports overlap the supervisor's reading of the specs.
        The others start when a second claim is ready while the first runs (a run of one claim
        never pays for more than one worker's start-up)."""
        self._idle = [w for w in self._idle if w.alive]
        if not self._idle:
            self._idle.append(_Worker(self.memory_limit))

    def ordered(self, entries: Iterable, work: Callable, skip: Callable) -> Iterator[tuple[Any, Any]]:
        """Yield ``(entry, reply)`` for each of ``entries``, in their order.

        ``work(entry)`` is ``(Task, timeout)``, or None for an entry with nothing to run (its reply
        is None); ``skip(entry)``, asked just before it would run, leaves it out (reply None).
        A reply is the worker's tuple or :class:`Died`. Up to ``size`` tasks run at once; each is
        killed at its deadline. An interruption (Ctrl-C, SIGTERM) kills the busy workers.
        """
        from multiprocessing.connection import wait

        window: deque[list] = deque()  # [entry, reply] in input order, reply _PENDING while it runs
        busy: dict[Connection, tuple[_Worker, list]] = {}
        source = iter(entries)
        more = True
        try:
            while True:
                while more and len(busy) < self.size:
                    entry = next(source, _PENDING)
                    if entry is _PENDING:
                        more = False
                        break
                    slot = [entry, None]
                    window.append(slot)
                    job = work(entry)
                    if job is None or skip(entry):
                        continue
                    worker = self._take()
                    slot[1] = worker.send(*job) or _PENDING
                    if slot[1] is _PENDING:
                        busy[worker.rx] = (worker, slot)
                while window and window[0][1] is not _PENDING:
                    yield tuple(window.popleft())
                if not busy:
                    if not more:
                        return
                    continue
                ends = [w.end for w, _ in busy.values() if w.end is not None]
                limit = max(0.0, min(ends) - time.monotonic()) if ends else None
                for conn in wait(list(busy), limit):
                    worker, slot = busy[conn]
                    reply = worker.receive()
                    if reply is None:  # "ready": its claim's clock starts now
                        continue
                    del busy[conn]
                    slot[1] = reply
                    if not isinstance(reply, Died):
                        self._idle.append(worker)
                now = time.monotonic()
                for conn, (worker, slot) in list(busy.items()):
                    if worker.end is not None and worker.end <= now:
                        del busy[conn]
                        slot[1] = worker.overdue()
        finally:
            for worker, _ in busy.values():  # interrupted, or the caller stopped early
                worker.kill()

    def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            worker.kill()
        return _Worker(self.memory_limit)

    def close(self) -> None:
        for worker in self._idle:
            worker.kill()
        self._idle = []


_pools: dict[tuple[float, int], Pool] = {}
_lock = threading.Lock()


def pool(memory_limit: float, size: int = 1):
    """The process's pool of ``size`` workers under this memory limit, held for the caller (a
    context manager). Reused by later runs on the same thread (the workers die with the thread
    that started them); a run on another thread at the same time gets a pool of its own, closed
    after it.
    """
    import contextlib

    key = (memory_limit, max(1, size))

    @contextlib.contextmanager
    def held():
        if _lock.acquire(blocking=False):
            try:
                here = threading.current_thread()
                for other in [k for k, p in _pools.items() if k != key or p.owner is not here]:
                    _pools.pop(other).close()
                yield _pools.setdefault(key, Pool(memory_limit, size))
            finally:
                _lock.release()
        else:
            own = Pool(memory_limit, size)
            try:
                yield own
            finally:
                own.close()

    return held()


@atexit.register
def _close_all() -> None:
    for p in list(_pools.values()):
        p.close()
    _pools.clear()


# ---------------------------------------------------------------------------------------------
# the worker's side


class _Pinned:
    """What a claim may change in its process and the next claim must not see."""

    def __init__(self) -> None:
        self.recursion = sys.getrecursionlimit()
        self.out_fd = os.dup(1)
        self.err_fd = os.dup(2)
        self.stdout = sys.stdout
        self.stderr = sys.stderr

    def restore(self, task: Task | None = None) -> None:
        sys.setrecursionlimit(self.recursion)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig in (signal.SIGALRM, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor handles Ctrl-C
        os.dup2(self.out_fd, 1)
        os.dup2(self.err_fd, 2)
        if sys.stdout is not self.stdout or self.stdout.closed:
            self.stdout = sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        if sys.stderr is not self.stderr or self.stderr.closed:
            self.stderr = sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), line_buffering=True, errors="backslashreplace"
            )
        if task is not None:
            os.chdir(task.cwd)
            sys.path[:] = task.path
            if dict(os.environ) != task.env:
                os.environ.clear()
                os.environ.update(task.env)


def _serve(task: Task, problems: dict) -> tuple:
    from .check import check_plan
    from .errors import SpecError
    from .run import check_settings, read_problem
    from .user_limits import deadline

    timeout = claim_timeout(task.options)
    started = time.perf_counter()
    problem = plan = None
    try:
        with deadline(timeout):  # everything for the claim: reading, import of user code, refinement
            if problems.get("run") != task.run:  # a new run reads its specs again (they may have changed)
                problems.clear()
                problems["run"] = task.run
            key = (task.file, task.options.no_python)
            if key not in problems:
                problems[key] = read_problem(task.file, task.options)
            problem = problems[key]
            plan = problem.plans[task.index]
            return ("verdict", check_plan(problem, plan, check_settings(problem.spec, task.options, task.seed)))
    except SpecError as err:
        return ("failure", str(err), err.location.line if err.location else 0)
    except MemoryError:
        return ("oom",)
    except BaseException as exc:  # the deadline; SystemExit, GeneratorExit, KeyboardInterrupt from the claim's code
        if plan is None:
            raise
        diagnosis, lines = _stopped(exc, timeout)
        return ("verdict", error_verdict(problem, plan, task.seed, diagnosis, lines, time.perf_counter() - started))


def _stopped(exc: BaseException, timeout: float) -> tuple[str, tuple[str, ...]]:
    """The diagnosis and lines of a claim whose check did not return: it ran out of time, or its
    code raised past the check."""
    from .user_limits import ClaimTimeout, user_traceback

    if isinstance(exc, ClaimTimeout):
        return f"timed out after {timeout:g} s", ("raise the limit with --timeout SECONDS (0 = none)",)
    text = str(exc)
    return f"the claim raised {type(exc).__name__}" + (f": {text}" if text else ""), user_traceback(exc)


def default_jobs() -> int:
    """``--jobs`` when it is not given: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def claim_timeout(options) -> float:
    """The claim's wall-clock limit in seconds (0: none), as :func:`gradcheck.run.check_settings` has it."""
    from .run import DEFAULT_TIMEOUT

    return options.timeout if options.timeout is not None else DEFAULT_TIMEOUT


def error_verdict(problem, plan, seed: int, diagnosis: str, lines: tuple[str, ...], seconds: float = 0.0):
    """An ``error`` Verdict for ``plan`` that no check produced (a timeout, a process that died)."""
    from .problem.build import claim_fields
    from .verdict.model import Label, Verdict

    return Verdict(
        **claim_fields(problem, plan, seed),
        label=Label.ERROR,
        diagnosis=diagnosis,
        lines=lines,
        max_rel_error=math.nan,
        examples=0,
        seconds=seconds,
    )


def died_verdict(problem, plan, seed: int, died: Died):
    """``error: the claim's process died (signal 11)``, with what it means."""
    return error_verdict(problem, plan, seed, f"the claim's process died ({died.reason})", (died.hint,))


def _die_with_parent() -> None:
    """On Linux, SIGKILL this worker when its supervisor dies, however it dies (even by SIGKILL,
    with a claim stuck in C): ``prctl(PR_SET_PDEATHSIG)``. Elsewhere the worker ends when it
    next reads its pipe and finds it closed."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """``python -m gradcheck.workers READ_FD WRITE_FD MEMORY_LIMIT_MIB``: serve tasks until EOF."""
    down, up, limit = (argv if argv is not None else sys.argv[1:])[:3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    mib = float(limit)
    if mib > 0:
        import resource

        cap = int(mib * 2**20)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    rx = Connection(int(down), writable=False)
    tx = Connection(int(up), readable=False)
    me = os.getpid()
    # the heavy imports, once, before the first claim's clock starts: gradcheck's own start-up is
    # not the claim's time (a replacement worker under load took seconds of a 3 s --timeout)
    import hypothesis  # noqa: F401
    import hypothesis.strategies  # noqa: F401

    import gradcheck.check  # noqa: F401
    import gradcheck.repair.search  # noqa: F401
    import gradcheck.run  # noqa: F401
    import gradcheck.samples.draw  # noqa: F401

    pinned = _Pinned()
    tx.send(("ready",))
    problems: dict = {}
    scipy_loaded = True  # not before the first claim: a small spec's run never waits for it
    while True:
        if not scipy_loaded and not rx.poll(0):
            # SciPy (finite differences) is imported while this worker is idle between claims, so
            # that a later claim's clock does not pay for it
            import scipy.differentiate  # noqa: F401

            scipy_loaded = True
        try:
            task = rx.recv()
        except (EOFError, OSError):
            os._exit(0)
        pinned.restore(task)
        reply = _serve(task, problems)
        if os.getpid() != me:  # a fork made by the claim's code: only the worker itself answers
            os._exit(0)
        pinned.restore()
        tx.send(reply)
        scipy_loaded = "scipy.differentiate" in sys.modules
        if reply[0] == "oom":
            os._exit(0)


if __name__ == "__main__":
    main()
