"""What a constant factor between a claim and the gradient says, and what it does not.

A ``scaled`` claim is ``factor x`` the gradient on every entry. The factor is an estimate with
an error bar (from the oracle's and the claim's rounding), so it is shown as the simplest
rational inside that bar (``2``, not ``2.000000002``) when exactly one lies there, else with
the digits the bar allows. A cause is offered only when the factor is one such a cause can
produce: a dropped or added 1/2 gives 2 or 1/2; a mean against a sum, or a forgotten 1/n,
gives a dim's size; a factor within 1e-3 of 1 is neither.

Whether the factor follows the dims is decided by :func:`fit_dim_powers`: the same example
re-run with one dim changed at a time; the factor is fitted as ``c * prod(size_k ** p_k)``
with p_k a multiple of 1/2 and c a simple rational, and the fit is named only when it
predicts every variation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..verdict.tolerance import EPS64, SAFETY

MAX_DENOMINATOR = 12  # simple rationals: 1/3, 2/3, 3/4, ..., 11/12
MAX_POWER = 3  # |p_k| <= 3 in the dim fit
NEAR_ONE = 1e-3  # a factor this close to 1 is no dropped constant, mean or sum


def factor_error(c, g, factor: float, claim_err=0.0, oracle_err=0.0) -> float:
    """The error bar of ``factor = <c, g> / <g, g>`` given entrywise error bars of c and g.

    Notes
    -----
    First order: d factor / d c_i = g_i / <g, g> and d factor / d g_i = (c_i - 2 factor g_i) /
    <g, g> ~ -factor g_i / <g, g> when c = factor g; each bar is taken with the tolerance's
    SAFETY multiple, plus the rounding of the two inner products themselves.
    """
    g = np.asarray(g, dtype=np.float64)
    scale = float(np.max(np.abs(g), initial=0.0))
    if not scale > 0 or not math.isfinite(scale):
        return math.inf
    g = g / scale  # tiny gradients (1e-286) would underflow in <g, g>; the bar is scale-free
    gg = float(np.vdot(g, g))
    ag = np.abs(g)
    ec = np.broadcast_to(np.abs(np.asarray(claim_err, dtype=np.float64)), g.shape) / scale
    eg = np.broadcast_to(np.abs(np.asarray(oracle_err, dtype=np.float64)), g.shape) / scale
    bar = SAFETY * (float(np.vdot(ag, ec)) + abs(factor) * float(np.vdot(ag, eg))) / gg
    return bar + 8 * EPS64 * math.sqrt(max(g.size, 1)) * abs(factor)


def simple_rational(x: float, err: float) -> Fraction | None:
    """The one rational p/q (q <= 12, |p/q| <= 64, not 0 or 1) within ``err`` of x, else None.

    None also when several lie within the bar (a bar too wide to tell 10/9 from 11/10).
    """
    if not math.isfinite(x) or abs(x) > 64:
        return None
    err = max(err, 1e-12 * abs(x))
    found = {
        Fraction(round(x * q), q)
        for q in range(1, MAX_DENOMINATOR + 1)
        if abs(round(x * q) / q - x) <= err and round(x * q) != 0
    }
    if len(found) != 1:
        return None
    (frac,) = found
    return None if frac == 1 else frac


def rational_text(frac: Fraction) -> str:
    """``2``, ``0.5``, ``-0.25``, ``1/3``: decimals only where they are short."""
    if frac.denominator == 1:
        return str(frac.numerator)
    if frac.denominator in (2, 4, 5, 8):
        return f"{float(frac):g}"
    return f"{frac.numerator}/{frac.denominator}"


def round_factor(x: float, err: float | None = None) -> float:
    """The factor as reported: the simple rational within the error bar, else x itself."""
    frac = simple_rational(x, 1e-9 * max(1.0, abs(x)) if err is None else err)
    return float(frac) if frac is not None else x


def factor_text(x: float, err: float | None = None) -> str:
    """``2`` for 2.000000002 within its error bar; else as many digits as the bar allows (at most 10).

    Without ``err`` the bar is 1e-9 relative (the default rtol).
    """
    err = 1e-9 * max(1.0, abs(x)) if err is None else err
    frac = simple_rational(x, err)
    if frac is not None:
        return rational_text(frac)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if not math.isfinite(err) or err >= abs(x):
        digits = 2
    else:
        digits = 10 if err <= 0 else int(min(10, max(2, math.ceil(math.log10(abs(x) / err)) + 1)))
    return f"{x:.{digits}g}"


def constant_hint(x: float, err: float | None = None, follows_no_dim: bool = False) -> str | None:
    """Why a claim may be off by the constant ``x``, only for causes that produce such a constant.

    None (just the number) for a factor no common slip explains (1.7320508...). ``follows_no_dim``:
    the factor was seen to stay put while every dim changed, so no mean or sum over a dim made it.
    """
    err = 1e-9 * max(1.0, abs(x)) if err is None else err
    frac = simple_rational(x, err)
    if frac is not None:
        size = abs(frac)
        if size == 2:
            hint = "a 1/2 was dropped: the claim fits the loss without its 1/2 (or d(x^2) = 2x was doubled)"
        elif size == Fraction(1, 2):
            hint = "a 1/2 was added: the claim is half the gradient (d(x^2) taken as x?)"
        elif size.denominator == 1 and follows_no_dim:
            hint = f"a constant 1/{size.numerator} was dropped (not a mean: the factor follows no dim)"
        elif size.numerator == 1 and follows_no_dim:
            hint = f"an extra constant 1/{size.denominator} (not a mean: the factor follows no dim)"
        elif size.denominator == 1:
            k = size.numerator
            hint = f"a 1/{k} was dropped (a sum where a mean over {k} entries belongs?)"
        elif size.numerator == 1:
            k = size.denominator
            hint = f"an extra 1/{k} (a mean over {k} entries where a sum belongs?)"
        else:
            hint = "a constant factor is off: a coefficient, or an exponent brought down wrong?"
        if frac < 0:
            hint = "the sign is flipped, and " + hint
        return hint
    if abs(x - 1) <= NEAR_ONE:
        return (
            "too close to 1 for a dropped 1/2, a 1/n or a mean against a sum: a constant typed with too few "
            "digits, float32 arithmetic, or an epsilon or step size left in the formula? "
            f"(relative error {abs(x - 1):.2g})"
        )
    return None


@dataclass(frozen=True)
class Observation:
    """The factor seen at one set of dim sizes (None: the claim was not a constant multiple there)."""

    sizes: dict[str, int]
    factor: float | None
    error: float


@dataclass(frozen=True)
class DimFit:
    """factor = constant * prod(size_k ** power_k), the powers nonzero only for dims that move it."""

    constant: Fraction | float  # a Fraction when the constant is a simple rational
    powers: tuple[tuple[str, Fraction], ...]  # (dim, power), power != 0, in the spec's dim order

    @property
    def constant_only(self) -> bool:
        return not self.powers

    def text(self, invert: bool = False) -> str:
        """``sqrt(d)``, ``M``, ``1/M``, ``M*N``, ``2*sqrt(d)``, ``M/N``; ``invert`` for 1/factor."""
        sign = -1 if invert else 1
        c = self.constant
        frac = c if isinstance(c, Fraction) else None
        if frac is not None and invert:
            frac = 1 / frac
        num, den = [], []
        if frac is not None:
            if abs(frac.numerator) != 1:
                num.append(str(abs(frac.numerator)))
            if frac.denominator != 1:
                den.append(str(frac.denominator))
        for name, p in self.powers:
            q = p * sign
            (num if q > 0 else den).append(_power_text(name, abs(q)))
        negative = frac is not None and frac < 0
        top = "*".join(num) or "1"
        if den:
            bottom = den[0] if len(den) == 1 else "(" + "*".join(den) + ")"
            top = f"{top}/{bottom}"
        return ("-" if negative else "") + top

    def value(self, sizes: dict[str, int]) -> float:
        return float(self.constant) * math.prod(float(sizes[n]) ** float(p) for n, p in self.powers)


def _power_text(name: str, p: Fraction) -> str:
    if p == 1:
        return name
    if p == Fraction(1, 2):
        return f"sqrt({name})"
    return f"{name}^{p}" if p.denominator == 1 else f"{name}^({p})"


def _agrees(predicted: float, obs: Observation, base_err: float, scale: float) -> bool:
    return abs(predicted - obs.factor) <= obs.error + base_err * scale + 1e-9 * abs(obs.factor)


def fit_dim_powers(base: Observation, variations: list[Observation], order: tuple[str, ...]) -> DimFit | None:
    """Fit ``base.factor`` and its one-dim-at-a-time variations as c * prod(size_k ** p_k).

    Each p_k is read off the first variation of dim k (log ratio of factors over log ratio of
    sizes), rounded to a multiple of 1/2 (|p_k| <= 3); the fit is kept only if it predicts
    every variation within the error bars, and, when some p_k is nonzero, c is a simple
    rational. Returns None when no such fit holds (the caller then states just the numbers).
    """
    f0 = base.factor
    if f0 is None or f0 == 0 or not variations:
        return None
    powers: dict[str, Fraction] = {}
    for obs in variations:
        if obs.factor is None or obs.factor == 0 or (obs.factor > 0) != (f0 > 0):
            return None
        moved = [k for k in obs.sizes if obs.sizes[k] != base.sizes[k]]
        if len(moved) != 1:
            return None
        (k,) = moved
        if k in powers:
            continue
        ratio = obs.sizes[k] / base.sizes[k]
        p = math.log(obs.factor / f0) / math.log(ratio)
        rounded = Fraction(round(2 * p), 2)
        if abs(rounded) > MAX_POWER:
            return None
        powers[k] = rounded
    for obs in variations:
        (k,) = [k for k in obs.sizes if obs.sizes[k] != base.sizes[k]]
        scale = (obs.sizes[k] / base.sizes[k]) ** float(powers[k])
        if not _agrees(f0 * scale, obs, base.error, scale):
            return None
    nonzero = tuple((k, powers[k]) for k in order if powers.get(k, 0) != 0)
    constant = f0 / math.prod(float(base.sizes[k]) ** float(p) for k, p in nonzero)
    bar = abs(constant) * (base.error / abs(f0) + 1e-9)  # the base factor's relative error bar, carried over
    frac = Fraction(1) if abs(constant - 1) <= bar else simple_rational(constant, bar)
    if nonzero and frac is None:
        return None
    return DimFit(constant=frac if frac is not None else constant, powers=nonzero)


def hidden_dims(constant: Fraction | float, sizes: dict[str, int]) -> list[tuple[str, str]]:
    """Dims that were not varied whose size could explain ``constant``: [(dim, "sqrt(k)"), ...]."""
    out = []
    c = float(constant)
    if c == 1 or c == 0:
        return out
    for name, size in sizes.items():
        if size < 2:
            continue
        for p in (Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2)):
            for q in (p, -p):
                if abs(float(size) ** float(q) - abs(c)) <= 1e-9 * abs(c):
                    out.append((name, (_power_text(name, q) if q > 0 else "1/" + _power_text(name, -q))))
    return out


def named_constant(x: float, err: float, constants: dict[str, float]) -> str | None:
    """``1/tau`` when the factor is the reciprocal of the spec's constant tau (or tau, tau^2, 1/tau^2)."""
    for name, value in constants.items():
        if not value or value in (1, -1):
            continue
        for text, v in ((name, value), (f"1/{name}", 1 / value), (f"{name}^2", value**2), (f"1/{name}^2", value**-2)):
            if abs(x - v) <= err + 1e-9 * abs(v):
                return text
    return None


def dim_hint(
    fit: DimFit, base: Observation, variations: list[Observation], constants: dict[str, float] | None = None
) -> str:
    """The line a scaled claim gets once its factor was seen across the dims (``constants``: the
    spec's named constants, which a constant factor may be)."""
    if fit.constant_only:
        named = named_constant(float(fit.constant), base.error, constants or {})
        if named is not None:
            value = factor_text(float(fit.constant), base.error)
            cause = f"an extra {named}" if named.startswith("1/") else f"a 1/{named} was dropped"
            return f"the factor is {named}: {cause} (factor {value}, {_constants_text(named, constants)})"
        hint = constant_hint(float(fit.constant), base.error, follows_no_dim=bool(variations))
        changes = _changes(base, variations)
        stays = f"the factor stays {factor_text(float(fit.constant), base.error)} when {changes}"
        return f"{hint} ({stays})" if hint else stays
    text = fit.text()
    flipped = float(fit.constant) < 0
    size = DimFit(abs(fit.constant), fit.powers) if flipped else fit
    signs = {p > 0 for _, p in fit.powers}
    whole = any(abs(p) == 1 for _, p in fit.powers)
    if signs == {True}:
        cause = f"a {size.text(invert=True)} was dropped" + (" (a sum where a mean belongs?)" if whole else "")
    elif signs == {False}:
        cause = f"an extra {size.text()}" + (" (a mean where a sum belongs?)" if whole else "")
    else:
        cause = f"the claim is off by {size.text()}"
    if flipped:
        cause = "the sign is flipped, and " + cause
    return f"the factor is {text}: {cause} ({_seen(base, variations, {k for k, _ in fit.powers})})"


def hidden_hint(
    factor: float,
    hidden: list[tuple[str, str]],
    sizes: dict[str, int],
    base: Observation,
    variations: list[Observation],
) -> str:
    """A constant factor that a dim which could not be changed would explain as well."""
    what = " or ".join(text for _, text in hidden)
    dims = ", ".join(f"{name} = {sizes[name]}" for name, _ in hidden)
    text = factor_text(factor, base.error)
    stays = f"; it stays {text} when {_changes(base, variations)}" if variations else ""
    return (
        f"a constant factor, or {what}: a dim that could not be changed, so the two cannot be told apart "
        f"(factor {text} at {dims}{stays})"
    )


def unfitted_hint(base: Observation, variations: list[Observation]) -> str:
    """The factor moved with the dims but no product of their powers explains it: the numbers only."""
    moved = {
        k
        for o in variations
        for k in o.sizes
        if o.sizes[k] != base.sizes[k] and (o.factor is None or abs(o.factor - base.factor) > o.error + base.error)
    }
    return f"the factor changes with the dims but fits no product of their powers ({_seen(base, variations, moved)})"


def _constants_text(named: str, constants: dict[str, float]) -> str:
    name = named.removeprefix("1/").removesuffix("^2")
    return f"{name} = {constants[name]:g}"


def _seen(base: Observation, variations: list[Observation], moved: set[str]) -> str:
    """``factor 2 at d = 4, 2.236067977 at d = 5; unchanged when n, m change``: the dims in ``moved``
    with the factor at each size tried, then the dims whose change left it alone."""

    def one(obs: Observation, k: str) -> str:
        value = "not a constant multiple" if obs.factor is None else factor_text(obs.factor, obs.error)
        return f"{value} at {k} = {obs.sizes[k]}"

    parts, still = [], []
    for k in base.sizes:
        alts = [o for o in variations if o.sizes[k] != base.sizes[k]]
        if alts and k in moved:
            parts.append(", ".join([one(base, k)] + [one(o, k) for o in alts]))
        elif alts:
            still.append(k)
    text = "factor " + "; ".join(parts)
    if still:
        text += f"; unchanged when {', '.join(still)} change{'s' if len(still) == 1 else ''}"
    return text


def _changes(base: Observation, variations: list[Observation]) -> str:
    parts = []
    for k in base.sizes:
        alts = [str(o.sizes[k]) for o in variations if o.sizes[k] != base.sizes[k]]
        if alts:
            parts.append(f"{k} changes from {base.sizes[k]} to {' or '.join(alts)}")
    return ", ".join(parts)


def fitted_factor(c, g) -> float | None:
    """The least-squares factor <c, g> / <g, g>, computed on arrays scaled by max |g| (at 1e-286
    the squares underflow to 0); None when g is 0. Entrywise and directional diagnoses alike."""
    g = np.asarray(g, dtype=np.float64)
    s = float(np.max(np.abs(g), initial=0.0))
    if not s > 0 or not math.isfinite(s):
        return None
    gs = g / s
    gg = float(np.vdot(gs, gs))
    return float(np.vdot(np.asarray(c, dtype=np.float64) / s, gs)) / gg if gg > 0 else None


def multiple_finding(factor: float, bar: float, truth: str, where: str, **fields):
    """``sign-flipped`` for -1, else ``scaled`` with the factor as its error bar allows and the
    hint for the causes that give it: the one Finding both diagnoses build for claim = factor x truth.
    ``where`` is ``on every entry`` or ``along all 5 directions``."""
    from ..verdict.model import Finding, Label

    if abs(factor + 1) <= 1e-6:
        return Finding(Label.SIGN_FLIPPED, f"sign-flipped: the claim is -1 x {truth} {where}", factor=-1.0, **fields)
    nice = factor_text(factor, bar)
    hint = constant_hint(factor, bar)
    return Finding(
        Label.SCALED,
        f"scaled: the claim is {nice} x {truth} {where} (factor {nice})",
        lines=(hint,) if hint else (),
        factor=round_factor(factor, bar),
        factor_error=bar,
        **fields,
    )
