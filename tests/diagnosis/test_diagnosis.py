"""Diagnosis on synthetic arrays: each hypothesis recognised, and only that one."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gradcheck.diagnosis.compare import Names, diagnose, nice_factor
from gradcheck.diagnosis.factor import (
    DimFit,
    Observation,
    dim_hint,
    factor_text,
    fit_dim_powers,
    hidden_dims,
    hidden_hint,
    unfitted_hint,
)
from gradcheck.verdict.tolerance import Tolerance

NAMES = Names(
    target="Theta", noun="claimed gradient", axes=("in", "out"), shape_sym="(in, out)", sizes={"in": 3, "out": 4}
)
TOL = Tolerance()


@pytest.fixture
def g():
    return np.random.default_rng(0).standard_normal((3, 4))


def test_exact_claim_passes(g):
    assert diagnose(g.copy(), g, TOL, NAMES).label == "pass"


@pytest.mark.parametrize(
    "factor, text", [(2.0, "factor 2"), (0.5, "factor 0.5"), (1 / 3, "factor 1/3"), (1.7320508, "factor 1.7320508")]
)
def test_scaled(g, factor, text):
    f = diagnose(factor * g, g, TOL, NAMES)
    assert f.label == "scaled" and text in f.summary
    assert f.factor == pytest.approx(factor)


def test_sign_flipped(g):
    f = diagnose(-g, g, TOL, NAMES)
    assert f.label == "sign-flipped" and f.factor == -1


def test_transposed_non_square(g):
    f = diagnose(g.T.copy(), g, TOL, NAMES)
    assert f.label == "transposed"
    assert "(out, in) = (4, 3)" in f.summary


def test_transposed_square():
    a = np.random.default_rng(1).standard_normal((3, 3))
    names = Names("A", "claimed gradient", ("n", "n"), "(n, n)")
    assert diagnose(a.T.copy(), a, TOL, names).label == "transposed"


def test_wrong_shape_that_is_not_a_transpose(g):
    f = diagnose(np.ones((2, 3)), g, TOL, NAMES)
    assert f.label == "shape-mismatch"
    assert "claimed gradient has shape (2, 3) but Theta has shape (in, out) = (3, 4)" == f.summary


def test_one_entry(g):
    c = g.copy()
    c[2, 1] *= 1.1
    f = diagnose(c, g, TOL, NAMES)
    assert f.label == "wrong"
    assert f.summary == "wrong: 1 of 12 entries of Theta is off: [2, 1]"
    assert f.entries[0].index == (2, 1)
    assert "11/10 x the gradient" in f.lines[0]


def test_column(g):
    c = g.copy()
    c[:, 3] = 0
    f = diagnose(c, g, TOL, NAMES)
    assert f.summary == "wrong: column 3 of Theta is off (3 of 3 entries; index 3 along out)"


def test_row(g):
    c = g.copy()
    c[1, :] *= -1
    f = diagnose(c, g, TOL, NAMES)
    assert f.summary.startswith("wrong: row 1 of Theta is off")
    assert "-1 x the gradient" in f.lines[0]


def test_scale_that_varies_is_wrong(g):
    c = g * np.linspace(1, 2, g.size).reshape(g.shape)
    assert diagnose(c, g, TOL, NAMES).label == "wrong"


def test_tiny_relative_error_is_caught_but_rounding_is_not(g):
    assert diagnose(g * (1 + 1e-6), g, TOL, NAMES).label == "scaled"
    assert diagnose(g * (1 + 1e-8), g, TOL, NAMES).label == "scaled"
    assert diagnose(g * (1 + 4e-16), g, TOL, NAMES).label == "pass"


def test_nice_factor():
    assert nice_factor(2.0) == "2" and nice_factor(-1.0) == "-1" and nice_factor(0.25) == "0.25"
    assert nice_factor(2 / 3) == "2/3" and nice_factor(np.pi) == "3.141592654"


# --- factors: rounded within the error bar, hinted only where a cause can produce them ---------


def test_a_tiny_relative_error_is_not_hinted_as_a_mean_or_a_half(g):
    f = diagnose(g * (1 + 1e-6), g, TOL, NAMES)
    assert f.summary == "scaled: the claim is 1.000001 x the gradient on every entry (factor 1.000001)"
    assert f.lines == (
        "too close to 1 for a dropped 1/2, a 1/n or a mean against a sum: a constant typed with too few digits, "
        "float32 arithmetic, or an epsilon or step size left in the formula? (relative error 1e-06)",
    )


def test_a_factor_within_the_oracles_error_bar_of_2_is_printed_as_2(g):
    f = diagnose(2 * g * (1 + 2e-9), g, TOL, NAMES, oracle_err=1e-8 * np.abs(g))
    assert f.summary == "scaled: the claim is 2 x the gradient on every entry (factor 2)"
    assert f.factor == 2.0
    assert f.factor_error == pytest.approx(4 * 2 * 1e-8, rel=0.5)
    assert f.lines[0].startswith("a 1/2 was dropped")


def test_a_factor_outside_its_error_bar_keeps_its_digits(g):
    f = diagnose(g * (1 + 1e-8), g, TOL, NAMES)
    assert "factor 1.00000001)" in f.summary and f.factor != 1.0


def test_a_float32_factor_shows_the_digits_its_error_bar_allows(g):
    f = diagnose(g * 1.000100001, g, TOL, NAMES, claim_err=1e-7 * np.abs(g))
    assert f.summary.endswith("(factor 1.0001)")


@pytest.mark.parametrize(
    "factor, hint",
    [
        (3.0, "a 1/3 was dropped (a sum where a mean over 3 entries belongs?)"),
        (0.25, "an extra 1/4 (a mean over 4 entries where a sum belongs?)"),
        (2 / 3, "a constant factor is off: a coefficient, or an exponent brought down wrong?"),
        (
            -2.0,
            "the sign is flipped, and a 1/2 was dropped: the claim fits the loss without its 1/2 (or d(x^2) = 2x was doubled)",
        ),
    ],
)
def test_constant_hints_name_only_causes_that_give_that_factor(g, factor, hint):
    assert diagnose(factor * g, g, TOL, NAMES).lines == (hint,)


def test_a_factor_no_slip_explains_gets_just_the_number(g):
    f = diagnose(1.7320508 * g, g, TOL, NAMES)
    assert f.label == "scaled" and f.lines == ()


def test_factor_text_rounds_only_to_the_one_rational_in_the_bar():
    assert factor_text(2.000000002, 1e-8) == "2"
    assert factor_text(2.000000002, 1e-12) == "2.000000002"
    assert factor_text(0.3333333, 1e-6) == "1/3"
    assert factor_text(1.1, 0.05) == "1.1"  # 10/9, 11/10 and 12/11 all lie within the bar
    assert factor_text(1.000100001, 1e-6) == "1.0001"
    assert factor_text(1.0000000001, 1e-6) == "1"  # never rounded to 1 as a rational: digits say it


# --- a factor fitted across the dims: c * prod(size ** power) -------------------------------


def _obs(sizes, factor):
    return Observation(sizes, factor, 1e-15 * abs(factor or 1))


def test_a_factor_that_follows_sqrt_d_is_named_and_n_is_ruled_out():
    """Issue 5: at d = 4 a dropped 1/sqrt(d) is a factor 2, and it also stays 2 when n changes."""
    base = _obs({"n": 2, "d": 4}, 2.0)
    seen = [_obs({"n": 3, "d": 4}, 2.0), _obs({"n": 2, "d": 5}, 5**0.5), _obs({"n": 2, "d": 6}, 6**0.5)]
    fit = fit_dim_powers(base, seen, ("n", "d"))
    assert fit == DimFit(constant=Fraction(1), powers=(("d", Fraction(1, 2)),))
    assert dim_hint(fit, base, seen) == (
        "the factor is sqrt(d): a 1/sqrt(d) was dropped (factor 2 at d = 4, 2.236067977 at d = 5, "
        "2.449489743 at d = 6; unchanged when n changes)"
    )


@pytest.mark.parametrize(
    "law, text, hint",
    [
        (lambda s: s["M"] * s["N"], "M*N", "a 1/(M*N) was dropped (a sum where a mean belongs?)"),
        (lambda s: 1 / s["M"], "1/M", "an extra 1/M (a mean where a sum belongs?)"),
        (lambda s: s["M"] / s["N"], "M/N", "the claim is off by M/N"),
        (lambda s: 2 * s["N"] ** 0.5, "2*sqrt(N)", "a 1/(2*sqrt(N)) was dropped"),
        (
            lambda s: -0.5 / s["M"],
            "-1/(2*M)",
            "the sign is flipped, and an extra 1/(2*M) (a mean where a sum belongs?)",
        ),
    ],
)
def test_products_of_dim_powers_are_fitted(law, text, hint):
    base_sizes = {"M": 2, "N": 3}
    variations = [{"M": 4, "N": 3}, {"M": 5, "N": 3}, {"M": 2, "N": 5}, {"M": 2, "N": 6}]
    base = _obs(base_sizes, law(base_sizes))
    seen = [_obs(s, law(s)) for s in variations]
    fit = fit_dim_powers(base, seen, ("M", "N"))
    assert fit is not None and fit.text() == text
    assert dim_hint(fit, base, seen).startswith(f"the factor is {text}: {hint} (factor ")


def test_a_factor_no_product_of_powers_fits_gets_just_the_numbers():
    base = _obs({"n": 2, "d": 3}, 4.0)  # the factor is d + 1
    seen = [_obs({"n": 3, "d": 3}, 4.0), _obs({"n": 2, "d": 5}, 6.0), _obs({"n": 2, "d": 6}, 7.0)]
    assert fit_dim_powers(base, seen, ("n", "d")) is None
    assert unfitted_hint(base, seen) == (
        "the factor changes with the dims but fits no product of their powers "
        "(factor 4 at d = 3, 6 at d = 5, 7 at d = 6; unchanged when n changes)"
    )


def test_a_fit_that_a_second_variation_contradicts_is_dropped():
    base = _obs({"d": 4}, 2.0)  # sqrt(d) from d = 4 -> 9, but d = 16 says otherwise
    assert fit_dim_powers(base, [_obs({"d": 9}, 3.0)], ("d",)) is not None
    assert fit_dim_powers(base, [_obs({"d": 9}, 3.0), _obs({"d": 16}, 5.0)], ("d",)) is None


def test_a_claim_that_is_no_multiple_at_another_size_is_not_fitted():
    base = _obs({"d": 4}, 2.0)
    seen = [Observation({"d": 5}, None, 0.0)]
    assert fit_dim_powers(base, seen, ("d",)) is None
    assert unfitted_hint(base, seen) == (
        "the factor changes with the dims but fits no product of their powers "
        "(factor 2 at d = 4, not a constant multiple at d = 5)"
    )


def test_a_dim_that_could_not_change_is_named_when_it_could_explain_the_constant():
    assert hidden_dims(Fraction(2), {"k": 4, "n": 3}) == [("k", "sqrt(k)")]
    assert hidden_dims(Fraction(1, 3), {"k": 4, "n": 3}) == [("n", "1/n")]
    assert hidden_dims(Fraction(5), {"k": 4, "n": 3}) == []


# --- layout bugs: entries in the wrong places, a flat claim for a matrix ----------------------

W = Names(target="w", noun="claimed gradient", axes=("p",), shape_sym="(p,)", sizes={"p": 3})


def test_two_swapped_entries_are_named():
    g = np.array([0.3, -1.2, 2.5])
    f = diagnose(g[[1, 0, 2]], g, TOL, W)
    assert f.label == "wrong"
    assert f.summary == "wrong: entries [0] and [1] of w are swapped"
    assert f.lines == (
        "the claim holds the right values in the wrong places: its entries are in another order than w's",
    )
    assert f.swaps == (((0,), (1,)),)


def test_a_cycle_of_three_entries_is_named_with_where_each_value_went():
    g = np.array([0.3, -1.2, 2.5, 4.0])
    f = diagnose(g[[1, 2, 0, 3]], g, TOL, W)
    assert f.summary == "wrong: entries [0], [1] and [2] of w are permuted"
    assert f.lines[1] == "[0] holds the gradient's [1], [1] holds [2], [2] holds [0]"
    assert f.swaps == (((0,), (1,), (2,)),)


def test_swapped_rows_and_columns_are_named_as_rows_and_columns(g):
    f = diagnose(g[[1, 0, 2], :], g, TOL, NAMES)
    assert f.summary == "wrong: rows 0 and 1 of Theta are swapped (along in)"
    f = diagnose(g[:, [0, 3, 2, 1]], g, TOL, NAMES)
    assert f.summary == "wrong: columns 1 and 3 of Theta are swapped (along out)"


def test_entries_off_without_trading_places_are_not_a_swap():
    g = np.array([0.3, -1.2, 2.5])
    assert diagnose(np.array([0.3, 0.3, 2.5]), g, TOL, W).summary == "wrong: 1 of 3 entries of w is off: [1]"
    f = diagnose(g * [1.1, 1.1, 1.0], g, TOL, W)
    assert f.summary == "wrong: 2 of 3 entries of w are off: [0], [1]" and f.swaps == ()


@pytest.mark.parametrize(
    "order, line",
    [
        ("C", "reshaped in C order (row by row, numpy's default) the claim matches"),
        ("F", "reshaped in F order (column by column) the claim matches: reshape with order='F'"),
    ],
)
def test_a_flat_claim_for_a_matrix_says_reshape_and_which_order_matches(g, order, line):
    f = diagnose(g.ravel(order=order), g, TOL, NAMES)
    assert f.label == "shape-mismatch"
    assert f.summary == "claimed gradient has shape (12,) but Theta has shape (in, out) = (3, 4)"
    assert f.lines == ("same number of entries: reshape to (in, out)?", line)
    assert f.reshape_order == order


def test_a_flat_claim_that_matches_in_no_order_says_so(g):
    f = diagnose(2 * g.ravel(), g, TOL, NAMES)
    assert f.lines == (
        "same number of entries: reshape to (in, out)?",
        "reshaped in C or F order it still does not match",
    )
    assert f.reshape_order == ""


def test_a_constant_that_a_fixed_dim_explains_is_named_with_the_dims_that_did_change():
    base = _obs({"n": 2, "k": 4}, 2.0)
    seen = [_obs({"n": 3, "k": 4}, 2.0)]
    assert hidden_hint(2.0, [("k", "sqrt(k)")], {"k": 4}, base, seen) == (
        "a constant factor, or sqrt(k): a dim that could not be changed, so the two cannot be told apart "
        "(factor 2 at k = 4; it stays 2 when n changes from 2 to 3)"
    )


def test_the_fitted_factor_survives_magnitudes_whose_squares_underflow():
    from gradcheck.diagnosis.factor import fitted_factor

    g = np.array([1.0, -2.0, 3.0]) * 1e-286
    assert float(np.dot(g, g)) == 0.0  # the unscaled <g, g> the directional diagnosis used to divide by
    assert fitted_factor(2 * g, g) == pytest.approx(2.0, rel=1e-12)
    assert fitted_factor(g, np.zeros(3)) is None
