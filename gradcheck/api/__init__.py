"""The Python API: check a gradient, VJP or JVP written as ordinary Python functions.

::

    from gradcheck import assert_gradient

    def test_sse_grad():
        assert_gradient(
            loss=sse, gradient=sse_grad,              # the user's own numpy functions
            inputs={"X": "M in", "Y": "M out", "Theta": "in out"},
            dims={"M": (2, 8), "in": (2, 6), "out": (2, 6)},
            wrt="Theta",
        )

Each call builds a :class:`~gradcheck.spec.model.Spec` from its arguments (keyword names
mirror the spec format: ``inputs``, ``dims``, ``constants``, ``wrt``, ``examples``, ``rtol``,
``atol``, ``directions``, ``expect``) with the user's callables as its ``python`` entries, and
runs the core's problem and check machinery, exactly as for a spec file. The claim's location
is the caller's file:line, so a failure points at the test that made it.

VJP and JVP rules are checked as gradients of an inner product (the dot-product test
⟨J v, u⟩ = ⟨v, Jᵀ u⟩):

- :func:`check_vjp`: the loss is ⟨f(x), G⟩ with a cotangent G drawn per example; its gradient
  wrt x is Jᵀ G, which is what ``vjp`` claims;
- :func:`check_jvp`: the loss is ⟨U, f(x)⟩ with U drawn per example; the claimed gradient is
  assembled from ``jvp`` along every basis tangent, (Jᵀ U)_i = ⟨U, jvp(x, e_i)⟩ — n calls of
  ``jvp`` per evaluation, so keep the wrt small (a few hundred entries).

Python code that is not complex-step safe (``np.abs``, ``astype(float)``, writes into float
buffers, ``scipy.special.expit``) is detected and checked with finite differences instead;
:mod:`.guard` adds the case of a complex result that is not the derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Unpack

import numpy as np

from .. import _WHERE
from ..errors import Location
from .arguments import Call, callable_arg, dim_specs, input_specs, name_of, shape_arg
from .keywords import CheckOptions, read_options, shared_keywords
from .pipeline import Request, check, keyword_caller, output
from .result import CheckResult, Example
from .second_order import assert_hessian as assert_hessian  # re-exported (X as X): gradcheck loads them from here
from .second_order import assert_hvp as assert_hvp
from .second_order import assert_jacobian as assert_jacobian
from .second_order import check_hessian as check_hessian
from .second_order import check_hvp as check_hvp
from .second_order import check_jacobian as check_jacobian

__all__ = sorted(name for name, home in _WHERE.items() if home == __name__)  # what ``gradcheck`` loads from here

Inputs = Mapping[str, Any]


@shared_keywords
def check_gradient(
    loss: Callable[..., Any],
    gradient: Callable[..., Any],
    *,
    wrt: str | Iterable[str],
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check that ``gradient`` is the gradient of the scalar ``loss`` with respect to ``wrt``.

    Parameters
    ----------
    loss, gradient : callable
        Called by keyword with every input and constant their signatures name (all of them
        with ``**kwargs``), and a dim's size only through a parameter that names the dim and has
        no default (never through ``**kwargs``); arrays arrive as read-only views. ``gradient``
        returns the array for one wrt, or a dict keyed by name / a tuple in ``wrt`` order.
    wrt : str or iterable of str
        The inputs to differentiate; each gets its own verdict.
    inputs : mapping, optional
        Input name -> shape: a string of dim names and integers (``"M in"``; ``""`` is a
        scalar), a tuple, or a mapping ``{"shape": ..., "domain": ..., "dtype": "float32"}``
        as in a spec file. May be left out when ``at`` gives every input.
    dims : mapping, optional
        Dim name -> fixed size, or inclusive ``(lo, hi)`` range; undeclared dims are drawn
        from 2..6. Distinct dims get distinct sizes where the ranges allow.
    domains : mapping, optional
        Input name -> domain (``"positive"``, ``"spd"``, ``{"range": [a, b]}``,
        ``{"integers": [0, "k"]}``, ...): a shorthand for ``inputs[name]["domain"]``.
    constants : mapping, optional
        Passed to the callables by name, never differentiated: numbers, and fixed data (a
        design matrix, labels) as arrays. ``{"value": X, "shape": "M in"}`` binds the dims the
        shape names to the data's sizes, so inputs shaped by them follow the data (a dim
        declared in ``dims`` must admit that size).
    at : iterable of mappings, optional
        Fixed points (input name -> array): a known hard case, or an :class:`Example` drawn
        by :func:`problems` in the user's own ``@given`` test. With ``at`` and no
        ``examples``, only these points are checked.
    examples, rtol, atol, directions : optional
        As in a spec's ``settings:`` (defaults 25, 1e-9, 0, and directions from the detection bound). Claims computed in float32
        (float32 inputs or results) get rtol >= 2e-5.
    seed : int, optional
        Run seed: the same seed draws the same examples. Default: random, printed in failures.
    expect : {"pass", "fail"}
        ``"fail"`` marks a known-wrong claim: its failure is as expected, a pass is not.
    name : str, optional
        The claim's name in messages (default: the gradient function's name).

    Returns
    -------
    CheckResult
        One verdict per wrt, with its evidence; ``.passed``, ``.verdict``, ``.frame()``.

    Raises
    ------
    SchemaError
        The arguments do not describe a problem (an unknown wrt, a bad domain, a fixed point
        of the wrong shape), located at the caller's line.
    """
    opts = read_options(check_gradient, options)
    call = Call.here(opts["name"] or name_of(gradient, "gradient"), "check_gradient")
    loss_fn = callable_arg(loss, "loss", call.location)
    grad_fn = callable_arg(gradient, "gradient", call.location)
    req = Request.of(call, wrt, opts)
    return check(req, keyword_caller(loss_fn), keyword_caller(grad_fn), (loss_fn, grad_fn))


@shared_keywords
def check_value_and_grad(
    f: Callable[..., Any],
    *,
    wrt: str | Iterable[str],
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check ``f(...) -> (value, gradient)``: the gradient it returns must be that of the value.

    The form ``scipy.optimize.minimize(f, x0, jac=True)`` takes, and most libraries expose.
    The value is the loss the oracles differentiate; the gradient is the claim (an array for one
    wrt, a dict keyed by name or a tuple in ``wrt`` order for several). Other parameters as
    :func:`check_gradient`.
    """
    opts = read_options(check_value_and_grad, options)
    call = Call.here(opts["name"] or name_of(f, "value_and_grad"), "check_value_and_grad")
    vg_fn = callable_arg(f, "f", call.location)
    req = Request.of(call, wrt, opts)
    return check(req, _part(vg_fn, 0), _part(vg_fn, 1), (vg_fn, vg_fn))


def _part(vg_fn: Callable[..., Any], index: int) -> Callable[..., Any]:
    """The value (0) or the gradient (1) of a value-and-gradient function, as a callable."""
    from ..problem.callables import value_and_grad_pair

    user = keyword_caller(vg_fn)

    def part(**kw):
        return value_and_grad_pair(user(**kw), vg_fn)[index]

    part.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return part


@shared_keywords
def check_vjp(
    f: Callable[..., Any],
    vjp: Callable[..., Any],
    *,
    wrt: str | Iterable[str],
    output_shape: Any,
    cotangent: str = "G",
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check a vector-Jacobian product: ``vjp(..., G=g)`` must be Jᵀ g, with J = d f / d wrt.

    ``f`` returns an array of shape ``output_shape`` (dim names as in ``inputs``); ``vjp``
    gets the inputs and the cotangent by the name ``cotangent`` (default ``G``, as in a spec)
    and returns an array of the wrt's shape (a dict or tuple for several wrt). Checked as the
    gradient of ⟨f(x), G⟩, G drawn per example. Other parameters as :func:`check_gradient`.
    """
    opts = read_options(check_vjp, options)
    call = Call.here(opts["name"] or name_of(vjp, "vjp"), "check_vjp")
    f_fn = callable_arg(f, "f", call.location)
    vjp_fn = callable_arg(vjp, "vjp", call.location)
    out_shape = shape_arg(output_shape, "the output", call.location)

    req = Request.of(call, wrt, opts, kind="vjp", extra_input=(cotangent, out_shape))
    return check(
        req,
        _inner_product_loss(f_fn, cotangent, out_shape, call.location),
        keyword_caller(vjp_fn),
        (f_fn, vjp_fn),
    )


@shared_keywords
def check_jvp(
    f: Callable[..., Any],
    jvp: Callable[..., Any],
    *,
    wrt: str | Iterable[str],
    output_shape: Any,
    tangent: str = "V",
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check a Jacobian-vector product: ``jvp(..., V=v)`` must be J v, with J = d f / d wrt.

    ``jvp`` gets the inputs and the tangent by the name ``tangent`` (default ``V``): the
    wrt-shaped tangent for one wrt, or, for several, a dict of tangents keyed by every wrt
    name (the total derivative, as ``jax.jvp`` computes it). It returns an array of shape
    ``output_shape``. Checked as the gradient of ⟨U, f(x)⟩ with U drawn per example, the
    claim assembled from ``jvp`` along every basis tangent (n calls per evaluation).
    """
    opts = read_options(check_jvp, options)
    call = Call.here(opts["name"] or name_of(jvp, "jvp"), "check_jvp")
    f_fn = callable_arg(f, "f", call.location)
    jvp_fn = callable_arg(jvp, "jvp", call.location)
    out_shape = shape_arg(output_shape, "the output", call.location)
    wrt_names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    probe = "U" if tangent != "U" else "U_"
    declared = (out_shape, call.location)

    user = keyword_caller(jvp_fn)

    def transposed_by_columns(**kw):
        u = kw.pop(probe)
        grads = {w: _jvp_columns(user, jvp_fn, kw, w, wrt_names, tangent, u, declared) for w in wrt_names}
        return grads if len(wrt_names) > 1 else grads[wrt_names[0]]

    transposed_by_columns.__gradcheck_forwards__ = user  # type: ignore[attr-defined]

    req = Request.of(call, wrt, opts, kind="jvp", extra_input=(probe, out_shape))
    return check(req, _inner_product_loss(f_fn, probe, out_shape, call.location), transposed_by_columns, (f_fn, jvp_fn))


def _inner_product_loss(f_fn: Callable[..., Any], name: str, declared: tuple, at: Location) -> Callable[..., Any]:
    """The scalar loss <f(...), W> whose gradient a VJP or JVP claim is checked as; W arrives as
    the input ``name`` (the cotangent, or the JVP's probe U). An output of another shape than
    ``declared`` (output_shape=) is a SchemaError at ``at``, the call."""

    user = keyword_caller(f_fn)

    def inner_product(**kw):
        w = kw.pop(name)
        return np.sum(output(user(**kw), w.shape, f_fn, "f", declared, at) * w)

    inner_product.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return inner_product


def _jvp_columns(user, jvp_fn, kw, w, wrt_names, tangent, u, declared: tuple[tuple, Location]) -> np.ndarray:
    """(Jᵀ u)_i = ⟨u, jvp(e_i)⟩ for every basis tangent e_i of input ``w`` (float32 if jvp is)."""
    shape = np.shape(kw[w])
    g = np.empty(shape)
    low = False
    for i in range(g.size):
        e = np.zeros(g.size)
        e[i] = 1.0
        if len(wrt_names) == 1:
            t: Any = e.reshape(shape)
        else:
            t = {n: np.zeros(np.shape(kw[n])) for n in wrt_names}
            t[w] = e.reshape(shape)
        jv = output(user(**kw, **{tangent: t}), u.shape, jvp_fn, "jvp", *declared)
        low = low or jv.dtype == np.float32
        g.reshape(-1)[i] = np.sum(jv.astype(np.float64) * u)
    return g.astype(np.float32) if low else g


def _assert(result: CheckResult, api: str) -> CheckResult:
    __tracebackhide__ = True
    from dataclasses import replace

    result = replace(result, call=api)
    from ..session import API_VERDICTS

    counted = API_VERDICTS.get()
    if counted is not None:  # in a pytest session: its gradcheck summary line counts the assertion's verdicts
        counted(result.verdicts)
    if not result.passed:
        raise AssertionError(result.failure_text())  # its first line is the verdict: pytest's short summary
    return result


def assert_gradient(loss: Callable[..., Any], gradient: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_gradient`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_gradient(loss, gradient, **kwargs), "assert_gradient")


def assert_value_and_grad(f: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_value_and_grad`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_value_and_grad(f, **kwargs), "assert_value_and_grad")


def assert_vjp(f: Callable[..., Any], vjp: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_vjp`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_vjp(f, vjp, **kwargs), "assert_vjp")


def assert_jvp(f: Callable[..., Any], jvp: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_jvp`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_jvp(f, jvp, **kwargs), "assert_jvp")


def problems(inputs: Inputs, dims: Mapping[str, Any] | None = None, domains: Mapping[str, Any] | None = None):
    """A Hypothesis strategy of :class:`Example` values, drawn as gradcheck draws its own.

    Dim sizes are pairwise distinct where the ranges allow (a transpose cannot hide) and
    shrink toward the smallest; the arrays come from a seeded numpy generator per domain
    (Hypothesis's own array filler repeats a background value and shrinks toward zeros).
    Compose it with ``@given`` and check at the drawn point::

        @given(problems(inputs={"x": "n"}, domains={"x": "positive"}))
        def test_log_grad(example):
            assert_gradient(my_loss, my_grad, wrt="x", at=[example])
    """
    from hypothesis import strategies as st

    from ..expr.dims import Dim, bind_shape
    from ..samples.draw import draw_inputs, sample_strategy

    at = Call.here("problems", "problems").location
    specs = input_specs(inputs, domains, at, dims=dims or {})
    dimensions = dim_specs(dims, [s.shape for s in specs.values()], at)
    reserved = frozenset(d for s in specs.values() for d in s.shape if isinstance(d, int))
    symbolic = {n: tuple(Dim.const(d) if isinstance(d, int) else Dim.of(d) for d in s.shape) for n, s in specs.items()}

    def example(sample) -> Example:
        shapes = {n: bind_shape(shape, sample.sizes) for n, shape in symbolic.items()}
        return Example(draw_inputs(specs, shapes, sample), dict(sample.sizes), sample.seed)

    return st.builds(example, sample_strategy(dimensions, reserved))
