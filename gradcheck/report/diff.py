"""Compare two report folders: which claims changed verdict between two runs, regressions first.

Claims are matched by (spec, claim, wrt), so two runs from different checkouts compare. The
kinds of change, in the order they are shown:

=================  ==========================================================================
regression         passed before (outcome ok), fails now, or its spec can no longer be read
now unexpected     was as expected, is not now (an expected failure that passes, say)
changed            a different verdict or outcome, neither better nor worse
fixed              was unexpected, is as expected now
added / removed    a claim only one of the runs has
=================  ==========================================================================

Only regressions make ``gradcheck diff`` exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..verdict.model import SPEC_ERROR, Outcome
from .record import read_summary
from .text import LABEL

ORDER = ("regression", "now unexpected", "changed", "fixed", "added", "removed")


@dataclass(frozen=True)
class State:
    verdict: str  # the label, or spec-error
    outcome: Outcome | str | None  # None for a spec that cannot be read; as written if no Outcome
    diagnosis: str
    where: str

    @property
    def as_expected(self) -> bool:
        return isinstance(self.outcome, Outcome) and self.outcome.as_expected

    def short(self) -> str:
        label = LABEL.get(self.outcome, "ERROR")
        return f"{label} {self.verdict}"


@dataclass(frozen=True)
class Change:
    kind: str
    spec: str
    claim: str
    wrt: str
    old: State | None
    new: State | None

    @property
    def name(self) -> str:
        return f"{self.claim}[{self.wrt}]" if self.wrt else self.claim

    @property
    def now(self) -> str:
        """The diagnosis now (for a removed claim: the last one it had)."""
        if self.new is not None:
            return self.new.diagnosis
        return f"was: {self.old.diagnosis}" if self.old is not None else ""


@dataclass(frozen=True)
class Diff:
    old_dir: str
    new_dir: str
    changes: tuple[Change, ...]
    compared: int  # claims present in both runs

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "regression"]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def headline(self) -> str:
        if not self.changes:
            return f"no verdict changed ({self.compared} claims compared)"
        counts = {k: sum(c.kind == k for c in self.changes) for k in ORDER}
        parts = [f"{n} {k}" + ("s" if k == "regression" and n != 1 else "") for k, n in counts.items() if n]
        return ", ".join(parts) + f" ({self.compared} claims compared)"


def _states(directory: str | Path) -> tuple[dict[tuple[str, str, str], State], dict[str, State]]:
    claims, errors = {}, {}
    for row in read_summary(directory):
        where = f"{row['file']}:{row['line']}"
        if row["verdict"] == SPEC_ERROR:
            state = State(SPEC_ERROR, None, row["diagnosis"], where)
            errors[row["spec"]] = errors[row["file"]] = state
            continue
        outcome = row["outcome"]
        state = State(
            row["verdict"], Outcome(outcome) if outcome in tuple(Outcome) else outcome, row["diagnosis"], where
        )
        claims[(row["spec"], row["claim"], row["wrt"])] = state
    return claims, errors


def _kind(old: State, new: State) -> str | None:
    if (old.verdict, old.outcome) == (new.verdict, new.outcome):
        return None
    if old.outcome == Outcome.OK and new.outcome in (Outcome.FAIL, None):
        return "regression"
    if old.as_expected and not new.as_expected:
        return "now unexpected"
    if not old.as_expected and new.as_expected:
        return "fixed"
    return "changed"


def compare(old_dir: str | Path, new_dir: str | Path) -> Diff:
    """The changes from the run in ``old_dir`` to the run in ``new_dir`` (both report folders)."""
    old, _ = _states(old_dir)
    new, new_errors = _states(new_dir)
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        spec, claim, wrt = key
        before, after = old.get(key), new.get(key)
        if before is None:
            kind = "added"
        elif after is None:
            broken = new_errors.get(spec) or new_errors.get(before.where.rsplit(":", 1)[0])
            if broken is not None:  # the claim vanished because its spec no longer reads
                after = broken
                kind = _kind(before, broken) or "changed"
            else:
                kind = "removed"
        else:
            kind = _kind(before, after)
        if kind is not None:
            changes.append(Change(kind, spec, claim, wrt, before, after))
    changes.sort(key=lambda c: ORDER.index(c.kind))  # stable: run order within a kind
    compared = sum(1 for k in old if k in new)
    return Diff(str(old_dir), str(new_dir), tuple(changes), compared)


def _rows(diff: Diff) -> list[tuple[str, ...]]:
    return [
        (c.kind, c.spec, c.name, c.old.short() if c.old else "–", c.new.short() if c.new else "–", c.now)
        for c in diff.changes
    ]


HEADER = ("change", "spec", "claim", "before", "now", "diagnosis")


def terminal(diff: Diff) -> str:
    """A plain-text table (columns padded; the diagnosis last, unpadded)."""
    lines = [f"gradcheck diff {diff.old_dir} -> {diff.new_dir}: {diff.headline()}"]
    if diff.changes:
        rows = [HEADER] + _rows(diff)
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
        for r in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1])
    return "\n".join(lines) + "\n"


def markdown(diff: Diff) -> str:
    from .markdown import table

    icon = "🔴" if diff.regressions else "🟢"
    lines = [f"### {icon} gradcheck diff: {diff.headline()}", "", f"`{diff.old_dir}` → `{diff.new_dir}`", ""]
    if diff.changes:
        lines += table(HEADER, [(k, f"`{s}`", f"`{n}`", o, w, d) for k, s, n, o, w, d in _rows(diff)])
    else:
        lines.append("No claim changed its verdict.")
    return "\n".join(lines) + "\n"
