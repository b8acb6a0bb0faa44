"""One small spec per whitelisted function: the function applied to drawn inputs, weighted by a
random W so that every entry of the result matters. Used by the VJP-rule property test."""

from __future__ import annotations

# function -> (inputs YAML, expression using the function). Every function of the table must be
# here (the test says which is missing); constant-valued functions are multiplied by a drawn x.
CASES: dict[str, tuple[str, str]] = {
    "sum": ("x: {shape: [n, m]}", "sum(x, axis=0)"),
    "mean": ("x: {shape: [n, m]}", "mean(x, axis=1)"),
    "prod": ("x: {shape: [n, m], domain: positive}", "prod(x, axis=0)"),
    "logsumexp": ("x: {shape: [n, m]}", "logsumexp(x, axis=1)"),
    "norm": ("x: {shape: [n, m]}", "norm(x, axis=0)"),
    "max": ("x: {shape: [n, m]}", "max(x, axis=0)"),
    "min": ("x: {shape: [n, m]}", "min(x, axis=1, keepdims=True)"),
    "amax": ("x: {shape: [n, m]}", "amax(x) * ones((n,))"),
    "amin": ("x: {shape: [n, m]}", "amin(x, axis=(0, 1)) * ones((n,))"),
    "argmax": ("x: {shape: [n, m]}", "onehot(argmax(x, axis=1), m) * x"),
    "argmin": ("x: {shape: [n, m]}", "onehot(argmin(x, axis=1), m) * x"),
    "var": ("x: {shape: [n, m]}", "var(x, axis=1, ddof=1)"),
    "std": ("x: {shape: [n, m]}", "std(x, axis=0)"),
    "cumsum": ("x: {shape: [n, m]}", "cumsum(x, axis=1)"),
    "cumprod": ("x: {shape: [n, m], domain: positive}", "cumprod(x, axis=0)"),
    "logaddexp": ("x: {shape: [n, m]}\n  y: {shape: [m]}", "logaddexp(x, y)"),
    "clip": ("x: {shape: [n]}\n  y: {shape: [n]}", "clip(x, y - 0.5, 0.5 * y + 0.5)"),
    "sign": ("x: {shape: [n]}", "sign(x) * x"),
    "erf": ("x: {shape: [n]}", "erf(x)"),
    "gelu": ("x: {shape: [n]}", "gelu(x) + gelu(2 * x, approximate='tanh')"),
    "log_sigmoid": ("x: {shape: [n]}", "log_sigmoid(x)"),
    "abs2": ("x: {shape: [n]}", "abs2(x)"),
    "reciprocal": ("x: {shape: [n], domain: positive}", "reciprocal(x)"),
    "tril": ("x: {shape: [n, n]}", "tril(x, k=-1)"),
    "triu": ("x: {shape: [n, n]}", "triu(x)"),
    "exp": ("x: {shape: [n]}", "exp(x)"),
    "log": ("x: {shape: [n], domain: positive}", "log(x)"),
    "log1p": ("x: {shape: [n], domain: positive}", "log1p(x)"),
    "expm1": ("x: {shape: [n]}", "expm1(x)"),
    "sqrt": ("x: {shape: [n], domain: positive}", "sqrt(x)"),
    "square": ("x: {shape: [n]}", "square(x)"),
    "sin": ("x: {shape: [n]}", "sin(x)"),
    "cos": ("x: {shape: [n]}", "cos(x)"),
    "tanh": ("x: {shape: [n]}", "tanh(x)"),
    "sigmoid": ("x: {shape: [n]}", "sigmoid(x)"),
    "softplus": ("x: {shape: [n]}", "softplus(x)"),
    "relu": ("x: {shape: [n]}", "relu(x)"),
    "abs": ("x: {shape: [n]}", "abs(x)"),
    "ones_like": ("x: {shape: [n]}", "x * ones_like(x)"),
    "zeros_like": ("x: {shape: [n]}", "x + zeros_like(x)"),
    "maximum": ("x: {shape: [n, m]}\n  y: {shape: [m]}", "maximum(x, y)"),
    "minimum": ("x: {shape: [n, m]}\n  y: {shape: [m]}", "minimum(x, y)"),
    "where": ("x: {shape: [n]}\n  y: {shape: [n]}", "where(x > 0, x * y, y)"),
    "softmax": ("x: {shape: [n, m]}", "softmax(x, axis=0)"),
    "log_softmax": ("x: {shape: [n, m]}", "log_softmax(x)"),
    "trace": ("A: {shape: [n, n]}", "trace(A) * ones((n,))"),
    "det": ("A: {shape: [n, n], domain: invertible}", "det(A) * ones((n,))"),
    "logdet": ("A: {shape: [n, n], domain: spd}", "logdet(A) * ones((n,))"),
    "inv": ("A: {shape: [n, n], domain: invertible}", "inv(A)"),
    "solve": ("A: {shape: [n, n], domain: invertible}\n  B: {shape: [n, m]}", "solve(A, B)"),
    "diag": ("x: {shape: [n]}", "diag(x)"),
    "outer": ("x: {shape: [n]}\n  y: {shape: [m]}", "outer(x, y)"),
    "kron": ("A: {shape: [n, m]}\n  B: {shape: [m, n]}", "sum(kron(A, B)) * ones((n,))"),
    "eye": ("x: {shape: [n]}", "eye(n) @ x"),
    "ones": ("x: {shape: [n]}", "ones((n,)) * x"),
    "zeros": ("x: {shape: [n]}", "zeros((n,)) + x"),
    "transpose": ("x: {shape: [n, m]}", "transpose(x)"),
    "reshape": ("x: {shape: [n, m]}", "reshape(x, (m, n))"),
    "dot": ("x: {shape: [n, m]}\n  y: {shape: [m]}", "dot(x, y)"),
    "einsum": ("x: {shape: [n, m]}\n  y: {shape: [m, n]}", 'einsum("ij,jk->ik", x, y)'),
    "onehot": ("x: {shape: [n, m]}\n  y: {shape: [n], domain: {integers: [0, m]}}", "onehot(y, m) * x"),
    "stack": ("x: {shape: [n]}\n  y: {shape: [n]}", "stack([x, y], axis=0)"),
    "concatenate": ("x: {shape: [n]}\n  y: {shape: [n]}", "sum(concatenate([x, y])) * ones((n,))"),
    # convolutions and pooling: strides that divide exactly (derived input sizes), dilation, padding
    "conv1d": ("x: {shape: [2, n, 2*m + 1]}\n  y: {shape: [3, n, 2]}", "conv1d(x, y, stride=2, dilation=2)"),
    "conv2d": (
        "x: {shape: [2, n, m, m]}\n  y: {shape: [3, n, 3, 1]}",
        "conv2d(x, y, padding=(1, 0)) + conv2d(x, y, padding='same')",
    ),
    "conv_transpose1d": (
        "x: {shape: [2, n, m]}\n  y: {shape: [n, 3, 2]}",
        "conv_transpose1d(x, y, stride=2, padding=1)",
    ),
    "conv_transpose2d": (
        "x: {shape: [2, n, m, m]}\n  y: {shape: [n, 3, 3, 2]}",
        "conv_transpose2d(x, y, stride=2, padding=(1, 0), dilation=(1, 2))",
    ),
    "max_pool2d": ("x: {shape: [n, 2, 2*m, 2*m]}", "max_pool2d(x, 2)"),
    "avg_pool2d": ("x: {shape: [n, 2, 2*m + 1, 2*m + 1]}", "avg_pool2d(x, 3, stride=2)"),
    # -- fn-index --
    "conj": ("x: {shape: [n]}", "conj(x) * x"),
    "real": ("x: {shape: [n]}", "real(x) ** 3"),
    "imag": ("x: {shape: [n]}", "imag(x) + x"),
    "arange": ("x: {shape: [n, m]}\n  y: {shape: [n], domain: {integers: [0, m]}}", "x[arange(n), y] * arange(n)"),
    "take_along_axis": (
        "x: {shape: [n, m]}\n  y: {shape: [n, 2], domain: {integers: [0, m]}}",
        "take_along_axis(x, y, axis=1)",
    ),
    "expand_dims": ("x: {shape: [n, m]}", "expand_dims(x, (0, 2))"),
    "squeeze": ("x: {shape: [n, 1, m]}", "squeeze(x)"),
    "tile": ("x: {shape: [n, m]}", "tile(x, (2, 3))"),
    "repeat": ("x: {shape: [n, m]}", "repeat(x, 2, axis=1)"),
    "pad": ("x: {shape: [n, m]}", "pad(x, ((1, 0), (2, 3)))"),
    # linear algebra (fn-linalg)
    "cholesky": ("A: {shape: [n, n], domain: spd}", "cholesky(A)"),
    "solve_triangular": (
        "A: {shape: [n, n], domain: spd}\n  B: {shape: [n, m]}",
        "solve_triangular(A, B, lower=True) + solve_triangular(A, B)",
    ),
    "eigvalsh": ("A: {shape: [n, n], domain: symmetric}", "eigvalsh(A)"),
    "eigvecsh": ("A: {shape: [n, n], domain: symmetric}", "eigvecsh(A)"),
    "pinv": ("A: {shape: [n, m]}", "pinv(A)"),
}


def spec_text(function: str) -> str:
    inputs, expression = CASES[function]
    quoted = "'" + expression.replace("'", "''") + "'"
    return f"""
dims: {{n: [2, 4], m: [3, 5]}}
inputs:
  {inputs}
  W: {{shape: [{weight_shape(function)}]}}
graph:
  f: {quoted}
loss: sum(W * f)
claims:
  - {{name: grad-W, wrt: W, gradient: f}}
"""


def weight_shape(function: str) -> str:
    shapes = {
        "sum": "m",
        "max": "m",
        "min": "n, 1",
        "argmax": "n, m",
        "argmin": "n, m",
        "var": "n",
        "std": "m",
        "cumsum": "n, m",
        "cumprod": "n, m",
        "logaddexp": "n, m",
        "tril": "n, n",
        "triu": "n, n",
        "mean": "n",
        "prod": "m",
        "logsumexp": "n",
        "norm": "m",
        "maximum": "n, m",
        "minimum": "n, m",
        "softmax": "n, m",
        "log_softmax": "n, m",
        "solve": "n, m",
        "diag": "n, n",
        "outer": "n, m",
        "transpose": "m, n",
        "reshape": "m, n",
        "dot": "n",
        "einsum": "n, n",
        "onehot": "n, m",
        "stack": "2, n",
        "inv": "n, n",
        "conv1d": "2, 3, m",
        "conv2d": "2, 3, m, m",
        "conv_transpose1d": "2, 3, 2*m - 2",
        "conv_transpose2d": "2, 3, 2*m - 1, 2*m + 1",
        "max_pool2d": "n, 2, m, m",
        "avg_pool2d": "n, 2, m, m",
        "take_along_axis": "n, 2",
        "expand_dims": "1, n, 1, m",
        "squeeze": "n, m",
        "tile": "2 * n, 3 * m",
        "repeat": "n, 2 * m",
        "pad": "n + 1, m + 5",
        "cholesky": "n, n",
        "solve_triangular": "n, m",
        "eigvecsh": "n, n",
        "pinv": "m, n",
    }
    return shapes.get(function, "n")
