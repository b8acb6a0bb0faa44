"""What a running pytest session publishes for the Python API, as two ``ContextVar``s.

The pytest plugin sets them in ``pytest_configure`` and resets them in ``pytest_unconfigure``;
the API reads them. Neither side imports the other, and this module imports nothing heavy.

``SESSION_SEED``
    The session's :class:`SessionSeed` (``--gradcheck-seed``, else drawn once by the controller
    and handed to xdist workers), or ``None`` outside a session. A Python API call without
    ``seed=`` uses it, so ``--gradcheck-seed`` also reproduces ``assert_gradient`` calls in
    test functions.
``API_VERDICTS``
    Where ``assert_gradient`` (``assert_vjp``, ``assert_jvp``, ``assert_value_and_grad``) hands
    its verdicts, so that the session's summary line counts them; ``None`` outside a session.
    ``check_*`` results are values the test judges for itself, and are not handed on.

A context variable is per thread: a thread that a test starts itself sees neither (its API
calls draw a random seed, printed in its failures, as outside pytest).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable, NamedTuple


class SessionSeed(NamedTuple):
    seed: int
    given: bool  # --gradcheck-seed: the run is reproducible, so Hypothesis's database stays off
    origin: str = "pytest"  # the CheckResult's seed_from ("random": one API call's own, shared by its inner checks)


SESSION_SEED: ContextVar[SessionSeed | None] = ContextVar("gradcheck_session_seed", default=None)
API_VERDICTS: ContextVar[Callable[[Any], None] | None] = ContextVar("gradcheck_api_verdicts", default=None)
