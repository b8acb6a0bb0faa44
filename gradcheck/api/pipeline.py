"""One API call -> Specs -> the core's problem and check machinery -> one verdict per wrt.

The user's callables become ``python`` entries that carry the function object
(:class:`~gradcheck.spec.model.PythonRef` ``obj``), so nothing is imported. A fixed point
(``at=``) is a problem of its own with every dim fixed to the point's sizes and the declared
domains, checked at one :class:`~gradcheck.samples.draw.GivenSample` (as Hypothesis's
``@example``): the same path as a drawn sample, with the point's arrays instead of drawn ones.
A claim passes only if every example passes: the first fixed point that fails, else the drawn
examples' verdict, decides.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import Location, SchemaError
from ..samples.draw import GivenSample
from ..spec.fields import did_you_mean
from ..spec.model import Claim, DimSpec, Domain, InputSpec, PythonRef, Settings, Spec
from ..verdict.model import Expect, Verdict
from ..verdict.tolerance import DEFAULT_RTOL
from .arguments import DEFAULT_DIM, Call, constant_args, dim_specs, fixed_points, input_specs, name_of, number_arg
from .guard import outside_nesting
from .result import CheckResult

DEFAULT_EXAMPLES = 25


@dataclass(frozen=True)
class Request:
    """Everything an API call asked for, after its arguments were read."""

    call: Call
    inputs: Mapping[str, Any] | None
    dims: Mapping[str, Any] | None
    domains: Mapping[str, Any] | None
    constants: Mapping[str, Any] | None  # numbers, arrays, or {"value": array, "shape": "M in"}
    at: tuple[Mapping[str, Any], ...]
    wrt: tuple[str, ...]
    expect: str
    examples: int | None
    seed: int | None
    rtol: float | None
    atol: float | None
    directions: int | None
    kind: str = "gradient"  # what is claimed: gradient, vjp or jvp (vjp/jvp run as gradients)
    extra_input: tuple[str, tuple[str | int, ...]] | None = None  # the drawn cotangent / probe

    @classmethod
    def of(cls, call: Call, wrt: str | Iterable[str], options: Mapping[str, Any], **extra: Any) -> Request:
        """The Request of a ``check_*`` call: ``options`` its shared keywords, every one of them
        (:func:`~gradcheck.api.keywords.read_options`); ``extra`` what only that function adds."""
        wrt_names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        shared = {k: v for k, v in options.items() if k != "name"}
        return cls(call=call, wrt=wrt_names, **{**shared, "at": tuple(shared["at"])}, **extra)


def keyword_caller(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` called by keyword with what its signature accepts."""
    from ..problem.callables import FORWARDS, call_user

    def call(**kw):
        return call_user(fn, kw, copy=False)

    for attr in ("__name__", "__qualname__", "__module__"):
        setattr(call, attr, getattr(fn, attr, None) or "function")
    setattr(call, FORWARDS, fn)
    return call


def output(
    value: Any, shape: tuple[int, ...], fn: Callable[..., Any], role: str, declared: tuple, at: Location
) -> np.ndarray:
    """``value`` as an array of the declared output shape.

    Raises
    ------
    SchemaError
        At the API call: ``fn`` (the ``role``, f or jvp) returned another shape than
        ``output_shape=`` declares (``declared``, bound to ``shape``), or no array at all.
    """
    from ..problem.callables import describe_value

    name = name_of(fn, "")
    who = f"{role} '{name}'" if name else role
    try:
        out = np.asarray(value)
    except (TypeError, ValueError):
        out = None
    if out is None or out.dtype.kind not in "biufc":
        raise SchemaError(
            f"{who} returned a {describe_value(value)}, but output_shape= declares an array of shape "
            f"{_shape_text(declared)} = {shape}",
            at,
        )
    if out.shape != shape:
        raise SchemaError(
            f"{who} returned shape {out.shape}, but output_shape= declares {_shape_text(declared)} = {shape}",
            at,
            hint=f"give output_shape= the shape {role} returns, in dim names",
        )
    return out


def _shape_text(shape: tuple) -> str:
    """``("n",)`` -> ``(n,)``, ``("n", 2)`` -> ``(n, 2)``: as Python prints a tuple, without quotes."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check(
    req: Request,
    loss: Callable[..., Any],
    claim: Callable[..., Any],
    named: tuple[Callable[..., Any], Callable[..., Any]],
) -> CheckResult:
    """Run the request; ``named`` are the user's (loss-side, claim-side) functions, for messages."""
    started = time.perf_counter()
    at = req.call.location
    for name in ("seed", "rtol", "atol", "directions"):
        number_arg(name, getattr(req, name), at)
    number_arg("examples", req.examples, at, minimum=0)  # 0: only the fixed points
    points = list(req.at)
    if req.inputs is None and not points:
        raise SchemaError("give the inputs' shapes (inputs={...}) or fixed points (at=[...])", at)
    scalars, arrays, data_sizes = constant_args(req.constants, at)
    if data_sizes:  # the data's sizes, unless declared (build_problem then checks they agree)
        req = replace(req, dims={**data_sizes, **(req.dims or {})})
    specs = input_specs(req.inputs, req.domains, at, dims=req.dims or {}) if req.inputs is not None else None
    names = list(specs) if specs is not None else list(points[0])
    _check_names(req, names, specs)
    for c in [*scalars, *arrays]:
        if c in names:
            raise SchemaError(f"constant '{c}' has the name of an input: rename one", at)
    data = (scalars, arrays)
    examples = req.examples if req.examples is not None else (0 if points else DEFAULT_EXAMPLES)
    if examples <= 0 and not points:
        raise SchemaError("nothing to check: examples=0 and no fixed points (at=[...])", at)
    seed, seed_given, origin = _seed(req.seed)
    database = not seed_given and os.environ.get("GRADCHECK_NO_DATABASE") is None

    runs: list[tuple[Spec, int, GivenSample | None]] = []
    for point in fixed_points(points, specs, at):
        spec = _spec(req, point.inputs, point.dims, True, loss, claim, named, data)
        runs.append((spec, 1, GivenSample({d: spec.dims[d].lo for d in spec.dims}, 0, point.arrays, point.label)))
    if examples > 0:
        drawn_dims = dim_specs(req.dims, [s.shape for s in specs.values()], at)
        runs.append((_spec(req, specs, drawn_dims, False, loss, claim, named, data), examples, None))

    per_wrt: dict[str, list[Verdict]] = {w: [] for w in req.wrt}
    for spec, count, sample in runs:  # sample: the fixed point's, or None for drawn examples
        for v in _run(spec, count, seed, database and sample is None, req, sample):
            per_wrt[v.wrt].append(_at_point(v, sample.label) if sample else v)
    verdicts = tuple(_merge(per_wrt[w]) for w in req.wrt)
    return CheckResult(verdicts, seed, time.perf_counter() - started, call=req.call.api, seed_from=origin)


@contextmanager
def one_seed(seed: int | None) -> Iterator[None]:
    """Within: every check of one API call that runs several (a gradient's own check, then the
    Hessian's) uses one seed, the one its result reports: the argument, the session's, or one
    drawn here and published as the session's would be."""
    from ..session import SESSION_SEED, SessionSeed

    if seed is not None or SESSION_SEED.get() is not None:
        yield
        return
    from ..run import draw_seed

    token = SESSION_SEED.set(SessionSeed(draw_seed(), False, "random"))
    try:
        yield
    finally:
        SESSION_SEED.reset(token)


def _seed(seed: int | None) -> tuple[int, bool, str]:
    """(seed, given, where from): the argument, else the running pytest session's, else random."""
    if seed is not None:
        return seed, True, "argument"
    from ..session import SESSION_SEED

    session = SESSION_SEED.get()
    if session is not None:
        return session.seed, session.given, session.origin
    from ..run import draw_seed

    return draw_seed(), False, "random"


def _check_names(req: Request, names: list[str], specs: dict[str, InputSpec] | None) -> None:
    at = req.call.location
    if not req.wrt:
        raise SchemaError("wrt names no input", at)
    for w in req.wrt:
        if w not in names:
            raise SchemaError(
                f"wrt {w!r} is not an input", at, hint=did_you_mean(w, names) or f"inputs: {', '.join(names)}"
            )
        if specs is not None and specs[w].domain.is_integer:
            raise SchemaError(f"wrt {w!r} has an integer domain: labels are constant, never differentiated", at)
    if req.expect not in tuple(Expect):
        raise SchemaError(f"expect must be 'pass' or 'fail', got {req.expect!r}", at)
    if req.extra_input is not None and req.extra_input[0] in names:
        raise SchemaError(
            f"an input is named {req.extra_input[0]!r}, like the {req.kind}'s "
            f"{'cotangent' if req.kind == 'vjp' else 'probe'}: rename one",
            at,
        )


def _ref(fn: Callable[..., Any], obj: Callable[..., Any], req: Request) -> PythonRef:
    module = getattr(fn, "__module__", None) or "__main__"
    return PythonRef(module, getattr(fn, "__qualname__", None) or "function", req.call.location, obj=obj)


def _spec(
    req: Request,
    inputs: dict[str, InputSpec],
    dims: dict[str, DimSpec],
    at_point: bool,
    loss: Callable[..., Any],
    claim: Callable[..., Any],
    named,
    data: tuple[dict[str, float], dict[str, Any]] = ({}, {}),
) -> Spec:
    at = req.call.location
    if req.extra_input is not None:
        name, shape = req.extra_input
        inputs = {**inputs, name: InputSpec(name, shape, Domain(), at)}
        declared = dim_specs(req.dims, [], at)
        for d in shape:
            if isinstance(d, str) and d not in dims:
                if d not in declared and at_point:
                    raise SchemaError(
                        f"the output's dim {d!r} is bound by no input at the fixed points: "
                        f"declare its size, dims={{{d!r}: n}}",
                        at,
                    )
                size = declared.get(d) or DimSpec(d, *DEFAULT_DIM, at)
                dims = {**dims, d: replace(size, hi=size.lo) if at_point else size}  # a point's sizes are fixed
    body = _ref(named[1], claim, req)
    wording = None if req.kind == "gradient" else (req.kind, name_of(named[0], "f"))
    c = Claim(
        name=req.call.name,
        kind="gradient",
        wrt=req.wrt,
        bodies={w: body for w in req.wrt},
        location=at,
        expect=Expect(req.expect),
        wording=wording,
    )
    return Spec(
        name=req.call.function,
        path=at.file,
        description="",
        dims=dims,
        constants=data[0],
        inputs=inputs,
        define={},
        graph=(),
        loss=_ref(named[0], loss, req),
        claims=(c,),
        settings=Settings(),
        location=at,
        arrays=data[1],
    )


def _run(
    spec: Spec, examples: int, seed: int, database: bool, req: Request, given: GivenSample | None = None
) -> list[Verdict]:
    from ..check import check_plan
    from ..examine import CheckSettings
    from ..problem.build import build_problem

    cfg = CheckSettings(
        examples=examples,
        rtol=req.rtol if req.rtol is not None else DEFAULT_RTOL,
        atol=req.atol if req.atol is not None else 0.0,
        directions=req.directions,  # None: as many as the detection bound asks for
        seed=seed,
        database=database,
        given=(given,) if given is not None else (),
    )
    problem = build_problem(spec)
    verdicts = []
    with outside_nesting():
        for plan in problem.plans:
            v = check_plan(problem, plan, cfg)
            if v.usage_error is not None:  # a misused callable is the caller's error, raised at the call
                raise v.usage_error
            verdicts.append(v)
    return verdicts


def _at_point(v: Verdict, label: str) -> Verdict:
    """A fixed point has one example: keep the record that decided, unshrunk (nothing was drawn)."""
    decided = v.failing if v.failing is not None else (v.records[0] if v.records else None)
    records = (replace(decided, shrunk=False, index=0),) if decided is not None else ()
    failing = records[0] if v.failing is not None else None
    notes = v.notes if v.passed else v.notes + (f"found at the fixed point {label}",)
    return replace(v, failing=failing, records=records, examples=len(records), notes=notes)


def _merge(verdicts: list[Verdict]) -> Verdict:
    """A claim passes only if every example passes: the first verdict that is not a pass decides."""
    if len(verdicts) == 1:
        return verdicts[0]
    records: list[Any] = []
    for v in verdicts:
        records += [replace(r, index=len(records) + j) for j, r in enumerate(v.records)]
    chosen = next((v for v in verdicts if not v.passed), verdicts[-1])
    failing = chosen.failing
    if failing is not None:
        failing = next((r for r in records if r.finding is failing.finding), failing)
    examples = sum(v.examples for v in verdicts)
    notes = tuple(dict.fromkeys(n for v in verdicts for n in v.notes))
    diagnosis = chosen.diagnosis if not chosen.passed else f"agrees on {examples} examples"
    reason = chosen.rejected_reason or next((v.rejected_reason for v in verdicts if v.rejected_reason), "")
    return replace(
        chosen,
        rejected=sum(v.rejected for v in verdicts),
        rejected_reason=reason,
        records=tuple(records),
        examples=examples,
        failing=failing,
        notes=notes,
        diagnosis=diagnosis,
        seconds=sum(v.seconds for v in verdicts),
    )
