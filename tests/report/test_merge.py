"""`gradcheck check --shard I/N` and `gradcheck merge DIR... --into OUT`: the merged report of the
shards is the report of one unsharded run with the same seed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from gradcheck.cli import main
from gradcheck.options import Shard
from gradcheck.run import split_costs

from .conftest import ROOT, unexpected_copy

PAGES = ("summary.csv", "results.csv", "details.json", "report.html", "summary.md", "junit.xml")
TIMING = [
    (re.compile(r'time="[0-9.]+"'), 'time="T"'),
    (re.compile(r'"seconds": [-0-9.e]+'), '"seconds": T'),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\+00:00| UTC)"), "WHEN"),
    (re.compile(r"in [0-9.]+ m?s\b"), "in T s"),
]


def _untimed(text: str) -> str:
    """A report file with its clock readings (when, seconds) masked: they differ between any two runs."""
    for pattern, mask in TIMING:
        text = pattern.sub(mask, text)
    return text


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> list[str]:
    """A failing spec (unexpected failures), a passing one with two claims on one wrt list, and a
    spec that does not load (every shard reports it; the merge keeps one)."""
    base = tmp_path_factory.mktemp("shard-specs")
    broken = base / "specs" / "broken.yaml"
    failing = unexpected_copy(base / "specs")
    broken.write_text("spec: broken\ninputs: {x: {shape: []}}\nloss: x +\n")
    return [str(failing), str(ROOT / "specs" / "activations.yaml"), str(broken)]


def _check(paths, out: Path, *extra: str) -> int:
    return main(["check", *paths, "--seed", "3", "--examples", "3", "-q", "--report", str(out), *extra])


def test_merged_shards_are_the_unsharded_report(specs, tmp_path, capsys):
    assert _check(specs, tmp_path / "whole") == 2  # the broken spec
    shards = [tmp_path / f"part{i}" for i in (1, 2, 3)]
    for i, folder in enumerate(shards, 1):
        assert _check(specs, folder, "--shard", f"{i}/3") == 2  # every shard reports the broken spec
    sizes = [len((f / "summary.csv").read_text().splitlines()) - 2 for f in shards]  # header, spec error
    assert sum(sizes) == len((tmp_path / "whole" / "summary.csv").read_text().splitlines()) - 2
    assert max(sizes) - min(sizes) <= 1  # equal costs: the claims split evenly
    capsys.readouterr()
    # given in another order: the merge puts the rows back in run order
    assert main(["merge", str(shards[2]), str(shards[0]), str(shards[1]), "--into", str(tmp_path / "merged")]) == 2
    out = capsys.readouterr().out
    assert "seed 3" in out and "merged 3 report folders: report written to" in out
    for name in ("summary.csv", "results.csv"):  # the contract files: byte for byte
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    for name in PAGES:
        merged = _untimed((tmp_path / "merged" / name).read_text())
        assert merged == _untimed((tmp_path / "whole" / name).read_text()), name
    assert not (tmp_path / "merged" / "shard.json").exists()


def test_merge_refuses_shards_with_different_seeds(specs, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _check(specs[1:2], a, "--shard", "1/2") == 0
    assert main(["check", specs[1], "--seed", "4", "--examples", "3", "-q", "--report", str(b), "--shard", "2/2"]) == 0
    capsys.readouterr()
    assert main(["merge", str(a), str(b), "--into", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err == (
        f"gradcheck merge: the run seeds differ ({a} has seed 3, {b} has seed 4): run every shard with "
        "the same --seed, e.g. --seed $GITHUB_RUN_ID, so that the merged report is one run's\n"
    )
    assert not (tmp_path / "m").exists()


def test_merge_names_a_missing_or_repeated_shard(specs, tmp_path, capsys):
    a = tmp_path / "a"
    assert _check(specs[1:2], a, "--shard", "1/3") == 0
    capsys.readouterr()
    assert main(["merge", str(a), "--into", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err == "gradcheck merge: shard 2/3, 3/3 missing: give all 3 report folders\n"
    assert main(["merge", str(a), str(a), "--into", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err == "gradcheck merge: shard 1/3 given more than once\n"


def test_merge_of_a_folder_without_a_report(tmp_path, capsys):
    assert main(["merge", str(tmp_path), "--into", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err == (
        f"gradcheck merge: {tmp_path}: no summary.csv here (write one with `gradcheck check ... --report {tmp_path}`)\n"
    )


def test_an_empty_shard_exits_0_and_says_why(tmp_path, capsys):
    spec = tmp_path / "one.yaml"
    spec.write_text(
        "spec: one\ninputs: {x: {shape: []}}\nloss: x ** 2\nclaims:\n  - {name: g, wrt: x, gradient: 2 * x}\n"
    )
    assert main(["check", str(spec), "--seed", "1", "--shard", "2/2"]) == 0
    assert "shard 2/2: no claims fell to this shard (the run has fewer claims than shards)" in capsys.readouterr().out
    assert main(["check", str(spec), "--seed", "1", "--shard", "1/2", "-q"]) == 0


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("3", "must be I/N, this part I of N parts (e.g. 2/4), got '3'"),
        ("0/2", "must be I/N with 1 <= I <= N, got '0/2'"),
        ("3/2", "must be I/N with 1 <= I <= N, got '3/2'"),
        ("a/b", "must be I/N, this part I of N parts (e.g. 2/4), got 'a/b'"),
    ],
)
def test_shard_words_are_checked(word, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["check", "x.yaml", "--shard", word])
    assert stop.value.code == 2
    assert f"argument --shard: {message}" in capsys.readouterr().err


def test_shard_parses():
    assert Shard.parse("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"


def test_split_is_even_by_cost_and_deterministic():
    costs = [100, 25, 25, 25, 25, 50, 50, 10, 10]
    shard_of = split_costs(costs, 3)
    loads = [sum(c for c, s in zip(costs, shard_of) if s == i) for i in (1, 2, 3)]
    assert loads == [110, 110, 100]  # the 100 alone; the rest balanced around it
    assert split_costs(costs, 3) == shard_of
    assert split_costs([25] * 7, 3) == [1, 2, 3, 1, 2, 3, 1]  # equal costs: round robin in run order


def test_shard_json_lists_every_item_and_its_shard(specs, tmp_path):
    out = tmp_path / "p"
    assert _check(specs[1:2], out, "--shard", "2/2") == 0
    doc = json.loads((out / "shard.json").read_text())
    assert doc["shard"] == [2, 2] and doc["seed"] == 3
    assert len(doc["items"]) == len(doc["shard_of"]) == len(doc["costs"])
    rows = (out / "summary.csv").read_text().splitlines()[1:]
    assert len(rows) == doc["shard_of"].count(2)
    shutil.rmtree(out)


def test_a_shard_says_which_part_it_checked(specs, tmp_path, capsys):
    assert main(["check", specs[1], "--seed", "3", "--examples", "3", "-q", "--shard", "1/2"]) == 0
    out = capsys.readouterr().out
    whole = len(_items(specs[1]))
    assert f"shard 1/2: checked {(whole + 1) // 2} of the run's {whole} claims" in out
    assert "join the shards' --report folders with `gradcheck merge DIR... --into OUT`" in out


def test_a_shards_progress_counts_only_its_claims(specs):
    from gradcheck.cli import _claim_counts
    from gradcheck.options import RunOptions

    whole = sum(n for _, n in _claim_counts([specs[1]], RunOptions()))
    parts = [sum(n for _, n in _claim_counts([specs[1]], RunOptions(shard=Shard(i, 2)))) for i in (1, 2)]
    assert parts == [(whole + 1) // 2, whole // 2]


def test_the_pytest_plugin_refuses_shard(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--gradcheck-shard", "1/2", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert (
        "ERROR: --gradcheck-shard splits `gradcheck check` runs only: under pytest, split the claims over "
        "processes with pytest-xdist's -n, or over machines with your CI's own test splitting"
    ) in done.stderr


def _items(spec: str) -> list:
    from gradcheck.run import read_problem

    return list(read_problem(spec).plans)


def test_merge_names_the_files_it_wrote_not_what_the_folder_held(specs, tmp_path, capsys):
    shards = [tmp_path / f"part{i}" for i in (1, 2)]
    for i, folder in enumerate(shards, 1):
        _check(specs, folder, "--shard", f"{i}/2")
    into = tmp_path / "merged"
    into.mkdir()
    (into / "results.parquet").write_bytes(b"an earlier run's table")  # the merge writes no parquet
    capsys.readouterr()
    main(["merge", *map(str, shards), "--into", str(into)])
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"merged 2 report folders: report written to {into}/: "
        "report.html, summary.md, junit.xml, summary.csv, results.csv"
    )
