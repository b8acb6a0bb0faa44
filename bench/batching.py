"""Batched evaluation against one walk per point: the full complex-step gradient of the seed
loss as a gradcheck expression, at n = 12, 1,024 and 4,096 (CPU time, median of repeats).

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/batching.py``
"""

import statistics
import time

import numpy as np

from gradcheck.expr.evaluate import evaluate, evaluate_batched
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.oracle import complex_step
from gradcheck.oracle.batch import Batchable, chunk_for

LOSS = parse("0.5 * sum((Y - sigmoid(X @ T)) ** 2)", WHITELIST)
for m, i, o in [(8, 3, 4), (16, 32, 32), (16, 64, 64)]:
    rng = np.random.default_rng(0)
    X, Y, T = rng.standard_normal((m, i)), rng.standard_normal((m, o)), rng.standard_normal((i, o))

    def one(t, X=X, Y=Y):
        return evaluate(LOSS, {"X": X, "Y": Y, "T": t}, {})

    def many(ts, X=X, Y=Y):
        return evaluate_batched(LOSS, {"X": X, "Y": Y, "T": ts}, {}, {"T"})[0]

    f = Batchable(one, many, chunk_for(max(X.size, Y.size, T.size)))

    def timed(fn, reps=5):
        ts = []
        for _ in range(reps):
            t = time.process_time()
            fn()
            ts.append(time.process_time() - t)
        return statistics.median(ts)

    tb = timed(lambda: complex_step.gradient(f, T))
    tl = timed(lambda: complex_step.gradient(one, T), reps=3)
    same = np.allclose(complex_step.gradient(f, T).value, complex_step.gradient(one, T).value, rtol=1e-13, atol=1e-300)
    print(
        f"n={T.size:5d} (M={m}, in={i}, out={o}): looped {tl * 1e3:8.1f} ms, batched {tb * 1e3:7.1f} ms, {tl / tb:5.1f}x, same values: {same}"
    )
