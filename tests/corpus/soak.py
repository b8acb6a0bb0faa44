"""Soak the planted-bug corpus and the gallery over many seeds; print detection power and
false-alarm figures (not a test: a measurement for notes and RESULTS).

    python -m tests.corpus.soak --seeds 200 [--examples 25] [--paths specs tests/corpus] [--by-claim]

The floating-point edges alone (tests/corpus/fp_*.yaml), with every claim's verdicts:

    python -m tests.corpus.soak --seeds 100 --by-claim --paths tests/corpus/fp_subnormal.yaml \
        tests/corpus/fp_l1.yaml tests/corpus/fp_noise.yaml

A claim named ``ok-*`` (corpus) or a gallery claim without ``expect: fail`` is correct: it must
pass on every seed. A claim named ``bug-<verdict>-*`` must get exactly that verdict; other
``expect: fail`` claims must fail (their label is checked where the name carries it).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

from gradcheck.options import RunOptions
from gradcheck.run import run

from . import LABEL


def main(argv=None) -> int:  # noqa: PLR0915  a measurement script's main: argument parsing, the loop, the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--paths", nargs="+", default=["specs", "tests/corpus"])
    parser.add_argument("--by-claim", action="store_true", help="print every claim's verdict counts")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADCHECK_NO_DATABASE", "1")
    counts = collections.Counter()
    problems = collections.Counter()
    by_regime = collections.Counter()
    by_claim: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        result = run(args.paths, RunOptions(seed=seed, examples=args.examples))
        if result.incomplete:  # Ctrl-C or SIGTERM: run() reports what finished; the soak stops too
            print(f"interrupted at seed {seed}; figures below cover the seeds before it", file=sys.stderr)
            break
        if result.failures:
            print("spec errors:", [f.message for f in result.failures], file=sys.stderr)
            return 2
        for v in result.verdicts:
            by_claim[(v.spec, v.claim)][v.label] += 1
            correct = v.expect == "pass"
            m = LABEL.match(v.claim)
            if correct:
                counts["correct checks"] += 1
                if v.label == "pass":
                    counts["correct passed"] += 1
                elif v.label == "inconclusive":
                    counts["correct inconclusive"] += 1
                    problems[(v.spec, v.claim, v.label)] += 1
                else:
                    counts["FALSE ALARMS"] += 1
                    problems[(v.spec, v.claim, v.label, v.diagnosis[:80])] += 1
                if v.spec == "corpus-regimes":
                    by_regime["regime correct checks"] += 1
                    by_regime["regime false alarms"] += v.label not in ("pass", "inconclusive")
            else:
                counts["wrong checks"] += 1
                if v.label == "pass":
                    counts["WRONG MISSED"] += 1
                    problems[(v.spec, v.claim, "missed")] += 1
                elif m:
                    counts["wrong with planted label"] += 1
                    if v.label == m.group(1):
                        counts["wrong caught with the right label"] += 1
                    else:
                        problems[(v.spec, v.claim, v.label, "expected " + m.group(1))] += 1
                    if v.spec == "corpus-regimes":
                        by_regime["regime wrong checks"] += 1
                        by_regime["regime wrong caught right"] += v.label == m.group(1)
                else:
                    counts["wrong caught (unlabelled)"] += 1
        print(f"seed {seed}: {dict(counts)}", file=sys.stderr, flush=True)
    print(
        f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}, paths {' '.join(args.paths)}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    for k, v in sorted(counts.items()):
        print(f"  {k}: {v}")
    for k, v in sorted(by_regime.items()):
        print(f"  {k}: {v}")
    for k, v in problems.most_common(20):
        print(f"  problem x{v}: {k}")
    if args.by_claim:
        for (spec, claim), verdicts in sorted(by_claim.items()):
            print(f"  {spec} {claim}: " + ", ".join(f"{label} {n}" for label, n in verdicts.most_common()))
    return 0 if counts["FALSE ALARMS"] == 0 and counts["WRONG MISSED"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
