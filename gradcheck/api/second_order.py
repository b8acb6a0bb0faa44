"""The Python API's second-order and Jacobian checks: :func:`check_hvp`, :func:`check_hessian`,
:func:`check_jacobian` and their ``assert_`` twins.

Each reduces to a first-order check the API already runs (as :mod:`gradcheck.second_order`
does for spec files):

- ``check_hvp``: the claimed ``hvp(..., V=v)`` is checked as the gradient wrt x of the scalar
  ⟨V, ∇L(x)⟩, V drawn per example (H is symmetric, so that gradient is H V). ∇L is the user's
  own ``gradient=`` once it has passed its own check (its complex step, or finite differences
  for code that is not complex-step safe); without one, ⟨V, ∇L(x)⟩ is the complex step of the
  loss along V, and its gradient comes from finite differences with their error bar;
- ``check_hessian``: the claimed Hessian contracted with V over the wrt's axes, checked as an
  hvp; a claim that is not symmetric says so;
- ``check_jacobian``: the claimed Jacobian J (shape ``output_shape`` + wrt's) contracted with a
  drawn cotangent G, Jᵀ G, checked as the vjp of ``f``: one call of ``jacobian`` per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Unpack

import numpy as np

from ..errors import Location, SchemaError
from ..internal import ours, refusal
from ..verdict.model import Label
from .arguments import Call, callable_arg, input_specs, name_of, shape_arg
from .keywords import CheckOptions, read_options, shared_keywords
from .pipeline import Request, check, keyword_caller, one_seed
from .result import CheckResult

__all__ = [
    "assert_hessian",
    "assert_hvp",
    "assert_jacobian",
    "check_hessian",
    "check_hvp",
    "check_jacobian",
]

Inputs = Mapping[str, Any]
CS_STEP = 1e-20  # the complex step of the loss along V (its rounding is that of the loss itself)


@shared_keywords
def check_hvp(
    loss: Callable[..., Any],
    hvp: Callable[..., Any],
    *,
    wrt: str,
    gradient: Callable[..., Any] | None = None,
    tangent: str = "V",
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check a Hessian-vector product: ``hvp(..., V=v)`` must be H v, H = d² loss / d wrt².

    ``hvp`` gets the inputs and the tangent by the name ``tangent`` (default ``V``, wrt-shaped)
    and returns an array of the wrt's shape. ``gradient`` (optional, the loss's gradient wrt
    ``wrt``) is checked first; when it passes, the reference is its own derivative along V
    (complex step: machine precision), else finite differences of the loss's complex step.
    Other parameters as :func:`~gradcheck.api.check_gradient`; ``wrt`` is one input.
    """
    opts = read_options(check_hvp, options)
    call = Call.here(opts["name"] or name_of(hvp, "hvp"), "check_hvp")
    hvp_fn = callable_arg(hvp, "hvp", call.location)
    return _second_order(call, "hvp", loss, hvp_fn, gradient, {**opts, "wrt": wrt, "tangent": tangent})


@shared_keywords
def check_hessian(
    loss: Callable[..., Any],
    hessian: Callable[..., Any],
    *,
    wrt: str,
    gradient: Callable[..., Any] | None = None,
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check a Hessian: ``hessian(...)`` must be d² loss / d wrt², of shape wrt + wrt.

    Checked as the Hessian-vector product ``tensordot(hessian(...), V)`` (see :func:`check_hvp`,
    whose other parameters it takes); a claim that is not symmetric is told so.
    """
    opts = read_options(check_hessian, options)
    call = Call.here(opts["name"] or name_of(hessian, "hessian"), "check_hessian")
    hessian_fn = callable_arg(hessian, "hessian", call.location)
    return _second_order(call, "hessian", loss, hessian_fn, gradient, {**opts, "wrt": wrt, "tangent": "V"})


@shared_keywords
def check_jacobian(
    f: Callable[..., Any],
    jacobian: Callable[..., Any],
    *,
    wrt: str,
    output_shape: Any,
    **options: Unpack[CheckOptions],
) -> CheckResult:
    """Check a Jacobian: ``jacobian(...)`` must be d f / d wrt, of shape ``output_shape`` + wrt's.

    Checked as the vjp Jᵀ G of ``f`` (G drawn per example, one call of ``jacobian`` per
    evaluation). Other parameters as :func:`~gradcheck.api.check_vjp`; ``wrt`` is one input.
    """
    from . import _inner_product_loss

    opts = read_options(check_jacobian, options)
    call = Call.here(opts["name"] or name_of(jacobian, "jacobian"), "check_jacobian")
    f_fn = callable_arg(f, "f", call.location)
    jac_fn = callable_arg(jacobian, "jacobian", call.location)
    out_shape = shape_arg(output_shape, "the output", call.location)
    _one_wrt(wrt, "jacobian", call.location)
    cotangent = _free_name("G", opts["inputs"], opts["at"], opts["constants"])
    claim = _contracted_jacobian(jac_fn, f_fn, wrt, cotangent)
    req = Request.of(call, wrt, opts, kind="jacobian", extra_input=(cotangent, out_shape))
    return check(req, _inner_product_loss(f_fn, cotangent, out_shape, call.location), claim, (f_fn, jac_fn))


def _one_wrt(wrt: Any, kind: str, at: Location) -> None:
    if not isinstance(wrt, str):
        raise SchemaError(f"a {kind} check takes one wrt (a name), got {wrt!r}", at, hint="one call per wrt")


def _free_name(base: str, inputs, at, constants) -> str:
    """``base`` or ``base_``...: a name no input or constant has (the drawn cotangent's)."""
    taken = set(inputs or {}) | set(constants or {}) | {k for point in at for k in point}
    while base in taken:
        base += "_"
    return base


def _wrt_shape(wrt: str, args: dict[str, Any], call: Call) -> tuple[str | int, ...]:
    """The wrt input's shape as the inputs declare it (dim names), or as the first fixed point has it."""
    if args["inputs"] is not None:
        specs = input_specs(args["inputs"], args["domains"], call.location, dims=args["dims"] or {})
        return specs[wrt].shape if wrt in specs else ()
    points = list(args["at"])
    return tuple(np.shape(points[0][wrt])) if points and wrt in points[0] else ()


def _second_order(
    call: Call,
    kind: str,
    loss: Callable[..., Any],
    claim_fn: Callable[..., Any],
    gradient: Callable[..., Any] | None,
    args: dict[str, Any],
) -> CheckResult:
    loss_fn = callable_arg(loss, "loss", call.location)
    if gradient is not None:
        gradient = callable_arg(gradient, "gradient", call.location)
    wrt, tangent = args.pop("wrt"), args.pop("tangent")
    _one_wrt(wrt, kind, call.location)
    args = {**args, "at": tuple(args["at"])}
    common = {k: args[k] for k in ("inputs", "dims", "domains", "constants", "at", "examples", "seed", "rtol", "atol")}
    with one_seed(args["seed"]):  # the gradient's own check and this one: the seed the result reports
        reference, note = _reference(loss_fn, gradient, wrt, tangent, common)
        asymmetry: list[tuple[float, str]] = []
        claim = _hvp_claim(claim_fn, tangent) if kind == "hvp" else _hessian_claim(claim_fn, tangent, wrt, asymmetry)
        req = Request.of(call, wrt, args, kind=kind, extra_input=(tangent, _wrt_shape(wrt, args, call)))
        result = check(req, reference, claim, (loss_fn, claim_fn))
    verdicts = []
    for v in result.verdicts:
        v = replace(v, notes=v.notes + (note,))
        if not v.passed and asymmetry and v.label not in (Label.ERROR, Label.NOT_FINITE, Label.INCONCLUSIVE):
            v = replace(v, label=Label.WRONG, diagnosis=max(asymmetry)[1], factor=None)
        verdicts.append(v)
    return replace(result, verdicts=tuple(verdicts))


def _reference(loss_fn, gradient, wrt: str, tangent: str, common: dict[str, Any]) -> tuple[Callable[..., Any], str]:
    """The reference the claim is checked against, and the note that says which: the derivative of
    the user's gradient along the tangent when it passes its own check, else the loss's complex step."""
    note = ""
    trusted = None
    if gradient is not None:
        from . import check_gradient

        first = check_gradient(loss_fn, gradient, wrt=wrt, name=name_of(gradient, "gradient"), **common)
        if first.passed:
            trusted = gradient
            note = f"reference: the derivative along {tangent} of {name_of(gradient, 'gradient')}, which passed its own check"
        else:
            note = (
                f"{name_of(gradient, 'gradient')} did not pass its own check ({first.verdict.label}): the "
                "reference is finite differences of the loss's complex step instead"
            )
    if not note:
        note = f"reference: finite differences of the loss's complex step along {tangent}, with their error bar"
    reference = _gradient_inner(trusted, wrt, tangent) if trusted is not None else _directional(loss_fn, wrt, tangent)
    return reference, note


def _hvp_claim(hvp_fn: Callable[..., Any], tangent: str):
    return keyword_caller(hvp_fn)


def _hessian_claim(hessian_fn: Callable[..., Any], tangent: str, wrt: str, asymmetry: list):
    """The claimed Hessian contracted with the tangent; its worst asymmetry is kept in ``asymmetry``."""

    user = keyword_caller(hessian_fn)

    def contracted_hessian(**kw):
        v = np.asarray(kw.pop(tangent))
        h = np.asarray(user(**kw))
        if h.shape != v.shape + v.shape:
            raise refusal(
                ValueError(
                    f"{name_of(hessian_fn, 'hessian')} returned shape {h.shape}, but the Hessian wrt {wrt} has "
                    f"shape {v.shape + v.shape} ({wrt}'s shape twice)"
                )
            )
        _record_asymmetry(h, v.shape, asymmetry)
        return np.tensordot(h, v, axes=v.ndim)

    contracted_hessian.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return contracted_hessian


def _record_asymmetry(h: np.ndarray, shape: tuple[int, ...], asymmetry: list) -> None:
    """Keep the claim's worst mirrored pair when it is not symmetric beyond 1e-6 relative (far
    above rounding, far below any slip: the tolerance itself decides the verdict)."""
    if h.dtype.kind not in "fiu" or not np.all(np.isfinite(h)):
        return
    n = int(np.prod(shape))
    m = h.reshape(n, n).astype(np.float64)
    gap = np.abs(m - m.T)
    scale = float(np.max(np.abs(m), initial=0.0))
    worst = float(np.max(gap, initial=0.0))
    if scale == 0 or worst <= 1e-6 * scale:
        return
    from ..diagnosis.matrices import mirrored_text

    i, j = np.unravel_index(int(np.argmax(gap)), m.shape)
    asymmetry.append((worst / scale, mirrored_text(m, int(i), int(j), shape)))


def _gradient_inner(gradient: Callable[..., Any], wrt: str, tangent: str):
    """⟨V, g(x)⟩ with the user's (verified) gradient g: its derivative wrt x is H V."""

    user = keyword_caller(gradient)

    def inner_product(**kw):
        v = kw.pop(tangent)
        g = user(**kw)
        if isinstance(g, Mapping):
            g = g[wrt]
        elif isinstance(g, (tuple, list)) and len(g) == 1:
            g = g[0]
        return np.sum(np.asarray(g) * v)

    inner_product.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return inner_product


def _directional(loss_fn: Callable[..., Any], wrt: str, tangent: str):
    """⟨V, ∇L(x)⟩ as the complex step of the loss along V at a real x; complex points are
    refused, so the oracles take its gradient by finite differences (with their error bar).
    A loss that is not complex-step safe gets central differences along V instead."""
    from ..errors import FiniteDifferencesOnly
    from ..oracle import finite_diff

    user = keyword_caller(loss_fn)
    safe: list[bool] = []

    def along(kw, x):
        return float(np.real(user(**{**kw, wrt: x})))

    def directional_derivative(**kw):
        v = np.asarray(kw.pop(tangent), dtype=np.float64)
        x = np.asarray(kw[wrt])
        if np.iscomplexobj(x):  # the oracle's signal to use finite differences
            raise FiniteDifferencesOnly(
                "the reference is a complex step of the loss along V, so its gradient is taken at real points"
            )
        x = x.astype(np.float64)
        if not safe or safe[0]:
            try:
                out = np.asarray(user(**{**kw, wrt: x + 1j * CS_STEP * v}))
                value = float(np.imag(out)) / CS_STEP
            except Exception as exc:  # noqa: BLE001  code that refuses complex numbers: finite differences; gradcheck's own failures re-raised
                if ours(exc):
                    raise
                value = None
            if not safe:
                safe.append(value is not None and _agrees(value, lambda y: along(kw, y), x, v))
            if safe[0]:
                return value
        return float(finite_diff.directional(lambda y: along(kw, y), x, v).value)

    directional_derivative.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return directional_derivative


def _agrees(value: float, f, x: np.ndarray, v: np.ndarray) -> bool:
    """Whether the complex step's value is the derivative (code that drops the imaginary part
    silently gives 0): a central difference must agree to 1e-4."""
    h = 1e-6 * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
    return abs(fd - value) <= 1e-4 * max(abs(fd), abs(value)) + 1e-12


def _assert(result: CheckResult, api: str) -> CheckResult:
    __tracebackhide__ = True
    from . import _assert as assert_result

    return assert_result(result, api)


def assert_hvp(loss: Callable[..., Any], hvp: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_hvp`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_hvp(loss, hvp, **kwargs), "assert_hvp")


def assert_hessian(loss: Callable[..., Any], hessian: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_hessian`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_hessian(loss, hessian, **kwargs), "assert_hessian")


def assert_jacobian(f: Callable[..., Any], jacobian: Callable[..., Any], **kwargs: Any) -> CheckResult:
    """:func:`check_jacobian`, raising ``AssertionError`` whose message is the failure block."""
    __tracebackhide__ = True
    return _assert(check_jacobian(f, jacobian, **kwargs), "assert_jacobian")


def _contracted_jacobian(jac_fn, f_fn, wrt: str, cotangent: str):
    """The claim as a vjp: Gᵀ J from the user's Jacobian, its shape checked against the output's
    then wrt's."""

    user = keyword_caller(jac_fn)

    def contracted_jacobian(**kw):
        g = kw.pop(cotangent)
        j = np.asarray(user(**kw))
        x_shape = np.shape(kw[wrt])
        if j.shape != g.shape + x_shape:
            raise refusal(
                ValueError(
                    f"{name_of(jac_fn, 'jacobian')} returned shape {j.shape}, but the Jacobian of "
                    f"{name_of(f_fn, 'f')} wrt {wrt} has shape {g.shape + x_shape} (the output's, then {wrt}'s)"
                )
            )
        return np.tensordot(g, j, axes=g.ndim)

    contracted_jacobian.__gradcheck_forwards__ = user  # type: ignore[attr-defined]
    return contracted_jacobian
