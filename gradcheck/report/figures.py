"""Pictures of a failing claim, as PNG bytes: where the claim is off (heatmap of claimed − true
over the parameter's entries), how it is off (claimed against true, with the diagnosis'
fitted line), and whether the oracle can be trusted (finite-difference error against step,
beside the complex step's error bar).

matplotlib is optional (``pip install 'gradcheck[report]'``): :func:`available` says whether
pictures can be drawn, and nothing here imports it before it is asked to draw. Drawing uses
the Agg canvas directly (no pyplot, no display) under matplotlib's default style, and PNGs
are written without a ``Software`` tag, so the same arrays give the same bytes.
"""

from __future__ import annotations

import io
import math
import re

from ..verdict.model import Evidence, Label, Outcome, Verdict

INSTALL_HINT = "pip install 'gradcheck[report]'"
DPI = 100
SIZE = (12.0, 3.6)  # inches: three panels side by side, 1200 x 360 pixels
ANNOTATE_LIMIT = 30  # entries: small heatmaps print their values
EXPECTED_BUDGET = 12  # pictures of expected failures per report (~0.3 s each)
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "path.simplify": True,
}
INK, MUTED, ACCENT, WARN, MARK = "#1f2933", "#8a94a6", "#c2410c", "#2563eb", "#f59e0b"


def available() -> bool:
    """Whether matplotlib can be imported (then every picture can be drawn)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def evidence_figure(claim: Verdict) -> bytes | None:
    """The three panels for one claim as PNG bytes, or None when it has no arrays to draw."""
    e = claim.evidence
    if e is None or e.claimed is None or e.truth is None:
        return None
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"), matplotlib.rc_context(STYLE):
        fig = Figure(figsize=SIZE, dpi=DPI)
        FigureCanvasAgg(fig)
        # fixed margins: a layout engine would measure every label and double the drawing time
        fig.subplots_adjust(left=0.045, right=0.985, bottom=0.2, top=0.9, wspace=0.3)
        heat, scatter, steps = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1, 1]})
        claimed, truth, note = aligned(e)
        draw_heatmap(heat, claimed, truth, axis_names(claim.expected_shape), note)
        draw_scatter(scatter, claimed, truth, claim)
        draw_steps(steps, e)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def aligned(e: Evidence):
    """(claimed, truth, note): the claim brought to the truth's shape where that is meaningful.

    A claim with the transpose of the right shape is compared as its transpose (the heatmap
    then shows whether the transpose is right); any other shape is compared entry by entry in
    memory order, which the note says.
    """
    import numpy as np

    claimed = np.asarray(e.claimed, dtype=np.float64)
    truth = np.asarray(e.truth, dtype=np.float64)
    if claimed.shape == truth.shape:
        return claimed, truth, ""
    if claimed.ndim >= 2 and claimed.T.shape == truth.shape:
        return claimed.T, truth, f"claim has shape {claimed.shape}: shown transposed"
    n = min(claimed.size, truth.size)
    return claimed.ravel()[:n], truth.ravel()[:n], f"shapes {claimed.shape} and {truth.shape}: first {n} entries"


def axis_names(shape_text: str) -> list[str]:
    """``"(in, out)"`` -> ``["in", "out"]``; unnamed axes stay unnamed."""
    inner = shape_text.strip().strip("()")
    return [s.strip() for s in inner.split(",") if s.strip()] if inner else []


def reduce_to_2d(diff, names: list[str]):
    """(matrix, row label, column label, signed) for the heatmap.

    0-D and 1-D become one row; 2-D is itself; higher dimensions keep their first two axes and
    show the entry of largest magnitude over the rest (signed, so a sign error stays visible).
    """
    import numpy as np

    names = names if len(names) == diff.ndim else [f"axis {i}" for i in range(diff.ndim)]
    if diff.ndim == 0:
        return diff.reshape(1, 1), "", "", ""
    if diff.ndim == 1:
        return diff.reshape(1, -1), "", names[0], ""
    if diff.ndim == 2:
        return diff, names[0], names[1], ""
    flat = diff.reshape(diff.shape[0], diff.shape[1], -1)
    pick = np.argmax(np.abs(flat), axis=2)
    reduced = np.take_along_axis(flat, pick[..., None], axis=2)[..., 0]
    rest = ", ".join(names[2:])
    return reduced, names[0], names[1], f"largest |difference| over ({rest})"


def draw_heatmap(ax, claimed, truth, names: list[str], note: str) -> None:
    import numpy as np

    diff = claimed - truth
    matrix, ylabel, xlabel, reduction = reduce_to_2d(diff, names)
    finite = np.abs(matrix[np.isfinite(matrix)])
    bound = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto", interpolation="nearest")
    cbar = ax.figure.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
    cbar.ax.tick_params(labelsize=7)
    rows, cols = matrix.shape
    if matrix.size <= ANNOTATE_LIMIT:
        for (i, j), value in np.ndenumerate(matrix):
            shade = abs(value) > 0.6 * bound
            ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=7, color="white" if shade else INK)
    if finite.size:
        i, j = np.unravel_index(int(np.nanargmax(np.abs(np.where(np.isfinite(matrix), matrix, 0)))), matrix.shape)
        ax.add_patch(_box(j, i))
    ax.set_xticks(_ticks(cols))
    ax.set_yticks(_ticks(rows) if rows > 1 else [])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("claimedᵀ − true" if "transposed" in note else "claimed − true")
    caption = "; ".join(s for s in (note, reduction, "box: largest |difference|") if s)
    ax.text(0.0, -0.22 if xlabel else -0.16, caption, transform=ax.transAxes, fontsize=7, color=MUTED, va="top")


def _box(x: int, y: int):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=MARK, linewidth=2.2)


def _ticks(n: int) -> list[int]:
    step = max(1, math.ceil(n / 8))
    return list(range(0, n, step))


def fitted_slope(claim: Verdict, claimed, truth) -> tuple[float, str] | None:
    """The diagnosis' line: its factor (scaled), -1 (sign-flipped), else a least-squares slope."""
    import numpy as np

    if claim.label == Label.SCALED and claim.factor is not None:
        return claim.factor, f"diagnosis: claimed = {_nice(claim.factor)} × true"
    if claim.label == Label.SIGN_FLIPPED:
        return -1.0, "diagnosis: claimed = −true"
    ok = np.isfinite(claimed) & np.isfinite(truth)
    denom = float(np.dot(truth[ok], truth[ok]))
    if denom == 0:
        return None
    slope = float(np.dot(claimed[ok], truth[ok])) / denom
    return slope, f"least-squares slope {_nice(slope)}"


def _nice(x: float) -> str:
    text = f"{x:.4g}"
    return re.sub(r"\.0+$", "", text)


def draw_scatter(ax, claimed, truth, claim: Verdict) -> None:
    import numpy as np

    c, t = claimed.ravel(), truth.ravel()
    ok = np.isfinite(c) & np.isfinite(t)
    c, t = c[ok], t[ok]
    values = np.concatenate([c, t]) if c.size else np.array([0.0, 1.0])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.06 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], color=MUTED, linestyle="--", linewidth=1, label="claimed = true")
    fit = fitted_slope(claim, claimed, truth)
    if fit is not None:
        slope, label = fit
        ax.plot(
            [lo, hi],
            [slope * lo, slope * hi],
            color=ACCENT,
            linewidth=1.4,
            label=label,
            linestyle="-" if claim.label in (Label.SCALED, Label.SIGN_FLIPPED) else ":",
        )
    ax.scatter(t, c, s=16, color=WARN, edgecolor="white", linewidth=0.4, zorder=3, label=f"{c.size} entries")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)  # the same scale on both axes: a slope of 2 looks like 2
    ax.set_xlabel("true (oracle)")
    ax.set_ylabel("claimed")
    ax.set_title("claimed against true")
    rising = fit is None or fit[0] >= 0
    ax.legend(loc="lower right" if rising else "upper right")  # the corner the points leave empty


def draw_steps(ax, e: Evidence) -> None:
    import numpy as np

    ax.set_title("oracle: step-size convergence")
    steps = np.asarray(e.steps, dtype=np.float64)
    errors = np.asarray(e.fd_errors, dtype=np.float64)
    ok = np.isfinite(steps) & np.isfinite(errors) & (steps > 0)
    if not ok.any():
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "no step-size curve for this example\n(it is recorded when the full gradient\nis computed by complex step)",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color=MUTED,
            fontsize=8,
        )
        return
    h = steps[ok]
    shown = np.maximum(errors[ok], 1e-18)  # an exact difference would vanish from a log axis
    ax.loglog(h, shown, marker="o", markersize=4, color=WARN, linewidth=1.4)
    ax.text(
        0.5,
        0.97,
        "central difference: |FD(h) − CS| against h",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=7.5,
        color=WARN,
    )
    best = int(np.argmin(shown))
    edge = "right" if h[best] == h.max() else "left" if h[best] == h.min() else "center"  # stay inside
    ax.annotate(
        f"best h = {h[best]:.0e}",
        (h[best], shown[best]),
        textcoords="offset points",
        xytext=(0, -13),
        ha=edge,
        fontsize=7.5,
        color=INK,
    )
    if math.isfinite(e.cs_error) and e.cs_error > 0:
        ax.axhline(e.cs_error, color=ACCENT, linestyle="--", linewidth=1.2)
        ax.annotate(
            f"complex step (h = 1e-30): error bar ±{e.cs_error:.1e}",
            (0.02, e.cs_error),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            xytext=(0, 4),
            fontsize=7.5,
            color=ACCENT,
        )
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, e.cs_error / 10), high)
    ax.set_xlabel("step h")
    ax.set_ylabel("error along the worst direction")


def draw_all(claims, expected_budget: int | None = EXPECTED_BUDGET) -> dict[tuple[str, str, str], bytes | str]:
    """A picture (PNG bytes) or the reason there is none, for every claim that gets a section.

    Every unexpected result is drawn; expected failures are drawn up to ``expected_budget``
    (None: all of them), because a gallery of documented wrong claims would otherwise spend
    more time drawing than checking.
    """
    shown = [c for c in claims if c.outcome in (Outcome.FAIL, Outcome.XFAIL)]  # an unexpected pass has no error to draw
    if not shown:
        return {}
    if not available():
        return {c.key: f"pictures need matplotlib: {INSTALL_HINT}" for c in shown}
    pictures: dict[tuple[str, str, str], bytes | str] = {}
    drawn_expected = 0
    for c in sorted(shown, key=lambda c: c.as_expected):  # unexpected results first
        if c.evidence is None or c.evidence.claimed is None:
            pictures[c.key] = _no_arrays(c)
            continue
        if c.as_expected and expected_budget is not None and drawn_expected >= expected_budget:
            pictures[c.key] = (
                f"pictures are drawn for the first {expected_budget} expected failures; "
                "`gradcheck report DIR --all-figures` draws every one"
            )
            continue
        try:
            pictures[c.key] = evidence_figure(c)
        except Exception as exc:  # noqa: BLE001  matplotlib on any arrays: a picture must never cost the report
            pictures[c.key] = f"the picture could not be drawn: {type(exc).__name__}: {exc}"
            continue
        drawn_expected += c.as_expected
    return pictures


def _no_arrays(c: Verdict) -> str:
    if c.examples == 0 and c.label in (Label.SHAPE_MISMATCH, Label.ERROR):
        return "found before any example was drawn: no arrays to picture"
    return f"no arrays were recorded for this {c.label} example"
