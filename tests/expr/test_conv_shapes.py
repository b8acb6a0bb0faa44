"""Convolutions and pooling: symbolic output shapes in the user's symbols, exact strides, and the
pinned messages for kernels larger than the input, strides that do not divide, and bad keywords."""

from __future__ import annotations

import textwrap

import pytest

from gradcheck.errors import ExpressionError, ShapeError, SpecError
from gradcheck.expr.dims import Dim, parse_dim, shape_str
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.expr.shapes import ShapeEnv, infer_shape
from gradcheck.problem.build import build_problem
from gradcheck.spec.load import load_spec_text

D = Dim.of
RANGES = {"N": (1, 3), "C": (1, 4), "O": (2, 5), "H": (5, 9), "W": (6, 8), "kh": (2, 3), "kw": (1, 3), "h": (2, 4)}
H2 = parse_dim("2*h + 1", RANGES)  # an input size that stride 2 divides exactly with a 3-kernel
ENV = ShapeEnv(
    arrays={
        "X": (D("N"), D("C"), D("H"), D("W")),
        "K": (D("O"), D("C"), D("kh"), D("kw")),
        "K3": (D("O"), D("C"), Dim.const(3), Dim.const(3)),
        "Kt": (D("C"), D("O"), D("kh"), D("kw")),
        "Xs": (D("N"), D("C"), H2, H2),
        "L": (D("N"), D("C"), D("H")),
        "K1": (D("O"), D("C"), D("kh")),
        "B": (D("O"), D("O"), D("kh"), D("kw")),
        "V": (D("H"), D("W")),
        "G": (D("N"), D("O"), D("H") - D("kh") + Dim.const(1), D("W") - D("kw") + Dim.const(1)),
    },
    scalars=frozenset(),
    dims=RANGES,
    defines={},
)


def shape_of(text: str) -> str:
    return shape_str(infer_shape(parse(text, WHITELIST), ENV, text))


def error_of(text: str) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        infer_shape(parse(text, WHITELIST), ENV, text)
    return caught.value


@pytest.mark.parametrize(
    "text, shape",
    [
        ("conv2d(X, K)", "(N, O, H - kh + 1, W - kw + 1)"),
        ("conv2d(X, K, padding='valid')", "(N, O, H - kh + 1, W - kw + 1)"),
        ("conv2d(X, K, padding='same')", "(N, O, H, W)"),
        ("conv2d(X, K, padding=1)", "(N, O, H - kh + 3, W - kw + 3)"),
        ("conv2d(X, K, padding=(1, 0), dilation=(2, 1))", "(N, O, H - 2*kh + 4, W - kw + 1)"),
        ("conv2d(Xs, K3, stride=2)", "(N, O, h, h)"),  # (2h + 1 - 3) / 2 + 1 = h exactly
        ("conv2d(Xs, K3, stride=(2, 1), padding=1)", "(N, O, h + 1, 2*h + 1)"),
        ("conv1d(L, K1)", "(N, O, H - kh + 1)"),
        ("conv_transpose2d(X, Kt)", "(N, O, H + kh - 1, W + kw - 1)"),
        ("conv_transpose2d(X, Kt, stride=2, padding=1)", "(N, O, 2*H + kh - 4, 2*W + kw - 4)"),
        ("conv_transpose1d(L, Kt[:, :, :, 0], dilation=3)", "(N, O, H + 3*kh - 3)"),
        ("max_pool2d(Xs[:, :, 1:, 1:], 2)", "(N, C, h, h)"),
        ("avg_pool2d(Xs, 3, stride=2)", "(N, C, h, h)"),
        ("max_pool2d(X, 2, stride=1)", "(N, C, H - 1, W - 1)"),
        # the weight gradient of a convolution: correlate the input with the output's adjoint;
        # H - (H - kh + 1) + 1 simplifies to kh, so a correct claim has the weight's shape
        ('einsum("cohw->ochw", conv2d(einsum("nchw->cnhw", X), einsum("nohw->onhw", G)))', "(O, C, kh, kw)"),
        # and the input gradient: the transposed convolution with the same weight
        ("conv_transpose2d(G, K)", "(N, C, H, W)"),
    ],
)
def test_output_shapes_are_polynomials_in_the_users_symbols(text, shape):
    assert shape_of(text) == shape


def test_a_stride_that_rounds_down_is_refused_with_a_derived_dim_to_write():
    error = error_of("conv2d(X, K3, stride=2)")
    assert error.message == (
        "conv2d(): stride 2 does not divide H - 3 (the padded input minus the window) along axis 2 at H=6, "
        "so the output size (H - 3) // 2 + 1 would round down"
    )
    assert error.hint == (
        "gradcheck needs exact output sizes: write the input size H as a derived dim such as `2 * h + 1` "
        "(h a new dim), or pad it"
    )
    assert shape_str(error.recovered) == "(N, O, (H - 3) // 2 + 1, (W - 3) // 2 + 1)"


def test_a_kernel_larger_than_the_padded_input_is_refused_with_a_witness():
    env = ShapeEnv(ENV.arrays, ENV.scalars, {**RANGES, "H": (2, 6)}, {})
    text = "conv2d(X, K, dilation=2)"
    with pytest.raises(ShapeError) as caught:
        infer_shape(parse(text, WHITELIST), env, text)
    assert caught.value.message == (
        "conv2d(): along axis 2 the window (2*kh - 1) can be larger than the padded input (H): "
        "the output size H - 2*kh + 2 is -2 at H=2, kh=3"
    )
    assert caught.value.hint == "narrow the dims' ranges, pad the input (padding=) or use a smaller kernel"


def test_a_transposed_convolution_with_too_much_padding_is_refused():
    error = error_of("conv_transpose2d(X, Kt, padding=3)")
    assert error.message == (
        "conv_transpose2d(): along axis 2 the padding (6 in all) can remove the whole output "
        "(H + kh - 1): the output size H + kh - 7 is 0 at H=5, kh=2"
    )
    assert error.hint == "use less padding= or narrow the dims' ranges"


@pytest.mark.parametrize(
    "text, message",
    [
        ("conv2d(V, K)", "conv2d() needs x of shape (N, C, H, W), got (H, W)"),
        ("conv2d(X, K1)", "conv2d() needs a weight of shape (C_out, C, kH, kW), got (O, C, kh)"),
        ("conv1d(L, K)", "conv1d() needs a weight of shape (C_out, C, k), got (O, C, kh, kw)"),
        ("conv_transpose2d(X, K1)", "conv_transpose2d() needs a weight of shape (C, C_out, kH, kW), got (O, C, kh)"),
        ("conv2d(X, B)", "conv2d(): x has C channels (axis 1) but the weight takes O (its axis 1)"),
        ("conv_transpose2d(X, K)", "conv_transpose2d(): x has C channels (axis 1) but the weight takes O (its axis 0)"),
        (
            "conv2d(X, K, stride=2, padding='same')",
            "conv2d(): padding='same' needs stride=1 (as in torch), got stride=2",
        ),
        ("conv2d(X, K, stride=0)", "conv2d(): stride= must be at least 1, got 0"),
        ("conv2d(X, K, dilation=(1, 0))", "conv2d(): dilation= must be at least 1, got (1, 0)"),
        ("conv2d(X, K, padding=-1)", "conv2d(): padding= must be at least 0, got -1"),
        ("conv2d(X, K, stride=(1, 2, 3))", "conv2d(): stride= takes 2 integers (one per spatial axis), got (1, 2, 3)"),
        (
            "conv_transpose2d(X, Kt, padding='same')",
            "conv_transpose2d(): padding= must be an integer or a tuple of 2 "
            "(torch has no 'same' or 'valid' for transposed convolutions)",
        ),
        ("max_pool2d(X, kh)", "max_pool2d(): the pool size must be an integer literal, got kh"),
        ("avg_pool2d(X, 0)", "avg_pool2d(): the pool size must be at least 1, got 0"),
        ("max_pool2d(L, 2)", "max_pool2d() needs x of shape (N, C, H, W), got (N, C, H)"),
        ("max_pool2d(X, 2, padding=1)", "max_pool2d() does not take padding= (only stride=)"),
        (
            "max_pool2d(X, 2)",
            "max_pool2d(): stride 2 does not divide H - 2 (the padded input minus the window) "
            "along axis 2 at H=5, so the output size (H - 2) // 2 + 1 would round down",
        ),
    ],
)
def test_pinned_messages(text, message):
    assert error_of(text).message == message


@pytest.mark.parametrize(
    "text, message, span",
    [
        (
            "conv2d(x, w, padding='full')",
            "padding= must be 'valid', 'same', an integer or a tuple of integers",
            (21, 27),
        ),
        ("conv2d(x, w, stride=s)", "stride= must be an integer or a tuple of integers", (20, 21)),
        ("conv2d(x, w, dilation=(1, 2.5))", "dilation= must be an integer or a tuple of integers", (26, 29)),
        (
            "conv2d(x, w, groups=2)",
            "keyword argument 'groups' is not allowed "
            "(only axis=, axes=, keepdims=, ddof=, k=, approximate=, stride=, padding=, dilation= and lower=)",
            (13, 21),
        ),
    ],
)
def test_window_keywords_are_static_literals(text, message, span):
    with pytest.raises(ExpressionError) as caught:
        parse(text, WHITELIST)
    assert caught.value.message == message
    assert caught.value.span == span


def test_a_spec_error_points_at_the_file_line_and_column():
    text = textwrap.dedent(
        """\
        dims: {N: [1, 2], C: [1, 3], H: [5, 8], O: [2, 3]}
        inputs:
          x: {shape: [N, C, H, H]}
          w: {shape: [O, C, 3, 3]}
        loss: sum(conv2d(x, w, stride=2) ** 2)
        claims:
          - {name: g, wrt: w, gradient: w}
        """
    )
    with pytest.raises(SpecError) as caught:
        build_problem(load_spec_text(text, "conv.yaml"))
    shown = str(caught.value)
    assert shown.startswith("conv.yaml:5:11: ")
    assert "conv2d(): stride 2 does not divide H - 3" in shown
    assert "`2 * h + 1`" in shown


def test_a_stride_that_rounds_down_a_size_of_several_dims_asks_for_a_multiple():
    # the input size minus the window is not one dim plus a constant: no derived dim to suggest
    error = error_of("conv2d(X, K, stride=2)")
    assert error.message == (
        "conv2d(): stride 2 does not divide H - kh (the padded input minus the window) along axis 2 at H=5, kh=2, "
        "so the output size (H - kh) // 2 + 1 would round down"
    )
    assert error.hint == "gradcheck needs exact output sizes: make H - kh a multiple of 2 for every size in the ranges"
