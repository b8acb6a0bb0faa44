"""The Spec: what a YAML file says, as frozen values that remember where they were written.

The loader (:mod:`gradcheck.spec.load`) builds these from text; nothing here evaluates or
samples anything. Expressions are already parsed into the IR of :mod:`gradcheck.expr.ir`
(so a spec that loads is syntactically valid) but not yet shape-checked: that is the job of
:mod:`gradcheck.problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from ..errors import Location
from ..expr.ir import Expr
from ..verdict.model import Expect


@dataclass(frozen=True)
class Source:
    """An expression together with its text and where the text starts in the file.

    ``location`` is the position of the expression's first character, so that an error
    at character offset k inside ``text`` is at column ``location.col + k``.
    """

    text: str
    expr: Expr
    location: Location


@dataclass(frozen=True)
class PythonRef:
    """A ``{python: "module:function"}`` entry: imported on first use, never evaluated as text.

    ``obj`` is an already-imported callable (the Python API, :mod:`gradcheck.api`, builds
    specs from the user's own functions); when it is set nothing is imported and ``module``
    and ``function`` only name it in messages.
    """

    module: str
    function: str
    location: Location
    obj: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # the callable returns (value, gradient), as scipy.optimize's jac=True takes it: a loss entry
    # uses the value, a claim the gradient (and its value is checked against the spec's loss)
    value_and_grad: bool = False

    @property
    def target(self) -> str:
        return f"{self.module}:{self.function}"


Body = Source | PythonRef


@dataclass(frozen=True)
class ArrayConstant:
    """Fixed data the loss is not differentiated against: ``constants: {X: {python: "pkg.data:X",
    shape: [M, in]}}`` or ``{npy: data/X.npy, ...}`` (relative to the spec's folder).

    ``shape`` (dim names or sizes, as an input's) binds the dims it names to the data's sizes;
    None takes the data's own sizes. The data is read when the spec is compiled
    (:mod:`gradcheck.problem.constants`), never by the loader. ``value`` is an array handed over
    by the Python API (then ``source`` is None).
    """

    name: str
    source: PythonRef | str | None  # a {python:} entry, or a .npy path as written
    shape: tuple[str | int, ...] | None
    location: Location
    value: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DimSpec:
    name: str
    lo: int
    hi: int  # inclusive; lo == hi for a fixed size
    location: Location


@dataclass(frozen=True)
class Domain:
    """Where an input's values are drawn.

    kind is one of ``real positive unit range symmetric spd invertible orthogonal simplex
    integers``; ``low``/``high`` carry the bounds of ``range`` (closed) and ``integers``
    (half-open; bounds may name dims, e.g. ``[0, k]``).
    """

    kind: str = "real"
    low: float | int | str | None = None
    high: float | int | str | None = None
    cond: float | None = None  # spd / invertible: draw with this condition number (eigen/singular values log-spaced)

    @property
    def is_integer(self) -> bool:
        return self.kind == "integers"


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[str | int, ...]  # dim names or integer literals, as written
    domain: Domain
    location: Location
    dtype: Literal["float64", "float32", "complex128"] = "float64"  # complex128: spec/complex_inputs.py


@dataclass(frozen=True)
class Define:
    """A helper function from ``define:``, e.g. ``h(z): sigmoid(z)``."""

    name: str
    params: tuple[str, ...]
    body: Source
    location: Location


@dataclass(frozen=True)
class GraphNode:
    name: str
    body: Source
    location: Location  # of the key


ClaimKind = Literal["gradient", "vjp", "jvp", "hessian", "hvp", "jacobian"]
SECOND_ORDER = ("hessian", "hvp", "jacobian")  # the claim kinds checked by reduction (gradcheck.second_order)


@dataclass(frozen=True)
class Claim:
    """One claimed derivative.

    kind ``gradient``: ``bodies[w]`` is d loss / d w for each ``w`` in ``wrt``.
    kind ``vjp``: the local derivative of ``node`` applied to the cotangent (named
    ``cotangent``, node-shaped); result has the wrt's shape.
    kind ``jvp``: the local derivative of ``node`` applied to the tangent (named ``tangent``,
    wrt-shaped); result has the node's shape.
    kind ``hessian``: d² loss / d w², of shape ``w.shape + w.shape`` (one wrt).
    kind ``hvp``: the Hessian of the loss applied to the tangent (named ``tangent``, wrt-shaped);
    result has the wrt's shape.
    kind ``jacobian``: d node / d w (local, as vjp and jvp), of shape ``node.shape + w.shape``.

    For a PythonRef gradient with several ``wrt`` the same ref is stored under every name
    (it returns a dict keyed by name or a tuple in wrt order).
    """

    name: str
    kind: ClaimKind
    wrt: tuple[str, ...]
    bodies: dict[str, Body]
    location: Location  # of the claim's mapping (its first key)
    node: str | None = None
    cotangent: str = "G"
    tangent: str = "V"
    expect: Expect = Expect.PASS
    description: str = ""
    wrt_locations: dict[str, Location] = field(default_factory=dict)
    # ("vjp", "f"): a vjp/jvp rule the Python API checks as the gradient of an inner product;
    # verdicts and messages use these words (kind, function) instead of "gradient"
    wording: tuple[str, str] | None = None


@dataclass(frozen=True)
class Settings:
    """Run settings; every field can come from the spec's ``settings:`` or the command line."""

    examples: int | None = None  # Hypothesis examples per claim and wrt (default 25)
    rtol: float | None = None  # relative tolerance (default 1e-9)
    atol: float | None = None  # absolute tolerance (default 0)
    directions: int | None = None  # random directions per example (default 3)
    max_elements: int | None = None  # per-array element budget (default 10_000_000)


@dataclass(frozen=True)
class Spec:
    name: str
    path: str
    description: str
    dims: dict[str, DimSpec]
    constants: dict[str, float]
    inputs: dict[str, InputSpec]
    define: dict[str, Define]
    graph: tuple[GraphNode, ...]
    loss: Body
    claims: tuple[Claim, ...]
    settings: Settings
    location: Location  # the file's first line
    arrays: dict[str, ArrayConstant] = field(default_factory=dict)  # array constants (fixed data)
