"""Python losses at the edges of floating point (tests/corpus/fp_*.yaml): code whose np.abs is
not complex-step safe, at magnitudes where that term is 1e-7 of the derivative, and code that
rounds against a large intermediate its value does not show."""

import numpy as np


def l1_loss(x):
    """sum |x| + 0.5 sum x² at |x| ~ 1e7 .. 1e8: np.abs of a complex array is its modulus, so the
    complex step drops the L1 term, 1e-8 .. 1e-7 of the derivative."""
    return np.sum(np.abs(x)) + 0.5 * np.sum(x**2)


def l1_grad(x):
    return np.sign(x) + x


def l1_grad_forgot_l1(x):
    return x


def shifted_loss(x):
    """sum(|x + 1e8| - 1e8): the value is about sum(x), rounded at ulp(1e8) = 1.5e-8."""
    return np.sum(np.abs(x + 1e8) - 1e8)


def shifted_grad(x):
    return np.ones_like(x)


def shifted_grad_doubled(x):
    return 2 * np.ones_like(x)


def shifted_grad_off_1e3(x):
    return 1.001 * np.ones_like(x)
