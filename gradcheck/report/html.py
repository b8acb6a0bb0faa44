"""report.html: one self-contained page (inline CSS, a few lines of inline JavaScript, figures
as base64 PNG; nothing fetched from the network) that a person under time pressure can read.

Layout: a header (verdict, when, specs, seed, versions, the command that reproduces the run),
a sortable table of every claim, one section per unexpected result with its failure block and
its pictures, then the expected failures (collapsed), then the specs that could not be read.
Presentation only: every word and number comes from a :class:`~.record.RunRecord`.
"""

from __future__ import annotations

import base64
import math
import re
from html import escape
from typing import Mapping

from ..verdict.model import Outcome, Verdict
from . import text
from .figures import INSTALL_HINT
from .record import DETAILS, RunRecord
from .text import LABEL

OUTCOME_RANK = {o: rank for rank, o in enumerate((Outcome.FAIL, Outcome.XPASS, Outcome.XFAIL, Outcome.OK))}

CSS = """
:root { --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --ok: #15803d; --fail: #b91c1c;
        --xfail: #64748b; --xpass: #7c3aed; --code: #0f172a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); }
header.run { padding: 20px 32px 14px; color: white; background: var(--ok); }
header.run.bad { background: var(--fail); }
header.run.broken { background: #7f1d1d; }
header h1 { margin: 0; font-size: 22px; font-weight: 650; }
header .headline { margin: 2px 0 12px; font-size: 16px; opacity: .95; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 13px; }
dl.meta dt { opacity: .8; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
dl.meta code { background: rgba(255,255,255,.16); color: white; }
main { padding: 8px 32px 32px; max-width: 1320px; }
h2 { font-size: 17px; margin: 26px 0 10px; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 12px; padding: 0; list-style: none; }
.counts li { padding: 4px 10px; border-radius: 999px; background: white; border: 1px solid var(--line); }
.counts b { font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; background: white; border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #9ca3af; font-size: 11px; }
table.sortable th[aria-sort=ascending]::after { content: " \\2191"; color: var(--ink); }
table.sortable th[aria-sort=descending]::after { content: " \\2193"; color: var(--ink); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.where { white-space: nowrap; color: var(--muted); }
td.deriv { white-space: nowrap; }
dl.meta summary { cursor: pointer; }
tr.fail td, tr.xpass td { background: #fef2f2; }
.badge { display: inline-block; min-width: 48px; padding: 1px 6px; border-radius: 4px; color: white;
         font: 600 11px/1.6 ui-monospace, "DejaVu Sans Mono", monospace; text-align: center; }
.badge.ok { background: var(--ok); } .badge.fail { background: var(--fail); }
.badge.xfail { background: var(--xfail); } .badge.xpass { background: var(--xpass); }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; }
code { font-size: 12.5px; background: #f1f5f9; padding: 0 3px; border-radius: 3px; }
div.fix { display: grid; grid-template-columns: max-content max-content; margin: 0 0 10px; font-size: 13px;
  border: 1px solid #ccc; }
div.fix > div { padding: 4px 8px; border: 1px solid #e3e3e3; }
div.fix > div.head { font-weight: 600; background: #f6f6f6; }
div.fix mark { background: #fff3a3; }
pre.block { margin: 0 0 10px; padding: 10px 12px; font-size: 12.5px; line-height: 1.4; overflow-x: auto;
            background: #0f172a; color: #e2e8f0; border-radius: 6px; }
.claim { background: white; border: 1px solid var(--line); border-left: 4px solid var(--xfail);
         border-radius: 6px; padding: 10px 14px; margin: 0 0 12px; }
.claim.fail { border-left-color: var(--fail); } .claim.xpass { border-left-color: var(--xpass); }
.claim h3, .claim summary { margin: 0 0 8px; font-size: 14.5px; font-weight: 600; }
details.claim summary { cursor: pointer; margin: 0; }
details.claim[open] summary { margin-bottom: 8px; }
.claim .where { font-weight: 400; color: var(--muted); margin-left: 6px; }
.claim .diag { font-weight: 400; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption, .note { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.note.warn { background: #fffbeb; border: 1px solid #fde68a; color: #92400e; padding: 8px 12px; border-radius: 6px; }
.tools { float: right; font-size: 12.5px; }
.tools button { font: inherit; padding: 2px 8px; margin-left: 4px; cursor: pointer; }
footer { padding: 0 32px 24px; color: var(--muted); font-size: 12px; }
"""

# Sorting by column (numbers as numbers, via data-sort), and opening a collapsed section when
# the address names it (#c3-...), or every section (#all).
SCRIPT = """
(function () {
  function key(row, col) {
    var cell = row.cells[col], v = cell.getAttribute("data-sort");
    return v !== null ? v : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return dir * compare(key(a, col), key(b, col)); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  function setAll(open) {
    document.querySelectorAll("details.claim").forEach(function (d) { d.open = open; });
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id === "all") { setAll(true); return; }
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  document.querySelectorAll("button[data-open]").forEach(function (b) {
    b.addEventListener("click", function () { setAll(b.getAttribute("data-open") === "1"); });
  });
  window.addEventListener("hashchange", reveal);
  reveal();
})();
"""

Pictures = Mapping[tuple[str, str, str], "bytes | str"]


def render(run: RunRecord, pictures: Pictures | None = None) -> str:
    """The whole page. ``pictures`` maps a claim's key to PNG bytes or the reason there is none."""
    pictures = pictures or {}
    anchors = _anchors(run.claims)
    state = "broken" if run.errors else "bad" if run.unexpected else "ok"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>gradcheck: {escape(run.headline())}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(run, state),
        "<main>",
        _summary(run, anchors),
        _notes(run, pictures),
        _unexpected(run, anchors, pictures),
        _expected(run, anchors, pictures),
        _spec_errors(run),
        "</main>",
        FOOTER,
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _anchors(claims) -> dict[tuple[str, str, str], str]:
    out = {}
    for i, c in enumerate(claims):
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{c.spec}-{c.claim}-{c.wrt}").strip("-")
        out[c.key] = f"c{i}-{slug}"
    return out


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace("+00:00", " UTC") if iso else "unknown"


SHOWN_PATHS = 6  # spec paths listed in the header; more are folded away


def _header(run: RunRecord, state: str) -> str:
    specs = ", ".join(f"<code>{escape(p)}</code>" for p in run.paths) or "none"
    if len(run.paths) > SHOWN_PATHS:
        specs = f"<details><summary>{len(run.paths)} spec files</summary>{specs}</details>"
    versions = " · ".join(f"{escape(k)} {escape(v)}" for k, v in run.versions.items()) or "unknown"
    took = f" in {run.seconds:.1f} s" if math.isfinite(run.seconds) else ""
    rows = [
        ("when", escape(_when(run.when))),
        ("specs", specs),
        ("seed", f"{run.seed}"),
        ("checked", f"{run.scope()}{took}"),
        ("reproduce", f"<code>{escape(run.reproduce(SHOWN_PATHS))}</code>"),
        ("versions", versions),
    ]
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<header class="run {state}"><h1>gradcheck report</h1>'
        f'<p class="headline">{escape(run.headline())}</p><dl class="meta">{meta}</dl></header>'
    )


def _badge(outcome: str) -> str:
    return f'<span class="badge {outcome}">{LABEL[outcome]}</span>'


def _rel(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.2e}"


def _summary(run: RunRecord, anchors) -> str:
    n = run.outcome_counts()
    chips = [f"<li>{_badge(o)} <b>{n[o]}</b> {text.outcome_words(o, n[o])}</li>" for o in text.shown_outcomes(n)]
    by_verdict = " · ".join(f"{escape(v)} {total}" for v, (total, _) in run.verdict_counts().items())
    if run.errors:
        chips.append(
            f'<li><span class="badge fail">ERROR</span> <b>{len(run.errors)}</b> '
            f"{text.plural(len(run.errors), 'spec error')}</li>"
        )
    rows = []
    for c in run.claims:
        name = escape(c.claim)
        if c.outcome != Outcome.OK:
            name = f'<a href="#{anchors[c.key]}">{name}</a>'
        rel = c.max_rel_error
        rows.append(
            f'<tr class="{c.outcome}"><td data-sort="{OUTCOME_RANK[c.outcome]}">{_badge(c.outcome)}</td>'
            f'<td>{name}</td><td class="deriv">{escape(text.derivative(c))}</td><td>{escape(c.label)}</td>'
            f"<td>{_inline(text.explanation(c))}</td>"
            f'<td class="num" data-sort="{rel if math.isfinite(rel) else -1}">{_rel(rel)}</td>'
            f'<td class="num">{c.examples}</td>'
            f'<td class="where" data-sort="{escape(c.path)}:{c.location.line:06d}">{escape(c.where)}</td></tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("outcome", "claim", "derivative", "verdict", "diagnosis", "max rel. error", "examples", "where")
    )
    return (
        f'<section id="summary"><h2>Claims</h2><ul class="counts">{"".join(chips)}</ul>'
        f'<p class="note">by verdict: {by_verdict or "no claims"}. Click a column to sort.</p>'
        f'<table class="claims sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</section>"
    )


def _inline(text: str) -> str:
    """Escape, and show `backticked` spans as code."""
    out = []
    for i, piece in enumerate(re.split(r"`([^`]*)`", text)):
        out.append(f"<code>{escape(piece)}</code>" if i % 2 else escape(piece))
    return "".join(out)


def _notes(run: RunRecord, pictures: Pictures) -> str:
    notes = []
    if run.incomplete:
        notes.append('<p class="note warn">The run was interrupted: these are the claims that finished.</p>')
    if not run.details:
        notes.append(
            f'<p class="note warn">This folder has no <code>{DETAILS}</code>: the page shows what '
            "summary.csv holds (short failure blocks, no pictures). A run with <code>--report DIR</code> "
            "writes it.</p>"
        )
    notes.append(_missing_pictures_note(pictures))
    return "".join(notes)


def _missing_pictures_note(pictures: Pictures) -> str:
    if any(isinstance(p, str) and p.startswith("pictures need matplotlib") for p in pictures.values()):
        return (
            f'<p class="note warn">Pictures (error heatmap, claimed against true, step-size curve) '
            f"need matplotlib: <code>{escape(INSTALL_HINT)}</code>, then "
            f"<code>gradcheck report DIR</code> redraws this page without re-running the checks.</p>"
        )
    return ""


def _picture(c: Verdict, pictures: Pictures) -> str:
    picture = pictures.get(c.key)
    if isinstance(picture, bytes):
        data = base64.b64encode(picture).decode("ascii")
        alt = f"pictures for claim {c.claim}: error heatmap, claimed against true, step-size curve"
        target = c.wrt if c.kind != "jvp" else f"node {c.node}"
        return (
            f'<figure class="evidence"><img src="data:image/png;base64,{data}" alt="{escape(alt)}" '
            f"onerror=\"console.error('gradcheck: a figure did not load: ' + this.alt)\">"
            f"<figcaption>Left: claimed − true over the entries of {escape(target)} "
            f"{escape(c.expected_shape)} (box: the largest difference). Middle: each entry, claimed "
            f"against true, with the diagnosis' line. Right: the finite-difference oracle's error "
            f"against its step h, beside the complex step's error bar.</figcaption></figure>"
        )
    if picture:
        return f'<p class="note">{_inline(picture)}</p>'
    return ""


def _marked(text: str, part: str) -> str:
    """``text`` escaped, with the first occurrence of ``part`` in a <mark>."""
    at = text.find(part) if part else -1
    if at < 0:
        return escape(text)
    return escape(text[:at]) + "<mark>" + escape(part) + "</mark>" + escape(text[at + len(part) :])


def _change_parts(change: str) -> tuple[str, str]:
    """``'"before" -> "after"'`` -> (before, after)."""
    before, _, after = change.partition('" -> "')
    return before[1:], after[:-1]


def _fix(c: Verdict) -> str:
    """The claim and its verified fix side by side, the edited part marked (or the derived one)."""
    r = c.repair
    if r is None or not (r.fix or r.derived) or not c.claimed_text:
        return ""
    if r.fix:
        before, after = _change_parts(r.changes[-1]) if r.changes else ("", "")
        first_before = _change_parts(r.changes[0])[0] if r.changes else ""
        edits = text.counted(r.edits, "edit")
        right_head, right = f"fix ({edits}, verified)", _marked(r.fix, after)
        left = _marked(c.claimed_text, first_before)
    else:
        right_head, right = "a correct one (derived, verified)", escape(r.derived)
        left = escape(c.claimed_text)
    return (
        '<div class="fix"><div class="head">claimed</div>'
        f'<div class="head">{escape(right_head)}</div>'
        f"<div><code>{left}</code></div><div><code>{right}</code></div></div>"
    )


def _section_title(c: Verdict) -> str:
    return (
        f'{_badge(c.outcome)} {escape(text.title(c))}<span class="where">{escape(c.where)}</span> '
        f'<span class="diag">— {escape(c.label)}</span>'
    )


def _unexpected(run: RunRecord, anchors, pictures: Pictures) -> str:
    claims = run.unexpected
    if not claims:
        return '<section id="unexpected"><h2>Unexpected results</h2><p>None: every claim is as expected.</p></section>'
    items = [
        f'<article class="claim {c.outcome}" id="{anchors[c.key]}"><h3>{_section_title(c)}</h3>'
        f'<pre class="block">{escape(c.block)}</pre>{_fix(c)}{_picture(c, pictures)}</article>'
        for c in claims
    ]
    return f'<section id="unexpected"><h2>Unexpected results ({len(claims)})</h2>{"".join(items)}</section>'


def _expected(run: RunRecord, anchors, pictures: Pictures) -> str:
    claims = run.expected_failures
    if not claims:
        return ""
    tools = (
        '<span class="tools"><button type="button" data-open="1">expand all</button>'
        '<button type="button" data-open="0">collapse all</button></span>'
    )
    items = [
        f'<details class="claim xfail" id="{anchors[c.key]}"><summary>{_section_title(c)}</summary>'
        f'<pre class="block">{escape(c.block)}</pre>{_fix(c)}{_picture(c, pictures)}</details>'
        for c in claims
    ]
    return (
        f'<section id="expected"><h2>{tools}Expected failures ({len(claims)})</h2>'
        f'<p class="note">Claims marked <code>expect: fail</code> that failed: documented wrong claims, '
        f"kept to show that gradcheck catches them.</p>{''.join(items)}</section>"
    )


def _spec_errors(run: RunRecord) -> str:
    if not run.errors:
        return ""
    items = [
        f'<article class="claim fail"><h3><span class="badge fail">ERROR</span> {escape(e.path)}'
        f'{f":{e.line}" if e.line else ""}</h3><pre class="block">{escape(e.message)}</pre></article>'
        for e in run.errors
    ]
    return (
        f'<section id="spec-errors"><h2>Specs that could not be read ({len(run.errors)})</h2>{"".join(items)}</section>'
    )


FOOTER = (
    "<footer>Written by gradcheck. The files beside this page hold the same run: summary.csv and "
    "results.csv (the tables), details.json (the arrays behind the pictures); "
    "<code>gradcheck report DIR</code> redraws this page from them, "
    "<code>gradcheck diff OLD NEW</code> compares two runs.</footer>"
)
