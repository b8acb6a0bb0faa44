"""Derive and repair on the gallery: their cost beside the checks themselves.

- derive + simplify + fold per gallery spec (no verification): median and worst CPU time;
- the repair search per failing claim (what check_plan spends after the verdict: the search,
  the confirmation of the fix with the full settings, or the derived gradient's check):
  median and worst CPU time;
- every claim of the gallery checked with and without repair (CPU time, same seed), and the
  ratio; the counts of fixes, derived-only and neither, and the edit counts.

The machine is shared and noisy: CPU time (process_time), medians of ``--repeats`` runs.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/derive_repair.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time
from dataclasses import replace
from pathlib import Path

from gradcheck.check import check_plan
from gradcheck.derive import derive_problem
from gradcheck.options import RunOptions
from gradcheck.run import check_settings, read_problem

ROOT = Path(__file__).resolve().parents[1]


def cpu(fn):
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files = sorted(glob.glob(str(ROOT / "specs" / "*.yaml")))
    problems = [read_problem(f) for f in files]

    derive_ms = []
    for p in problems:
        times = [cpu(lambda p=p: derive_problem(p))[0] for _ in range(args.repeats)]
        derive_ms.append((statistics.median(times) * 1e3, p.spec.name))
    derive_ms.sort()
    print(
        f"derive + simplify + fold per spec: median {statistics.median(t for t, _ in derive_ms):.1f} ms, "
        f"worst {derive_ms[-1][0]:.1f} ms ({derive_ms[-1][1]}), over {len(problems)} specs"
    )

    totals = {True: [], False: []}
    per_claim: list[float] = []
    counts = {"fix": 0, "derived": 0, "neither": 0}
    edits: list[int] = []
    for repeat in range(args.repeats):
        for with_repair in (False, True):
            total = 0.0
            for p in problems:
                cfg = replace(check_settings(p.spec, RunOptions(seed=args.seed), args.seed), repair=with_repair)
                for plan in p.plans:
                    spent, verdict = cpu(lambda p=p, plan=plan, cfg=cfg: check_plan(p, plan, cfg))
                    total += spent
                    if with_repair and verdict.repair is not None and repeat == 0:
                        r = verdict.repair
                        kind = "fix" if r.fix else "derived" if r.derived else "neither"
                        counts[kind] += 1
                        if r.fix:
                            edits.append(r.edits)
            totals[with_repair].append(total)
    # the repair's own cost per failing claim: check_plan with repair minus without, claim by claim
    for p in problems:
        cfg = check_settings(p.spec, RunOptions(seed=args.seed), args.seed)
        for plan in p.plans:
            base, verdict = cpu(lambda p=p, plan=plan, cfg=cfg: check_plan(p, plan, replace(cfg, repair=False)))
            if verdict.passed or plan.claim.expect != "fail":
                continue
            full, _ = cpu(lambda p=p, plan=plan, cfg=cfg: check_plan(p, plan, cfg))
            per_claim.append(max(full - base, 0.0))
    without, with_ = statistics.median(totals[False]), statistics.median(totals[True])
    per_claim.sort()
    print(
        f"repair per failing claim ({len(per_claim)}): median {statistics.median(per_claim) * 1e3:.0f} ms, "
        f"worst {per_claim[-1] * 1e3:.0f} ms"
    )
    print(
        f"all gallery claims checked: {without:.2f} s CPU without repair, {with_:.2f} s with "
        f"(x{with_ / without:.2f}; medians of {args.repeats})"
    )
    edits.sort()
    print(
        f"failing claims: {counts['fix']} verified fixes, {counts['derived']} derived only, "
        f"{counts['neither']} neither; edits median {statistics.median(edits) if edits else 0}, "
        f"worst {max(edits) if edits else 0}"
    )


if __name__ == "__main__":
    main()
