"""Writing a derived expression in the user's own words: their helpers and their node names.

A rule writes the derivative of ``sigmoid(a)`` as ``sigmoid(a) * (1 - sigmoid(a))``; if the
spec defines ``dh(z): sigmoid(z) * (1 - sigmoid(z))`` the user wrote that product as
``dh(a)``, and if a graph node ``b: h(a)`` is ``sigmoid(a)``, they call it ``b``. :func:`fold`
walks an expression top-down and, at each subexpression, first tries every helper body as a
pattern (its parameters bind to subexpressions, consistently; ``*`` and ``+`` match in either
order), then every node's body, and otherwise folds the children.
"""

from __future__ import annotations

from ..expr import ir
from .algebra import _factors, _product, call, key, name, rebuild

__all__ = ["Folder"]


class Folder:
    """Folds expressions into helper calls and node names of one spec."""

    def __init__(self, helpers: dict[str, tuple[tuple[str, ...], ir.Expr]], nodes: dict[str, ir.Expr]) -> None:
        self.helpers = {
            h: (params, _normal(body))
            for h, (params, body) in helpers.items()
            if params and not (isinstance(body, ir.Name) and body.id in params)
        }
        self.nodes: dict = {}
        for node, body in nodes.items():  # later nodes do not shadow earlier equal ones
            for k in (key(_normal(body)), key(_normal(self.inline(body)))):
                self.nodes.setdefault(k, node)

    def inline(self, e: ir.Expr) -> ir.Expr:
        """``e`` with every helper call replaced by its body (arguments substituted)."""
        return inline(e, {h: (p, b) for h, (p, b) in self.helpers.items()})

    def fold(self, e: ir.Expr) -> ir.Expr:
        folded = self.fold_product(e)
        if folded is not None:
            return folded
        for helper, (params, pattern) in self.helpers.items():
            binding: dict[str, ir.Expr] = {}
            if _match(pattern, e, set(params), binding) and len(binding) == len(params):
                folded = call(helper, *(self.fold(binding[p]) for p in params))
                node = self.nodes.get(key(folded))
                return name(node) if node is not None else folded
        node = self.nodes.get(key(e))
        if node is not None:
            return name(node)
        return _map_children(e, self.fold)

    def fold_product(self, e: ir.Expr) -> ir.Expr | None:
        """A helper whose body is a product, found among the factors of a longer product:
        ``c * sigmoid(a) * (1 - sigmoid(a))`` is ``c * dh(a)``."""
        if not (isinstance(e, ir.Binary) and e.op in ("*", "/")):
            return None
        coef, nums, dens = _factors(e)
        for helper, (params, pattern) in self.helpers.items():
            pc, pnums, pdens = _factors(pattern)
            if len(pnums) < 2 or pdens or pc != 1 or len(pnums) >= len(nums) + 1 - (coef == 1 and not dens):
                continue
            binding: dict[str, ir.Expr] = {}
            used = _match_factors(pnums, nums, set(params), binding)
            if used is None or len(binding) != len(params):
                continue
            rest = [f for i, f in enumerate(nums) if i not in used]
            folded_call = call(helper, *(self.fold(binding[p]) for p in params))
            node = self.nodes.get(key(folded_call))
            first = name(node) if node is not None else folded_call
            at = min(used)
            rest = [self.fold(f) for f in rest]
            rest.insert(sum(1 for i in range(at) if i not in used), first)
            return _product(coef, rest, [self.fold(d) for d in dens])
        return None


def _match_factors(pattern: list[ir.Expr], factors: list[ir.Expr], params: set[str], binding: dict) -> set[int] | None:
    """Indices of ``factors`` that match every pattern factor (each used once), binding params."""
    if not pattern:
        return set()
    first, others = pattern[0], pattern[1:]
    for i, f in enumerate(factors):
        saved = dict(binding)
        if _match(first, f, params, binding):
            rest = _match_factors(others, [g if j != i else _USED for j, g in enumerate(factors)], params, binding)
            if rest is not None:
                return rest | {i}
        binding.clear()
        binding.update(saved)
    return None


_USED = ir.String((0, 0), "\0used")


def inline(e: ir.Expr, helpers: dict[str, tuple[tuple[str, ...], ir.Expr]]) -> ir.Expr:
    def replace(node: ir.Expr):
        if isinstance(node, ir.Call) and node.func in helpers:
            params, body = helpers[node.func]
            args = {p: inline(a, helpers) for p, a in zip(params, node.args, strict=True)}
            return inline(rebuild(body, lambda n: args.get(n.id) if isinstance(n, ir.Name) else None), helpers)
        return None

    return rebuild(e, replace)


def _normal(e: ir.Expr) -> ir.Expr:
    """The form the smart constructors give (derived expressions are built that way)."""
    return rebuild(e, lambda n: None)


def _match(pattern: ir.Expr, e: ir.Expr, params: set[str], binding: dict[str, ir.Expr]) -> bool:
    if isinstance(pattern, ir.Name) and pattern.id in params:
        bound = binding.get(pattern.id)
        if bound is None:
            binding[pattern.id] = e
            return True
        return key(bound) == key(e)
    if type(pattern) is not type(e):
        return key(pattern) == key(e)
    if isinstance(pattern, ir.Binary):
        if pattern.op != e.op:
            return False
        saved = dict(binding)
        if _match(pattern.left, e.left, params, binding) and _match(pattern.right, e.right, params, binding):
            return True
        binding.clear()
        binding.update(saved)
        if pattern.op in ("*", "+"):
            if _match(pattern.left, e.right, params, binding) and _match(pattern.right, e.left, params, binding):
                return True
            binding.clear()
            binding.update(saved)
        return False
    if isinstance(pattern, ir.Unary):
        return pattern.op == e.op and _match(pattern.operand, e.operand, params, binding)
    if isinstance(pattern, ir.Transpose):
        return _match(pattern.operand, e.operand, params, binding)
    if isinstance(pattern, ir.Call):
        if pattern.func != e.func or len(pattern.args) != len(e.args) or key(pattern)[3] != key(e)[3]:
            return False
        return all(_match(p, a, params, binding) for p, a in zip(pattern.args, e.args, strict=True))
    if isinstance(pattern, ir.Compare):
        return (
            pattern.op == e.op
            and _match(pattern.left, e.left, params, binding)
            and _match(pattern.right, e.right, params, binding)
        )
    if isinstance(pattern, ir.Index):
        same = key(ir.Index(e.span, pattern.value, pattern.items))[2] == key(e)[2]  # items by structure
        return same and _match(pattern.value, e.value, params, binding)
    return key(pattern) == key(e)


def _map_children(e: ir.Expr, f) -> ir.Expr:
    if isinstance(e, ir.Unary):
        return ir.Unary(e.span, e.op, f(e.operand))
    if isinstance(e, ir.Binary):
        return ir.Binary(e.span, e.op, f(e.left), f(e.right))
    if isinstance(e, ir.Transpose):
        return ir.Transpose(e.span, f(e.operand))
    if isinstance(e, ir.Call):
        return ir.Call(e.span, e.func, tuple(f(a) for a in e.args), e.kwargs)
    if isinstance(e, ir.Index):
        return ir.Index(e.span, f(e.value), e.items)
    if isinstance(e, ir.Compare):
        return ir.Compare(e.span, e.op, f(e.left), f(e.right))
    if isinstance(e, ir.TupleExpr):
        return ir.TupleExpr(e.span, tuple(f(i) for i in e.items))
    return e
