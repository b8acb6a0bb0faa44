"""Calling conventions real code uses: dims reach a callable only through a parameter that names
them and has no default (never a defaulted parameter, never ``**kwargs``), and a failure block
lists what keywords every callable received. The same rule holds for a spec's ``{python:}`` entries."""

from __future__ import annotations

import functools

import numpy as np

from gradcheck import check_gradient
from gradcheck.options import RunOptions
from gradcheck.report.text import failure_block
from gradcheck.run import run


def sin_loss(x):
    return np.sum(np.sin(x))


def nth_derivative(x, n=1):
    """The n-th derivative of sin: its default is the gradient; n is a parameter, not the dim."""
    return np.sin(x + n * np.pi / 2)


def test_a_defaulted_parameter_named_like_a_dim_keeps_its_default():
    result = check_gradient(sin_loss, nth_derivative, inputs={"x": "n"}, dims={"n": (3, 6)}, wrt="x", seed=0)
    assert result.passed, result.failure_text()


def test_a_dim_reaches_a_parameter_that_names_it_without_a_default():
    seen = []

    def scaled_loss(x, n):
        seen.append(n)
        return np.sum(x**2) / n

    def scaled_grad(x, n):
        return 2 * x / n

    result = check_gradient(scaled_loss, scaled_grad, inputs={"x": "n"}, dims={"n": (3, 6)}, wrt="x", seed=0)
    assert result.passed, result.failure_text()
    assert seen and all(isinstance(n, int) and 3 <= n <= 6 for n in seen)


def _logging(fn):
    """A decorator as written in real code: no functools.wraps, so its signature is (*args, **kwargs)."""

    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def test_a_kwargs_wrapper_receives_the_inputs_and_never_the_dims():
    loss = _logging(lambda X, w: np.sum(np.tanh(X @ w)))
    grad = _logging(lambda X, w: X.T @ (1 - np.tanh(X @ w) ** 2))
    result = check_gradient(loss, grad, inputs={"X": "M n", "w": "n"}, wrt="w", seed=0, examples=5)
    assert result.passed, result.failure_text()


def test_a_wraps_decorator_is_called_by_the_signature_it_shows():
    @functools.wraps(nth_derivative)
    def wrapped(*args, **kwargs):
        return nth_derivative(*args, **kwargs)

    result = check_gradient(sin_loss, wrapped, inputs={"x": "n"}, wrt="x", seed=0, examples=5)
    assert result.passed, result.failure_text()


def test_the_failure_block_lists_the_keywords_each_callable_received():
    def loss(X, w, M):
        return np.sum(np.tanh(X @ w)) / M

    def grad_forgets_the_mean(X, w, scale=1.0):
        return scale * X.T @ (1 - np.tanh(X @ w) ** 2)

    result = check_gradient(
        loss, grad_forgets_the_mean, inputs={"X": "M n", "w": "n"}, dims={"M": 5, "n": 3}, wrt="w", seed=0
    )
    assert not result.passed
    assert "  note: keywords received: loss(X, w, M), grad_forgets_the_mean(X, w)" in result.failure_text()


def test_kwargs_catch_alls_never_receive_dims():
    def loss(X, w, **options):
        if options:
            raise TypeError(f"unexpected options {sorted(options)}")
        return np.sum(X @ w)

    def grad(X, w, **options):
        return X.sum(axis=0) + len(options)

    result = check_gradient(loss, grad, inputs={"X": "M n", "w": "n"}, wrt="w", seed=0, examples=3)
    assert result.passed, result.failure_text()


def test_a_loss_that_raises_on_every_draw_shows_what_it_received():
    def loss(x, n):
        raise ValueError("not today")

    def grad(x):
        return x

    result = check_gradient(loss, grad, inputs={"x": "n"}, dims={"n": 4}, wrt="x", seed=0, examples=2)
    assert result.verdict.label == "error"  # every draw raised: an error, not a numerical outcome
    assert "  note: keywords received: loss(x, n)" in result.failure_text(), result.failure_text()


SPEC = """\
spec: calling
dims: {{n: [3, 6]}}
inputs:
  x: {{shape: [n]}}
loss: {{python: "{mod}:loss"}}
claims:
  - {{name: nth, wrt: x, gradient: {{python: "{mod}:nth"}}}}
  - {{name: wrapped, wrt: x, gradient: {{python: "{mod}:wrapped"}}}}
  - {{name: wrong, wrt: x, gradient: {{python: "{mod}:wrong"}}}}
"""
MODULE = """\
import numpy as np

def loss(x, n):
    return np.sum(np.sin(x)) / n

def nth(x, n, order=1):
    return np.sin(x + order * np.pi / 2) / n

def _plain(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper

@_plain
def wrapped(x):
    return np.cos(x) / len(x)

def wrong(x):
    return np.cos(x)
"""


def test_spec_python_entries_follow_the_same_rule(tmp_path, monkeypatch):
    mod = "calling_rule_mod"
    (tmp_path / f"{mod}.py").write_text(MODULE)
    spec = tmp_path / "calling.yaml"
    spec.write_text(SPEC.format(mod=mod))
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run([str(spec)], RunOptions(seed=2, examples=5))
    assert not result.failures, result.failures
    verdicts = {v.claim: v for v in result.verdicts}
    assert verdicts["nth"].passed and verdicts["wrapped"].passed, [failure_block(v) for v in result.verdicts]
    block = failure_block(verdicts["wrong"])
    assert "  note: keywords received: loss(x, n), wrong(x)" in block, block


def test_two_specs_with_a_module_of_the_same_name_each_get_their_own(tmp_path):
    """specs/a/gradfns.py and specs/b/gradfns.py: the second spec must not see the first's module."""
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    for folder, factor in (("a", 1), ("b", 2)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "gradfns.py").write_text(
            f"def loss_{folder}(x):\n    return {factor} * (x ** 2).sum()\n\n"
            f"def grad_{folder}(x):\n    return {2 * factor} * x\n"
        )
        (tmp_path / folder / "s.yaml").write_text(
            f"spec: s{folder}\ndims: {{n: [2, 4]}}\ninputs:\n  x: {{shape: [n]}}\n"
            f'loss: {{python: "gradfns:loss_{folder}"}}\n'
            f'claims:\n  - {{name: g, wrt: x, gradient: {{python: "gradfns:grad_{folder}"}}}}\n'
        )
    result = run([str(tmp_path / "a" / "s.yaml"), str(tmp_path / "b" / "s.yaml")], RunOptions(seed=1, examples=3))
    assert not result.failures, result.failures
    assert [v.label for v in result.verdicts] == ["pass", "pass"], [v.diagnosis for v in result.verdicts]


def test_a_module_beside_the_spec_that_shadows_an_installed_one_is_refused(tmp_path):
    from gradcheck.options import RunOptions
    from gradcheck.run import run

    (tmp_path / "pandas.py").write_text("def loss(x):\n    return (x ** 2).sum()\n\ndef grad(x):\n    return 2 * x\n")
    (tmp_path / "s.yaml").write_text(
        "dims: {n: [2, 4]}\ninputs:\n  x: {shape: [n]}\nloss: sum(x ** 2)\n"
        'claims:\n  - {name: g, wrt: x, gradient: {python: "pandas:grad"}}\n'
    )
    result = run([str(tmp_path / "s.yaml")], RunOptions(seed=1, examples=2))
    messages = [f.message for f in result.failures] + [v.diagnosis for v in result.verdicts]
    assert any("module 'pandas' exists both beside the spec" in m and "installed" in m for m in messages), messages
