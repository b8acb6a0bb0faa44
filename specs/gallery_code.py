"""Hand-written numpy gradients used by the gallery specs' ``{python: ...}`` claims."""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sse_grad(X, Y, Theta):
    """d/dTheta of 1/2 sum (Y - sigmoid(X Theta))^2."""
    s = _sigmoid(X @ Theta)
    return X.T @ ((s - Y) * s * (1 - s))
