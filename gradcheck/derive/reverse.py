"""Symbolic reverse mode over a spec's loss graph.

The loss gets the adjoint 1. Its expression is walked from the top, each operation handing
its operands their share of the adjoint (the VJP rules of :mod:`gradcheck.derive.rules`;
broadcasting undone by sums over the broadcast axes). Graph nodes are then visited in
reverse order: a node's adjoint is the sum of what its consumers handed it, written in the
**chain** form with the consumers' adjoints as names (``dL/da = dL/db * dh(a)``), and its
body is walked with that name as the adjoint. Finally every adjoint is expanded (names
replaced by their own expansions, simplified as it is rebuilt) and folded into the user's
helpers and node names (:mod:`gradcheck.derive.fold`).
"""

from __future__ import annotations

import keyword
from collections import defaultdict
from dataclasses import dataclass, field

from ..expr import ir
from ..expr.dims import Dim, Shape, broadcast, shape_str
from ..expr.parse import free_names
from ..expr.shapes import ShapeEnv, infer_shape
from ..problem.build import integer_ranges
from ..spec.complex_inputs import complex_names
from ..spec.model import Source
from .algebra import T, add, call, div, mul, name, neg, num, power, rebuild, sub
from .fold import Folder, inline
from .printer import to_text
from .rules import Context, NotDerivable, vjp_call, vjp_index, vjp_matmul

__all__ = ["Adjoint", "Derivation", "derive_problem", "derive_vjp"]


@dataclass(frozen=True)
class Adjoint:
    """d loss / d ``name``: the chain step and its expansion in the user's symbols."""

    name: str
    shape: Shape
    step: ir.Expr | None  # in terms of the consumers' adjoints (placeholders ``dL/d<node>``)
    expr: ir.Expr | None  # expanded and folded; None when not derivable
    reason: str | None = None  # why it cannot be derived

    @property
    def text(self) -> str | None:
        return to_text(self.expr) if self.expr is not None else None

    @property
    def step_text(self) -> str | None:
        return to_text(self.step) if self.step is not None else None

    @property
    def shape_text(self) -> str:
        return shape_str(self.shape)


@dataclass
class Derivation:
    """Every adjoint of one spec: graph nodes in backward order, then the inputs."""

    spec: str
    steps: list[Adjoint] = field(default_factory=list)  # nodes, loss-side first
    inputs: dict[str, Adjoint] = field(default_factory=dict)  # differentiable inputs
    skipped: dict[str, str] = field(default_factory=dict)  # input -> why it has no gradient


def derive_vjp(problem, node: str, wrt: str, cotangent: str = "G") -> Adjoint:
    """The VJP of one node's own expression wrt ``wrt`` (an input or an earlier node), applied
    to the cotangent named ``cotangent``: one chain-rule step, upstream nodes held fixed."""
    walker = _Reverse(problem)
    walker.targets = {wrt}
    walker.arrays[cotangent] = walker.arrays[node]
    body = walker.nodes[node]
    walker.walk_body(node, body, name(cotangent))
    if node in walker.poisoned:
        return Adjoint(wrt, walker.arrays[wrt], None, None, f"it passes through {walker.poisoned[node]}")
    total = walker.total(wrt)
    if total is None:
        zero = call("zeros_like", name(wrt))
        return Adjoint(wrt, walker.arrays[wrt], zero, zero)
    folded = walker.folder.fold(total)
    return Adjoint(wrt, walker.arrays[wrt], folded, folded)


def placeholder(node: str) -> str:
    return f"dL/d{node}"


def derive_problem(problem) -> Derivation:
    """Derive d loss / d input for every differentiable input of an expression spec.

    Parameters
    ----------
    problem : gradcheck.problem.Problem
        A compiled spec (shapes checked).

    Returns
    -------
    Derivation
        The backward chain and each input's gradient; an input whose gradient passes through a
        function without a rule has ``expr=None`` and the reason.
    """
    return _Reverse(problem).run()


class _Reverse:
    def __init__(self, problem) -> None:
        self.problem = problem
        spec = problem.spec
        self.spec = spec
        self.helpers = {h: (d.params, d.body.expr) for h, d in spec.define.items()}
        self.nodes = {n.name: n.body.expr for n in spec.graph}
        self.targets = {n for n, inp in spec.inputs.items() if not inp.domain.is_integer} | set(self.nodes)
        self.arrays: dict[str, Shape] = {**problem.input_shapes, **problem.node_shapes}
        self.contrib: dict[str, list[ir.Expr]] = defaultdict(list)
        self.poisoned: dict[str, str] = {}  # name -> reason its adjoint is incomplete
        self.ctx = Context(shape=self.shape, dim=self.dim)
        self.folder = Folder(self.helpers, self.nodes)

    # -- shapes --------------------------------------------------------------------------

    def shape(self, e: ir.Expr) -> Shape:
        env = ShapeEnv(
            arrays=self.arrays,
            scalars=self.problem.scalars,
            dims=self.problem.dim_ranges,
            defines={h: (p, b, to_text(b)) for h, (p, b) in self.helpers.items()},
            max_elements=10**18,
            integers=integer_ranges(self.spec),
        )
        return infer_shape(e, env, to_text(e))

    def dim(self, d: Dim) -> ir.Expr | None:
        total = None
        for monomial, coefficient in d.terms:
            if any(keyword.iskeyword(s) or s not in self.problem.scalars for s in monomial):
                return None
            term = num(coefficient)
            for s in monomial:
                term = mul(term, name(s))
            total = add(total, term)
        return total if total is not None else num(0)

    # -- the walk ------------------------------------------------------------------------

    def run(self) -> Derivation:
        out = Derivation(self.spec.name)
        for inp_name, inp in self.spec.inputs.items():
            if inp.domain.is_integer:
                out.skipped[inp_name] = "integer input (labels are never differentiated)"
        complex_inputs = complex_names(self.spec.inputs)
        if complex_inputs:  # the rules (abs, .T, ...) are those of real data
            why = f"complex inputs ({', '.join(complex_inputs)}): symbolic derivation covers real inputs only"
            out.skipped.update({n: why for n in self.spec.inputs})
            return out
        if not isinstance(self.spec.loss, Source):
            for n in self.targets - set(self.nodes):
                out.inputs[n] = Adjoint(n, self.arrays[n], None, None, "the loss is Python code")
            return out
        self.walk_body("loss", self.spec.loss.expr, num(1))
        chain: dict[str, ir.Expr] = {}
        for node in reversed(self.spec.graph):
            adjoint = self.total(node.name)
            if adjoint is None:
                continue
            chain[node.name] = adjoint
            self.arrays[placeholder(node.name)] = self.arrays[node.name]
            self.walk_body(node.name, node.body.expr, name(placeholder(node.name)))
        expanded: dict[str, ir.Expr | None] = {}

        def expand(e: ir.Expr) -> ir.Expr:
            def replace(n: ir.Expr):
                if isinstance(n, ir.Name) and n.id.startswith("dL/d"):
                    return expanded[n.id[4:]]
                return None

            return rebuild(e, replace)

        for node in reversed(self.spec.graph):
            if node.name in chain:
                expanded[node.name] = expand(chain[node.name])
                out.steps.append(self.adjoint(node.name, chain[node.name], expanded[node.name]))
        for inp in self.spec.inputs:
            if inp in self.targets:
                step = self.total(inp)
                full = expand(step) if step is not None else None
                out.inputs[inp] = self.adjoint(inp, step, full)
        return out

    def adjoint(self, n: str, step: ir.Expr | None, full: ir.Expr | None) -> Adjoint:
        reason = self.reason(n)
        if reason is not None:
            return Adjoint(n, self.arrays[n], None, None, reason)
        if full is None:  # the loss does not depend on it
            zero = call("zeros_like", name(n))
            return Adjoint(n, self.arrays[n], zero, zero)
        return Adjoint(n, self.arrays[n], self.folder.fold(step), self.folder.fold(full))

    def reason(self, n: str) -> str | None:
        """Why ``n``'s adjoint is incomplete: a rule is missing on some path from it to the loss."""
        for poisoned, why in self.poisoned.items():
            if poisoned == n or n in self.depends(poisoned):
                return f"its gradient passes through {why}"
        return None

    def depends(self, source: str) -> set[str]:
        """Every input and node the body of ``source`` reads, transitively."""
        body = self.spec.loss.expr if source == "loss" else self.nodes.get(source)
        seen: set[str] = set()
        stack = [body] if body is not None else []
        while stack:
            e = stack.pop()
            for n in {used for used, _ in free_names(inline(e, self.helpers))}:
                if n not in seen:
                    seen.add(n)
                    if n in self.nodes:
                        stack.append(self.nodes[n])
        return seen

    def total(self, n: str) -> ir.Expr | None:
        adjoint = None
        for c in self.contrib.get(n, []):
            adjoint = add(adjoint, c)
        if adjoint is not None and self.shape(adjoint) != self.arrays[n]:
            adjoint = mul(adjoint, call("ones_like", name(n)))
        return adjoint

    def walk_body(self, owner: str, body: ir.Expr, G: ir.Expr) -> None:
        saved = {k: list(v) for k, v in self.contrib.items()}
        try:
            self.walk(body, G)
        except NotDerivable as why:
            self.contrib = defaultdict(list, saved)
            self.poisoned[owner] = str(why)

    def walk(self, e: ir.Expr, G: ir.Expr | None) -> None:
        if G is None or isinstance(e, (ir.Number, ir.String, ir.Compare, ir.TupleExpr)):
            return
        if isinstance(e, ir.Name):
            if e.id in self.targets:
                self.contrib[e.id].append(G)
            return
        if isinstance(e, ir.Unary):
            self.walk(e.operand, neg(G) if e.op == "-" else G)
        elif isinstance(e, ir.Transpose):
            self.walk(e.operand, T(G))
        elif isinstance(e, ir.Binary):
            self.binary(e, G)
        elif isinstance(e, ir.Call):
            self.call(e, G)
        elif isinstance(e, ir.Index):
            if not any(isinstance(i, ir.IndexArray) for i in e.items):
                raise NotDerivable("indexing (its adjoint scatters into a zero array)")
            self.walk(e.value, self.unbroadcast(vjp_index(e, G, self.ctx), e.value))

    def binary(self, e: ir.Binary, G: ir.Expr) -> None:
        a, b = e.left, e.right
        if e.op == "@":
            self.walk(a, vjp_matmul(a, b, 0, G, self.ctx, e))
            self.walk(b, vjp_matmul(a, b, 1, G, self.ctx, e))
            return
        if e.op == "+":
            da, db = G, G
        elif e.op == "-":
            da, db = G, neg(G)
        elif e.op == "*":
            da, db = mul(G, b), mul(G, a)
        elif e.op == "/":
            da, db = div(G, b), neg(div(mul(G, a), power(b, num(2))))
        else:  # '**'
            exponent = b.value if isinstance(b, ir.Number) else None
            if exponent is not None:
                da, db = mul(G, mul(num(exponent), power(a, num(exponent - 1)))), None
            else:
                da, db = mul(G, mul(b, power(a, sub(b, num(1))))), mul(G, mul(call("log", a), e))
        self.walk(a, self.unbroadcast(da, a))
        self.walk(b, self.unbroadcast(db, b))

    def call(self, e: ir.Call, G: ir.Expr) -> None:
        if e.func in self.helpers:
            self.walk(inline(e, self.helpers), G)
            return
        for i, arg in enumerate(e.args):
            self.walk(arg, self.unbroadcast(vjp_call(e, i, G, self.ctx), arg))

    def unbroadcast(self, c: ir.Expr | None, operand: ir.Expr) -> ir.Expr | None:
        """``c`` summed over the axes along which ``operand`` was broadcast."""
        if c is None:
            return None
        cs, s = self.shape(c), self.shape(operand)
        if broadcast(cs, s) == s:
            return c
        lead = len(cs) - len(s)
        if lead > 0:
            c = call("sum", c, axis=0 if lead == 1 else tuple(range(lead)))
            cs = cs[lead:]
        ones = tuple(i for i, d in enumerate(s) if d == Dim.const(1) and i < len(cs) and cs[i] != d)
        if ones:
            c = call("sum", c, axis=ones[0] if len(ones) == 1 else ones, keepdims=True)
        return c
