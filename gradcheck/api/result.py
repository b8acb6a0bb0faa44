"""What the Python API returns: verdicts as values, and drawn examples as mappings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from ..verdict.model import RunResult, Verdict

__all__ = ["CheckResult", "Example"]


@dataclass(frozen=True)
class CheckResult:
    """The verdicts of one API call: one :class:`~gradcheck.verdict.model.Verdict` per wrt.

    A value, like every verdict: nothing here raises because a claim is wrong. ``passed``
    says whether every verdict is as expected; :meth:`frame` gives the examples as a pandas
    frame; ``str(result)`` is one line per verdict, and :meth:`failure_text` the failure
    blocks the command line prints.
    """

    verdicts: tuple[Verdict, ...]
    seed: int
    seconds: float = 0.0
    call: str = "check_gradient"  # the API function, for the reproduce line
    seed_from: str = "argument"  # "argument", "pytest" (the session's --gradcheck-seed) or "random"

    @property
    def passed(self) -> bool:
        """Every verdict as expected (``pass``, or a failure of an ``expect="fail"`` claim)."""
        return all(v.as_expected for v in self.verdicts)

    @property
    def verdict(self) -> Verdict:
        """The one verdict of a single-wrt call (index by wrt name when there are several)."""
        if len(self.verdicts) != 1:
            names = [v.wrt for v in self.verdicts]
            raise ValueError(f"this check has {len(names)} verdicts, one per wrt {names}: use result[name]")
        return self.verdicts[0]

    def __getitem__(self, wrt: str) -> Verdict:
        for v in self.verdicts:
            if v.wrt == wrt:
                return v
        raise KeyError(f"no verdict for wrt {wrt!r} (have {[v.wrt for v in self.verdicts]})")

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def run_result(self) -> RunResult:
        """The verdicts as a :class:`RunResult`, e.g. for ``report.frames.write_reports``."""
        return RunResult(
            verdicts=list(self.verdicts),
            seed=self.seed,
            seconds=self.seconds,
            paths=sorted({v.path for v in self.verdicts}),
        )

    def frame(self):
        """One row per example (drawn dims, example seed, verdict, oracle, errors): a DataFrame."""
        from ..report.frames import results_frame

        return results_frame(self.run_result())

    def summary(self):
        """One row per verdict, with the columns of the command line's summary.csv."""
        from ..report.frames import summary_frame

        return summary_frame(self.run_result())

    def failure_text(self) -> str:
        """The failure block of every verdict that is not as expected ('' if none)."""
        from ..report.text import failure_block

        ways = (f"{self.call}(..., seed={self.seed})",)
        if self.seed_from == "pytest":
            ways += (f"pytest --gradcheck-seed {self.seed}",)
        return "\n\n".join(failure_block(v, reproduce=ways) for v in self.verdicts if not v.as_expected)

    def __str__(self) -> str:
        from ..report.text import detail_lines, verdict_line

        lines = []
        for v in self.verdicts:
            lines.append(verdict_line(v))
            if not v.passed:
                lines += detail_lines(v)
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class Example(Mapping):
    """One drawn problem: the arrays by input name (a mapping, so ``f(**example)`` and
    ``at=[example]`` work), the dim sizes and the seed the arrays were drawn from."""

    arrays: dict[str, np.ndarray]
    sizes: dict[str, int]
    seed: int

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.arrays.items())
        from ..expr.dims import dims_text

        return f"Example({{{shapes}}}, dims {dims_text(self.sizes) or '-'}, seed {self.seed})"
