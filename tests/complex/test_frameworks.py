"""The convention against the frameworks: torch's .grad is gradcheck's gradient; jax's is its conjugate."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.api import check_gradient

INPUTS = {
    "A": {"shape": "M n", "dtype": "complex128"},
    "b": {"shape": "M", "dtype": "complex128"},
    "z": {"shape": "n", "dtype": "complex128"},
}
DIMS = {"M": 5, "n": 3}


def test_torch_grad_of_a_real_loss_of_a_complex_tensor_passes_and_its_conjugate_is_diagnosed():
    torch = pytest.importorskip("torch")

    def loss(A, b, z):
        return 0.5 * torch.sum(torch.abs(A @ z - b) ** 2)

    def grad(A, b, z):  # torch's own .grad, not through gradcheck's adapter
        z = torch.from_numpy(np.array(z)).requires_grad_(True)
        loss(torch.from_numpy(np.array(A)), torch.from_numpy(np.array(b)), z).backward()
        return z.grad.numpy()

    def numpy_loss(A, b, z):
        return float(loss(*(torch.from_numpy(np.array(a)) for a in (A, b, z))))

    right = check_gradient(numpy_loss, grad, wrt="z", inputs=INPUTS, dims=DIMS, seed=2, examples=4).verdict
    assert right.label == "pass", (right.diagnosis, right.lines)
    wrong = check_gradient(
        numpy_loss, lambda A, b, z: np.conj(grad(A, b, z)), wrt="z", inputs=INPUTS, dims=DIMS, seed=2, examples=4
    ).verdict
    assert wrong.label == "conjugated"


def test_the_torch_adapter_passes_complex_tensors_through():
    pytest.importorskip("torch")
    import torch

    from gradcheck.adapters import torch as adapter

    def loss(A, b, z):
        return 0.5 * torch.sum(torch.abs(A @ z - b) ** 2)

    v = check_gradient(
        adapter.numpy_function(loss), adapter.gradient(loss, "z"), wrt="z", inputs=INPUTS, dims=DIMS, seed=3, examples=4
    ).verdict
    assert v.label == "pass", (v.diagnosis, v.lines)


def test_the_jax_adapter_converts_jax_s_conjugate():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from gradcheck.adapters import jax as adapter

    def loss(A, b, z):
        return 0.5 * jnp.sum(jnp.abs(A @ z - b) ** 2)

    raw = jax.grad(lambda z, A, b: loss(A, b, z))
    z, A, b = np.array([1 + 2j]), np.array([[1.0 + 1j]]), np.array([0.5j])
    converted = adapter.gradient(loss, "z")(A=A, b=b, z=z)
    np.testing.assert_allclose(converted, np.conj(np.asarray(raw(z, A, b))))
    v = check_gradient(
        adapter.numpy_function(loss), adapter.gradient(loss, "z"), wrt="z", inputs=INPUTS, dims=DIMS, seed=3, examples=4
    ).verdict
    assert v.label == "pass", (v.diagnosis, v.lines)
