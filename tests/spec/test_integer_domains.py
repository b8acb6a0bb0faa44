"""Integer domains and labels: a single-valued integer domain is a located warning (CLI and report
notes); a failure that real-valued labels could explain says so."""

from __future__ import annotations

from gradcheck.check import check_plan
from gradcheck.examine import CheckSettings
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

ONE_VALUE = """\
spec: one-value
dims:
  M: [2, 5]
  k: [1, 3]
inputs:
  z: {shape: [M]}
  y: {shape: [M], domain: {integers: [0, 1]}}
  c: {shape: [M], domain: {integers: [0, k]}}
  ok: {shape: [M], domain: {integers: [0, 2]}}
loss: sum(y * z + c * z + ok * z ** 2)
claims:
  - {name: g, wrt: z, gradient: y + c + 2 * ok * z}
"""


def test_a_single_valued_integer_domain_is_a_located_warning():
    problem = build_problem(load_spec_text(ONE_VALUE, "w.yaml"))
    assert problem.warnings == (
        "w.yaml:7:3: input 'y' has the domain {integers: [0, 1]}, which is half-open: every draw is 0 "
        "(for the labels 0 and 1 write {integers: [0, 2]})",
        "w.yaml:8:3: input 'c' has the domain {integers: [0, k]}, which is half-open: every draw is 0 when k=1 "
        "(start k at 2 for at least two values)",
    )


def test_the_warning_is_printed_by_the_cli_and_kept_in_the_report_notes(tmp_path, capsys):
    import pandas as pd

    from gradcheck.cli import main

    path = tmp_path / "w.yaml"
    path.write_text(ONE_VALUE)
    code = main(["check", str(path), "--seed", "3", "--report", str(tmp_path / "r")])
    captured = capsys.readouterr()
    assert code == 0
    warning = f"warning: {path}:7:3: input 'y' has the domain {{integers: [0, 1]}}, which is half-open"
    assert warning in captured.err + captured.out
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    assert len(summary) == 1
    shown = "".join(p.read_text(errors="ignore") for p in (tmp_path / "r").rglob("*") if p.is_file())
    assert "which is half-open: every draw is 0" in shown  # the report's notes


REAL_LABELS = """\
spec: real-labels
dims: {M: [2, 5]}
inputs:
  z: {shape: [M]}
  y: {shape: [M]}
loss: sum(where(y == 1, -log(sigmoid(z)), -log(1 - sigmoid(z))))
claims:
  - name: for-labels
    wrt: z
    gradient: sigmoid(z) - y
"""


def _verdict(text):
    problem = build_problem(load_spec_text(text, "l.yaml"))
    (plan,) = problem.plans
    return problem.annotate(check_plan(problem, plan, CheckSettings(examples=10, seed=1)))


def test_a_failure_that_real_labels_could_explain_says_so():
    v = _verdict(REAL_LABELS)
    assert v.label != "pass"
    assert v.lines[-1] == (
        "input 'y' is drawn real-valued (domain real) but is compared with 1 (`y == 1`) and is named like a "
        "label: if it holds labels, give it an integer domain, e.g. {integers: [0, 2]} (half-open)"
    )


def test_integer_labels_get_no_such_hint():
    text = REAL_LABELS.replace("  y: {shape: [M]}", "  y: {shape: [M], domain: {integers: [0, 2]}}")
    v = _verdict(text)
    assert v.label == "pass"
    assert not any("real-valued" in line for line in v.lines + v.notes)


def test_single_value_warnings_with_a_dim_as_the_lower_bound_or_both():
    text = ONE_VALUE.replace("{integers: [0, 1]}", "{integers: [k, 4]}").replace("[0, k]", "[k, M]")
    problem = build_problem(load_spec_text(text.replace("M: [2, 5]", "M: [4, 5]"), "w.yaml"))
    assert problem.warnings == (
        "w.yaml:7:3: input 'y' has the domain {integers: [k, 4]}, which is half-open: every draw is 3 when k=3 "
        "(end k at 2 for at least two values)",
        "w.yaml:8:3: input 'c' has the domain {integers: [k, M]}, which is half-open: every draw is 3 when k=3, M=4 "
        "(keep the upper bound at least 2 above the lower one)",
    )


def test_label_hints_name_the_evidence():
    text = """\
spec: hints
dims: {M: [2, 4], k: 3}
inputs:
  z: {shape: [M, k]}
  lab: {shape: [M]}
  targets: {shape: [M]}
  w: {shape: [M]}
loss: sum(onehot(lab, k) * z) + sum(where(w != -2, z[:, 0], 0)) + sum(where(w > 0, z[:, 0], 0)) + sum(log(sum(exp(z), axis=1)) * targets)
claims:
  - {name: g, wrt: z, gradient: "onehot(lab, k)"}
"""
    problem = build_problem(load_spec_text(text, "h.yaml"))
    tail = ": if it holds labels, give it an integer domain, e.g. {integers: [0, 2]} (half-open)"
    assert problem.label_hints == (
        "input 'lab' is drawn real-valued (domain real) but is one-hot encoded (`onehot(lab, k)`)" + tail,
        "input 'targets' is drawn real-valued (domain real) but is named like a label" + tail,
        "input 'w' is drawn real-valued (domain real) but is compared with -2 (`w != -2`)" + tail,
    )


def test_a_regression_target_named_y_gets_no_label_hint():
    text = """\
spec: ridge-like
dims: {M: [2, 4], d: [2, 3]}
inputs:
  X: {shape: [M, d]}
  w: {shape: [d]}
  y: {shape: [M]}
  labels: {shape: [M]}
loss: 0.5 * sum((X @ w - y) ** 2) + sum(labels * (X @ w))
claims:
  - {name: g, wrt: w, gradient: "X.T @ (X @ w - y)"}
"""
    problem = build_problem(load_spec_text(text, "r.yaml"))
    assert [h.split("'")[1] for h in problem.label_hints] == ["labels"]  # y: no log, softmax, onehot, ...
    with_log = build_problem(
        load_spec_text(text.replace("loss: 0.5", "loss: sum(y * log(sigmoid(X @ w))) + 0.5"), "r.yaml")
    )
    assert [h.split("'")[1] for h in with_log.label_hints] == ["y", "labels"]
