"""Benchmark gradcheck against the gradient checkers people use today (issue 5).

    python bench/run.py [--quick] [--sizes 12 1e3 ...] [--budget SECONDS] [--out bench/RESULTS.md]

One process, one run: gradcheck (through its real pipeline: a spec file, ``gradcheck.run.run``)
and the anchors (bench/anchors.py) check the same numpy loss and claimed gradient of the seed
problem L(Theta) = 1/2 sum (Y - sigmoid(X Theta))^2 side by side. Times are medians over
repeats, given as multiples of T = T_loss + T_grad (the plain numpy loss plus the claimed
gradient at the same size), never as one absolute time. Everything is single-threaded.

Sections: speed on a correct claim per n; fixed overhead at small n; a sensitivity sweep
(claim x (1 + eps)); planted bug kinds; failures at large n (cost and diagnosis); false alarms
on correct claims in hard regimes; start-up and suite wall times (CLI, gallery, 50 specs,
pytest -n 0 / -n 2). Results go to bench/RESULTS.md (and the raw numbers to bench/results.json).

Not part of the test suite or CI: it takes minutes and its numbers depend on the machine.
"""

from __future__ import annotations

import os

# Single-threaded BLAS and XLA, set before numpy/torch/jax are imported (OPENBLAS_CORETYPE, if
# set on this machine, is left as it is and recorded).
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["GRADCHECK_NO_DATABASE"] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import anchors as A  # noqa: E402
import problems as P  # noqa: E402
from measure import Gradcheck, Unit, per_call, time_check  # noqa: E402

GC_PY, GC_EXPR = "gradcheck (python)", "gradcheck (expr)"
FLOOR = "floor: 1 complex-step direction"
EXAMPLES = 25  # gradcheck's default examples per claim


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# --- machine facts -----------------------------------------------------------------------------


def machine(anchors: list[A.Anchor]) -> dict:
    import platform

    facts = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_start": os.getloadavg(),
        "pressure_start": _pressure(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }
    import importlib.metadata as md

    for pkg in ("scipy", "hypothesis", "gradcheck"):
        try:
            facts[pkg] = md.version(pkg)
        except Exception:  # noqa: BLE001  machine facts are best effort
            facts[pkg] = "-"
    facts["anchors"] = {a.name: (a.version() if a.available else a.note) for a in anchors}
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = [
            {k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for i in threadpool_info()
        ]
    except Exception as exc:  # noqa: BLE001  machine facts are best effort
        facts["blas"] = f"threadpoolctl not available ({type(exc).__name__})"
    facts["git"] = _git()
    return facts


def _pressure() -> str:
    """Linux PSI: the share of time some runnable task waited for a CPU (avg10 avg60 avg300)."""
    with contextlib.suppress(OSError):
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return " ".join(f"{k}={v}%" for k, v in (p.split("=") for p in line.split()[1:4]))
    return "-"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "-"


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "gradcheck"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return head + (f" + uncommitted changes in gradcheck/ ({len(dirty.splitlines())} files)" if dirty else "")
    except Exception:  # noqa: BLE001  no git here: the commit is shown as unknown
        return "-"


# --- speed on a correct claim ------------------------------------------------------------------


def unit_times(size: P.Size, data: dict) -> dict:
    """T_loss, T_grad, and the parts of the cheapest possible directional check."""
    X, Y, Th = data["X"], data["Y"], data["Theta"]
    rng = np.random.default_rng(0)
    V = rng.standard_normal(Th.shape)
    Z = Th + 1j * 1e-30 * V
    t_loss = per_call(lambda: P.loss(X, Y, Th))
    t_grad = per_call(lambda: P.grad(X, Y, Th))
    t_cs = per_call(lambda: P.loss(X, Y, Z))
    t_cs_split = per_call(lambda: P.loss_split(X, Y, Z))
    t_dir = per_call(lambda: rng.standard_normal(Th.shape))
    t_rademacher = per_call(lambda: 1.0 - 2.0 * rng.integers(0, 2, Th.shape, dtype=np.uint8))
    t_inputs = per_call(
        lambda: (rng.standard_normal(X.shape), rng.uniform(0.05, 0.95, Y.shape), rng.standard_normal(Th.shape))
    )

    def floor():  # draw a direction, one complex-step evaluation, the claim, one dot product
        v = rng.standard_normal(Th.shape)
        d = P.loss(X, Y, Th + 1j * 1e-30 * v).imag / 1e-30
        return d - np.vdot(P.grad(X, Y, Th), v)

    def floor_split():
        v = rng.standard_normal(Th.shape)
        d = P.loss_split(X, Y, Th + 1j * 1e-30 * v).imag / 1e-30
        return d - np.vdot(P.grad(X, Y, Th), v)

    t_floor = per_call(floor)
    t_floor_split = per_call(floor_split)
    return {
        "T_loss": t_loss,
        "T_grad": t_grad,
        "T": t_loss + t_grad,
        "T_cs": t_cs,
        "T_cs_split": t_cs_split,
        "T_direction": t_dir,
        "T_rademacher": t_rademacher,
        "T_inputs": t_inputs,
        "T_floor": t_floor,
        "T_floor_split": t_floor_split,
    }


def closures(data: dict, claim=P.grad, loss=P.loss, wrt: str = "Theta"):
    fixed = {k: v for k, v in data.items() if k != wrt}
    return (lambda t: loss(**fixed, **{wrt: t})), (lambda t: claim(**fixed, **{wrt: t}))


def speed(keys, anchors, gc: Gradcheck, budget: float, repeats: int) -> list[dict]:
    rows, last = [], {}  # last: anchor name -> (n, T multiple, "ok" | "over") of its last measured n
    for key in keys:
        size = P.SIZES[key]
        log(f"[speed] n = {size.n:,}  (M={size.M}, in={size.n_in}, out={size.n_out})")
        data = P.draw(size, P.Regime("plain"), 0)
        unit = Unit(data)
        units = unit_times(size, data)
        unit.samples.append(units["T"])
        row = {"key": key, "n": size.n, "M": size.M, "in": size.n_in, "out": size.n_out, **units, "tools": {}}
        row["tools"][FLOOR] = {
            "T": units["T_floor"] / units["T"],
            "seconds": units["T_floor"],
            "status": "ok",
            "calls": {"loss-complex": 1, "grad": 1},
        }
        for form, name in (("python", GC_PY), ("expr", GC_EXPR)):
            path = gc.write(f"speed_{key}_{form}", P.seed_spec(size, form=form))
            if key == keys[0]:
                gc.run(path, examples=2)  # warm-up: first imports, first Hypothesis run
            reps = repeats if size.n < 10**6 else max(2, repeats - 1)
            cpu, ratio, r = gc.timed(path, examples=EXAMPLES, repeats=reps, unit=unit)
            ex = max(r.examples, 1)
            row["tools"][name] = {
                "T": ratio / ex,
                "seconds": cpu / ex,
                "cpu": cpu,
                "wall": r.wall,
                "examples": r.examples,
                "status": "ok" if r.label == "pass" else f"verdict {r.label}",
                "flagged": r.flagged,
                "reps": reps,
                "calls": {k: v / ex for k, v in r.calls.items()},
            }
            log(f"   {name:34s} {ratio / ex:9.2f} T per example  ({r.label}, {r.examples} examples, calls {r.calls})")
        for a in anchors:
            if not a.available:
                row["tools"][a.name] = {"status": "skipped", "note": a.note}
                continue
            prev = last.get(a.name)
            if prev is not None and prev[2] == "over":
                row["tools"][a.name] = _estimate(prev, size.n, unit.T, "exceeded the budget at a smaller n")
                log(f"   {a.name:34s} skipped (over budget at n = {prev[0]:,})")
                continue
            if prev is not None and a.kind == "full" and prev[1] * size.n / prev[0] * unit.T > 2 * budget:
                row["tools"][a.name] = _estimate(prev, size.n, unit.T, "estimate above twice the budget")
                log(f"   {a.name:34s} skipped: est. {prev[1] * size.n / prev[0]:.3g} T")
                continue
            loss_of, claim_of = closures(data)
            timed = time_check(a.prepare(loss_of, claim_of, data["Theta"]), budget, unit)
            if timed.over_budget:
                # the CPU seconds spent until the alarm: a lower bound of the check's cost
                row["tools"][a.name] = {
                    "status": "over budget",
                    "T": timed.ratio,
                    "seconds": timed.seconds,
                    "wall": timed.outcome.wall,
                    "calls": timed.outcome.calls,
                }
                last[a.name] = (size.n, timed.ratio, "over")
                log(f"   {a.name:34s} > {budget:g} s budget (> {timed.ratio:.3g} T)")
                continue
            row["tools"][a.name] = {
                "T": timed.ratio,
                "seconds": timed.seconds,
                "reps": timed.reps,
                "cold": timed.cold,
                "wall": timed.outcome.wall,
                "status": "ok",
                "flagged": timed.outcome.flagged,
                "message": timed.outcome.message,
                "calls": timed.outcome.calls,
            }
            last[a.name] = (size.n, timed.ratio, "ok")
            log(f"   {a.name:34s} {timed.ratio:9.2f} T  ({timed.reps} reps; flagged={timed.outcome.flagged})")
        row["T"], row["T_spread"], row["T_samples"] = unit.T, unit.spread, len(unit.samples)
        log(f"   T = {1e3 * unit.T:.3f} ms (spread {unit.spread:.2f}x over {len(unit.samples)} samples)")
        rows.append(row)
    return rows


def _estimate(prev, n: int, T: float, why: str) -> dict:
    """A full-Jacobian anchor's cost grows like n evaluations of a loss that costs ~T: scale the
    last measured multiple of T linearly in n. Labelled as an estimate everywhere it is shown."""
    est = prev[1] * n / prev[0]
    return {"status": "estimate", "T": est, "seconds": est * T, "note": f"{why}; linear in n from n = {prev[0]:,}"}


def memory_peak(gc: Gradcheck, key: str) -> dict:
    """Peak traced allocation (numpy reports to tracemalloc) of one gradcheck run at n."""
    size = P.SIZES[key]
    out = {"n": size.n}
    arrays = 8 * (size.M * size.n_in + size.M * size.n_out + size.n)
    out["inputs_mib"] = arrays / 2**20
    for form in ("python", "expr"):
        path = gc.write(f"mem_{key}_{form}", P.seed_spec(size, form=form))
        tracemalloc.start()
        r = gc.run(path, examples=3)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[form] = {"peak_mib": peak / 2**20, "label": r.label}
    return out


PROFILE_PARTS = (  # (label, file suffix, function): cumulative time of each, per example
    ("whole check (spec to verdict, in process)", "bench/measure.py", "run"),
    ("  load spec + build problem", "gradcheck/spec/load.py", "load_spec"),
    ("", "gradcheck/problem/build.py", "build_problem"),
    ("  check_plan", "gradcheck/check.py", "check_plan"),
    ("    examine (one example, all of it)", "gradcheck/examine.py", "check_example"),
    ("      bind: draw inputs, evaluate graph", "gradcheck/problem/bound.py", "bind"),
    ("        draw_inputs", "gradcheck/samples/draw.py", "draw_inputs"),
    ("      directions drawn", "gradcheck/samples/draw.py", "draw_direction"),
    ("      dual-number oracle (expressions)", "gradcheck/oracle/dual.py", "directions"),
    ("      complex-step oracle", "gradcheck/oracle/complex_step.py", "directional"),
    ("", "gradcheck/oracle/complex_step.py", "directional_many"),
    ("      the claim", "gradcheck/problem/bound.py", "claimed"),
    ("      call_user (read-only views + user call)", "gradcheck/problem/callables.py", "call_user"),
    ("      user loss (numpy)", "problems.py", "loss"),
    ("      user claim (numpy)", "problems.py", "grad"),
    ("      expression evaluator", "gradcheck/expr/evaluate.py", "evaluate"),
)


def profile(gc: Gradcheck, key: str, form: str, examples: int = 5) -> dict:
    """cProfile of one run: cumulative CPU seconds per example of the parts of the pipeline,
    and "example loop and the rest" = check_plan minus examine (Hypothesis for ranged dims, a plain seed loop for fixed ones)."""
    size = P.SIZES[key]
    path = gc.write(f"prof_{key}_{form}", P.seed_spec(size, form=form))
    prof = cProfile.Profile(A.clock)
    prof.enable()
    r = gc.run(path, examples=examples)
    prof.disable()
    stats = pstats.Stats(prof).stats
    ex = max(r.examples, 1)
    parts, merged = [], {}
    for label, suffix, func in PROFILE_PARTS:
        # outermost entries only: a function's cumulative time already contains its recursive calls
        total = sum(v[3] for (file, _, name), v in stats.items() if name == func and file.endswith(suffix))
        if label:
            merged[label] = total
            parts.append(label)
        else:
            merged[parts[-1]] += total
    rows = [(label, merged[label] / ex) for label in parts if merged[label] > 0]
    plan, exam = merged.get("  check_plan", 0.0), merged.get("    examine (one example, all of it)", 0.0)
    rows.insert(4, ("    example loop and the rest (check_plan - examine)", (plan - exam) / ex))
    T = Unit(P.draw(size, P.Regime("plain"), 0)).sample(repeats=11)
    return {"n": size.n, "form": form, "examples": ex, "T": T, "rows": rows}


def overhead(gc: Gradcheck, units12: dict, repeats: int) -> dict:
    """Per-example and fixed CPU cost at n = 12: runs of 5 and of 50 examples back to back; per
    pair the slope (per example) and intercept (fixed per check); medians over pairs."""
    size = P.SIZES["12"]
    out = {}
    for form, name in (("python", GC_PY), ("expr", GC_EXPR)):
        path = gc.write(f"overhead_{form}", P.seed_spec(size, form=form))
        gc.run(path, examples=5)
        slopes, fixeds = [], []
        for _ in range(repeats + 2):
            r5, r50 = gc.run(path, examples=5), gc.run(path, examples=50)
            e5, e50 = max(r5.examples, 1), max(r50.examples, 1)
            slope = (r50.cpu - r5.cpu) / max(e50 - e5, 1)
            slopes.append(slope)
            fixeds.append(r5.cpu - e5 * slope)
        slope, fixed = statistics.median(slopes), statistics.median(fixeds)
        calls = {k: v / e50 for k, v in r50.calls.items()}
        evals = (
            calls.get("loss", 0) * units12["T_loss"]
            + calls.get("loss-complex", 0) * units12["T_cs"]
            + calls.get("grad", 0) * units12["T_grad"]
        )
        out[name] = {
            "per_example_ms": 1e3 * slope,
            "fixed_ms": 1e3 * fixed,
            "user_code_ms": 1e3 * evals,
            "overhead_ms": 1e3 * (slope - evals),
            "examples": (e5, e50),
            "calls": calls,
            "slopes_ms": [1e3 * x for x in slopes],
        }
        log(f"[overhead] {name}: {1e3 * slope:.3f} ms per example, fixed {1e3 * fixed:.1f} ms per check")
    return out


# --- sensitivity, bugs, large-n failures, false alarms ----------------------------------------


def sweep(anchors, gc: Gradcheck, key: str, epsilons, seeds: int, budget: float, float32: bool) -> dict:
    size = P.SIZES[key]
    regime = P.regimes(size)["float32" if float32 else "plain"]
    tools = [a for a in anchors if a.available]
    names = [GC_PY] + ([] if float32 else [GC_EXPR]) + [a.name for a in tools]
    hits = {name: [0] * len(epsilons) for name in names}
    labels = {name: [set() for _ in epsilons] for name in (GC_PY, GC_EXPR)}
    for s in range(seeds):
        data = P.draw(size, regime, 100 + s)
        for i, eps in enumerate(epsilons):
            P.EPS_SCALE["eps"] = eps
            loss_of, claim_of = closures(data, P.grad_scaled)
            for a in tools:
                o = A.with_budget(lambda: a.check(loss_of, claim_of, data["Theta"]), budget)
                hits[a.name][i] += bool(o.flagged)
            tag = "f32" if float32 else "f64"
            r = gc.run(gc.write(f"sweep_{tag}_py", P.seed_spec(size, regime, "grad_scaled")), seed=100 + s)
            hits[GC_PY][i] += r.flagged
            labels[GC_PY][i].add(r.label)
            if not float32:
                r = gc.run(
                    gc.write("sweep_f64_expr", P.seed_spec(size, regime, form="expr", factor=1 + eps)), seed=100 + s
                )
                hits[GC_EXPR][i] += r.flagged
                labels[GC_EXPR][i].add(r.label)
        log(
            f"[sweep {'float32' if float32 else 'float64'}] seed {s}: " + ", ".join(f"{k}={v}" for k, v in hits.items())
        )
    P.EPS_SCALE["eps"] = 0.0
    return {
        "n": size.n,
        "epsilons": list(epsilons),
        "seeds": seeds,
        "hits": hits,
        "labels": {k: [sorted(x) for x in v] for k, v in labels.items()},
    }


def sensitivity_by_n(gc: Gradcheck, keys) -> list[dict]:
    """gradcheck alone: the smallest relative error (claim x (1 + eps)) it flags at each n, in
    float64 and float32 user code (one seed; eps walked down until the first miss)."""
    rows = []
    for key in keys:
        size = P.SIZES[key]
        row = {"n": size.n}
        for tag, regime, epsilons in (
            ("float64", P.Regime("plain"), [10.0**-k for k in range(5, 12)]),
            ("float32", P.regimes(size)["float32"], [10.0**-k for k in range(0, 7)]),
        ):
            path = gc.write(f"byn_{key}_{tag}", P.seed_spec(size, regime, "grad_scaled"))
            smallest, missed = None, None
            for eps in epsilons:
                P.EPS_SCALE["eps"] = eps
                r = gc.run(path, seed=600)
                if not r.flagged:
                    missed = (eps, r.label)
                    break
                smallest = eps
            row[tag] = {
                "smallest": smallest,
                "missed": missed[0] if missed else None,
                "missed_label": missed[1] if missed else "",
            }
        P.EPS_SCALE["eps"] = 0.0
        rows.append(row)
        log(f"[sensitivity by n] n = {size.n:,}: {row}")
    return rows


def bugs(anchors, gc: Gradcheck, key: str, seeds: int, budget: float) -> dict:
    size = P.SQUARE[key]
    tools = [a for a in anchors if a.available]
    out = {"n": size.n, "size": [size.M, size.n_in, size.n_out], "seeds": seeds, "rows": {}}
    for bug, fn in P.BUGS.items():
        row = {a.name: 0 for a in tools}
        row[GC_PY] = {"caught": 0, "labels": [], "diagnosis": "", "index": None}
        for s in range(seeds):
            data = P.draw(size, P.Regime("plain"), 200 + s)
            loss_of, claim_of = closures(data, fn)
            for a in tools:
                o = A.with_budget(lambda: a.check(loss_of, claim_of, data["Theta"]), budget)
                row[a.name] += bool(o.flagged)
            r = gc.run(gc.write(f"bug_{key}", P.seed_spec(size, claim=fn.__name__)), seed=200 + s)
            g = row[GC_PY]
            g["caught"] += r.flagged
            g["labels"].append(r.label)
            if r.verdict is not None and not g["diagnosis"]:
                g["diagnosis"] = r.verdict.diagnosis
                g["index"] = _named_index(r, (size.n_in, size.n_out))
        out["rows"][bug] = row
        log(f"[bugs n={size.n}] {bug}: {row}")
    return out


def _named_index(r, shape) -> str:
    """Whether gradcheck's verdict names the planted entry: its worst-entries table or its text."""
    target = P.one_entry_index(shape)
    entries = tuple(getattr(r.verdict, "entries", ()) or ())
    indices = [tuple(e.index) for e in entries if hasattr(e, "index")]
    text = " ".join([r.verdict.diagnosis, *r.verdict.lines])
    if indices:
        return (
            "yes (first entry listed)"
            if indices[0] == target
            else ("listed" if target in indices else f"no ({indices[0]} listed first)")
        )
    pattern = f"[{target[0]}, {target[1]}]", f"({target[0]}, {target[1]})"
    return "yes (in the text)" if any(p in text for p in pattern) else "no"


def large_failures(anchors, gc: Gradcheck, keys, budget: float) -> list[dict]:
    """Failing claims at large n: does each tool flag it, at what cost, and what does it say."""
    rows = []
    fast = [a for a in anchors if a.available and a.kind == "directional"]
    for key in keys:
        size = P.SQUARE[key]
        data = P.draw(size, P.Regime("plain"), 300)
        unit = Unit(data)
        unit.sample(repeats=11)
        for bug in ("one entry 10 % off", "factor 2", "transpose (in = out)"):
            fn = P.BUGS[bug]
            row = {"n": size.n, "bug": bug, "tools": {}}
            r = gc.run(gc.write(f"fail_{key}", P.seed_spec(size, claim=fn.__name__)), examples=EXAMPLES, seed=300)
            T = unit.sample()
            v = r.verdict
            failing = getattr(v, "failing", None)
            f_evals = getattr(getattr(failing, "finding", None), "evaluations", None)
            row["tools"][GC_PY] = {
                "flagged": r.flagged,
                "label": r.label,
                "T": r.cpu / T,
                "cpu": r.cpu,
                "wall": r.wall,
                "verdict_seconds": getattr(v, "seconds", None),
                "calls": r.calls,
                "evaluations": r.evaluations,
                "finding_evaluations": f_evals,
                "examples": r.examples,
                "diagnosis": getattr(v, "diagnosis", r.error),
                "index": _named_index(r, (size.n_in, size.n_out)) if bug.startswith("one entry") and v else "",
            }
            log(f"[fail n={size.n:,}] {bug}: gradcheck {r.label} in {r.cpu / T:.1f} T, calls {r.calls}")
            for a in fast:
                if a.name.startswith("torch") and size.n > 200_000:
                    row["tools"][a.name] = {"status": "not run", "note": "a failure recomputes the full Jacobian"}
                    continue
                loss_of, claim_of = closures(data, fn)
                # torch's fast_mode writes its failure message from the full Jacobian: a smaller
                # budget is enough to see that it flagged and that the message is that expensive
                limit = min(budget, 20.0) if a.name.startswith("torch") else budget
                o = A.with_budget(lambda: a.check(loss_of, claim_of, data["Theta"]), limit)
                T = unit.sample()
                flagged = o.flagged
                note = o.message
                if o.over_budget and a.name.startswith("torch") and o.calls.get("loss", 0) > 10:
                    # fast_mode only falls back to the slow (full-Jacobian) path after it has failed
                    flagged, note = True, f"flagged; its message recomputes the full Jacobian: > {limit:g} s"
                row["tools"][a.name] = {
                    "flagged": flagged,
                    "T": o.seconds / T,
                    "over_budget": o.over_budget,
                    "note": note,
                    "calls": o.calls,
                }
                log(f"   {a.name}: flagged={flagged} {o.seconds / T:.1f} T {note[:80]}")
            row["T"], row["T_spread"] = unit.T, unit.spread
            rows.append(row)
    return rows


def _record(row: dict, name: str, r) -> None:
    """A gradcheck verdict in the false-alarm table: its label, and what the first alarm said."""
    row[name].append(r.label)
    if r.flagged and f"{name} detail" not in row:
        v = r.verdict
        row[f"{name} detail"] = "; ".join([v.diagnosis, *v.notes]) if v is not None else r.error


def false_alarms(anchors, gc: Gradcheck, key: str, seeds: int, budget: float, spd_p: int, cond: float) -> dict:
    size = P.SIZES[key]
    tools = [a for a in anchors if a.available]
    out = {"n": size.n, "seeds": seeds, "rows": {}, "notes": {}}
    for name, regime in P.regimes(size).items():
        row = {a.name: 0 for a in tools}
        row[GC_PY], row[GC_EXPR] = [], []
        for s in range(seeds):
            data = P.draw(size, regime, 400 + s)
            loss_of, claim_of = closures(data)
            for a in tools:
                o = A.with_budget(lambda: a.check(loss_of, claim_of, data["Theta"]), budget)
                row[a.name] += bool(o.flagged)
            _record(row, GC_PY, gc.run(gc.write("fa_py", P.seed_spec(size, regime)), seed=400 + s))
            if not regime.float32:
                _record(row, GC_EXPR, gc.run(gc.write("fa_expr", P.seed_spec(size, regime, form="expr")), seed=400 + s))
        out["rows"][name] = row
        out["notes"][name] = regime.note
        log(f"[false alarms] {name}: {row}")
    name = f"SPD cond {cond:.0e}"
    row = {a.name: 0 for a in tools}
    row[GC_PY], row[GC_EXPR] = [], []
    for s in range(seeds):
        data = P.draw_spd(spd_p, cond, 500 + s)
        loss_of, claim_of = closures(data, P.spd_grad, P.spd_loss, wrt="S")
        for a in tools:
            o = A.with_budget(lambda: a.check(loss_of, claim_of, data["S"]), budget)
            row[a.name] += bool(o.flagged)
        _record(row, GC_PY, gc.run(gc.write("fa_spd_py", P.spd_spec(spd_p, cond)), seed=500 + s))
        _record(row, GC_EXPR, gc.run(gc.write("fa_spd_expr", P.spd_spec(spd_p, cond, "expr")), seed=500 + s))
    out["rows"][name] = row
    out["notes"][name] = (
        f"logdet(S) + v^T S^-1 v, S: {spd_p} x {spd_p} SPD with eigenvalues log-spaced "
        f"from 1 to 1/{cond:.0e} (n = {spd_p * spd_p})"
    )
    log(f"[false alarms] {name}: {row}")
    return out


# --- start-up and suites (subprocesses) --------------------------------------------------------


def _script() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "gradcheck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gradcheck.cli"]


def _wall(cmd, cwd, repeats: int = 1, env=None, cpu: dict | None = None, key: str = ""):
    """Median wall seconds of ``repeats`` runs of a command, and its last CompletedProcess. The
    median CPU seconds of the child processes (user + system) go to ``cpu[key]``."""
    import resource

    times, cpus, proc = [], [], None
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if cpu is not None:
        cpu[key] = statistics.median(cpus)
    return statistics.median(times), proc


def _heavy_imports(stderr: str) -> list[str]:
    heavy = {"numpy", "scipy", "pandas", "hypothesis", "matplotlib", "torch", "jax"}
    found = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip().split(".")[0]
            if name in heavy:
                found.add(name)
    return sorted(found)


def _examples_from_report(folder: Path) -> tuple[int, int]:
    path = folder / "summary.csv"
    if not path.exists():
        return 0, 0
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return sum(int(float(r.get("examples") or 0)) for r in rows), len(rows)


def suite(tmp: Path, quick: bool) -> dict:
    out = {}
    cmd = _script()
    out["script"] = " ".join(cmd)
    cpu = out["cpu"] = {}
    out["help_s"], proc = _wall(cmd + ["--help"], tmp, repeats=5, cpu=cpu, key="help_s")
    out["help_ok"] = proc.returncode == 0
    shim = shutil.which("gradcheck")
    if shim and Path(shim).resolve() != Path(cmd[0]).resolve():
        out["help_shim_s"], _ = _wall([shim, "--help"], tmp, repeats=5)
        out["shim"] = shim
    _, proc = _wall([sys.executable, "-X", "importtime", "-m", "gradcheck.cli", "--help"], tmp)
    out["help_heavy_imports"] = _heavy_imports(proc.stderr)
    log(f"[suite] --help {out['help_s']:.3f} s, heavy imports {out['help_heavy_imports']}")
    small = ROOT / "specs" / "least_squares.yaml"
    out["small_s"], proc = _wall(cmd + ["check", str(small), "--seed", "1"], tmp, repeats=3, cpu=cpu, key="small_s")
    out["small_summary"] = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    log(f"[suite] check least_squares.yaml {out['small_s']:.2f} s")
    if quick:
        return out
    report = tmp / "gallery_report"
    out["gallery_s"], proc = _wall(
        cmd + ["check", str(ROOT / "specs"), "--seed", "1", "--report", str(report)], tmp, cpu=cpu, key="gallery_s"
    )
    out["gallery_exit"] = proc.returncode
    out["gallery_summary"] = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    out["gallery_examples"], out["gallery_claims"] = _examples_from_report(report)
    out["gallery_specs"] = len(list((ROOT / "specs").glob("*.yaml")))
    log(f"[suite] gallery {out['gallery_s']:.1f} s, {out['gallery_examples']} examples")
    for jobs in ("1", "2"):  # the whole gate, serial and on two cores (median of 3 each)
        key = f"gallery_jobs{jobs}_s"
        out[key], proc = _wall(
            cmd + ["check", str(ROOT / "specs"), "--seed", "1", "--jobs", jobs, "--report", str(tmp / f"gate{jobs}")],
            tmp,
            repeats=3,
            cpu=cpu,
            key=key,
        )
        out[f"gallery_jobs{jobs}_exit"] = proc.returncode
        log(f"[suite] gallery --jobs {jobs}: {out[key]:.1f} s")
    same = all(
        (tmp / "gate1" / f).read_bytes() == (tmp / "gate2" / f).read_bytes() for f in ("summary.csv", "results.csv")
    )
    out["gallery_jobs_identical"] = same
    folder = tmp / "suite50"
    folder.mkdir(exist_ok=True)
    for i in range(50):
        (folder / f"suite_{i:02d}.yaml").write_text(P.small_spec(i))
    report = tmp / "suite_report"
    out["suite50_s"], proc = _wall(
        cmd + ["check", str(folder), "--seed", "1", "--report", str(report)], tmp, cpu=cpu, key="suite50_s"
    )
    out["suite50_exit"] = proc.returncode
    out["suite50_summary"] = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    out["suite50_examples"], out["suite50_claims"] = _examples_from_report(report)
    log(f"[suite] 50 specs {out['suite50_s']:.1f} s, {out['suite50_examples']} examples")
    out.update(_pytest(tmp, cpu))
    return out


def _pytest(tmp: Path, cpu: dict) -> dict:
    import importlib.util

    out = {
        "plugin": importlib.util.find_spec("gradcheck.pytest_plugin") is not None,
        "xdist": importlib.util.find_spec("xdist") is not None,
    }
    if not out["plugin"]:
        return out
    base = [sys.executable, "-m", "pytest", "specs", "-q", "-p", "no:cacheprovider", "--gradcheck-seed", "1"]
    out["collect_s"], proc = _wall(base + ["--collect-only"], ROOT, cpu=cpu, key="collect_s")
    out["collect_tail"] = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    _, proc = _wall([sys.executable, "-X", "importtime"] + base[1:] + ["--collect-only"], ROOT)
    out["collect_heavy_imports"] = _heavy_imports(proc.stderr)
    # Hypothesis's own pytest plugin (entry point "hypothesispytest") may import it: tell them apart
    _, proc = _wall(
        [sys.executable, "-X", "importtime"] + base[1:] + ["--collect-only", "-p", "no:hypothesispytest"], ROOT
    )
    out["collect_heavy_imports_without_hypothesis_plugin"] = _heavy_imports(proc.stderr)
    for workers in ("0", "2") if out["xdist"] else ("0",):
        args = base + (["-n", workers] if out["xdist"] else [])
        wall, proc = _wall(args, ROOT, cpu=cpu, key=f"n{workers}_s")
        out[f"n{workers}_s"] = wall
        out[f"n{workers}_tail"] = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
        out[f"n{workers}_exit"] = proc.returncode
        log(f"[suite] pytest -n {workers}: {wall:.1f} s  {out[f'n{workers}_tail']}")
    return out


# --- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small n only, one seed: a smoke test under 2 minutes")
    parser.add_argument(
        "--sizes", nargs="+", choices=list(P.SIZES), help="sizes n to time (default: all; --quick: 12 1e3)"
    )
    parser.add_argument("--budget", type=float, help="wall-clock seconds per anchor check (default 60; --quick 10)")
    parser.add_argument("--seeds", type=int, help="seeds per cell of the sweeps and false-alarm table (default 3)")
    parser.add_argument(
        "--out", default=str(BENCH / "RESULTS.md"), help="the Markdown report (default bench/RESULTS.md)"
    )
    parser.add_argument("--json", help="raw numbers (default: results.json beside --out)")
    parser.add_argument("--no-suite", action="store_true", help="skip the CLI / gallery / pytest wall times")
    args = parser.parse_args(argv)

    quick = args.quick
    keys = args.sizes or (["12", "1e3"] if quick else ["12", "1e3", "1e4", "1e5", "1e6"])
    keys = sorted(set(keys) | {"12"}, key=lambda k: P.SIZES[k].n)
    budget = args.budget or (10.0 if quick else 60.0)
    seeds = args.seeds or (1 if quick else 3)
    repeats = 2 if quick else 3
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    command = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)

    anchors = A.load_anchors()
    results = {"command": command.strip(), "quick": quick, "budget": budget, "seeds": seeds, "examples": EXAMPLES}
    results["machine"] = machine(anchors)
    log(f"anchors: {results['machine']['anchors']}")
    with tempfile.TemporaryDirectory(prefix="gradcheck-bench-") as tmp_name:
        tmp = Path(tmp_name)
        gc = Gradcheck(tmp / "specs")
        results["speed"] = speed(keys, anchors, gc, budget, repeats)
        units12 = next(r for r in results["speed"] if r["key"] == "12")
        results["overhead"] = overhead(gc, units12, repeats)
        largest = keys[-1]
        results["memory"] = memory_peak(gc, largest)
        results["profile"] = [
            profile(gc, "12", "python", examples=50),
            profile(gc, "12", "expr", examples=50),
            profile(gc, largest, "python"),
            profile(gc, largest, "expr"),
        ]
        mid = "1e2" if quick else "1e3"  # where the sweeps, bugs and false alarms run
        eps64 = [10.0**-k for k in range(1, 11)]
        eps32 = [10.0**-k for k in range(1, 8)]
        results["sweep64"] = sweep(anchors, gc, mid, eps64, seeds, budget, float32=False)
        results["sweep32"] = sweep(anchors, gc, mid, eps32, seeds, budget, float32=True)
        results["sensitivity_by_n"] = sensitivity_by_n(gc, [k for k in keys if k != "12"] or ["1e3"])
        results["bugs"] = bugs(anchors, gc, mid, seeds, budget)
        fail_keys = [k for k in ("1e5", "1e6") if k in keys]
        results["large_failures"] = large_failures(anchors, gc, fail_keys, budget) if fail_keys else []
        results["false_alarms"] = false_alarms(
            anchors, gc, mid, max(seeds, 2 if quick else 5), budget, spd_p=10, cond=1e8
        )
        results["suite"] = {} if args.no_suite else suite(tmp, quick)
    results["machine"]["load_end"] = os.getloadavg()
    results["machine"]["pressure_end"] = _pressure()
    results["seconds"] = time.perf_counter() - started

    from report import render

    out = Path(args.out)
    out.write_text(render(results))
    Path(args.json or out.with_name("results.json")).write_text(json.dumps(results, indent=1, default=str))
    log(f"wrote {out} in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
