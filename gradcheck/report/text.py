"""Text the terminal shows: one line per claim, a failure block per unexpected result.

Presentation only: nothing here decides a verdict.
"""

from __future__ import annotations

import math
import shlex
from collections import Counter
from collections.abc import Iterable

from ..expr.dims import dims_text
from ..verdict.model import Label, Outcome, RunResult, SpecFailure, Verdict

# the terminal's word for an outcome
LABEL = {Outcome.OK: "PASS", Outcome.XFAIL: "XFAIL", Outcome.XPASS: "XPASS", Outcome.FAIL: "FAIL"}
# the summary line's words for a count of each outcome: (one, several)
OUTCOME_WORDS = {
    Outcome.OK: ("passed", "passed"),
    Outcome.FAIL: ("failed", "failed"),
    Outcome.XFAIL: ("expected failure", "expected failures"),
    Outcome.XPASS: ("unexpected pass", "unexpected passes"),
}


def outcome_words(outcome: Outcome, n: int) -> str:
    """``passed``, ``expected failures``: the words after a count of ``n`` claims with ``outcome``."""
    return OUTCOME_WORDS[outcome][n != 1]


def outcome_counts(outcomes: Iterable[str]) -> dict[Outcome, int]:
    """Claims per outcome, every outcome present (in :class:`Outcome`'s order)."""
    counts = Counter(outcomes)
    return {o: counts[o] for o in Outcome}


def shown_outcomes(counts: dict[Outcome, int]) -> list[Outcome]:
    """The outcomes a headline counts, in its order: passed and failed always, the rest when any
    (the terminal's and the pytest summary line, the HTML page's chips)."""
    always = (Outcome.OK, Outcome.FAIL)
    return [o for o in (*always, Outcome.XFAIL, Outcome.XPASS) if counts[o] or o in always]


def outcome_headline(counts: dict[Outcome, int], spec_errors: int) -> str:
    """``12 passed, 0 failed, 5 expected failures, 1 spec error``: passed and failed always, the rest when any."""
    parts = [f"{counts[o]} {outcome_words(o, counts[o])}" for o in shown_outcomes(counts)]
    if spec_errors:
        parts.append(counted(spec_errors, "spec error"))
    return ", ".join(parts)


def statement(v: Verdict) -> str:
    """``scaled: the claim is 2 x ...``: the label, then the diagnosis (the label said once)."""
    d = v.diagnosis
    return (d if d.startswith(v.label) else f"{v.label}: {d}") + rejected_text(v)


def explanation(v: Verdict) -> str:
    """The diagnosis without a leading ``label:`` (for a table that has a verdict column)."""
    return v.diagnosis.removeprefix(f"{v.label}: ")


def derivative(v: Verdict) -> str:
    """``d loss / d Theta``, ``vjp of node a wrt Theta`` (from the CSV columns when not stored)."""
    if v.what:
        return v.what
    return f"d loss / d {v.wrt}" if v.kind == "gradient" else f"{v.kind} of node {v.node} wrt {v.wrt}"


def title(v: Verdict) -> str:
    """``answer (d loss / d Theta)``."""
    return f"{v.claim} ({derivative(v)})"


def verdict_line(v: Verdict) -> str:
    """``PASS  specs/x.yaml:41  answer  (d loss / d Theta)  pass: agrees on 25 examples``."""
    return f"{LABEL[v.outcome]:<6}{v.where}  {v.claim}  ({v.what})  {statement(v)}"


def rejected_text(v: Verdict) -> str:
    """``; 9 draws rejected (the loss raised ValueError: ...)``, or nothing when every draw was valid.

    Said only beside an outcome the rejections did not already explain (a claim whose every draw
    was rejected says so in its diagnosis)."""
    rejected = getattr(v, "rejected", 0)  # a verdict pickled before the field existed has none
    if not rejected or (v.examples == 0 and v.label in (Label.ERROR, Label.INCONCLUSIVE)):
        return ""
    return f"; {counted(rejected, 'draw')} rejected ({v.rejected_reason})"


def detail_lines(v: Verdict) -> list[str]:
    """Indented explanation under the one-line verdict (for every non-pass), then the repair."""
    return [f"        {line}" for line in [*v.lines, *repair_lines(v)]]


def repair_lines(v: Verdict) -> list[str]:
    """The verified fix of a failing expression claim, or a derived correct one (gradcheck.repair).

    ``fix: X.T @ (c * -dh(a))   (1 edit: "c * -dh(a) * X" -> "X.T @ (c * -dh(a))"; verified on 25 examples)``
    """
    r = v.repair
    if r is None:
        return []
    if r.internal_error:
        return [f"no fix: the repair search failed ({r.internal_error}); this is a bug of gradcheck, please report it"]
    if r.fix:
        edits = f"{counted(r.edits, 'edit')}: " + "; ".join(r.changes)
        return [f"fix: {r.fix}   ({edits}; verified on {counted(r.examples, 'example')})"]
    searched = "no edit of the claim within 2 steps passes"
    if r.exhausted:
        searched = f"no edit found before the search's bound ({r.exhausted})"
    if r.derived:
        what = "vjp" if v.kind == "vjp" else "gradient"
        return [
            f"a correct {what}: {r.derived}   (derived; verified on {counted(r.derived_examples, 'example')}; {searched})"
        ]
    return [f"no fix: {searched}, and no derived {v.kind} to show"]


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.6g}"


def _ratio(x: float) -> str:
    """Six digits, or up to ten when six would print a ratio that is not 1 as ``1`` (a factor 1.000001)."""
    text = _fmt(x)
    if text == "1" and x != 1 and math.isfinite(x):
        text = f"{x:.10g}"
    return text


def entries_table(v: Verdict) -> list[str]:
    if not v.entries:
        return []
    rows = [("index", "claimed", "oracle", "ratio")]
    for e in v.entries:
        idx = "[" + ", ".join(str(i) for i in e.index) + "]"
        rows.append((idx, _fmt(e.claimed), _fmt(e.oracle), _ratio(e.ratio)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["    " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def check_command(path: str, claim: str, seed) -> str:
    """The shell command that reproduces one claim's check, quoted for the shell."""
    return f"gradcheck check {shlex.quote(str(path))} --claim {shlex.quote(str(claim))} --seed {seed}"


def reproduce_command(v: Verdict) -> str:
    return check_command(v.path, v.claim, v.seed)


def failure_block(v: Verdict, reproduce: tuple[str, ...] | None = None) -> str:
    """Where, what, how much, the worst entries, the diagnosis, the shrunk example, reproduce.

    ``reproduce`` replaces the default ``gradcheck check ...`` line with the caller's own ways
    to reproduce (the Python API's call, a pytest node id); each becomes one line.
    """
    lines = [f"{LABEL[v.outcome]} {v.path}:{v.location.line}:{v.location.col} claim '{v.claim}' ({v.what})"]
    if v.outcome == Outcome.XPASS:
        lines.append(
            "  the claim is marked `expect: fail` but it passed: remove the expect, or the claim is not the one you meant"
        )
    if v.failing is not None and v.examples == 0:
        lines.append(
            "  found from the symbolic shapes, before drawing any example "
            f"(for instance dims {dims_text(v.failing.sizes)})  run seed {v.seed}"
        )
    elif v.failing is not None:
        r = v.failing
        lines.append(
            f"  example {r.index}{' (shrunk)' if r.shrunk else ''}  dims {dims_text(r.sizes)}  "
            f"example seed {r.seed}  run seed {v.seed}"
        )
    if v.expected_shape:
        lines.append(
            f"  expected shape {v.expected_shape}" + (f", claimed {v.claimed_shape}" if v.claimed_shape else "")
        )
    if v.oracle and not math.isnan(v.max_rel_error) and v.label not in (Label.PASS, Label.ERROR, Label.NOT_FINITE):
        lines.append(f"  max relative error {v.max_rel_error:.3g} (oracle: {v.oracle})")
    lines.append(f"  diagnosis: {v.diagnosis}")
    lines += [f"    {line}" for line in v.lines]
    lines += entries_table(v)
    lines += [f"  {line}" for line in repair_lines(v)]
    lines += [f"  note: {n}" for n in v.notes]
    if rejected_text(v):
        lines.append(f"  note: {rejected_text(v)[2:]}")
    ways = reproduce if reproduce is not None else (reproduce_command(v),)
    lines.append(f"  reproduce: {ways[0]}")
    lines += [f"  or: {way}" for way in ways[1:]]
    return "\n".join(lines)


def failure_text(f: SpecFailure) -> str:
    return f"ERROR {f.message}"


def plural(n: int, noun: str) -> str:
    """``claim`` for 1, ``claims`` otherwise; ``unexpected passes``: the one place a noun gets its plural."""
    return noun if n == 1 else noun + ("es" if noun.endswith("s") else "s")


def counted(n: int, noun: str) -> str:
    """``1 claim``, ``2 claims``, ``1 unexpected pass``, ``2 unexpected passes``: a count and its noun
    (the CLI's and pytest's summary lines, the report's headline, the pages)."""
    return f"{n} {plural(n, noun)}"


def summary_counts(pairs: Iterable[tuple[str, str]], spec_errors: int) -> tuple[str, str]:
    """The summary line's two counts, from one (label, outcome) pair per claim.

    ``pass 12, scaled 2, wrong 3`` (claims per label; ``none`` for no claim) and
    ``12 passed, 0 failed, 5 expected failures`` (claims per outcome, then the spec files that
    could not be read). The CLI and the pytest plugin lay them out each in its own line.
    """
    labels: Counter[str] = Counter()
    outcomes: list[str] = []
    for label, outcome in pairs:
        labels[label] += 1
        outcomes.append(outcome)
    by = ", ".join(f"{k} {n}" for k, n in sorted(labels.items()))
    return by or "none", outcome_headline(outcome_counts(outcomes), spec_errors)


def summary_line(result: RunResult) -> str:
    """``3 passed, 1 failed, 1 expected failure in 0.52s  [5 claims: pass 3, scaled 2]  seed 3``."""
    by, parts = summary_counts(((v.label, v.outcome) for v in result.verdicts), len(result.failures))
    return f"{parts} in {result.seconds:.2f}s  [{counted(len(result.verdicts), 'claim')}: {by}]  seed {result.seed}"
