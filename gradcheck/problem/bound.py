"""A Problem bound to one sample: concrete arrays, and the functions the oracles differentiate.

Everything here is a plain function of numbers; which oracle is used and how results are
compared lives elsewhere. Expression bodies are evaluated by :mod:`gradcheck.expr.evaluate`
(complex-step safe by construction); Python bodies are imported user callables.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Mapping, Protocol

import numpy as np

from ..expr.dims import bind_shape, shape_str
from ..expr.evaluate import evaluate, evaluate_batched
from ..expr.forward import Dual, forward_value, split
from ..internal import ours
from ..spec.complex_inputs import complex_names
from ..spec.model import InputSpec, PythonRef, Source
from .build import ClaimTarget, Problem
from .callables import call_user, claim_value, loss_value, resolve, user_view, value_and_grad_pair

Perturb = Callable[[np.ndarray], np.ndarray] | None


class Sample(Protocol):
    """What a problem is bound to: the sizes of its dims, the seed of its directions, and its
    arrays. :mod:`gradcheck.samples` makes them (drawn, or given: a known point); this
    stage only asks for the arrays, so it depends on no way of choosing them."""

    sizes: dict[str, int]
    seed: int

    def inputs(
        self, specs: Mapping[str, InputSpec], shapes: Mapping[str, tuple[int, ...]]
    ) -> dict[str, np.ndarray]: ...


@dataclass
class Bound:
    """A problem with every input drawn and every graph node evaluated (float64)."""

    problem: Problem
    sample: Sample
    inputs: dict[str, np.ndarray]  # as drawn (float32 where declared), int64 labels
    shapes: dict[str, tuple[int, ...]]  # concrete shape of every input and node
    values: dict[str, object]  # inputs (float64), constants, dims, node values

    @property
    def sizes(self) -> dict[str, int]:
        return self.sample.sizes

    @cached_property
    def complex_data(self) -> bool:
        """The spec has complex inputs: complex values are data, evaluated with numpy's meaning
        (read once per sample: every evaluation of the graph asks)."""
        return bool(complex_names(self.problem.spec.inputs))

    def fixed_values(self) -> dict[str, object]:
        """Scalar constants, dims, and the array constants (fixed data): what no oracle perturbs."""
        spec = self.problem.spec
        out: dict[str, object] = {k: float(v) for k, v in spec.constants.items()}
        out.update(self.problem.data)
        out.update({k: v for k, v in self.sizes.items() if not keyword.iskeyword(k)})
        return out

    # -- the loss and the graph, as functions of one variable ---------------------------------

    def loss_at(self, wrt: str, x: np.ndarray) -> np.ndarray:
        """The loss with input ``wrt`` replaced by ``x`` (real or complex), everything else fixed."""
        spec = self.problem.spec
        if isinstance(spec.loss, PythonRef):
            fn = resolve(spec.loss)
            kwargs = {**self.user_inputs(), **self.fixed_values(), wrt: x}
            view = user_view(x)
            if view is not x:  # a complex point: real x complex products as two real ones
                try:
                    return self._loss_value(call_user(fn, {**kwargs, wrt: view}, copy=True, dims=self.sizes))
                except Exception as exc:  # noqa: BLE001  user code (e.g. it checks type(x) is np.ndarray): the plain array decides; gradcheck's own failures re-raised
                    if ours(exc):
                        raise
            return self._loss_value(call_user(fn, kwargs, copy=True, dims=self.sizes))
        # one point walks the graph unbatched: the batched walker on a batch of one costs twice as
        # much per evaluation at small n (measured 66 vs 30 µs for the seed loss)
        env = {**self.fixed_values(), **self.values_inputs(), wrt: x}
        for node in spec.graph:
            env[node.name] = evaluate(node.body.expr, env, self.problem.defines, complex_data=self.complex_data)
        return evaluate(spec.loss.expr, env, self.problem.defines, complex_data=self.complex_data)

    def _loss_value(self, out: object) -> np.ndarray:
        """The loss's one number (the value of a value-and-gradient loss); a located usage error else."""
        loss = self.problem.spec.loss
        if isinstance(loss, PythonRef) and loss.value_and_grad:
            out = value_and_grad_pair(out, resolve(loss))[0]
        return loss_value(out, loss)

    def returned_value(self, plan: ClaimTarget) -> float:
        """The value a ``value_and_grad`` claim's code returns at the bound inputs (beside its gradient)."""
        out = call_user(resolve(plan.body), self._claim_keywords(), copy=True, dims=self.sizes)
        return float(np.real(np.asarray(value_and_grad_pair(out, resolve(plan.body))[0], dtype=np.float64)))

    def _claim_keywords(self, float64: bool = False) -> dict[str, object]:
        inputs = self.values_inputs() if float64 else self.user_inputs()
        return {**inputs, **self.fixed_values(), **{k: self.values[k] for k in self.problem.node_shapes}}

    def loss_many(self, wrt: str, z: np.ndarray, perturb: Perturb = None) -> np.ndarray:
        """:meth:`loss_at` for each ``z[i]`` in one vectorised evaluation: the loss values, shape (k,).

        Expression losses only (user Python code has no batched form; its callers loop).
        Graph nodes that do not depend on ``wrt`` are computed once, without the batch axis.
        """
        spec = self.problem.spec
        if isinstance(spec.loss, PythonRef):
            raise TypeError("a Python loss has no batched form")
        inputs = self.values_inputs()
        if perturb is not None:  # the inputs' own representation error too, as for the claim
            inputs = {
                k: (perturb(v) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v) for k, v in inputs.items()
            }
        env = {**self.fixed_values(), **inputs, wrt: z}
        batched = {wrt}
        for node in spec.graph:
            env[node.name], has_axis = evaluate_batched(
                node.body.expr, env, self.problem.defines, batched, perturb=perturb, complex_data=self.complex_data
            )
            if has_axis:
                batched.add(node.name)
            else:
                batched.discard(node.name)
        out, has_axis = evaluate_batched(
            spec.loss.expr, env, self.problem.defines, batched, perturb=perturb, complex_data=self.complex_data
        )
        return out if has_axis else np.broadcast_to(out, (len(z),) + out.shape)

    def loss_forward(self, wrt: str, x: np.ndarray, tangents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The loss at ``x`` and its derivatives along each ``tangents[i]`` by dual numbers
        (:mod:`gradcheck.expr.forward`): real arithmetic, one walk for all k directions.

        Expression losses only; raises :class:`~gradcheck.expr.forward.NotForwardable` when a
        function on the path has no tangent rule.
        """
        spec = self.problem.spec
        if isinstance(spec.loss, PythonRef):
            raise TypeError("a Python loss has no dual-number form")
        env = {**self.fixed_values(), **self.values_inputs()}
        env[wrt] = Dual(np.asarray(x, dtype=np.float64), np.asarray(tangents, dtype=np.float64))
        at_sample = x is self.values[wrt]  # then every node's value is the one bind() computed
        for node in spec.graph:
            known = self.values[node.name] if at_sample else None
            env[node.name] = forward_value(node.body.expr, env, self.problem.defines, known)
        return split(forward_value(spec.loss.expr, env, self.problem.defines), len(tangents))

    def node_local_forward(self, node: str, wrt: str, x: np.ndarray, tangents: np.ndarray):
        """:meth:`node_local` at ``x`` and its derivatives along each ``tangents[i]`` (dual numbers)."""
        body = next(n for n in self.problem.spec.graph if n.name == node).body
        env = {**self.values, wrt: Dual(np.asarray(x, dtype=np.float64), np.asarray(tangents, dtype=np.float64))}
        return split(forward_value(body.expr, env, self.problem.defines), len(tangents))

    def node_local_many(self, node: str, wrt: str, z: np.ndarray, perturb: Perturb = None) -> np.ndarray:
        """:meth:`node_local` for each ``z[i]`` in one vectorised evaluation (leading batch axis)."""
        body = next(n for n in self.problem.spec.graph if n.name == node).body
        out, has_axis = evaluate_batched(
            body.expr,
            {**self.values, wrt: z},
            self.problem.defines,
            {wrt},
            perturb=perturb,
            complex_data=self.complex_data,
        )
        return out if has_axis else np.broadcast_to(out, (len(z),) + out.shape)

    def largest(self) -> int:
        """The element count of the largest array one evaluation makes: an input, a node, or any
        intermediate of the graph and the loss (``outer(x, x)`` inside a sum), from the symbolic
        shapes bound to this sample's sizes. ``--memory`` charges each batched point this much."""
        counts = [int(np.prod(shape)) for shape in self.shapes.values()]
        counts += [int(np.prod(bind_shape(shape, self.sizes))) for shape in self.problem.intermediates]
        return max(counts, default=1)

    def node_local(self, node: str, wrt: str, x: np.ndarray) -> np.ndarray:
        """Node ``node``'s own expression with ``wrt`` (an input or an earlier node) set to ``x``.

        This is the *local* derivative's function: upstream nodes keep their values.
        """
        body = next(n for n in self.problem.spec.graph if n.name == node).body
        return evaluate(body.expr, {**self.values, wrt: x}, self.problem.defines, complex_data=self.complex_data)

    def values_inputs(self) -> dict[str, np.ndarray]:
        return {k: self.values[k] for k in self.problem.spec.inputs}

    def user_inputs(self) -> dict[str, np.ndarray]:
        """Inputs as the user's code receives them (declared dtypes; fresh copies at call time)."""
        return dict(self.inputs)

    # -- the claim ------------------------------------------------------------------------------

    def claimed(
        self,
        plan: ClaimTarget,
        extra: dict[str, np.ndarray] | None = None,
        perturb: Perturb = None,
        float64: bool = False,
    ) -> np.ndarray:
        """Evaluate the claim's body; ``extra`` carries the cotangent/tangent.

        ``float64``: hand user code the inputs in float64 (the same values) instead of their
        declared float32, to separate a float32 claim's formula from its rounding.
        """
        extra = extra or {}
        body = plan.body
        if isinstance(body, Source):
            env = {**self.values, **extra}
            if perturb is not None:
                env = {
                    k: (perturb(v) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v) for k, v in env.items()
                }
            return np.asarray(
                evaluate(body.expr, env, self.problem.defines, perturb=perturb, complex_data=self.complex_data)
            )
        kwargs = self._claim_keywords(float64)
        kwargs.update(extra)
        if perturb is not None:
            kwargs = {
                k: (
                    perturb(np.asarray(v, dtype=np.float64)).astype(np.asarray(v).dtype)
                    if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                    else v
                )
                for k, v in kwargs.items()
            }
        out = call_user(resolve(body), kwargs, copy=True, dims=self.sizes)
        if body.value_and_grad:
            out = value_and_grad_pair(out, resolve(body))[1]
        if plan.claim.kind == "gradient" and len(plan.claim.wrt) > 1:
            out = _pick(out, plan)
        elif isinstance(out, dict) and plan.wrt in out:
            out = out[plan.wrt]
        elif isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        return claim_value(out, body, plan.wrt, shape_str(plan.expected_shape), plan.kind_word)


def _pick(out, plan: ClaimTarget):
    if isinstance(out, dict):
        if plan.wrt not in out:
            raise KeyError(f"the returned dict has no entry {plan.wrt!r} (keys: {sorted(out)})")
        return out[plan.wrt]
    if isinstance(out, (tuple, list)):
        if len(out) != len(plan.claim.wrt):
            raise ValueError(f"returned {len(out)} arrays for {len(plan.claim.wrt)} wrt names {list(plan.claim.wrt)}")
        return out[plan.claim.wrt.index(plan.wrt)]
    raise TypeError(f"a gradient with several wrt must return a dict or a tuple, got {type(out).__name__}")


def bind(problem: Problem, sample: Sample) -> Bound:
    """Every input's array for ``sample`` (drawn or given) and the graph evaluated in float64.

    Raises whatever the graph's evaluation raises (a sample where the loss is not defined);
    the caller treats that as an invalid draw.
    """
    sizes = sample.sizes
    shapes = {name: bind_shape(shape, sizes) for name, shape in problem.input_shapes.items()}
    inputs = sample.inputs(problem.spec.inputs, shapes)
    # float64 inputs are used as drawn (no copy: nothing writes into them; user code gets copies)
    values: dict[str, object] = {
        k: (np.asarray(v, dtype=np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()
    }
    bound = Bound(problem=problem, sample=sample, inputs=inputs, shapes=dict(shapes), values=values)
    values.update(bound.fixed_values())
    for node in problem.spec.graph:
        values[node.name] = np.asarray(
            evaluate(node.body.expr, values, problem.defines, complex_data=bound.complex_data)
        )
        bound.shapes[node.name] = np.shape(values[node.name])
    return bound
