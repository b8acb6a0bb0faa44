"""The one table of run options, shared by the CLI (``--examples``) and the pytest plugin
(``--gradcheck-examples``). Importing it imports nothing heavy.

Every numeric option carries its allowed range: a value outside it (``--rtol -1``, ``--memory
nan``) is a usage error when the command line is read, with the same words for the Python API's
keywords (:func:`Option.problem`), never a verdict computed with it.
"""

from __future__ import annotations

import argparse
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple


@dataclass(frozen=True)
class Option:
    name: str  # the CLI flag without dashes; the pytest flag is --gradcheck-<name>
    type: type
    help: str
    metavar: str | None = None
    action: str | None = None  # "append" or "store_true"
    minimum: float | None = None  # the smallest value allowed (numbers only)
    above: bool = False  # the value must be greater than ``minimum``, not equal to it
    note: str = ""  # said after the range, e.g. "(0 = no limit)"
    convert: Callable[[str], Any] | None = None  # a word -> value parser raising ValueError (``--shard 2/4``)

    @property
    def flag(self) -> str:
        """``no-python`` for ``no_python``: the CLI spells ``--no-python``, pytest ``--gradcheck-no-python``."""
        return self.name.replace("_", "-")

    def argparse_kwargs(self, dest: str) -> dict[str, Any]:
        """The keywords of argparse's ``add_argument`` (and pytest's ``addoption``), stored in ``dest``."""
        if self.action == "store_true":
            return {"dest": dest, "help": self.help, "action": "store_true"}
        kwargs: dict[str, Any] = {"dest": dest, "help": self.help, "metavar": self.metavar}
        if self.action == "append":
            kwargs["action"] = "append"
        else:
            kwargs["type"] = self.parse
        return kwargs

    def parse(self, text: str) -> Any:
        """A command-line word as this option's value; ``argparse.ArgumentTypeError`` saying why not."""
        if self.convert is not None:
            try:
                return self.convert(text)
            except ValueError as err:
                raise argparse.ArgumentTypeError(str(err)) from None
        if self.type is str:
            return text
        try:
            value = self.type(text)
        except ValueError:
            kind = "an integer" if self.type is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
        problem = self.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    def problem(self, value: Any, minimum: float | None = None) -> str | None:
        """Why ``value`` is not allowed (``must be at least 0, got -1``), or None when it is.

        ``minimum`` replaces the table's own (the Python API allows ``examples=0`` with fixed points).
        """
        if self.type not in (int, float):
            return None
        kind = numbers.Integral if self.type is int else numbers.Real  # numpy's scalars too
        if isinstance(value, bool) or not isinstance(value, kind):
            return f"must be {'an integer' if self.type is int else 'a number'}, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        low = self.minimum if minimum is None else minimum
        note = f" {self.note}" if self.note else ""
        if low is not None and self.above and value <= low:
            return f"must be greater than {low:g}, got {value:g}{note}"
        if low is not None and value < low:
            return f"must be at least {low:g}, got {value:g}{note}"
        return None


class Shard(NamedTuple):
    """``--shard 2/4``: the second of four parts of the run's (spec, claim) items (1-based)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """``"2/4"`` -> ``Shard(2, 4)``; ``ValueError`` saying what is wrong otherwise."""
        index, slash, count = text.partition("/")
        if not slash or not index.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(f"must be I/N, this part I of N parts (e.g. 2/4), got {text!r}")
        shard = cls(int(index), int(count))
        if shard.count < 1 or not 1 <= shard.index <= shard.count:
            raise ValueError(f"must be I/N with 1 <= I <= N, got {text!r}")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


OPTIONS: tuple[Option, ...] = (
    Option("examples", int, "Hypothesis examples per claim (default: the spec's settings, else 25)", "N", minimum=1),
    Option("seed", int, "run seed; the same seed reproduces the same examples (default: random, printed)", "S"),
    Option("rtol", float, "relative tolerance (default: the spec's settings, else 1e-9)", "R", minimum=0),
    Option("atol", float, "absolute tolerance (default: the spec's settings, else 0)", "A", minimum=0),
    Option(
        "directions",
        int,
        "random directions per example in the cheap check (default: from the detection bound; 1 at 25 examples, 3 for one example)",
        "K",
        minimum=1,
    ),
    Option(
        "report", str, "write the report into DIR: report.html, summary.md, junit.xml, summary.csv, results.csv", "DIR"
    ),
    Option("claim", str, "check only claims with this name (repeatable)", "NAME", action="append"),
    Option("no_python", bool, "refuse every {python: ...} entry: for specs you did not write", action="store_true"),
    Option(
        "timeout",
        float,
        "wall-clock limit per claim in seconds (default 60; 0 = none)",
        "SECONDS",
        minimum=0,
        note="(0 = no limit)",
    ),
    Option(
        "memory", float, "memory budget of one batched evaluation in MiB (default 512)", "MIB", minimum=0, above=True
    ),
    Option(
        "max_elements",
        int,
        "element budget of one array at the dims' largest sizes (default: the spec's settings, else 10000000;"
        " a spec may only lower it)",
        "N",
        minimum=1,
    ),
    Option(
        "memory_limit",
        float,
        "address-space limit of each process that checks claims, in MiB (default: the machine's memory; 0 = none;"
        " command line only: the pytest plugin checks in its own process)",
        "MIB",
        minimum=0,
        note="(0 = no limit)",
    ),
    Option(
        "jobs",
        int,
        "claims checked at once, each in a worker process of its own (default: the number of usable cores; "
        "1 = one at a time; the report is the same whatever N; command line only: under pytest use "
        "pytest-xdist's -n)",
        "N",
        minimum=1,
    ),
    Option(
        "shard",
        str,
        "check only part I of N of the claims, split deterministically and evenly by their examples "
        "(the same --seed on every shard; join the --report folders with `gradcheck merge`; command line "
        "only: under pytest use pytest-xdist's -n)",
        "I/N",
        convert=Shard.parse,
    ),
)

OPTION = {o.name: o for o in OPTIONS}


@dataclass(frozen=True)
class RunOptions:
    examples: int | None = None
    seed: int | None = None
    rtol: float | None = None
    atol: float | None = None
    directions: int | None = None
    report: str | None = None
    claim: tuple[str, ...] = ()
    no_python: bool = False
    timeout: float | None = None
    memory: float | None = None
    max_elements: int | None = None
    memory_limit: float | None = None
    jobs: int | None = None
    shard: Shard | None = None

    def __post_init__(self) -> None:
        """``RunOptions(rtol=-1)`` from Python is refused in the command line's words."""
        for option in OPTIONS:
            value = getattr(self, option.name)
            problem = None if value is None else option.problem(value)
            if problem:
                raise ValueError(f"{option.name} {problem}")

    @classmethod
    def from_mapping(cls, values: dict) -> "RunOptions":
        kwargs = {o.name: values.get(o.name) for o in OPTIONS}
        kwargs["claim"] = tuple(kwargs.get("claim") or ())
        kwargs["no_python"] = bool(kwargs.get("no_python"))
        return cls(**kwargs)
