"""``gradcheck derive SPEC...``: print each derived gradient as a YAML claim, verified first.

Output per spec: with ``--steps`` the backward chain (one adjoint per node with its symbolic
shape), then the derived claims ready to paste into the spec, each marked with its check; with
``--numpy`` a plain numpy backward-pass function instead of the claims. A derived gradient that
fails its own check is printed as a bug of gradcheck (exit 1), never as right.

Exit codes: 0 every derived gradient verified, 1 one failed its check (a bug: please report it),
2 a spec cannot be read or bad usage (as for ``check``).
"""

from __future__ import annotations

import sys

from .numpy_code import backward_function

__all__ = ["derive_command"]


def _yaml_quote(text: str) -> str:
    if '"' in text:
        return "'" + text.replace("'", "''") + "'"
    return '"' + text.replace("\\", "\\\\") + '"'


def derive_command(paths: list[str], options, *, wrt: tuple[str, ...], steps: bool, numpy: bool, out=None) -> int:
    """Derive, verify and print every spec's gradients; the exit code (module docstring)."""
    from ..errors import SpecError
    from ..run import discover, draw_seed, read_problem

    out = out or sys.stdout
    seed = options.seed if options.seed is not None else draw_seed()
    found = discover(paths)
    status = 0
    for m in found.missing:
        print(m.message, file=sys.stderr)
        status = 2
    for e in found.empty:
        print(e, file=sys.stderr)
        status = max(status, 5)  # nothing to derive, as `check` says it (exit 5)
    for file in found.files:
        try:
            problem = read_problem(file, options)
        except SpecError as err:
            print(str(err), file=sys.stderr)
            status = max(status, 2)
            continue
        status = max(status, _derive_one(file, problem, options, seed, wrt, steps, numpy, out))
    return status


def _derive_one(file: str, problem, options, seed: int, wrt: tuple[str, ...], steps: bool, numpy: bool, out) -> int:
    """One spec's derivation printed; 0, 1 (a derived gradient failed its check) or 2 (an unknown --wrt)."""
    from ..run import check_settings
    from .reverse import derive_problem
    from .verify import verify_derivation

    derivation = derive_problem(problem)
    unknown = [w for w in wrt if w not in problem.spec.inputs]
    if unknown:
        print(
            f"{file}: no input named {', '.join(unknown)} (inputs: {', '.join(problem.spec.inputs)})", file=sys.stderr
        )
        return 2
    checked = verify_derivation(problem, derivation, check_settings(problem.spec, options, seed), wrt)
    print(f"# {file}  ({problem.spec.name})", file=out)
    if steps:
        _print_chain(derivation, wrt, out)
    status = 0
    for name, a in derivation.inputs.items():
        if wrt and name not in wrt:
            continue
        if a.expr is None:
            print(f"# {name}: not derived: {a.reason}", file=out)
            continue
        status = max(status, _print_claim(name, checked[name], out))
    for name, why in derivation.skipped.items():
        if not wrt or name in wrt:
            print(f"# {name}: {why}", file=out)
    if numpy:
        print(backward_function(problem, derivation, wrt), file=out)
    print(f"# seed {seed}", file=out)
    return status


def _print_chain(derivation, wrt: tuple[str, ...], out) -> None:
    """``--steps``: the backward chain, one adjoint per node (and per input asked for)."""
    print("# backward chain (each adjoint in terms of the ones before it):", file=out)
    chain = [*derivation.steps, *derivation.inputs.values()]
    width = max((len(f"{s.name} = {s.step_text}") for s in chain if s.step is not None), default=0)
    for s in derivation.steps:
        if s.step is not None:
            print(f"#   dL/d{f'{s.name} = {s.step_text}':<{width}}  {s.shape_text}", file=out)
    for name, a in derivation.inputs.items():
        if a.step is not None and (not wrt or name in wrt):
            print(f"#   dL/d{f'{name} = {a.step_text}':<{width}}  {a.shape_text}", file=out)


def _print_claim(name: str, c, out) -> int:
    """The derived claim as a YAML line to paste (0), or, if it failed its own check, a bug (1)."""
    from .verify import claim_name

    if not c.verified:
        detail = c.problem or "it failed its check"
        print(f"# {name}: BUG in gradcheck's derivation ({detail}); please report it with this spec", file=out)
        if c.verdict is not None:
            for line in c.verdict.lines[:6]:
                print(f"#     {line}", file=out)
        return 1
    n = c.verdict.examples
    print(
        f"- {{name: {claim_name(name)}, wrt: {name}, gradient: {_yaml_quote(c.text)}}}"
        f"   # verified on {n} example{'s' if n != 1 else ''}",
        file=out,
    )
    return 0
