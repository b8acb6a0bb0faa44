"""A sample user project for the plugin's tests: a numpy package, spec files, an API test."""

from __future__ import annotations

import textwrap

import pytest

# pytester's in-process runs restore sys.modules afterwards, and numpy cannot be loaded twice
# in one process: load the heavy modules (numpy, scipy, pandas, Hypothesis) here, once.
import gradcheck.api  # noqa: F401,E402
import gradcheck.check  # noqa: F401,E402
import gradcheck.report.frames  # noqa: F401,E402

LOSSES = """
import numpy as np


def sse(X, Y, Theta):
    return 0.5 * np.sum((Y - X @ Theta) ** 2)


def sse_grad(X, Y, Theta):
    return X.T @ (X @ Theta - Y)


def sse_grad_doubled(X, Y, Theta):
    return 2 * X.T @ (X @ Theta - Y)
"""

LINEAR = """\
dims: {M: [2, 6], in: [2, 5], out: [2, 5]}
inputs:
  X: {shape: [M, in]}
  Y: {shape: [M, out]}
  Theta: {shape: [in, out]}
loss: {python: "userpkg.losses:sse"}
claims:
  - name: right
    wrt: Theta
    gradient: {python: "userpkg.losses:sse_grad"}
  - name: doubled
    wrt: Theta
    gradient: {python: "userpkg.losses:sse_grad_doubled"}
  - name: known-doubled
    wrt: Theta
    gradient: {python: "userpkg.losses:sse_grad_doubled"}
    expect: fail
  - name: both
    wrt: [X, Theta]
    gradient: {X: "(X @ Theta - Y) @ Theta.T", Theta: "X.T @ (X @ Theta - Y)"}
"""

API_TEST = """
import numpy as np
from gradcheck import assert_gradient

INPUTS = {"X": "M n", "W": "n k"}


def relu_loss(W, X):
    # np.maximum relu, a float buffer and np.abs: none of it is complex-step safe
    h = np.zeros((X.shape[0], W.shape[1]))
    h[:] = np.maximum(X @ W, 0.0)
    return np.sum(h ** 2) + np.sum(np.abs(W) ** 3)


def relu_grad(W, X):
    return X.T @ (2 * np.maximum(X @ W, 0.0)) + 3 * np.abs(W) * W


def relu_grad_no_mask(W, X):
    return X.T @ (2 * (X @ W)) + 3 * np.abs(W) * W


def test_relu_grad():
    assert_gradient(relu_loss, relu_grad, inputs=INPUTS, wrt="W", examples=8)


def test_relu_grad_no_mask():
    assert_gradient(relu_loss, relu_grad_no_mask, inputs=INPUTS, wrt="W", examples=8)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user project that opts in with one ini line; its specs are not named *.gradcheck.yaml."""
    pytester.makeini("[pytest]\ngradcheck_specs = specs/*.yaml\n")
    pytester.mkpydir("userpkg")
    pytester.path.joinpath("userpkg", "losses.py").write_text(textwrap.dedent(LOSSES))
    pytester.mkdir("specs")
    pytester.path.joinpath("specs", "linear.yaml").write_text(LINEAR)
    pytester.mkdir("config")
    pytester.path.joinpath("config", "deploy.yaml").write_text("service: {replicas: 3}\n")  # not a spec
    pytester.mkdir("tests")
    pytester.path.joinpath("tests", "test_api_use.py").write_text(API_TEST)
    return pytester
