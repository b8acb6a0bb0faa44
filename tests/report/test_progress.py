"""Progress on stderr (a bar on a terminal, plain lines elsewhere) and --quiet / --verbose."""

from __future__ import annotations

import io

import pytest

from gradcheck.cli import main
from gradcheck.report.progress import Progress, choose_mode
from gradcheck.verdict.model import SpecFailure

from .conftest import SEED_SPEC


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeVerdict:
    def __init__(self, path: str) -> None:
        self.path = path


@pytest.mark.parametrize(
    "tty, env, quiet, mode",
    [
        (True, {"TERM": "xterm"}, False, "bar"),
        (True, {"TERM": "xterm"}, True, "bar"),
        (True, {"TERM": "xterm", "CI": "true"}, False, "lines"),
        (True, {"TERM": "dumb"}, False, "lines"),
        (True, {"TERM": "xterm", "CI": "0"}, False, "bar"),
        (False, {}, False, "lines"),
        (False, {}, True, "off"),
    ],
)
def test_mode_follows_the_terminal_ci_and_quiet(tty, env, quiet, mode):
    stream = Terminal() if tty else io.StringIO()
    assert choose_mode(stream, quiet, env) == mode


def test_the_bar_counts_claims_and_names_the_current_spec(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    err, out = Terminal(), io.StringIO()
    times = iter([0.0])

    def clock():  # the run started at 0 and it is 1:05 ever after
        return next(times, 65.0)

    p = Progress([("a.yaml", 2), ("b.yaml", 2)], "bar", stream=err, out=out, clock=clock)
    assert p.line(100) == "[........................] 0/4 claims  1:05  a.yaml"
    p.verdict(FakeVerdict("a.yaml"))
    p.verdict(FakeVerdict("a.yaml"))
    assert p.line(100) == "[############............] 2/4 claims  1:05  b.yaml"
    assert p.line(40) == "[############............] 2/4 claims  1:05"[:39]
    p.echo("PASS  a.yaml:3  g")
    assert out.getvalue() == "PASS  a.yaml:3  g\n"
    assert err.getvalue().endswith("\r\x1b[2K" + "[############............] 2/4 claims  1:05  b.yaml")
    p.close()
    assert err.getvalue().endswith("\r\x1b[2K")


def test_plain_lines_announce_each_spec_and_drop_an_unreadable_one():
    err = io.StringIO()
    p = Progress([("a.yaml", 1), ("bad.yaml", 3), ("c.yaml", 2)], "lines", stream=err, out=io.StringIO())
    p.verdict(FakeVerdict("a.yaml"))
    p.failure(SpecFailure("bad.yaml", "bad.yaml:1:1: unknown dim 'n'"))
    p.verdict(FakeVerdict("c.yaml"))
    assert err.getvalue().splitlines() == [
        "gradcheck: [0/6 claims] checking a.yaml (1 claim)",
        "gradcheck: [1/6 claims] checking bad.yaml (3 claims)",
        "gradcheck: [1/3 claims] checking c.yaml (2 claims)",
    ]
    assert (p.done, p.total) == (2, 3)


def test_check_prints_progress_lines_on_stderr_off_a_terminal(capsys):
    assert main(["check", str(SEED_SPEC), "--seed", "1", "--examples", "3", "--claim", "answer"]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"gradcheck: [0/1 claims] checking {SEED_SPEC} (1 claim)\n"
    assert captured.out.startswith("PASS ")


def test_quiet_prints_no_progress_and_no_expected_results(capsys):
    assert main(["check", str(SEED_SPEC), "--seed", "1", "--examples", "3", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines()[1].startswith("6 passed, 0 failed, 4 expected failures")


def test_verbose_prints_expected_failure_blocks_and_notes(tmp_path, capsys):
    assert main(["check", str(SEED_SPEC), "--seed", "1", "--examples", "3", "--claim", "answerer", "-v"]) == 0
    out = capsys.readouterr().out
    assert f"XFAIL {SEED_SPEC}:31:5 claim 'answerer' (d loss / d Theta)" in out
    assert f"reproduce: gradcheck check {SEED_SPEC} --claim answerer --seed 1" in out
    (tmp_path / "m.py").write_text("import numpy as np\n\ndef loss(x):\n    return float(np.sum(np.abs(x) ** 3))\n")
    (tmp_path / "s.yaml").write_text(
        "dims: {n: 3}\ninputs: {x: {shape: [n], domain: positive}}\n"
        'loss: {python: "m:loss"}\nclaims:\n  - {name: g, wrt: x, gradient: 3 * x ** 2}\n'
    )
    assert main(["check", str(tmp_path / "s.yaml"), "--seed", "1", "--examples", "3", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "        note: not complex-step safe" in out and "finite differences used" in out


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", str(SEED_SPEC), "-q", "-v"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
