"""Two guards around user code run by the API.

:func:`complex_guard` catches Python code whose complex-step derivative is silently wrong.
The oracles already detect code that rejects complex input, warns, or returns a real
result; but code like ``np.abs(x) * x`` returns a complex result whose imaginary part is
not the derivative (``abs`` of a complex number is real, so the sign is lost). The guard
compares the first complex-step evaluation of the loss with finite differences along the
same direction; when they disagree it raises
:class:`~gradcheck.oracle.estimate.NotComplexSafe`, and the check falls back to finite
differences for the rest of the claim, saying so in the verdict's notes.

:func:`outside_nesting` lets a check run inside the user's own ``@given`` test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..oracle import finite_diff
from ..oracle.complex_step import STEP
from ..oracle.estimate import NotComplexSafe
from ..verdict.tolerance import EPS64, SAFETY

AGREE_RTOL = 1e-6  # finite differences are good to ~1e-10 on smooth code; only a real disagreement counts


def complex_guard(loss: Callable[..., Any]) -> Callable[..., Any]:
    """``loss``, with its first complex-step evaluation cross-checked by finite differences.

    Notes
    -----
    Costs one finite-difference directional derivative (a few dozen real evaluations) per
    guarded callable. Code that is complex-step safe at the first point but not elsewhere
    (a branch on a data-dependent condition) is not caught; the cross-check of a failing
    example in the core still makes such an example ``inconclusive``.
    """
    unsafe: dict[str, str | None] = {}  # per perturbed input: None (agrees) or why not

    def call(**kw):
        out = loss(**kw)
        perturbed = [k for k, v in kw.items() if isinstance(v, np.ndarray) and np.iscomplexobj(v)]
        if len(perturbed) != 1 or not np.iscomplexobj(out):
            return out  # a real call, or a dropped imaginary part (the oracle sees that itself)
        name = perturbed[0]
        if name not in unsafe:
            unsafe[name] = _disagreement(loss, kw, name, np.asarray(out))
        if unsafe[name] is not None:
            raise NotComplexSafe(unsafe[name])
        return out

    for attr in ("__name__", "__qualname__", "__module__"):
        setattr(call, attr, getattr(loss, attr, "loss"))
    return call


def _disagreement(loss: Callable[..., Any], kw: dict[str, Any], name: str, out: np.ndarray) -> str | None:
    """Why the complex step of ``loss`` along the perturbation of ``name`` is wrong, or None."""
    z = kw[name]
    x, v = z.real.copy(), z.imag / STEP
    if not np.any(v):
        return None
    cs = out.imag / STEP

    def real_loss(y):
        return np.real(np.asarray(loss(**{**kw, name: y})))

    try:
        fd = finite_diff.directional(real_loss, x, v)
    except Exception:  # the real code fails near x: nothing to compare, let the check decide
        return None
    allowed = SAFETY * (np.abs(fd.error) + 4 * EPS64 * np.abs(cs)) + AGREE_RTOL * np.maximum(np.abs(cs), np.abs(fd.value))
    if np.all(np.isfinite(fd.value)) and np.any(np.abs(cs - fd.value) > allowed):
        worst = int(np.argmax(np.abs(cs - fd.value) - allowed))
        return (
            f"its complex-step derivative {np.ravel(cs)[worst]:.10g} disagrees with finite differences "
            f"{np.ravel(fd.value)[worst]:.10g} ± {np.ravel(fd.error)[worst]:.2g}: a complex result that is not the "
            f"derivative (abs, conj, real/imag parts?)")
    return None


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
