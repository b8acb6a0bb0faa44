"""The anchors: the gradient checkers people use today, each checking the *claimed* gradient.

Every anchor gets the same two numpy callables of one array, ``loss_of(theta) -> scalar`` and
``claim_of(theta) -> array like theta`` (the user's code), and the point ``theta``. It wraps
them the way that tool's users do, runs the tool's check with **its default tolerances**, and
returns an :class:`Outcome`: flagged or not, and the tool's own message.

=====================  ========================================================================
anchor                 how the claim is wrapped; what "flagged" means
=====================  ========================================================================
torch (full)           ``torch.autograd.Function`` whose forward calls ``loss_of`` and whose
                       backward calls ``claim_of``; ``torch.autograd.gradcheck`` raises
torch (fast_mode)      the same, ``gradcheck(..., fast_mode=True)`` raises
jax check_grads        ``jax.custom_vjp`` (primal and rule via ``jax.pure_callback``, so the
                       numpy code runs as is); ``check_grads(order=1, modes=["rev"])`` raises
autograd check_grads   ``@primitive`` + ``defvjp``; ``check_grads(f, modes=["rev"], order=1)``
                       raises
scipy check_grad       plain callables (flattened); it returns ||claim - FD||_2 and has no
                       tolerance: flagged when that exceeds 1e-5 ||claim||_2 (``np.allclose``'s
                       default rtol, a common rule of thumb)
numdifftools           ``nd.Gradient(loss_of, method="complex")``, compared with the claim by
                       ``np.allclose`` (defaults rtol=1e-5, atol=1e-8)
=====================  ========================================================================

An anchor whose package is missing reports ``available = False`` with a note; the benchmark
skips it.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


class BudgetExceeded(BaseException):
    """Raised by the per-anchor alarm. A BaseException, so a tool's ``except Exception`` cannot
    swallow it."""


@dataclass
class Outcome:
    flagged: bool | None  # None: did not finish (budget) or crashed
    message: str = ""
    seconds: float = 0.0  # CPU seconds of this process (all its threads): see ``clock``
    wall: float = 0.0
    over_budget: bool = False
    calls: dict = field(default_factory=dict)  # loss / loss-complex / grad calls during the check


def clock() -> float:
    """The benchmark's clock: CPU time of this process, all threads (user + system). gradcheck is
    measured in process (``measure.Gradcheck.run``: what a worker process does with a claim);
    subprocess figures (section 7) read their children's CPU from ``getrusage`` instead.

    The machine is shared: while other processes compete for the two cores, wall time counts
    the time this process waits for a core (measured here: single calls 20x slower than usual,
    in steps of the 4 ms scheduler tick), CPU time does not. Everything is single-threaded, so
    CPU time is the work done. Wall time is recorded beside it.
    """
    return time.process_time()


def with_budget(fn: Callable[[], tuple[bool, str]], seconds: float) -> Outcome:
    """Run one check under a wall-clock alarm (SIGALRM fires between numpy calls); the outcome
    carries its CPU seconds (also when stopped: a lower bound) and its wall seconds."""
    from problems import CALLS, reset_counts

    def on_alarm(signum, frame):
        raise BudgetExceeded()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    reset_counts()
    started, cpu = time.perf_counter(), clock()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        flagged, message = fn()
        out = Outcome(bool(flagged), message)
    except BudgetExceeded:
        out = Outcome(None, f"over the {seconds:g} s budget", over_budget=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    out.seconds = clock() - cpu
    out.wall = time.perf_counter() - started
    out.calls = dict(CALLS)
    return out


def _flags(check, error) -> tuple[bool, str]:
    """(flagged, message) of a checker that raises ``error`` when it flags the claim."""
    try:
        check()
    except error as exc:
        return True, _first_line(exc)
    return False, ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


class Anchor:
    name = ""
    package = ""
    kind = ""  # "full" (O(n) evaluations) or "directional"

    def __init__(self) -> None:
        self.available, self.note = True, ""
        try:
            self.setup()
        except Exception as exc:  # noqa: BLE001  an optional anchor that fails to import or set up is skipped, whatever it raises (an optional extra that is not installed)
            self.available, self.note = False, f"skipped: {_first_line(exc)} (pip install -e '.[bench]')"

    def setup(self) -> None:
        pass

    def prepare(self, loss_of, claim_of, theta: np.ndarray) -> Callable[[], tuple[bool, str]]:
        """Wrap the user's code once (as a user would, outside the timed loop); the returned
        callable runs one check and says whether it flagged the claim, with the tool's message."""
        raise NotImplementedError

    def check(self, loss_of, claim_of, theta: np.ndarray) -> tuple[bool, str]:
        return self.prepare(loss_of, claim_of, theta)()

    def version(self) -> str:
        import importlib.metadata as md

        try:
            return md.version(self.package)
        except Exception:  # noqa: BLE001  a version we cannot read is shown as '-'
            return "-"


class TorchAnchor(Anchor):
    package = "torch"
    kind = "full"
    name = "torch gradcheck (full)"
    fast = False

    def setup(self) -> None:
        import importlib

        import torch

        torch.set_num_threads(1)
        self.torch = torch
        # ``torch.autograd.gradcheck`` is both a function and a module: take the module's error
        self.GradcheckError = importlib.import_module("torch.autograd.gradcheck").GradcheckError

        class Claimed(torch.autograd.Function):
            @staticmethod
            def forward(ctx, theta, loss_of, claim_of):
                ctx.save_for_backward(theta)
                ctx.claim_of = claim_of
                value = loss_of(theta.detach().numpy())
                return torch.as_tensor(np.asarray(value), dtype=theta.dtype)

            @staticmethod
            def backward(ctx, g):
                (theta,) = ctx.saved_tensors
                c = np.asarray(ctx.claim_of(theta.detach().numpy()))
                return g * torch.as_tensor(c, dtype=theta.dtype), None, None

        self.Claimed = Claimed

    def prepare(self, loss_of, claim_of, theta):
        torch = self.torch
        t = torch.tensor(theta, requires_grad=True)  # keeps float32 inputs float32

        def fn(x):
            return self.Claimed.apply(x, loss_of, claim_of)

        return lambda: _flags(lambda: torch.autograd.gradcheck(fn, (t,), fast_mode=self.fast), self.GradcheckError)


class TorchFastAnchor(TorchAnchor):
    name = "torch gradcheck (fast_mode)"
    kind = "directional"
    fast = True


class JaxAnchor(Anchor):
    package = "jax"
    kind = "directional"
    name = "jax check_grads"

    def setup(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        from jax.test_util import check_grads

        self.jax, self.check_grads = jax, check_grads

    def prepare(self, loss_of, claim_of, theta):
        jax = self.jax
        dtype = theta.dtype

        # the callbacks are made once: pure_callback caches on the callable, a fresh lambda per
        # call would recompile every time
        def np_loss(a):
            return np.asarray(loss_of(np.asarray(a)), dtype=dtype)

        def np_claim(a):
            return np.asarray(claim_of(np.asarray(a)), dtype=dtype)

        loss_type = jax.ShapeDtypeStruct((), dtype)
        claim_type = jax.ShapeDtypeStruct(theta.shape, dtype)

        @jax.custom_vjp
        def f(t):
            return jax.pure_callback(np_loss, loss_type, t)

        def fwd(t):
            return f(t), t

        def bwd(t, g):
            return (g * jax.pure_callback(np_claim, claim_type, t),)

        f.defvjp(fwd, bwd)
        args = (jax.numpy.asarray(theta),)

        return lambda: _flags(lambda: self.check_grads(f, args, order=1, modes=["rev"]), AssertionError)


class AutogradAnchor(Anchor):
    package = "autograd"
    kind = "directional"
    name = "autograd check_grads"

    def setup(self) -> None:
        from autograd.extend import defvjp, primitive
        from autograd.test_util import check_grads

        self.primitive, self.defvjp, self.check_grads = primitive, defvjp, check_grads

    def prepare(self, loss_of, claim_of, theta):
        @self.primitive
        def f(t):
            return loss_of(t)

        self.defvjp(f, lambda ans, t: lambda g: g * claim_of(t))
        check = self.check_grads(f, modes=["rev"], order=1)

        def run():
            np.random.seed(0)  # autograd draws its direction from numpy's global generator
            return _flags(lambda: check(theta), AssertionError)

        return run


class ScipyAnchor(Anchor):
    package = "scipy"
    kind = "full"
    name = "scipy check_grad"
    RTOL = 1e-5

    def setup(self) -> None:
        from scipy.optimize import check_grad

        self.check_grad = check_grad

    def prepare(self, loss_of, claim_of, theta):
        shape = theta.shape

        def func(t):
            return loss_of(t.reshape(shape))

        def grad(t):
            return np.ravel(claim_of(t.reshape(shape)))

        x0 = theta.ravel()

        def run():
            err = self.check_grad(func, grad, x0)
            norm = float(np.linalg.norm(grad(x0)))
            flagged = not (err <= self.RTOL * norm)
            return flagged, f"||claim - FD|| = {err:.3g} = {err / max(norm, 1e-300):.2g} ||claim||"

        return run


class NumdifftoolsAnchor(Anchor):
    package = "numdifftools"
    kind = "full"
    name = "numdifftools Gradient (complex)"

    def setup(self) -> None:
        import numdifftools

        self.nd = numdifftools

    def prepare(self, loss_of, claim_of, theta):
        shape = theta.shape
        gradient = self.nd.Gradient(lambda t: loss_of(np.reshape(t, shape)), method="complex")
        x0 = theta.ravel()

        def run():
            g = np.ravel(gradient(x0))
            c = np.ravel(claim_of(theta))
            bad = ~np.isclose(c, g)
            return bool(bad.any()), f"{int(bad.sum())} of {c.size} entries not allclose"

        return run


ALL = (TorchAnchor, TorchFastAnchor, JaxAnchor, AutogradAnchor, ScipyAnchor, NumdifftoolsAnchor)


def load_anchors() -> list[Anchor]:
    return [cls() for cls in ALL]
