"""The convolution and pooling kernels against torch's documented semantics, and the backward
passes gradcheck derives for them against torch's autograd (torch's convolution_backward).

Runs only where torch is installed (the bench extra); never a runtime dependency.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.expr.evaluate import evaluate
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse

torch = pytest.importorskip("torch")
F = torch.nn.functional


def ev(text: str, **env) -> np.ndarray:
    return evaluate(parse(text, WHITELIST), env, {})


def _t(a: np.ndarray):
    return torch.tensor(a, dtype=torch.float64)


def written(keywords: dict) -> str:
    """``, stride=(2, 3), padding='same'``: the keywords as an expression writes them."""
    return "".join(f", {k}={v!r}" for k, v in keywords.items())


CONVOLUTIONS = [
    # (function, x shape, w shape, keywords)
    ("conv1d", (2, 3, 9), (4, 3, 3), {}),
    ("conv1d", (2, 3, 10), (4, 3, 2), dict(stride=2, padding=1, dilation=3)),
    ("conv1d", (1, 2, 7), (3, 2, 4), dict(padding="same")),
    ("conv2d", (2, 3, 7, 8), (4, 3, 3, 2), {}),
    ("conv2d", (2, 3, 9, 8), (5, 3, 3, 3), dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1))),
    ("conv2d", (1, 2, 6, 7), (3, 2, 4, 3), dict(padding="same", dilation=(1, 2))),
    ("conv2d", (2, 2, 6, 6), (3, 2, 2, 2), dict(padding="valid", stride=2)),
    ("conv_transpose1d", (2, 3, 5), (3, 4, 3), dict(stride=2, padding=1, dilation=2)),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 2), {}),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1))),
]


@pytest.mark.parametrize("function, x_shape, w_shape, keywords", CONVOLUTIONS)
def test_convolutions_match_torch(function, x_shape, w_shape, keywords):
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    ours = ev(f"{function}(x, w{written(keywords)})", x=x, w=w)
    theirs = getattr(F, function)(_t(x), _t(w), **keywords).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "text, call",
    [
        ("max_pool2d(x, 2)", lambda x: F.max_pool2d(x, 2)),
        ("max_pool2d(x, 3, stride=(1, 2))", lambda x: F.max_pool2d(x, 3, stride=(1, 2))),
        ("avg_pool2d(x, 2)", lambda x: F.avg_pool2d(x, 2)),
        ("avg_pool2d(x, 3, stride=2)", lambda x: F.avg_pool2d(x, 3, stride=2)),
    ],
)
def test_pooling_matches_torch(text, call):
    x = np.random.default_rng(8).normal(size=(2, 3, 7, 9))
    np.testing.assert_allclose(ev(text, x=x), call(_t(x)).numpy(), rtol=1e-12, atol=1e-12)


# The backward passes of a convolution layer as gradcheck derives them (tests/derive checks the
# rules build these; here they meet torch's autograd): the input gradient is the transposed
# convolution of the output's adjoint G with the same weight, the weight gradient a convolution
# of the input with G, batch and channel axes swapped.
BACKWARD = [  # (function, x shape, w shape, forward keywords, weight gradient's: stride and dilation swapped)
    ("conv2d", (2, 3, 9, 9), (4, 3, 3, 3), dict(stride=2, padding=1), dict(padding=1, dilation=2)),
    ("conv2d", (2, 3, 8, 7), (4, 3, 3, 2), dict(dilation=(2, 1)), dict(stride=(2, 1))),
    ("conv1d", (2, 3, 11), (4, 3, 3), dict(stride=2, dilation=2), dict(stride=2, dilation=2)),
]


@pytest.mark.parametrize("function, x_shape, w_shape, forward, weight_grad", BACKWARD)
def test_derived_convolution_backward_matches_torch_autograd(function, x_shape, w_shape, forward, weight_grad):
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    tx, tw = _t(x).requires_grad_(), _t(w).requires_grad_()
    y = getattr(F, function)(tx, tw, **forward)
    G = rng.normal(size=tuple(y.shape))
    (y * _t(G)).sum().backward()
    nd = int(function[-2])
    swap = '"ncl->cnl"' if nd == 1 else '"nchw->cnhw"'
    dx = ev(f"conv_transpose{nd}d(G, w{written(forward)})", G=G, w=w)
    dw = ev(f"einsum({swap}, {function}(einsum({swap}, x), einsum({swap}, G){written(weight_grad)}))", x=x, G=G)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-11, atol=1e-11)


def test_derived_max_pool_backward_matches_torch_autograd():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 3, 6, 8))
    tx = _t(x).requires_grad_()
    y = F.max_pool2d(tx, 2)
    G = rng.normal(size=tuple(y.shape))
    (y * _t(G)).sum().backward()
    up = "eye(3)[:, :, None, None] * ones((2, 2))"
    text = f"where(x == conv_transpose2d(max_pool2d(x, 2), {up}, stride=2), conv_transpose2d(G, {up}, stride=2), 0)"
    dx = ev(text, x=x, G=G)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
