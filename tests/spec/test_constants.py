"""Array constants in specs: ``constants: {X: {python: "mod:X", shape: [M, in]}}`` or
``{npy: data/X.npy, shape: [...]}``. Read when the spec is compiled (never by the loader); their
shapes bind the dims they name; ``--no-python`` refuses the python form and allows the .npy one."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.errors import SchemaError, SpecError
from gradcheck.options import RunOptions
from gradcheck.problem.build import build_problem
from gradcheck.report.text import failure_block
from gradcheck.run import run
from gradcheck.spec.load import load_spec, load_spec_text
from gradcheck.spec.model import ArrayConstant, PythonRef

RNG = np.random.default_rng(3)
X = RNG.standard_normal((7, 3))
Y = RNG.standard_normal(7)

SPEC = """\
spec: ridge
dims: {{out: [2, 4]}}
constants:
  lam: 0.1
  X: {X}
  y: {y}
inputs:
  w: {{shape: [in]}}
loss: lam * 0.5 * sum((X @ w - y) ** 2) / M
claims:
  - {{name: right, wrt: w, gradient: "lam * X.T @ (X @ w - y) / M"}}
  - {{name: summed, wrt: w, gradient: "lam * X.T @ (X @ w - y)"}}
"""
MODULE = """\
import numpy as np

RNG = np.random.default_rng(3)
X = RNG.standard_normal((7, 3))

def labels():
    return np.random.default_rng(3).standard_normal((7, 3)) @ np.ones(3) * 0 + {y!r}
"""


def _npy_spec(tmp_path):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "X.npy", X)
    np.save(tmp_path / "y.npy", Y)
    path = tmp_path / "ridge.yaml"
    path.write_text(SPEC.format(X="{npy: data/X.npy, shape: [M, in]}", y="{npy: y.npy, shape: [M]}"))
    return path


def test_the_loader_reads_the_forms_and_imports_nothing():
    spec = load_spec_text(
        SPEC.format(X='{python: "nowhere_pkg.data:X", shape: [M, in]}', y="{npy: y.npy}"), "specs/ridge.yaml"
    )
    assert spec.constants == {"lam": 0.1}
    x, y = spec.arrays["X"], spec.arrays["y"]
    assert isinstance(x, ArrayConstant) and x.shape == ("M", "in") and isinstance(x.source, PythonRef)
    assert x.source.target == "nowhere_pkg.data:X" and (x.location.line, x.location.col) == (5, 3)
    assert (y.source, y.shape) == ("y.npy", None)
    assert {"M", "in"} <= set(spec.dims)


def test_npy_constants_bind_the_dims_and_a_wrong_claim_is_scaled_by_the_data_size(tmp_path):
    result = run([str(_npy_spec(tmp_path))], RunOptions(seed=1, examples=5))
    assert not result.failures, result.failures
    verdicts = {v.claim: v for v in result.verdicts}
    assert verdicts["right"].passed, failure_block(verdicts["right"])
    assert verdicts["summed"].label == "scaled" and verdicts["summed"].factor == pytest.approx(7)
    assert verdicts["summed"].failing.sizes == {"out": verdicts["summed"].failing.sizes["out"], "M": 7, "in": 3}


def test_python_constants_are_imported_when_the_spec_is_compiled(tmp_path, monkeypatch):
    (tmp_path / "ridge_data_mod.py").write_text(MODULE.format(y=Y.tolist()))
    path = tmp_path / "ridge.yaml"
    path.write_text(
        SPEC.format(X='{python: "ridge_data_mod:X", shape: [M, in]}', y='{python: "ridge_data_mod:labels", shape: [M]}')
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    problem = build_problem(load_spec(path))
    assert problem.data["X"].shape == (7, 3) and not problem.data["X"].flags.writeable
    assert problem.spec.dims["M"].lo == problem.spec.dims["M"].hi == 7
    result = run([str(path)], RunOptions(seed=1, examples=5))
    assert [v.label for v in result.verdicts] == ["pass", "scaled"]


def test_no_python_refuses_a_python_constant_and_allows_npy(tmp_path):
    path = tmp_path / "ridge.yaml"
    path.write_text(SPEC.format(X='{python: "ridge_data_mod:X", shape: [M, in]}', y="{npy: y.npy}"))
    result = run([str(path)], RunOptions(seed=1, no_python=True))
    assert result.failures[0].message.startswith(
        f"{path}:5:15: constant 'X' names Python code (ridge_data_mod:X), and --no-python refuses every "
        "{python: ...} entry"
    )
    result = run([str(_npy_spec(tmp_path))], RunOptions(seed=1, examples=3, no_python=True))
    assert not result.failures and [v.label for v in result.verdicts] == ["pass", "scaled"]


@pytest.mark.parametrize(
    "X, message",
    [
        ("{npy: ../X.npy}", "constant 'X': npy must be a path inside the spec's folder, got '../X.npy'"),
        ("{npy: /tmp/X.npy}", "constant 'X': npy must be a path inside the spec's folder, got '/tmp/X.npy'"),
        ("{npy: X.csv}", "constant 'X': npy must name a .npy file, got 'X.csv'"),
        ("{npy: X.npy, python: 'm:X'}", "constant 'X' has both npy and python: give one"),
        ("{shape: [M]}", "constant 'X' needs python: or npy: (where its data is)"),
        ("{npy: X.npy, dtype: float32}", "unknown key 'dtype' in constant 'X'"),
        ("{npy: X.npy, shape: [M, 0]}", "sizes in a shape must be at least 1, got 0"),
        ("{npy: X.npy, shape: M}", "shape of constant 'X' must be a list of dims or integers, got a string"),
        ("{python: 'not a ref'}", "python must be 'module:name', got 'not a ref'"),
    ],
)
def test_malformed_constants_are_located_errors(X, message):
    with pytest.raises(SchemaError) as info:
        load_spec_text(SPEC.format(X=X, y="{npy: y.npy}"), "specs/ridge.yaml")
    assert info.value.message == message
    assert info.value.location.line == 5


@pytest.mark.parametrize(
    "files, y, message",
    [
        ({}, "{npy: y.npy, shape: [M]}", "constant 'y': no such file y.npy (relative to the spec's folder)"),
        ({"y.npy": Y[:5]}, "{npy: y.npy, shape: [M]}", "constant 'y' binds M = 5, but constant 'X' binds M = 7"),
        (
            {"y.npy": Y},
            "{npy: y.npy, shape: [M, 1]}",
            "constant 'y' holds an array of shape (7,), which does not fit its declared shape (M, 1)",
        ),
        (
            {"y.npy": np.array([{"a": 1}])},
            "{npy: y.npy}",
            "constant 'y': cannot read y.npy as a .npy array: Object arrays cannot be loaded when allow_pickle=False",
        ),
    ],
)
def test_data_that_does_not_fit_is_a_located_error_when_compiled(tmp_path, files, y, message):
    np.save(tmp_path / "X.npy", X)
    for name, value in files.items():
        np.save(tmp_path / name, value, allow_pickle=True)
    path = tmp_path / "ridge.yaml"
    path.write_text(SPEC.format(X="{npy: X.npy, shape: [M, in]}", y=y))
    with pytest.raises(SpecError) as info:
        build_problem(load_spec(path))
    assert info.value.message == message
    assert (info.value.location.file, info.value.location.line) == (str(path), 6)


def test_a_symlink_out_of_the_spec_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.npy"
    np.save(outside, X)
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "X.npy").symlink_to(outside)
    np.save(tmp_path / "spec" / "y.npy", Y)
    path = tmp_path / "spec" / "ridge.yaml"
    path.write_text(SPEC.format(X="{npy: X.npy, shape: [M, in]}", y="{npy: y.npy}"))
    with pytest.raises(SpecError) as info:
        build_problem(load_spec(path))
    assert info.value.message == "constant 'X': the file X.npy is outside the spec's folder"


def test_a_declared_dim_the_data_does_not_fit(tmp_path):
    np.save(tmp_path / "X.npy", X)
    path = tmp_path / "ridge.yaml"
    path.write_text(
        SPEC.replace("dims: {{out: [2, 4]}}", "dims: {{out: [2, 4], M: [2, 5]}}").format(
            X="{npy: X.npy, shape: [M, in]}", y="{npy: X.npy, shape: [M, in]}"
        )
    )
    with pytest.raises(SpecError) as info:
        build_problem(load_spec(path))
    assert info.value.message == "constant 'X' binds M = 7, outside the declared dim M: [2, 5] (line 2)"


def test_a_claim_wrt_a_constant_is_told_that_data_is_not_differentiated():
    text = SPEC.format(X="{npy: X.npy, shape: [M, in]}", y="{npy: y.npy}").replace(
        "name: right, wrt: w,", "name: right, wrt: X,"
    )
    with pytest.raises(SchemaError) as info:
        load_spec_text(text, "specs/ridge.yaml")
    assert info.value.message == "wrt 'X' is a constant (fixed data), which is never differentiated"
    assert info.value.hint == "declare X under inputs: to check the gradient with respect to it"
