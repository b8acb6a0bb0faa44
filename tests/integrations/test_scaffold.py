"""`gradcheck new NAME` and `gradcheck init --loss --inputs`: the specs they write load and pass."""

from __future__ import annotations

import pytest

from gradcheck.cli import main
from gradcheck.scaffold import InitError, Input, dim_ranges, parse_inputs


def test_new_writes_a_template_that_passes_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "my-loss"]) == 0
    assert capsys.readouterr().out == (
        "wrote my-loss.yaml: check it with `gradcheck check my-loss.yaml`, then make it your own\n"
    )
    text = (tmp_path / "my-loss.yaml").read_text()
    assert text.startswith("# my-loss: a gradcheck spec. Check it with:  gradcheck check my-loss.yaml\n")
    assert "spec: my-loss\n" in text
    assert main(["check", "my-loss.yaml", "--seed", "1", "-q"]) == 0
    assert "2 passed, 0 failed, 1 expected failure" in capsys.readouterr().out


def test_new_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("spec: mine\n")
    assert main(["new", "mine.yaml"]) == 2
    assert capsys.readouterr().err == (
        "gradcheck new: mine.yaml exists already: give another NAME, or remove it first (nothing was written)\n"
    )
    assert (tmp_path / "mine.yaml").read_text() == "spec: mine\n"
    assert main(["new", "no/such/place"]) == 2
    assert capsys.readouterr().err == "gradcheck new: no/such: no such folder (nothing was written)\n"
    assert main(["new", "a b"]) == 2
    assert capsys.readouterr().err == (
        "gradcheck new: a b: a spec name is letters, digits, '_' and '-' (e.g. least-squares)\n"
    )


def test_init_writes_the_loss_and_its_verified_gradients(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [
        "init",
        "--loss",
        "0.5 * sum((Y - sigmoid(X @ Theta)) ** 2)",
        "--inputs",
        "X: M in, Y: M out, Theta: in out",
    ]
    assert main([*args, "--seed", "2", "-o", "sse.yaml"]) == 0
    assert capsys.readouterr().out == "wrote sse.yaml: check it with `gradcheck check sse.yaml`\n"
    text = (tmp_path / "sse.yaml").read_text()
    assert text.startswith(
        "# written by gradcheck init; check it with:  gradcheck check sse.yaml\n"
        "spec: sse\n"
        "dims:  # default ranges (inclusive): change them to the sizes your code meets\n"
        "  M: [2, 5]\n  in: [3, 6]\n  out: [4, 7]\n"
        "inputs:\n  X: {shape: [M, in]}\n  Y: {shape: [M, out]}\n  Theta: {shape: [in, out]}\n"
        'loss: "0.5 * sum((Y - sigmoid(X @ Theta)) ** 2)"\n'
        "claims:\n"
    )
    assert "  - name: derived-Theta  # derived, verified on 25 examples\n    wrt: Theta\n" in text
    assert "todo" not in text
    assert main(["check", "sse.yaml", "--seed", "9", "-q"]) == 0
    assert "3 passed, 0 failed" in capsys.readouterr().out


def test_init_with_a_domain_and_a_scalar(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--loss", "sum(log(x) * w) + c", "--inputs", "x: n (positive), w: n, c:", "--seed", "2"]) == 0
    text = (tmp_path / "spec.yaml").read_text()
    assert "  x: {shape: [n], domain: positive}\n  w: {shape: [n]}\n  c: {shape: []}\n" in text
    assert '    gradient: "w / x"\n' in text
    assert main(["check", "spec.yaml", "--seed", "4", "-q"]) == 0


def test_init_with_a_loss_that_does_not_compile_points_into_the_draft(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--loss", "sum(x @ y)", "--inputs", "x: n, y: m"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spec.yaml:")
    assert err.endswith("gradcheck init: spec.yaml was written as a draft: fix the loss there\n")
    assert main(["init", "--loss", "sum(x)", "--inputs", "x: n"]) == 2  # the draft is never overwritten
    assert "spec.yaml exists already: give another --output" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            "X M in",
            "--inputs: 'X M in' is not NAME: DIMS (e.g. --inputs \"X: M in, Theta: in out, b:\"; no dims for a scalar)",
        ),
        (
            "x: n (happy)",
            "--inputs: input x: unknown domain 'happy' (one of: real, positive, unit, symmetric, spd, invertible, orthogonal, simplex)",
        ),
        (
            "x: n-1",
            "--inputs: input x: 'n-1' is not a dim name or a size (e.g. --inputs \"X: M in, Theta: in out, b:\")",
        ),
        ("x: n, x: m", "--inputs: input x is given twice"),
    ],
)
def test_init_refuses_bad_inputs(inputs, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--loss", "sum(x)", "--inputs", inputs]) == 2
    assert capsys.readouterr().err == f"gradcheck init: {message}\n"
    assert not (tmp_path / "spec.yaml").exists()


def test_dim_ranges_are_distinct_in_order_of_appearance():
    inputs = parse_inputs("X: M in, Theta: in out, b:, v: 3")
    assert inputs[2] == Input("b", ()) and inputs[3] == Input("v", ("3",))
    assert dim_ranges(inputs) == {"M": (2, 5), "in": (3, 6), "out": (4, 7)}
    with pytest.raises(InitError):
        parse_inputs("")
