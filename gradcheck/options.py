"""The one table of run options, shared by the CLI (``--examples``) and the pytest plugin
(``--gradcheck-examples``). Importing it imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    name: str  # the CLI flag without dashes; the pytest flag is --gradcheck-<name>
    type: type
    help: str
    metavar: str | None = None
    action: str | None = None  # "append" or "store_true"

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
            kwargs["type"] = self.type
        return kwargs


OPTIONS: tuple[Option, ...] = (
    Option("examples", int, "Hypothesis examples per claim (default: the spec's settings, else 25)", "N"),
    Option("seed", int, "run seed; the same seed reproduces the same examples (default: random, printed)", "S"),
    Option("rtol", float, "relative tolerance (default: the spec's settings, else 1e-9)", "R"),
    Option("atol", float, "absolute tolerance (default: the spec's settings, else 0)", "A"),
    Option(
        "directions",
        int,
        "random directions per example in the cheap check (default: from the detection bound; 1 at 25 examples, 3 for one example)",
        "K",
    ),
    Option(
        "report", str, "write the report into DIR: report.html, summary.md, junit.xml, summary.csv, results.csv", "DIR"
    ),
    Option("claim", str, "check only claims with this name (repeatable)", "NAME", action="append"),
    Option("no_python", bool, "refuse every {python: ...} entry: for specs you did not write", action="store_true"),
    Option("timeout", float, "wall-clock limit per claim in seconds (default 60; 0 = none)", "SECONDS"),
    Option("memory", float, "memory budget of one batched evaluation in MiB (default 512)", "MIB"),
    Option(
        "memory_limit",
        float,
        "address-space limit of each process that checks claims, in MiB (default: the machine's memory; 0 = none;"
        " command line only: the pytest plugin checks in its own process)",
        "MIB",
    ),
    Option(
        "jobs",
        int,
        "claims checked at once, each in a worker process of its own (default 1; command line only: "
        "under pytest use pytest-xdist's -n)",
        "N",
    ),
)


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
    memory_limit: float | None = None
    jobs: int | None = None

    @classmethod
    def from_mapping(cls, values: dict) -> "RunOptions":
        kwargs = {o.name: values.get(o.name) for o in OPTIONS}
        kwargs["claim"] = tuple(kwargs.get("claim") or ())
        kwargs["no_python"] = bool(kwargs.get("no_python"))
        return cls(**kwargs)
