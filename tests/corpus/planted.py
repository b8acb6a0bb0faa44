"""Hand-written gradients for the planted-bug corpus: one correct, the rest wrong on purpose."""

import numpy as np


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def theta_grad(X, Y, Theta):
    s = _sig(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))


def theta_grad_one_entry(X, Y, Theta):
    g = theta_grad(X, Y, Theta)
    g[0, 1] *= 1.1  # one entry off by 10 %
    return g


def theta_grad_bias_column(X, Y, Theta):
    g = theta_grad(X, Y, Theta)
    g[:, -1] = 0.0  # forgot the last column
    return g


def theta_grad_raises(X, Y, Theta):
    raise ValueError("operands could not be broadcast together")


def theta_grad_asker(X, Y, Theta):
    s = _sig(X @ Theta)
    return ((Y - s) * -s * (1 - s)).sum(axis=1, keepdims=True) * X


def theta_grad_nan(X, Y, Theta):
    g = theta_grad(X, Y, Theta)
    g[1, 0] = np.nan
    return g


def kinks_grad_f32(Xk, wk):
    """The kinks gradient computed in float32, as float32 user code would."""
    X = Xk.astype(np.float32)
    z = X @ wk.astype(np.float32)
    d = (
        (z > 0).astype(np.float32)
        + np.where(z > 0, 1, -1).astype(np.float32)
        + np.where(z >= 0.5 * z, 1.0, 0.5).astype(np.float32)
    )
    return X.T @ d


def kinks_grad_f32_off(Xk, wk):
    return kinks_grad_f32(Xk, wk) * np.float32(1.0001)


def theta_grad_flat(X, Y, Theta):
    return theta_grad(X, Y, Theta).ravel()  # a flat vector for an (in, out) parameter


def theta_grad_flat_f(X, Y, Theta):
    return theta_grad(X, Y, Theta).ravel(order="F")


def theta_grad_rows_swapped(X, Y, Theta):
    return theta_grad(X, Y, Theta)[[1, 0, *range(2, Theta.shape[0])]]


def w_grad_swapped(X, t, w):
    """Two parameters returned in the other order (an intercept's and a scale's gradient exchanged)."""
    g = 2 / X.shape[0] * X.T @ (X @ w - t)
    return g[[1, 0, *range(2, w.shape[0])]]
