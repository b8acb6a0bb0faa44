"""Starting points for a new spec: ``gradcheck new NAME`` and ``gradcheck init --loss --inputs``.

``new`` writes a commented template (a least-squares loss with one right claim and one known
wrong one) that loads and passes ``gradcheck check`` as written. ``init`` writes a spec for the
user's own loss: the inputs and dims from ``--inputs "X: M in, Theta: in out"``, the loss from
``--loss``, and as its claims the gradients :mod:`gradcheck.derive` finds, each verified by its
own check before it is written (a derived gradient that fails its check is written as a
comment, never as a claim).

Default dim ranges: the k-th dim named (0-based, in order of first appearance) is drawn from
``[2 + k, 5 + k]`` (M: [2, 5], in: [3, 6], out: [4, 7]): distinct ranges with room for the
pairwise distinct sizes the sampler draws, so that a transposed claim cannot hide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from .errors import GradcheckError
from .spec.fields import DOMAINS

__all__ = ["InitError", "Input", "dim_ranges", "init_spec", "new_spec", "parse_inputs", "spec_path"]

TEMPLATE = """\
# {name}: a gradcheck spec. Check it with:  gradcheck check {path}
# Each claim states a derivative of the loss; gradcheck draws inputs (Hypothesis), computes the
# true derivative numerically (complex step, finite differences) and says where a claim is wrong.
spec: {name}
description: Halved sum of squared errors of a linear model (replace with your own loss).

# Sizes: a range [low, high] (inclusive) or one number. Draws are pairwise distinct, so a
# transposed claim cannot hide behind a square matrix.
dims:
  M: [2, 6]
  in: [2, 5]
  out: [2, 5]

# Shapes use the dims; [] is a scalar. Optional domain: positive, unit, symmetric, spd,
# invertible, orthogonal, simplex, {{range: [a, b]}}, {{integers: [lo, hi]}} (constant labels).
inputs:
  X:     {{shape: [M, in]}}
  Y:     {{shape: [M, out]}}
  Theta: {{shape: [in, out]}}

# Helper functions and named intermediate nodes (optional); claims can use both.
define:
  sq(z): z ** 2
graph:
  r: X @ Theta - Y

# A scalar expression. Functions: exp, log, tanh, sigmoid, softplus, sum, mean, ... (no numpy prefix).
loss: 0.5 * sum(sq(r))

# Claims: `gradient:` of the loss wrt an input (the input's shape); `vjp:` / `jvp:` of a node
# (G is the cotangent, V the tangent); or {{python: "module:function"}} for your own code.
# `expect: fail` marks a claim known to be wrong (it must fail).
# `gradcheck derive {path}` prints the derived gradients, verified, to paste here.
claims:
  - name: grad-Theta
    wrt: Theta
    gradient: X.T @ r
  - name: grad-Theta-without-the-half
    description: Forgetting the 1/2 doubles the gradient; gradcheck says "scaled, factor 2".
    wrt: Theta
    gradient: 2 * X.T @ r
    expect: fail
  - name: step-r
    description: Chain-rule step through r = X Theta - Y.
    node: r
    wrt: Theta
    vjp: X.T @ G

settings:
  examples: 25
"""


class InitError(GradcheckError):
    """Bad usage of ``new`` or ``init`` (the message says what to do)."""


class Input(NamedTuple):
    name: str
    dims: tuple[str, ...]
    domain: str = ""


def spec_path(name: str) -> Path:
    """``NAME`` -> ``NAME.yaml`` (a name ending in .yaml or .yml is a path as given)."""
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") else path.with_name(path.name + ".yaml")


def _free(path: Path, flag: str) -> None:
    if path.exists():
        raise InitError(f"{path} exists already: give another {flag}, or remove it first (nothing was written)")
    if not path.parent.is_dir():
        raise InitError(f"{path.parent}: no such folder (nothing was written)")


def new_spec(name: str) -> Path:
    """Write the commented template to ``NAME.yaml``; returns its path."""
    path = spec_path(name)
    _free(path, "NAME")
    stem = path.stem
    if not stem.replace("-", "_").isidentifier():
        raise InitError(f"{name}: a spec name is letters, digits, '_' and '-' (e.g. least-squares)")
    path.write_text(TEMPLATE.format(name=stem, path=path), encoding="utf-8")
    return path


def parse_inputs(text: str) -> list[Input]:
    """``"X: M in, Theta: in out, b:"`` -> inputs with their dims (none: a scalar).

    A domain goes last in parentheses: ``"x: n (positive)"``. Raises InitError saying what is wrong.
    """
    example = 'e.g. --inputs "X: M in, Theta: in out, b:"'
    inputs: list[Input] = []
    for part in (p.strip() for p in text.split(",")):
        name, colon, rest = part.partition(":")
        name = name.strip()
        if not colon or not name.isidentifier():
            raise InitError(f"--inputs: {part!r} is not NAME: DIMS ({example}; no dims for a scalar)")
        domain = ""
        if "(" in rest:
            rest, _, tail = rest.partition("(")
            domain = tail.rstrip().removesuffix(")").strip()
            if domain not in DOMAINS:
                raise InitError(f"--inputs: input {name}: unknown domain {domain!r} (one of: {', '.join(DOMAINS)})")
        dims = tuple(rest.split())
        for d in dims:
            if not (d.isidentifier() or d.isdigit()):
                raise InitError(f"--inputs: input {name}: {d!r} is not a dim name or a size ({example})")
        if any(i.name == name for i in inputs):
            raise InitError(f"--inputs: input {name} is given twice")
        inputs.append(Input(name, dims, domain))
    return inputs


def dim_ranges(inputs: list[Input]) -> dict[str, tuple[int, int]]:
    """Each named dim's default range: the k-th one named gets [2 + k, 5 + k] (see the module doc)."""
    names = dict.fromkeys(d for i in inputs for d in i.dims if not d.isdigit())
    return {d: (2 + k, 5 + k) for k, d in enumerate(names)}


def _draft(path: Path, loss: str, inputs: list[Input]) -> str:
    lines = [
        f"# written by gradcheck init; check it with:  gradcheck check {path}",
        f"spec: {path.stem}",
    ]
    ranges = dim_ranges(inputs)
    if ranges:
        lines.append("dims:  # default ranges (inclusive): change them to the sizes your code meets")
        lines += [f"  {d}: [{lo}, {hi}]" for d, (lo, hi) in ranges.items()]
    lines.append("inputs:")
    for i in inputs:
        domain = f", domain: {i.domain}" if i.domain else ""
        lines.append(f"  {i.name}: {{shape: [{', '.join(i.dims)}]{domain}}}")
    lines.append(f"loss: {json.dumps(loss)}")
    return "\n".join(lines) + "\n"


def _placeholder(inputs: list[Input]) -> str:
    """The claim a draft needs to load (a spec has claims): replaced by the derived ones."""
    first = inputs[0].name
    return f"claims:  # to be replaced: write d loss / d {first} here\n  - {{name: todo, wrt: {first}, gradient: 0 * {first}}}\n"


def init_spec(output: str, loss: str, inputs_text: str, options, out=None) -> tuple[Path, int]:
    """Write a spec for ``loss`` over ``inputs_text`` with its derived, verified gradients as claims.

    Returns the path written and the exit status: 0 every claim written was verified, 1 a derived
    gradient failed its own check (written as a comment: a bug of gradcheck). Raises InitError
    for bad usage and SpecError (located in the written file, which is kept to be fixed) when
    the loss does not compile.
    """
    from .derive.reverse import derive_problem
    from .derive.verify import claim_name, verify_derivation
    from .run import check_settings, draw_seed, read_problem

    path = spec_path(output)
    _free(path, "--output")
    if not loss.strip():
        raise InitError('--loss: empty: give the loss as an expression, e.g. --loss "0.5 * sum((X @ Theta) ** 2)"')
    inputs = parse_inputs(inputs_text)
    draft = _draft(path, loss, inputs)
    path.write_text(draft + _placeholder(inputs), encoding="utf-8")
    problem = read_problem(str(path), options)  # a SpecError points into the file just written
    seed = options.seed if options.seed is not None else draw_seed()
    derivation = derive_problem(problem)
    checked = verify_derivation(problem, derivation, check_settings(problem.spec, options, seed), ())
    claims, status = [], 0
    for name, a in derivation.inputs.items():
        if a.expr is None:
            claims.append(f"  # {name}: not derived: {a.reason}")
            continue
        c = checked[name]
        if not c.verified:
            status = 1
            claims.append(f"  # {name}: gradcheck's derived gradient failed its own check: {c.problem or 'a bug'}")
            claims.append(f"  #   {c.text}")
            continue
        n = c.verdict.examples
        claims.append(f"  - name: {claim_name(name)}  # derived, verified on {n} example{'s' if n != 1 else ''}")
        claims.append(f"    wrt: {name}")
        claims.append(f"    gradient: {json.dumps(c.text)}")
    for name, why in derivation.skipped.items():
        claims.append(f"  # {name}: {why}")
    if not any(line.startswith("  - ") for line in claims):  # keep the draft's claim to fill in
        path.write_text(draft + "\n".join(claims) + "\n" + _placeholder(inputs), encoding="utf-8")
        return path, 1
    path.write_text(draft + "claims:\n" + "\n".join(claims) + "\n", encoding="utf-8")
    return path, status
