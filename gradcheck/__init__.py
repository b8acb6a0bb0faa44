"""gradcheck: is your hand-derived gradient right?

The public API. Importing ``gradcheck`` imports nothing heavy (no numpy, scipy, pandas or
Hypothesis): the names below are loaded on first use, so the pytest plugin and
``gradcheck --help`` stay fast.

- :func:`check_gradient`, :func:`check_vjp`, :func:`check_jvp` return a :class:`CheckResult`
  (one :class:`Verdict` per wrt, with its evidence and ``.frame()`` of the examples);
- :func:`check_value_and_grad` checks ``f(x) -> (value, gradient)`` (scipy.optimize's ``jac=True``);
- :func:`assert_gradient`, :func:`assert_vjp`, :func:`assert_jvp`, :func:`assert_value_and_grad`
  raise ``AssertionError`` with the failure block;
- :func:`check_hvp`, :func:`check_hessian`, :func:`check_jacobian` (and their ``assert_`` twins)
  check second-order and Jacobian claims by reduction to first-order ones;
- :func:`problems` is a Hypothesis strategy of drawn :class:`Example` inputs.

Spec files are checked by ``gradcheck.run.run(paths, RunOptions(...))``, as ``gradcheck check`` does
(the submodule ``gradcheck.run`` shadows any package attribute of that name, so it is not re-exported).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CheckResult",
    "Example",
    "GradcheckError",
    "RunOptions",
    "SpecError",
    "Verdict",
    "assert_gradient",
    "assert_hessian",
    "assert_hvp",
    "assert_jacobian",
    "assert_jvp",
    "assert_value_and_grad",
    "assert_vjp",
    "check_gradient",
    "check_hessian",
    "check_hvp",
    "check_jacobian",
    "check_jvp",
    "check_value_and_grad",
    "check_vjp",
    "problems",
]

_WHERE = {
    "CheckResult": "gradcheck.api",
    "Example": "gradcheck.api",
    "assert_gradient": "gradcheck.api",
    "assert_jvp": "gradcheck.api",
    "assert_vjp": "gradcheck.api",
    "check_gradient": "gradcheck.api",
    "check_jvp": "gradcheck.api",
    "check_vjp": "gradcheck.api",
    "problems": "gradcheck.api",
    "check_hessian": "gradcheck.api",
    "check_hvp": "gradcheck.api",
    "check_jacobian": "gradcheck.api",
    "assert_hessian": "gradcheck.api",
    "assert_hvp": "gradcheck.api",
    "assert_jacobian": "gradcheck.api",
    "check_value_and_grad": "gradcheck.api",
    "assert_value_and_grad": "gradcheck.api",
    "GradcheckError": "gradcheck.errors",
    "SpecError": "gradcheck.errors",
    "RunOptions": "gradcheck.options",
    "Verdict": "gradcheck.verdict.model",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
