"""A guard around checks run by the API.

:func:`outside_nesting` lets a check run inside the user's own ``@given`` test. (The other
guard the API once had — cross-checking a Python loss's first complex-step derivative by
finite differences — now lives in the core oracle, :class:`gradcheck.oracle.choice.OracleChoice`, so spec
files get it too.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def outside_nesting() -> Iterator[None]:
    """Inside the user's ``@given`` test, let the check's own ``@given`` run.

    Hypothesis refuses nested ``@given`` by a health check read from the *default* settings
    (the outer test's settings cannot suppress it); a check of fixed points draws nothing
    worth shrinking twice, so the nesting is harmless here.
    """
    from hypothesis import HealthCheck, settings
    from hypothesis.control import currently_in_test_context

    if not currently_in_test_context():
        yield
        return
    try:
        from hypothesis._settings import local_settings
    except ImportError:  # pragma: no cover - a Hypothesis without it: the health check decides
        yield
        return
    current = settings.default
    relaxed = settings(current, suppress_health_check=[*current.suppress_health_check, HealthCheck.nested_given])
    with local_settings(relaxed):
        yield
