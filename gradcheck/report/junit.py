"""junit.xml: one testcase per (claim, wrt), so CI systems that read JUnit show gradcheck's
results without pytest.

A testsuite per spec file; each testcase has ``file`` and ``line`` attributes (the claim's
place in the spec). An unexpected failure or unexpected pass is a ``<failure>`` carrying the
terminal's failure block; an expected failure is ``<skipped>`` with its diagnosis (as pytest
reports xfail); a spec that cannot be read is a testcase with an ``<error>``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from ..verdict.model import SPEC_ERROR, Outcome, Verdict
from .record import RunRecord
from .text import statement


def _seconds(x: float) -> str:
    return f"{x:.3f}" if math.isfinite(x) else "0"


def _case(c: Verdict, name: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=f"gradcheck.{c.spec}",
        name=name,
        file=c.path,
        line=str(c.location.line),
        time=_seconds(c.seconds),
    )
    if c.outcome == Outcome.FAIL:
        failure = ET.SubElement(case, "failure", type=str(c.label), message=statement(c))
        failure.text = c.block
    elif c.outcome == Outcome.XPASS:
        failure = ET.SubElement(case, "failure", type="unexpected-pass", message="marked `expect: fail` but it passed")
        failure.text = c.block
    elif c.outcome == Outcome.XFAIL:
        ET.SubElement(case, "skipped", type="expected-failure", message=f"expected failure: {statement(c)}")
    return case


def render(run: RunRecord) -> str:
    root = ET.Element("testsuites", name="gradcheck")
    files = list(dict.fromkeys([c.path for c in run.claims] + [e.path for e in run.errors]))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for file in files:
        claims = [c for c in run.claims if c.path == file]
        errors = [e for e in run.errors if e.path == file]
        spec = claims[0].spec if claims else file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        counts = {
            "tests": len(claims) + len(errors),
            "failures": sum(not c.as_expected for c in claims),
            "errors": len(errors),
            "skipped": sum(c.outcome == Outcome.XFAIL for c in claims),
        }
        seconds = sum(c.seconds for c in claims if math.isfinite(c.seconds))
        suite = ET.SubElement(
            root, "testsuite", name=spec, file=file, **{k: str(v) for k, v in counts.items()}, time=_seconds(seconds)
        )
        several = {n for n in (c.claim for c in claims) if sum(d.claim == n for d in claims) > 1}
        for c in claims:  # `claim[wrt]` only for a claim with several wrt, as the terminal names it
            suite.append(_case(c, f"{c.claim}[{c.wrt}]" if c.claim in several else c.claim))
        for e in errors:
            case = ET.SubElement(
                suite, "testcase", classname=f"gradcheck.{spec}", name="(spec)", file=file, line=str(e.line), time="0"
            )
            error = ET.SubElement(
                case, "error", type=SPEC_ERROR, message=e.message.splitlines()[0] if e.message else ""
            )
            error.text = e.message
        for k in totals:
            totals[k] += counts[k]
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", _seconds(run.seconds))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
