"""Hand-written numpy gradients used by the gallery specs' ``{python: ...}`` claims."""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sse_grad(X, Y, Theta):
    """d/dTheta of 1/2 sum (Y - sigmoid(X Theta))^2."""
    s = _sigmoid(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))


def mlp_relu_grads(X, Y, W1, b1, W2, b2):
    """Backpropagation for 1/(2M) sum (relu(X W1 + b1) W2 + b2 - Y)^2, by hand in numpy.

    Returns a dict keyed by the spec's wrt names (mlp_relu.yaml).
    """
    M = X.shape[0]
    A = X @ W1 + b1
    H = np.maximum(A, 0.0)
    dO = (H @ W2 + b2 - Y) / M
    dA = (dO @ W2.T) * (A > 0)
    return {"W1": X.T @ dA, "b1": dA.sum(axis=0), "W2": H.T @ dO, "b2": dO.sum(axis=0)}


def mlp_relu_grads_forgot_mask(X, Y, W1, b1, W2, b2):
    """The same backpropagation with the relu derivative (the mask A > 0) forgotten."""
    M = X.shape[0]
    A = X @ W1 + b1
    H = np.maximum(A, 0.0)
    dO = (H @ W2 + b2 - Y) / M
    dA = dO @ W2.T
    return {"W1": X.T @ dA, "b1": dA.sum(axis=0), "W2": H.T @ dO, "b2": dO.sum(axis=0)}


def conv_backward_naive(X, K, b, T):
    """CS231n's conv_backward_naive loops for conv_layer.yaml (stride 2, padding 1): every output
    entry adds its window times dout to dK, dout to db, and K[f] times dout back into the padded dX."""
    s, pad = 2, 1
    F, _, HH, WW = K.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, _, Hp, Wp = Xp.shape
    Ho, Wo = (Hp - HH) // s + 1, (Wp - WW) // s + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for y in range(Ho):
                for x in range(Wo):
                    out[n, f, y, x] = np.sum(Xp[n, :, y * s : y * s + HH, x * s : x * s + WW] * K[f]) + b[f]
    dout = out - T
    dXp, dK, db = np.zeros_like(Xp), np.zeros_like(K), np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for y in range(Ho):
                for x in range(Wo):
                    window = (n, slice(None), slice(y * s, y * s + HH), slice(x * s, x * s + WW))
                    db[f] += dout[n, f, y, x]
                    dK[f] += Xp[window] * dout[n, f, y, x]
                    dXp[window] += K[f] * dout[n, f, y, x]
    return {"X": dXp[:, :, pad:-pad, pad:-pad], "K": dK, "b": db}


def complex_lsq_grad(A, b, z):
    """d/dz of 1/2 sum |A z - b|^2 for complex A, b, z in torch's convention: A^H (A z - b)."""
    return A.conj().T @ (A @ z - b)


def complex_lsq_grad_jax(A, b, z):
    """The same gradient as jax.grad returns it: its conjugate."""
    return np.conj(complex_lsq_grad(A, b, z))


def complex_lsq_grad_half(A, b, z):
    """The Wirtinger derivative dL/dconj(z) = A^H (A z - b) / 2: the gradient without its factor 2."""
    return complex_lsq_grad(A, b, z) / 2
