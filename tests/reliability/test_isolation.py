"""User code runs out of process: whatever a claim does to its process, the run that owns the
exit code and the report goes on. Every test is a real CLI subprocess on a small spec and module
in tmp_path, bounded in time (a test that would hang fails by its timeout instead)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from support import cli

ROOT = Path(__file__).resolve().parents[2]

HEADER = """\
import numpy as np

def loss(x):
    return float(np.sum(x ** 2))

def good(x):
    return 2 * x

def wrong(x):
    return 3 * x
"""


def make(tmp_path: Path, body: str, claims: list[tuple[str, str]], dims: str = "{n: [2, 4]}") -> Path:
    """A module ``hostile`` (HEADER + body) and a spec whose claims name its functions, in order."""
    (tmp_path / "hostile.py").write_text(HEADER + body)
    lines = "".join(f'  - {{name: {name}, wrt: x, gradient: {{python: "hostile:{fn}"}}}}\n' for name, fn in claims)
    spec = tmp_path / "hostile.yaml"
    spec.write_text(f'dims: {dims}\ninputs: {{x: {{shape: [n]}}}}\nloss: {{python: "hostile:loss"}}\nclaims:\n{lines}')
    return spec


def summary(report: Path) -> dict[str, str]:
    frame = pd.read_csv(report / "summary.csv")
    return dict(zip(frame.claim, frame.verdict))


def check(tmp_path, body, claims, *extra, dims="{n: [2, 4]}", timeout=90):
    spec = make(tmp_path, body, claims, dims)
    return cli(
        "check", str(spec), "--seed", "1", "--examples", "3", "--report", "r", *extra, cwd=tmp_path, timeout=timeout
    )


EXITS = {
    "sys-exit-0": ("import sys\n\ndef hostile(x):\n    sys.exit(0)\n", "error: the claim raised SystemExit: 0"),
    "system-exit-text": ('def hostile(x):\n    raise SystemExit("x")\n', "error: the claim raised SystemExit: x"),
    "generator-exit": ("def hostile(x):\n    raise GeneratorExit\n", "error: the claim raised GeneratorExit"),
    "os-exit-0": (
        "import os\n\ndef hostile(x):\n    os._exit(0)\n",
        "error: the claim's process died (exit status 0 before returning)",
    ),
    "segfault": (
        "import ctypes\n\ndef hostile(x):\n    ctypes.string_at(0)\n",
        "error: the claim's process died (signal 11)",
    ),
}


@pytest.mark.parametrize("name", list(EXITS))
def test_a_claim_that_ends_its_process_is_an_error_and_the_run_goes_on(tmp_path, name):
    body, message = EXITS[name]
    proc = check(tmp_path, body, [("first-wrong", "wrong"), ("hostile", "hostile"), ("after", "good")])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"hostile  (d loss / d x)  {message}" in proc.stdout, proc.stdout
    assert "1 passed, 2 failed" in proc.stdout
    assert summary(tmp_path / "r") == {"first-wrong": "scaled", "hostile": "error", "after": "pass"}


def test_a_process_death_says_how_to_reproduce_it(tmp_path):
    body, _ = EXITS["segfault"]
    proc = check(tmp_path, body, [("hostile", "hostile")])
    assert "a crash in compiled code, or a signal from outside; the other claims ran on in a new process" in proc.stdout
    assert f"reproduce: gradcheck check {tmp_path / 'hostile.yaml'} --claim hostile --seed 1" in proc.stdout


def test_a_claim_that_lowers_the_recursion_limit_spoils_nothing_after_it(tmp_path):
    body = "import sys\n\ndef hostile(x):\n    sys.setrecursionlimit(60)\n    return 2 * x\n"
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")])
    assert "Traceback" not in proc.stderr, proc.stderr
    assert summary(tmp_path / "r")["after"] == "pass"
    assert "report written to r/" in proc.stdout


def test_a_claim_that_closes_stdout_does_not_silence_the_run(tmp_path):
    body = "import sys\n\ndef hostile(x):\n    sys.stdout.close()\n    return 2 * x\n"
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed, 0 failed" in proc.stdout
    assert summary(tmp_path / "r") == {"hostile": "pass", "after": "pass"}


def test_a_claim_that_changes_directory_does_not_move_a_relative_report(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    body = f"import os\n\ndef hostile(x):\n    os.chdir({str(tmp_path / 'elsewhere')!r})\n    return 2 * x\n"
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary(tmp_path / "r") == {"hostile": "pass", "after": "pass"}
    assert not (tmp_path / "elsewhere" / "r").exists()


def test_a_claim_that_forks_gets_one_run_and_one_report(tmp_path):
    body = "import os\n\ndef hostile(x):\n    os.fork()\n    return 2 * x\n"
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")], timeout=60)
    assert proc.stdout.count("2 passed, 0 failed") == 1, proc.stdout
    assert proc.stdout.count("report written to") == 1
    assert proc.returncode == 0


def test_a_claim_that_leaves_a_thread_running_does_not_keep_the_run_alive(tmp_path):
    body = (
        "import threading, time\n\ndef hostile(x):\n"
        "    threading.Thread(target=time.sleep, args=(300,)).start()\n    return 2 * x\n"
    )
    started = time.monotonic()
    proc = check(tmp_path, body, [("hostile", "hostile")], timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - started < 45


UNSTOPPABLE = {
    "swallows-the-alarm": (
        "def hostile(x):\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n"
    ),
    "ignores-the-alarm": (
        "import signal, time\n\ndef hostile(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    while True:\n        time.sleep(0.01)\n"
    ),
    "long-c-call": "def hostile(x):\n    y = np.ones(400)\n    np.einsum('i,j,k,l->', y, y, y, y)\n    return 2 * x\n",
}


@pytest.mark.parametrize("name", list(UNSTOPPABLE))
def test_a_claim_that_defeats_the_alarm_is_killed_at_its_deadline(tmp_path, name):
    started = time.monotonic()
    proc = check(tmp_path, UNSTOPPABLE[name], [("hostile", "hostile"), ("after", "good")], "--timeout", "3", timeout=60)
    assert time.monotonic() - started < 40
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "hostile  (d loss / d x)  error: the claim's process died (timed out after 3 s, killed)" in proc.stdout
    assert "it ignored the deadline's alarm (a long call in C code, or code that swallows it): it was killed" in (
        proc.stdout
    )
    assert summary(tmp_path / "r") == {"hostile": "error", "after": "pass"}


def test_sigterm_stops_the_run_even_when_the_claim_ignores_signals(tmp_path):
    spec = make(tmp_path, UNSTOPPABLE["ignores-the-alarm"], [("first", "good"), ("hostile", "hostile")])
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradcheck.cli", "check", str(spec), "--seed", "1", "--timeout", "0", "--report", "r"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.stdout.readline().startswith("PASS"):
                break
        time.sleep(1.0)  # the hostile claim is running now, and has ignored SIGTERM and SIGALRM
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert (tmp_path / "r" / "INCOMPLETE").exists()
    assert summary(tmp_path / "r") == {"first": "pass"}


def test_the_deadline_covers_the_import_of_the_users_module(tmp_path):
    (tmp_path / "slowimport.py").write_text("import time\ntime.sleep(120)\n\ndef grad(x):\n    return 2 * x\n")
    spec = make(tmp_path, "", [("after", "good")])
    spec.write_text(spec.read_text() + '  - {name: slow, wrt: x, gradient: {python: "slowimport:grad"}}\n')
    started = time.monotonic()
    proc = cli("check", str(spec), "--seed", "1", "--timeout", "3", "--report", "r", cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 40
    assert "slow  (d loss / d x)  error: timed out after 3 s" in proc.stdout, proc.stdout
    assert summary(tmp_path / "r") == {"after": "pass", "slow": "error"}


def test_the_memory_limit_bounds_the_claims_process(tmp_path):
    body = "def hostile(x):\n    np.empty(4 * 2**30, dtype=np.uint8)\n    return 2 * x\n"
    unlimited = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")])
    assert summary(tmp_path / "r") == {"hostile": "pass", "after": "pass"}, unlimited.stdout
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")], "--memory-limit", "1000")
    assert "hostile  (d loss / d x)  error: the claim raised MemoryError: Unable to allocate 4.00 GiB" in proc.stdout
    assert summary(tmp_path / "r") == {"hostile": "error", "after": "pass"}


def test_gradcheck_cannot_be_named_as_a_users_function(tmp_path):
    (tmp_path / "reexport.py").write_text("from gradcheck.cli import main\n")
    spec = make(tmp_path, "", [("main", "good")])
    text = spec.read_text()
    spec.write_text(
        text.replace('gradient: {python: "hostile:good"}', 'gradient: {python: "__main__:main"}')
        + '  - {name: console, wrt: x, gradient: {python: "reexport:main"}}\n'
    )
    proc = cli("check", str(spec), "--seed", "1", "--report", "r", cwd=tmp_path, timeout=60)
    assert (
        '{python: "__main__:main"} names the running program (__main__): python entries must name your own code'
    ) in proc.stdout, proc.stdout
    assert "'reexport:main' is gradcheck's own gradcheck.cli.main: python entries must name your own code" in (
        proc.stdout
    )
    assert summary(tmp_path / "r") == {"main": "error", "console": "error"}


def test_an_inner_deadline_does_not_cancel_the_outer_one():
    from gradcheck.limits import ClaimTimeout, deadline

    started = time.monotonic()
    with pytest.raises(ClaimTimeout):
        with deadline(0.3):
            with deadline(60):
                pass
            while time.monotonic() - started < 5:
                time.sleep(0.01)
    assert time.monotonic() - started < 2


def test_a_claims_prints_go_to_stderr_never_into_the_report_on_stdout(tmp_path):
    body = 'def hostile(x):\n    print("chatter from the claim")\n    return 2 * x\n'
    proc = check(tmp_path, body, [("hostile", "hostile")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "chatter from the claim" in proc.stderr
    assert "chatter from the claim" not in proc.stdout


def test_jobs_give_the_same_report_as_one_job_in_the_same_order(tmp_path):
    body = EXITS["segfault"][0] + EXITS["sys-exit-0"][0].replace("def hostile", "def exits")
    make(tmp_path, body, [("a", "good"), ("crash", "hostile"), ("b", "wrong"), ("exit", "exits"), ("c", "good")])
    (tmp_path / "missing.yaml").write_text(
        'dims: {n: [2, 4]}\ninputs: {x: {shape: [n]}}\nloss: {python: "hostile:loss"}\nclaims:\n'
        '  - {name: gone, wrt: x, gradient: {python: "nowhere:grad"}}\n'
        '  - {name: after, wrt: x, gradient: {python: "hostile:good"}}\n'
    )
    (tmp_path / "sub").mkdir()
    for name in ("least_squares.yaml", "gallery_code.py"):
        (tmp_path / "sub" / name).write_text((ROOT / "specs" / name).read_text())
    runs = {}
    for jobs in ("1", "3"):
        proc = cli("check", ".", "--seed", "2", "--examples", "4", "--jobs", jobs, "--report", f"r{jobs}", cwd=tmp_path)
        runs[jobs] = proc
        assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in ("summary.csv", "results.csv"):
        assert (tmp_path / "r1" / name).read_bytes() == (tmp_path / "r3" / name).read_bytes(), name
    assert runs["1"].stdout.replace("r1/", "r3/").splitlines()[:-2] == runs["3"].stdout.splitlines()[:-2]
    assert summary(tmp_path / "r3")["crash"] == "error" and summary(tmp_path / "r3")["after"] == "pass"


def test_jobs_run_claims_at_the_same_time(tmp_path):
    body = (
        "import os, time\n\ndef slow(x):\n    start = time.time()\n    time.sleep(1.0)\n"
        f"    with open({str(tmp_path / 'spans')!r}, 'a') as f:\n"
        "        f.write(f'{os.getpid()} {start} {time.time()}\\n')\n    return 2 * x\n"
    )
    claims = [(f"c{i}", "slow") for i in range(4)]
    proc = check(tmp_path, body, claims, "--jobs", "2", dims="{n: 3}", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    spans = [line.split() for line in (tmp_path / "spans").read_text().splitlines()]
    assert len({pid for pid, _, _ in spans}) == 2
    overlapping = any(
        float(a[1]) < float(b[2]) and float(b[1]) < float(a[2]) for a in spans for b in spans if a[0] != b[0]
    )
    assert overlapping, spans


def test_a_spec_rewritten_between_two_runs_in_one_process_is_read_again(tmp_path, monkeypatch):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    monkeypatch.chdir(tmp_path)
    spec = make(tmp_path, "", [("a", "good"), ("b", "wrong")])
    first = run([str(spec)], RunOptions(seed=1, examples=3))
    make(tmp_path, "", [("b", "wrong"), ("a", "good")])  # the same file, its claims swapped
    second = run([str(spec)], RunOptions(seed=1, examples=3))
    assert [(v.claim, v.label) for v in first.verdicts] == [("a", "pass"), ("b", "scaled")]
    assert [(v.claim, v.label) for v in second.verdicts] == [("b", "scaled"), ("a", "pass")]


def test_a_claim_that_forges_a_reply_cannot_make_the_supervisor_run_anything(tmp_path):
    body = (
        "import os, pickle, struct, sys, time\n\ndef hostile(x):\n"
        "    data = pickle.dumps(('verdict', os.system))\n"
        "    os.write(int(sys.argv[2]), struct.pack('!i', len(data)) + data)\n"
        "    time.sleep(60)\n"
    )
    proc = check(tmp_path, body, [("hostile", "hostile"), ("after", "good")], timeout=60)
    assert (
        "hostile  (d loss / d x)  error: the claim's process died (killed: it sent posix.system, which is not a "
        "verdict value)"
    ) in proc.stdout, proc.stdout
    assert (
        "its reply held more than plain values: an object array from the claim, or the claim's code wrote into "
        "gradcheck's pipe"
    ) in proc.stdout
    assert summary(tmp_path / "r") == {"hostile": "error", "after": "pass"}


def test_the_deadline_covers_the_factor_refinement(tmp_path):
    # a factor equal to a dim (n * the gradient) is refined after the examples, by re-running the
    # loss at another n; here the loss is slow only there (found by check.py's function name)
    body = (
        "import inspect, time\n\ndef slow_in_refinement(x):\n"
        "    if any(f.function == '_refine_factor' for f in inspect.stack(0)):\n"
        "        time.sleep(30)\n    return float(np.sum(x ** 2))\n\n"
        "def n_times(x):\n    return x.size * 2 * x\n"
    )
    spec = make(tmp_path, body, [("n-times", "n_times"), ("after", "good")])
    spec.write_text(spec.read_text().replace("hostile:loss", "hostile:slow_in_refinement"))
    started = time.monotonic()
    proc = cli("check", str(spec), "--seed", "1", "--timeout", "3", "--report", "r", cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 40
    assert "n-times  (d loss / d x)  error: timed out after 3 s" in proc.stdout, proc.stdout
    assert summary(tmp_path / "r") == {"n-times": "error", "after": "pass"}


def test_a_worker_does_not_outlive_a_supervisor_killed_outright(tmp_path):
    body = (
        "import os, signal, time\n\ndef hostile(x):\n"
        f"    open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
        "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        time.sleep(0.05)\n"
    )
    spec = make(tmp_path, body, [("hostile", "hostile")])
    env = {**os.environ, "GRADCHECK_NO_DATABASE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradcheck.cli", "check", str(spec), "--seed", "1", "--timeout", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    pid_file = tmp_path / "pid"
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
    finally:
        proc.kill()  # SIGKILL: no handler, no atexit in the supervisor
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not _running(worker):
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its supervisor")


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that a container lacks)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_runs_on_threads_that_have_ended_leave_the_next_run_working(tmp_path, monkeypatch):
    import threading

    from gradcheck.options import RunOptions
    from gradcheck.run import run

    monkeypatch.chdir(tmp_path)
    spec = make(tmp_path, "", [("a", "good")])
    results = []
    for _ in range(2):  # the first thread's workers die with it; the second run must not inherit them
        t = threading.Thread(target=lambda: results.append(run([str(spec)], RunOptions(seed=1, examples=2))))
        t.start()
        t.join(timeout=120)
    assert [[v.label for v in r.verdicts] for r in results] == [["pass"], ["pass"]]


def test_jobs_default_to_the_usable_cores_and_one_claim_starts_one_worker(monkeypatch):
    from gradcheck import workers

    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0, 3, 5})
    assert workers.default_jobs() == 3
    started = []
    monkeypatch.setattr(workers, "_Worker", lambda limit: started.append(limit) or types.SimpleNamespace(alive=True))
    pool = workers.Pool(0, size=3)
    pool.start()
    assert len(started) == 1  # the others start only when a second claim is ready while the first runs


def test_the_gallery_and_the_corpus_give_byte_identical_reports_with_one_and_two_jobs(tmp_path):
    paths = [str(ROOT / "specs"), str(ROOT / "tests" / "corpus")]
    for jobs in ("1", "2"):
        proc = cli("check", *paths, "--seed", "4", "--examples", "4", "--jobs", jobs, "--report", f"r{jobs}",
                   cwd=tmp_path, timeout=600)  # fmt: skip
        assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    for name in ("summary.csv", "results.csv", "summary.md"):
        assert (tmp_path / "r1" / name).read_bytes() == (tmp_path / "r2" / name).read_bytes(), name
