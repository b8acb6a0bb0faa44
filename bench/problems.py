"""The benchmark's problems: the seed loss, its claimed gradients (right and planted-wrong),
the input regimes, and the spec files that hand the same code to gradcheck.

The seed problem (issue 5) is

    L(Theta) = 1/2 sum (Y - sigmoid(X Theta))^2,   X: M x in, Y: M x out, Theta: in x out,

whose gradient is X^T ((s - Y) * s * (1 - s)) with s = sigmoid(X Theta). Every tool checks the
*same* numpy callables: ``loss`` and one of the ``grad*`` claims below. The functions count
their own calls (real and complex separately), so the benchmark can say how many evaluations
each tool spent.

The functions are written the way a user writes numpy: ``1 / (1 + exp(-z))`` (complex-step
safe), no ``scipy.special.expit``. They read X and Y from their arguments, so gradcheck's
``{python: ...}`` entries and the anchors' closures call one and the same code.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

CALLS: Counter = Counter()  # "loss", "loss-complex", "grad" -> number of calls since reset()
EPS_SCALE = {"eps": 0.0}  # the relative error planted by grad_scaled (claim x (1 + eps))


def reset_counts() -> None:
    CALLS.clear()


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _count_loss(theta) -> None:
    CALLS["loss-complex" if np.iscomplexobj(theta) else "loss"] += 1


# --- the loss and the claims (numpy, as users write them) ------------------------------------


def loss(X, Y, Theta):
    """1/2 sum (Y - sigmoid(X Theta))^2 in the inputs' precision (complex step safe)."""
    _count_loss(Theta)
    c = Y - _sig(X @ Theta)
    return 0.5 * np.sum(c * c)


def loss_split(X, Y, Theta):
    """The same loss with a real @ complex product done as two real products (uncounted; only to
    measure what an evaluator gains by never calling a complex matmul: see bench/RESULTS.md)."""
    a = X @ Theta.real + 1j * (X @ Theta.imag) if np.iscomplexobj(Theta) else X @ Theta
    c = Y - _sig(a)
    return 0.5 * np.sum(c * c)


def grad(X, Y, Theta):
    """The right answer: X^T ((s - Y) * s * (1 - s))."""
    CALLS["grad"] += 1
    s = _sig(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))


def grad_scaled(X, Y, Theta):
    """The right answer times (1 + eps), eps = EPS_SCALE['eps'] (the sensitivity sweep)."""
    return grad(X, Y, Theta) * (1 + EPS_SCALE["eps"])


def grad_sign(X, Y, Theta):
    return -grad(X, Y, Theta)


def grad_factor2(X, Y, Theta):
    """The accepted answer's formula: right for the loss without its 1/2."""
    return 2 * grad(X, Y, Theta)


def grad_transposed(X, Y, Theta):
    """Square Theta (in = out): the transpose of the right answer has the right shape."""
    return grad(X, Y, Theta).T.copy()


def one_entry_index(shape) -> tuple[int, int]:
    """The entry planted 10 % off: fixed, away from the corners."""
    return (shape[0] // 3, shape[1] // 2)


def grad_one_entry(X, Y, Theta):
    """The right answer with one entry off by 10 %."""
    g = grad(X, Y, Theta)
    g[one_entry_index(g.shape)] *= 1.1
    return g


def grad_h_not_dh(X, Y, Theta):
    """h where h' belongs: X^T ((s - Y) * s)."""
    CALLS["grad"] += 1
    s = _sig(X @ Theta)
    return X.T @ ((s - Y) * s)


BUGS = {
    "sign": grad_sign,
    "factor 2": grad_factor2,
    "transpose (in = out)": grad_transposed,
    "one entry 10 % off": grad_one_entry,
    "h instead of h'": grad_h_not_dh,
}


# --- a second loss: logdet and solve of a near-singular SPD matrix -----------------------------


def spd_loss(S, v):
    """logdet(S) + v^T S^{-1} v (complex step safe: Cholesky-free, LU of the complex matrix)."""
    _count_loss(S)
    if np.iscomplexobj(S):
        sign, logabs = np.linalg.slogdet(S)
        logdet = np.log(sign) + logabs  # the complex log of det(S)
    else:
        logdet = np.linalg.slogdet(S)[1]
    return logdet + v @ np.linalg.solve(S, v)


def spd_grad(S, v):
    """d/dS (entrywise, S not symmetrised) = S^{-T} - S^{-T} v v^T S^{-T}."""
    CALLS["grad"] += 1
    w = np.linalg.solve(S.T, v)
    return np.linalg.inv(S).T - np.outer(w, w)


# --- sizes and input regimes -----------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    M: int
    n_in: int
    n_out: int

    @property
    def n(self) -> int:
        return self.n_in * self.n_out

    @property
    def label(self) -> str:
        return f"{self.n:,}"


SIZES = {
    "12": Size(8, 3, 4),
    "1e2": Size(32, 12, 8),  # --quick runs the sweeps, bugs and false alarms here
    "1e3": Size(64, 40, 25),
    "1e4": Size(64, 125, 80),
    "1e5": Size(64, 400, 250),
    "1e6": Size(64, 1250, 800),
}
SQUARE = {  # in = out, for the transposed claim
    "1e2": Size(32, 10, 10),
    "1e3": Size(64, 32, 32),
    "1e4": Size(64, 100, 100),
    "1e5": Size(64, 316, 316),
    "1e6": Size(64, 1000, 1000),
}


@dataclass(frozen=True)
class Regime:
    """How the seed problem's inputs are drawn (mirrored in the spec's domains for gradcheck).

    X and Theta are uniform in [-a, a] (a = None: standard normal); Y uniform in (0, 1).
    """

    name: str
    x_half: float | None = None
    theta_half: float | None = None
    float32: bool = False
    note: str = ""


def regimes(size: Size) -> dict[str, Regime]:
    """The false-alarm regimes of issue 5, scaled to ``size`` so that X Theta has the intended size."""
    # uniform [-a, a] has standard deviation a / sqrt(3); X Theta sums n_in products
    sat = 30.0 * math.sqrt(3.0 / size.n_in)  # X ~ U(+-sat), Theta ~ N(0,1): |X Theta| ~ 30
    small = 3.0 / (1000.0 * math.sqrt(size.n_in))  # X ~ U(+-1000), Theta ~ U(+-small): X Theta ~ 1
    return {
        "plain": Regime("plain", note="X, Theta standard normal"),
        "X ~ 1e3": Regime(
            "X ~ 1e3",
            x_half=1000.0,
            theta_half=small,
            note="X uniform in [-1000, 1000], Theta scaled so that X Theta ~ 1",
        ),
        "saturated": Regime(
            "saturated", x_half=sat, note="X uniform, scaled so that |X Theta| ~ 30 (sigmoid saturated)"
        ),
        "float32": Regime(
            "float32", float32=True, note="X, Y, Theta float32; loss and claim computed in float32 by the user code"
        ),
    }


def draw(size: Size, regime: Regime, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 5])
    shape_x, shape_t = (size.M, size.n_in), (size.n_in, size.n_out)
    X = rng.standard_normal(shape_x) if regime.x_half is None else rng.uniform(-regime.x_half, regime.x_half, shape_x)
    Theta = (
        rng.standard_normal(shape_t)
        if regime.theta_half is None
        else rng.uniform(-regime.theta_half, regime.theta_half, shape_t)
    )
    Y = rng.uniform(0.05, 0.95, (size.M, size.n_out))
    out = {"X": X, "Y": Y, "Theta": Theta}
    if regime.float32:
        out = {k: v.astype(np.float32) for k, v in out.items()}
    return out


def orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def draw_spd(p: int, cond: float, seed: int) -> dict[str, np.ndarray]:
    """S = Q diag(lam) Q^T with eigenvalues log-spaced from 1 to 1/cond; v standard normal."""
    rng = np.random.default_rng([seed, 6])
    q = orthogonal(rng, p)
    lam = rng.permutation(np.logspace(0.0, -math.log10(cond), p))
    S = (q * lam) @ q.T
    return {"S": (S + S.T) / 2, "v": rng.standard_normal(p)}


# --- spec files for gradcheck ----------------------------------------------------------------

MODULE = "benchmod"
MODULE_TEXT = '''"""Written by bench/run.py: the benchmark's numpy code, re-exported for {python: ...} entries."""
from problems import (loss, grad, grad_scaled, grad_sign, grad_factor2, grad_transposed,  # noqa: F401
                      grad_one_entry, grad_h_not_dh, spd_loss, spd_grad)
'''


def _domain(half: float | None) -> str:
    return "" if half is None else f", domain: {{range: [{-half!r}, {half!r}]}}"


def seed_spec(
    size: Size,
    regime: Regime | None = None,
    claim: str = "grad",
    *,
    form: str = "python",
    name: str = "seed",
    factor: float | None = None,
) -> str:
    """The seed problem as a spec with fixed dims.

    ``form="python"``: loss and gradient are the numpy callables above (what a user with code
    writes); ``form="expr"``: both are gradcheck expressions (what a spec author writes; only the
    right claim, times ``factor`` if given).
    """
    regime = regime or Regime("plain")
    dtype = ", dtype: float32" if regime.float32 else ""
    head = f"""spec: {name}
dims: {{M: {size.M}, in: {size.n_in}, out: {size.n_out}}}
inputs:
  X:     {{shape: [M, in]{_domain(regime.x_half)}{dtype}}}
  Y:     {{shape: [M, out], domain: {{range: [0.0, 1.0]}}{dtype}}}
  Theta: {{shape: [in, out]{_domain(regime.theta_half)}{dtype}}}
"""
    if form == "expr":
        scale = "" if factor is None else f"{factor!r} * "
        return (
            head
            + f"""graph:
  a: X @ Theta
  b: sigmoid(a)
  c: Y - b
loss: 0.5 * sum(c ** 2)
claims:
  - {{name: claim, wrt: Theta, gradient: {scale}X.T @ ((b - Y) * b * (1 - b))}}
"""
        )
    return (
        head
        + f"""loss: {{python: "{MODULE}:loss"}}
claims:
  - {{name: claim, wrt: [Theta], gradient: {{python: "{MODULE}:{claim}"}}}}
"""
    )


def spd_spec(p: int, cond: float, form: str = "python") -> str:
    head = f"""spec: spd-cond
dims: {{p: {p}}}
inputs:
  S: {{shape: [p, p], domain: {{spd: {{cond: {cond:.1e}}}}}}}
  v: {{shape: [p]}}
"""
    if form == "expr":
        return (
            head
            + """loss: logdet(S) + v @ solve(S, v)
claims:
  - {name: claim, wrt: S, gradient: "inv(S).T - outer(solve(S.T, v), solve(S.T, v))"}
"""
        )
    return (
        head
        + f"""loss: {{python: "{MODULE}:spd_loss"}}
claims:
  - {{name: claim, wrt: [S], gradient: {{python: "{MODULE}:spd_grad"}}}}
"""
    )


def small_spec(i: int) -> str:
    """One of the 50 small specs of the suite measurement: the seed problem in expression form,
    sizes and activation varying with i, one right claim and one planted-wrong claim."""
    act, dact = [
        ("sigmoid(z)", "sigmoid(z) * (1 - sigmoid(z))"),
        ("tanh(z)", "1 - tanh(z) ** 2"),
        ("softplus(z)", "sigmoid(z)"),
    ][i % 3]
    return f"""spec: suite-{i:02d}
dims: {{M: [2, {4 + i % 5}], in: [2, {3 + i % 4}], out: [2, {3 + i % 3}]}}
inputs:
  X:     {{shape: [M, in]}}
  Y:     {{shape: [M, out]}}
  Theta: {{shape: [in, out]}}
define:
  h(z): {act}
  dh(z): {dact}
graph:
  a: X @ Theta
  b: h(a)
loss: 0.5 * sum((Y - b) ** 2)
claims:
  - {{name: right, wrt: Theta, gradient: X.T @ ((b - Y) * dh(a))}}
  - {{name: doubled, wrt: Theta, gradient: 2 * X.T @ ((b - Y) * dh(a)), expect: fail}}
"""
