"""Spec -> Problem: every node, the loss and every claim get a symbolic shape, before any draw.

An ill-shaped graph node or loss is a :class:`~gradcheck.errors.ShapeError` (the spec cannot
be checked at all). An ill-shaped *claim* is not an error: it becomes a static
``shape-mismatch`` finding carried by its :class:`ClaimTarget`, and the other claims still run.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import BudgetError, ShapeError, SpecError
from ..expr.dims import Dim, Shape, at_text, most_elements, shape_dim, shape_str
from ..expr.shapes import ShapeEnv, infer_shape
from ..spec.fields import integer_domain_warning
from ..spec.model import SECOND_ORDER, Claim, DimSpec, PythonRef, Source, Spec
from ..verdict.model import Label

if TYPE_CHECKING:
    from ..verdict.model import Verdict

DEFAULT_MAX_ELEMENTS = 10_000_000

__all__ = ["Problem", "ClaimTarget", "ClaimPlan", "StaticMismatch", "build_problem", "claim_fields"]


@dataclass(frozen=True)
class StaticMismatch:
    """A claim whose expression is ill-shaped or has the wrong shape, found without sampling."""

    lines: tuple[str, ...]  # what to tell the user, in their symbols
    claimed_shape: Shape | None  # best guess of the claim's shape, if any
    transposed: bool  # claimed shape is the reverse of the expected shape (needs numbers to decide)


@dataclass(frozen=True)
class ClaimTarget:
    """One (claim, wrt) target: the unit that gets a verdict (``problem.plans`` holds them in claim order)."""

    claim: Claim
    wrt: str
    wrt_shape: Shape
    expected_shape: Shape  # gradient/vjp: the wrt's shape; jvp: the node's shape
    body: Source | PythonRef
    claimed_shape: Shape | None  # symbolic shape of an expression body
    static: StaticMismatch | None = None

    @property
    def key(self) -> str:
        return f"{self.claim.name}[{self.wrt}]" if len(self.claim.wrt) > 1 else self.claim.name

    @property
    def what(self) -> str:
        """``d loss / d Theta``, ``vjp of a wrt Theta``, ..."""
        c = self.claim
        if c.wording is not None:
            return f"{c.wording[0]} of {c.wording[1]} wrt {self.wrt}"
        if c.kind == "gradient":
            return f"d loss / d {self.wrt}"
        if c.node is None:  # hessian, hvp: of the loss
            return f"{c.kind} of the loss wrt {self.wrt}"
        return f"{c.kind} of node {c.node} wrt {self.wrt}"

    @property
    def kind_word(self) -> str:
        """What the user claimed: the claim's kind, or the API's own word for a reduced claim."""
        return self.claim.wording[0] if self.claim.wording is not None else self.claim.kind

    @property
    def noun(self) -> str:
        return f"claimed {self.kind_word}"


ClaimPlan = ClaimTarget  # the old name (deprecated): one (claim, wrt) target, not a plan of several


@dataclass(frozen=True)
class Problem:
    spec: Spec
    dim_ranges: dict[str, tuple[int, int]]
    input_shapes: dict[str, Shape]
    node_shapes: dict[str, Shape]
    defines: dict[str, tuple[tuple[str, ...], object, str]]
    plans: tuple[ClaimTarget, ...]
    max_elements: int
    intermediates: tuple[Shape, ...] = ()  # every array shape an evaluation of the graph and loss makes
    scalars: frozenset[str] = field(default_factory=frozenset)
    branch_cuts: bool = True  # the loss's expressions call log/sqrt or a fractional power (see has_branch_cut)
    data: dict[str, Any] = field(default_factory=dict)  # array constants: name -> read-only ndarray
    data_shapes: dict[str, Shape] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # located spec warnings (a single-valued integer domain), for the CLI and notes
    complex_unsafe: tuple[str, ...] = ()  # functions the loss graph calls that the complex step must not go through
    label_hints: tuple[str, ...] = ()  # real-valued inputs that look like labels: said beside a numeric failure

    def annotate(self, verdict: "Verdict") -> "Verdict":
        """The verdict with the spec's warnings in its notes and, for a numeric failure, the
        label hints in its lines (real-valued labels can make a right claim for labels fail)."""
        import dataclasses

        lines = verdict.lines
        if verdict.label not in _NOT_NUMERIC:
            lines = lines + self.label_hints
        notes = verdict.notes + tuple(w for w in self.warnings if w not in verdict.notes)
        if lines == verdict.lines and notes == verdict.notes:
            return verdict
        return dataclasses.replace(verdict, lines=lines, notes=notes)

    def shape_of(self, name: str) -> Shape:
        return self.input_shapes.get(name) or self.data_shapes.get(name) or self.node_shapes[name]

    def derived_dims(self) -> tuple[Dim, ...]:
        """The derived dims of the input shapes (``F + 1``): drawn sizes keep them distinct too."""
        dims = (d for shape in self.input_shapes.values() for d in shape)
        return tuple(dict.fromkeys(d for d in dims if not d.is_const and not d.is_symbol))

    def reserved_sizes(self) -> frozenset[int]:
        """Integer literals in input shapes: drawn dims avoid them too (a (M, 3) input with M = 3 hides a transpose)."""
        return frozenset(d for inp in self.spec.inputs.values() for d in inp.shape if isinstance(d, int))


_NOT_NUMERIC = frozenset({Label.PASS, Label.INCONCLUSIVE, Label.SHAPE_MISMATCH, Label.ERROR})
LABEL_NAMES = re.compile(r"labels?|lbls?|cls|class(es|_ids?)?", re.ASCII)
# y, t and targets are just as often regression targets: label-like only inside a classification loss
TARGET_NAMES = re.compile(r"y|t|targets?|y_true", re.ASCII)
CLASSIFICATION = frozenset({"log", "log1p", "softmax", "log_softmax", "logsumexp", "onehot"})


def _warnings(spec: Spec, dim_ranges: dict[str, tuple[int, int]]) -> tuple[str, ...]:
    """Located warnings: integer domains that draw a single value."""
    out = []
    for name, inp in spec.inputs.items():
        message = integer_domain_warning(name, inp.domain, dim_ranges)
        if message is not None:
            out.append(f"{inp.location}: {message}")
    return tuple(out)


def _sources(spec: Spec):
    """Every expression of the spec with the names that are not inputs inside it (define params)."""
    for node in spec.graph:
        yield node.body, frozenset()
    if isinstance(spec.loss, Source):
        yield spec.loss, frozenset()
    for d in spec.define.values():
        yield d.body, frozenset(d.params)
    for claim in spec.claims:
        for body in claim.bodies.values():
            if isinstance(body, Source):
                yield body, frozenset()


def _label_hints(spec: Spec) -> tuple[str, ...]:
    """Real-valued inputs named like labels, compared with an integer, or one-hot encoded.

    ``y``, ``t`` and ``targets`` count as label names only in an expression that calls a
    function of classification losses (log, softmax, onehot, ...): a regression's ``y`` is real.
    Only ``==`` and ``!=`` count as comparisons (``x > 0`` is a kink, not a label).
    """
    from ..expr import ir
    from ..expr.parse import called_functions, free_names, walk

    uses: dict[str, list[str]] = {}
    classified: set[str] = set()  # names used in an expression that calls a classification function
    for source, params in _sources(spec):
        if any(f in CLASSIFICATION for f, _ in called_functions(source.expr)):
            classified |= {n for n, _ in free_names(source.expr) if n not in params}
        for node in walk(source.expr):
            snippet = source.text[node.span[0] : node.span[1]]
            if isinstance(node, ir.Compare) and node.op in ("==", "!="):  # x > 0 is a kink, not a label
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(a, ir.Name) and a.id not in params and _integral(b):
                        uses.setdefault(a.id, []).append(f"is compared with {_number(b)} (`{snippet}`)")
            elif isinstance(node, ir.Call) and node.func == "onehot" and node.args:
                first = node.args[0]
                if isinstance(first, ir.Name) and first.id not in params:
                    uses.setdefault(first.id, []).append(f"is one-hot encoded (`{snippet}`)")
    hints = []
    for name, inp in spec.inputs.items():
        if inp.domain.is_integer:
            continue
        reasons = list(dict.fromkeys(uses.get(name, [])))[:1]
        named = LABEL_NAMES.fullmatch(name) or (name in classified and TARGET_NAMES.fullmatch(name))
        if named and inp.domain.kind == "real":  # a declared real domain (unit, range) is a choice: soft labels
            reasons.append("is named like a label")
        if reasons:
            hints.append(
                f"input '{name}' is drawn real-valued (domain {inp.domain.kind}) but {' and '.join(reasons)}: if it "
                "holds labels, give it an integer domain, e.g. {integers: [0, 2]} (half-open)"
            )
    return tuple(hints)


def _integral(node) -> bool:
    from ..expr import ir

    if isinstance(node, ir.Unary) and node.op == "-":
        node = node.operand
    return isinstance(node, ir.Number) and not isinstance(node.value, bool) and float(node.value).is_integer()


def _number(node) -> str:
    from ..expr import ir

    sign = "-" if isinstance(node, ir.Unary) else ""
    value = node.operand.value if isinstance(node, ir.Unary) else node.value
    return sign + str(int(value))


def _input_shape(shape: tuple[str | int, ...], dim_ranges: dict[str, tuple[int, int]]) -> Shape:
    """An input's symbolic shape; a derived dim (``F + 1``) keeps its text for messages."""
    return tuple(shape_dim(d, dim_ranges) for d in shape)


def _most(shape: Shape, dim_ranges: dict[str, tuple[int, int]]) -> tuple[int, str]:
    """An upper bound of the element count over the whole box of dim ranges, and how to say it:
    ``would have up to N elements at M=1, N=20000`` where a corner reaches it, else ``may have
    up to N elements for M in 1..20000`` (only interval arithmetic bounds it)."""
    count, corner = most_elements(shape, dim_ranges)  # type: ignore[misc]
    if corner is None:
        symbols = sorted(set().union(*(d.symbols for d in shape)))
        ranges = ", ".join(f"{s} in {dim_ranges[s][0]}..{dim_ranges[s][1]}" for s in symbols)
        return count, f"may have up to {count} elements for {ranges}"
    return count, f"would have up to {count} elements" + (f" at {at_text(corner)}" if corner else "")


def _located(err: SpecError, source: Source, claim: str | None = None) -> SpecError:
    return err.located(source.location, claim=claim) if err.location is None else err


def build_problem(spec: Spec, *, max_elements: int | None = None) -> Problem:
    """Compile a Spec: symbolic shapes for everything, static findings for claims.

    Raises
    ------
    ShapeError
        A graph node or the loss is ill-shaped, the loss is not a scalar, or an array
        may exceed the element budget somewhere in the dims' ranges.
    SpecError
        An array constant cannot be read or does not fit its shape (:mod:`.constants`).
    """
    budget = max_elements or spec.settings.max_elements or DEFAULT_MAX_ELEMENTS
    spec, data = _with_data(spec)
    dim_ranges = {name: (d.lo, d.hi) for name, d in spec.dims.items()}
    input_shapes = _input_shapes(spec, dim_ranges, budget)
    scalars = frozenset(spec.constants) | frozenset(d for d in spec.dims if not keyword.iskeyword(d))
    defines = {name: (d.params, d.body.expr, d.body.text) for name, d in spec.define.items()}
    integers = integer_ranges(spec)

    arrays: dict[str, Shape] = {**(data.shapes if data is not None else {}), **input_shapes}
    seen: list[Shape] = []  # every intermediate of the graph and the loss: what one evaluation allocates
    env = ShapeEnv(
        arrays=arrays,
        scalars=scalars,
        dims=dim_ranges,
        defines=defines,
        max_elements=budget,
        record=seen,
        integers=integers,
    )
    node_shapes = _node_shapes(spec, env)
    _check_total(spec, dim_ranges, input_shapes, node_shapes, budget)
    _check_loss(spec, replace(env, arrays=dict(arrays)))

    for claim in spec.claims:
        if claim.node is not None:
            _check_local(spec, claim)
    plans = []
    for claim in spec.claims:
        for wrt in claim.wrt:
            plans.append(_target(claim, wrt, node_shapes, replace(env, arrays=dict(arrays), record=None)))
    return Problem(
        spec=spec,
        dim_ranges=dim_ranges,
        input_shapes=input_shapes,
        node_shapes=node_shapes,
        defines=defines,
        plans=tuple(plans),
        max_elements=budget,
        intermediates=tuple(dict.fromkeys(shape for shape in seen if shape)),
        scalars=scalars,
        branch_cuts=_branch_cuts(spec),
        complex_unsafe=_complex_unsafe(spec),
        data=data.values if data is not None else {},
        data_shapes=data.shapes if data is not None else {},
        warnings=_warnings(spec, dim_ranges),
        label_hints=_label_hints(spec),
    )


def _with_data(spec: Spec):
    """The spec with the dims its array constants fix, and the data read (None: no constants)."""
    if not spec.arrays:  # numpy only for specs with data: collecting spec files stays numpy-free
        return spec, None
    from .constants import read_arrays

    data = read_arrays(spec)
    if data.sizes:  # the data fixes the dims it names; the other inputs follow
        at = {d: next(c.location for c in spec.arrays.values() if d in (c.shape or ())) for d in data.sizes}
        fixed = {d: DimSpec(d, n, n, spec.dims[d].location if d in spec.dims else at[d]) for d, n in data.sizes.items()}
        spec = replace(spec, dims={**spec.dims, **fixed})
    return spec, data


def _input_shapes(spec: Spec, dim_ranges: dict[str, tuple[int, int]], budget: int) -> dict[str, Shape]:
    """Every input's symbolic shape; a ShapeError if one may exceed the element budget."""
    input_shapes = {name: _input_shape(inp.shape, dim_ranges) for name, inp in spec.inputs.items()}
    for name, shape in input_shapes.items():
        count, what = _most(shape, dim_ranges)
        if count > budget:
            raise ShapeError(
                f"input '{name}' with shape {shape_str(shape)} {what} (budget {budget})",
                spec.inputs[name].location,
                hint="narrow the dims' ranges, or raise the budget with --max-elements N",
            )
    return input_shapes


def _node_shapes(spec: Spec, env: ShapeEnv) -> dict[str, Shape]:
    """Every graph node's shape, in order; each node's shape joins ``env.arrays`` for the next
    (the env itself, not a copy per node: that is quadratic)."""
    node_shapes: dict[str, Shape] = {}
    for node in spec.graph:
        try:
            shape = infer_shape(node.body.expr, env, node.body.text)
        except ShapeError as err:
            raise _located(err, node.body) from None
        node_shapes[node.name] = shape
        env.arrays[node.name] = shape
    return node_shapes


def _check_loss(spec: Spec, env: ShapeEnv) -> None:
    """An expression loss must be well-shaped and a scalar."""
    if not isinstance(spec.loss, Source):
        return
    try:
        loss_shape = infer_shape(spec.loss.expr, env, spec.loss.text)
    except ShapeError as err:
        raise _located(err, spec.loss) from None
    if loss_shape != ():
        raise ShapeError(
            f"the loss must be a scalar, but `{spec.loss.text}` has shape {shape_str(loss_shape)}",
            spec.loss.location,
            hint="reduce it, e.g. sum(...) or mean(...)",
        )


def _branch_cuts(spec: Spec) -> bool:
    """Whether the loss, a graph node or a define may be undefined in reals where complex
    arithmetic continues it (then every example pays one real evaluation of the loss)."""
    from ..expr.parse import has_branch_cut

    return any(has_branch_cut(e) for e in _loss_exprs(spec))


def _loss_exprs(spec: Spec) -> list:
    """The expressions one evaluation of the loss walks: every graph node, every define, and the
    loss itself when it is an expression (a Python loss is not walked)."""
    exprs = [node.body.expr for node in spec.graph] + [d.body.expr for d in spec.define.values()]
    if isinstance(spec.loss, Source):
        exprs.append(spec.loss.expr)
    return exprs


def integer_ranges(spec: Spec) -> dict[str, tuple]:
    """Each integer input's half-open value range [lo, hi) (ints or dim names): the names that may index an array."""
    return {name: (inp.domain.low, inp.domain.high) for name, inp in spec.inputs.items() if inp.domain.is_integer}


def _complex_unsafe(spec: Spec) -> tuple[str, ...]:
    """The functions without a complex-step continuation (real, imag, conj) that the loss, a graph
    node or a define calls, in order: the oracle uses finite differences for such a spec."""
    from ..expr.parse import complex_unsafe_calls

    calls = (f for e in _loss_exprs(spec) for f in complex_unsafe_calls(e))
    return tuple(dict.fromkeys(f for f in calls if f in DROPS_THE_STEP))


# the functions that silently drop a complex step (their kernels take complex data as data): the whole
# spec goes to finite differences. The other functions without a continuation (eigvalsh, eigvecsh)
# refuse a complex point in the evaluator, so the oracle falls back only where a claim's path reaches them
DROPS_THE_STEP = frozenset({"conj", "real", "imag"})


EVALUATION_BUDGET_FACTOR = 4  # one evaluation may hold this many per-array budgets at once


def _check_total(spec: Spec, dim_ranges, input_shapes, node_shapes, budget: int) -> None:
    """The per-evaluation budget: every input and node alive together, each at its largest over the box."""
    sizes = {name: _most(shape, dim_ranges)[0] for name, shape in {**input_shapes, **node_shapes}.items()}
    total = sum(sizes.values())
    limit = EVALUATION_BUDGET_FACTOR * budget
    if total > limit:
        biggest = max(sizes, key=sizes.get)
        where = next((n.location for n in spec.graph if n.name == biggest), None) or spec.inputs[biggest].location
        raise ShapeError(
            f"one evaluation would hold up to {total} elements in its inputs and nodes (budget {limit} = "
            f"{EVALUATION_BUDGET_FACTOR} x settings.max_elements); the largest is '{biggest}' with {sizes[biggest]}",
            where,
            hint="narrow the dims' ranges, or raise the budget with --max-elements N",
        )


def _direct_names(spec: Spec, body: Source) -> set[str]:
    """Names an expression uses, looking through ``define:`` helpers (whose bodies see every name)."""
    from ..expr.parse import called_functions, free_names

    names: set[str] = set()
    seen: set[str] = set()
    todo = [(body.expr, frozenset())]
    while todo:
        expr, params = todo.pop()
        names |= {n for n, _ in free_names(expr) if n not in params}
        for fn, _ in called_functions(expr):
            if fn in spec.define and fn not in seen:
                seen.add(fn)
                d = spec.define[fn]
                todo.append((d.body.expr, frozenset(d.params)))
    return names


def _check_local(spec: Spec, claim: Claim) -> None:
    """A vjp/jvp step is local: its node must use the wrt directly, or the step is identically zero."""
    node = next(n for n in spec.graph if n.name == claim.node)
    if isinstance(node.body, PythonRef):
        return
    used = _direct_names(spec, node.body)
    for wrt in claim.wrt:
        if wrt in used:
            continue
        users = [n.name for n in spec.graph if wrt in _direct_names(spec, n.body)]
        hint = f"take the step wrt a variable that {claim.node} uses, or claim the total derivative with gradient:" + (
            f" ({wrt} is used directly by {', '.join(users)})" if users else ""
        )
        raise SpecError(
            f"node '{claim.node}' does not use '{wrt}' directly, so its local derivative wrt {wrt} is zero: a "
            f"vjp/jvp step is the derivative of one node with everything upstream held fixed",
            claim.wrt_locations.get(wrt, claim.location),
            claim=claim.name,
            hint=hint,
        )


def _target(claim: Claim, wrt: str, node_shapes, base: ShapeEnv) -> ClaimTarget:
    """One (claim, wrt) target; its claimed expression typed in ``base`` (the spec's inputs and
    nodes, scalars, dims, helpers, budget) with the claim's own cotangent or tangent added."""
    arrays = base.arrays
    wrt_shape = arrays[wrt]
    claim_arrays = dict(arrays)
    if claim.kind == "gradient":
        expected = wrt_shape
    elif claim.kind == "vjp":
        expected = wrt_shape
        claim_arrays[claim.cotangent] = node_shapes[claim.node]
    elif claim.kind == "hessian":
        expected = wrt_shape + wrt_shape
    elif claim.kind == "hvp":
        expected = wrt_shape
        claim_arrays[claim.tangent] = wrt_shape
    elif claim.kind == "jacobian":
        expected = node_shapes[claim.node] + wrt_shape
    else:
        expected = node_shapes[claim.node]
        claim_arrays[claim.tangent] = wrt_shape
    body = claim.bodies[wrt]
    plan = ClaimTarget(
        claim=claim, wrt=wrt, wrt_shape=wrt_shape, expected_shape=expected, body=body, claimed_shape=None
    )
    if isinstance(body, PythonRef):
        return plan
    env = replace(base, arrays=claim_arrays)
    target = _target_words(claim, wrt)
    try:
        shape = infer_shape(body.expr, env, body.text)
    except ShapeError as err:
        recovered = getattr(err, "recovered", None)
        lines = []
        if recovered is not None and recovered != expected:
            lines.append(f"{plan.noun} has shape {shape_str(recovered)} but {target} has shape {shape_str(expected)}")
        lines.append(err.message)
        if isinstance(err, BudgetError):
            raise err.located(body.location, claim=claim.name) from None
        return ClaimTarget(
            **{**plan.__dict__, "claimed_shape": recovered, "static": StaticMismatch(tuple(lines), recovered, False)}
        )
    if shape == expected:
        return ClaimTarget(**{**plan.__dict__, "claimed_shape": shape})
    # a transpose needs numbers to decide; a Hessian or Jacobian of another shape never reduces
    transposed = claim.kind not in SECOND_ORDER and len(shape) >= 2 and tuple(reversed(shape)) == tuple(expected)
    line = f"{plan.noun} has shape {shape_str(shape)} but {target} has shape {shape_str(expected)}"
    lines = (line,) + _axes_line(claim, wrt, wrt_shape, node_shapes)
    return ClaimTarget(**{**plan.__dict__, "claimed_shape": shape, "static": StaticMismatch(lines, shape, transposed)})


def _axes_line(claim: Claim, wrt: str, wrt_shape: Shape, node_shapes) -> tuple[str, ...]:
    """How a Hessian's or a Jacobian's axes are laid out, beside its shape mismatch."""
    if claim.kind == "hessian":
        return (f"a Hessian's axes are {wrt}'s {shape_str(wrt_shape)} twice",)
    if claim.kind == "jacobian":
        node = node_shapes[claim.node]
        return (f"a Jacobian's axes are node {claim.node}'s {shape_str(node)}, then {wrt}'s {shape_str(wrt_shape)}",)
    return ()


def _target_words(claim: Claim, wrt: str) -> str:
    """What the claim must match in shape, in words: ``Theta``, ``node a``, ``the Hessian of the loss wrt x``."""
    if claim.kind == "hessian":
        return f"the Hessian of the loss wrt {wrt}"
    if claim.kind == "jacobian":
        return f"the Jacobian of node {claim.node} wrt {wrt}"
    return wrt if claim.kind != "jvp" else f"node {claim.node}"


def claim_fields(problem: "Problem", plan: ClaimTarget, seed: int) -> dict:
    """What every Verdict of ``plan`` says about its claim, whatever the outcome (the worker's
    timeout and died verdicts too)."""
    spec = problem.spec
    return dict(
        spec=spec.name,
        path=spec.path,
        claim=plan.claim.name,
        wrt=plan.wrt,
        kind=plan.kind_word,
        node=plan.claim.node,
        location=plan.claim.location,
        expect=plan.claim.expect,
        expected_shape=shape_str(plan.expected_shape),
        claimed_shape=shape_str(plan.claimed_shape) if plan.claimed_shape is not None else "",
        seed=seed,
        what=plan.what,
    )
