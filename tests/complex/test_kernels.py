"""Expressions on complex data: numpy's meaning (abs is the modulus, .T never conjugates)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.expr.evaluate import evaluate, evaluate_batched
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import parse
from gradcheck.internal import ours

Z = np.array([3 + 4j, -1 - 2j, 0.5j])
A = np.array([[1 + 2j, 3 - 1j], [-2j, 4 + 0j], [1 + 1j, -1 + 0.5j]])


def _eval(text: str, **env) -> np.ndarray:
    return evaluate(parse(text, WHITELIST), env, {}, complex_data=True)


def test_abs_of_complex_data_is_the_modulus_as_in_numpy():
    np.testing.assert_allclose(_eval("abs(z)", z=Z), np.abs(Z), rtol=0, atol=0)
    assert _eval("abs(z)", z=Z).dtype == np.float64


def test_abs2_and_norm_of_complex_data_use_the_modulus():
    np.testing.assert_allclose(_eval("abs2(z)", z=Z), np.abs(Z) ** 2, rtol=1e-15)
    np.testing.assert_allclose(_eval("norm(z)", z=Z), np.linalg.norm(Z), rtol=1e-15)


def test_the_real_data_abs_is_kept_without_the_flag():
    # complex-step safe: the analytic continuation of |x| from real x, not the modulus
    out = evaluate(parse("abs(z)", WHITELIST), {"z": Z}, {})
    np.testing.assert_array_equal(out, np.where(Z.real < 0, -Z, Z))


def test_transpose_never_conjugates():
    np.testing.assert_array_equal(_eval("A.T", A=A), A.T)
    np.testing.assert_array_equal(_eval("transpose(A)", A=A), A.T)
    assert not np.allclose(_eval("A.T", A=A), A.conj().T)


def test_the_batched_walker_uses_the_same_kernels():
    batch = np.stack([Z, 2 * Z])
    out, has_axis = evaluate_batched(parse("sum(abs(z))", WHITELIST), {"z": batch}, {}, {"z"}, complex_data=True)
    assert has_axis
    np.testing.assert_allclose(out, [np.abs(Z).sum(), 2 * np.abs(Z).sum()], rtol=1e-15)


@pytest.mark.parametrize("text", ["relu(z)", "maximum(z, 0)", "max(z)", "sign(z)", "clip(z, -1, 1)"])
def test_functions_that_order_their_arguments_refuse_complex_values(text):
    with pytest.raises(ValueError) as info:
        _eval(text, z=Z)
    name = text.split("(")[0]
    assert str(info.value) == (
        f"{name}() needs real arguments: complex numbers have no order; apply it to abs() of the complex value"
    )


def test_first_order_continuations_refuse_complex_values():
    with pytest.raises(ValueError) as info:
        _eval("erf(z)", z=Z)
    assert str(info.value) == "erf() has no kernel for complex data"


def test_ordering_functions_still_take_real_values_on_complex_data():
    np.testing.assert_array_equal(_eval("relu(abs(z) - 2)", z=Z), np.maximum(np.abs(Z) - 2, 0))


def test_where_selects_complex_values_by_a_real_condition():
    out = _eval("where(abs(z) > 1, z, 0 * z)", z=Z)
    np.testing.assert_array_equal(out, np.where(np.abs(Z) > 1, Z, 0))
    batch = np.stack([Z, 2 * Z])
    out, _ = evaluate_batched(
        parse("where(abs(z) > 1, z, 0 * z)", WHITELIST), {"z": batch}, {}, {"z"}, complex_data=True
    )
    np.testing.assert_array_equal(out, np.where(np.abs(batch) > 1, batch, 0))


@pytest.mark.parametrize("text", ["sum(where(z > 0, z, 0 * z))", "where(0 <= z, z, 0 * z)"])
def test_comparisons_of_complex_values_are_refused_not_made_on_their_real_parts(text):
    batch = np.stack([Z, 2 * Z])
    for values in (
        lambda: _eval(text, z=Z),
        lambda: evaluate_batched(parse(text, WHITELIST), {"z": batch}, {}, {"z"}, complex_data=True),
    ):
        with pytest.raises(ValueError) as info:
            values()
        op = ">" if ">" in text else "<="
        assert str(info.value) == (
            f"comparison '{op}' needs real operands: complex numbers have no order; compare abs() of the complex value"
        )
        assert not ours(info.value)  # the spec's graph refused, not a bug of gradcheck


def test_comparisons_of_real_values_on_complex_data_are_kept():
    np.testing.assert_array_equal(_eval("where(real(z) > 0, z, 0 * z)", z=Z), np.where(Z.real > 0, Z, 0))


RNG = np.random.default_rng(0)
B = RNG.standard_normal((4, 3)) + 1j * RNG.standard_normal((4, 3))
H = B.conj().T @ B + 3 * np.eye(3)  # Hermitian positive definite


def test_linear_algebra_of_complex_data_is_numpy_s():
    # the real-data kernels continue the real functions to first order or without conjugation
    # (pinv around Re A, cholesky as L L^T): on complex data the values must be numpy's
    np.testing.assert_allclose(_eval("pinv(A)", A=B), np.linalg.pinv(B), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_eval("cholesky(H)", H=H), np.linalg.cholesky(H), rtol=1e-12, atol=1e-12)
    w = _eval("eigvalsh(H)", H=H)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(H), rtol=1e-12)
    V = _eval("eigvecsh(H)", H=H)
    np.testing.assert_allclose(H @ V, V * w, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(V.conj().T @ V, np.eye(3), atol=1e-12)
    largest = V[np.argmax(np.abs(V), axis=0), range(3)]
    np.testing.assert_allclose(largest.imag, 0, atol=1e-15)  # the phase chosen as for real data: largest entry > 0
    assert np.all(largest.real > 0)


def test_max_pooling_refuses_complex_values():
    with pytest.raises(ValueError) as info:
        _eval("max_pool2d(x, 2)", x=np.ones((1, 1, 2, 2)) * (1 + 1j))
    assert str(info.value) == (
        "max_pool2d() needs real arguments: complex numbers have no order; apply it to abs() of the complex value"
    )


def test_cholesky_of_complex_data_that_is_not_positive_definite_is_refused():
    with pytest.raises(np.linalg.LinAlgError) as info:
        _eval("cholesky(H)", H=-H)
    assert str(info.value) == "cholesky(): the matrix is not positive definite"
    assert not ours(info.value)
