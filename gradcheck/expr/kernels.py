"""numpy implementations of the whitelisted functions, safe for complex-step differentiation (but five).

Complex-step differentiation evaluates f(x + i h v) with h ~ 1e-30 and reads the directional
derivative from the imaginary part, so every kernel must compute the *analytic continuation*
of the real function. Concretely:

* branches (abs, relu, maximum, where, the stable forms of sigmoid/softplus) are chosen on
  real parts, never on complex magnitudes;
* nothing conjugates (``.T``, norm, dot, outer use the plain bilinear forms);
* max-shifts for logsumexp/softmax use the real part, so the shift is a constant;
* max/min/argmax/argmin/clip/sign pick entries by their real parts (like maximum), so on real
  data plus a complex step they pass the step of the picked entry through;
* erf, gelu and erfc-based pieces have no numpy complex kernel: they are continued to first
  order, f(a + ib) = f(a) + i b f'(a), which is exact in double precision whenever
  |b| <= 1e-8 |a|-scale (the complex step uses h = 1e-30, or 1e-10 of the point's scale);
* abs2 is z * z: |x|^2 continued from real data (complex data has its own kernels:
  :mod:`gradcheck.expr.complex_kernels`);
* convolutions are sums of products (einsum, no conjugation), average pooling a sum; max
  pooling picks each window's entry by its real part, like max;
* cholesky and solve_triangular are written out (Cholesky-Banachiewicz, forward and back
  substitution) with plain products: LAPACK's complex routines conjugate (A = L L^H), which is
  not the analytic continuation of A = L L^T; pinv is continued to first order with the
  Golub-Pereyra derivative of a full-rank pseudo-inverse, around numpy's SVD value;
* eigvalsh and eigvecsh have no complex kernel (LAPACK's eigh takes a complex matrix as
  Hermitian): they are marked ``complex_safe=False`` in the function table, and the evaluator
  refuses a complex point before calling them.

The other exceptions are conj, real and imag (``Function.complex_safe`` is False): they are the
functions of complex data, so they see the step itself (real(x + i h v) drops it), and the
oracle uses finite differences for a loss that calls them.

The kernels also accept float32/float64 arrays and Python or numpy scalars.

References
----------
Squire, W. & Trapp, G. (1998). Using complex variables to estimate derivatives of real
functions. SIAM Review 40(1).
Martins, J. R. R. A., Sturdza, P. & Alonso, J. J. (2003). The complex-step derivative
approximation. ACM TOMS 29(3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def split_product(op, a, b):
    """A bilinear product (matmul, dot) with a real and a complex operand, as two real products.

    Identical values, half the flops of numpy's complex product — and on OpenBLAS builds with
    AVX-512 kernels it also avoids a zgemm that leaves the vector state dirty and slows the
    complex exp/log that follow by 10-40x (measured in bench/RESULTS.md).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    a_c, b_c = np.iscomplexobj(a), np.iscomplexobj(b)
    if a_c and not b_c:
        return op(a.real, b) + 1j * op(a.imag, b)
    if b_c and not a_c:
        return op(a, b.real) + 1j * op(a, b.imag)
    if a_c and b_c:
        return (op(a.real, b.real) - op(a.imag, b.imag)) + 1j * (op(a.real, b.imag) + op(a.imag, b.real))
    return op(a, b)


__all__ = ["KERNELS", "power"]

_MAX_INTEGER_POWER = 2**31


def power(a, b):
    """``a ** b``, with integer powers of complex ``a`` by repeated squaring.

    numpy multiplies out integer powers of a complex base only for |b| < 100; above that it
    computes exp(b log a), and for a negative real part the angle pi - h/|a| of the complex step
    loses h to rounding: (-1.1 + 1e-30j) ** 101 has an imaginary part 1e14 times too large.
    Repeated squaring is the analytic continuation to a few ulps: in every product
    (A + iB)(C + iD) the two terms AD and BC of the imaginary part have the same sign near the
    real axis, so nothing cancels. Real bases, fractional and array exponents go to numpy.
    """
    if not np.iscomplexobj(a) or np.ndim(b) != 0 or np.iscomplexobj(b):
        return a**b
    p = float(b)
    if not (p.is_integer() and abs(p) <= _MAX_INTEGER_POWER):
        return a**b
    k = abs(int(p))
    base = np.asarray(a)
    out = np.ones_like(base)
    while k:
        if k & 1:
            out = out * base
        k >>= 1
        if k:  # no square past the last bit: it could overflow where the power does not
            base = base * base
    return 1 / out if p < 0 else out


def _pos(z: Any) -> np.ndarray:
    return np.real(z) > 0


def sigmoid(z):
    z = np.asarray(z)
    if not np.iscomplexobj(z):  # the same values with fewer temporaries (the hot path of real evaluation)
        pos = z >= 0
        e = np.exp(-np.abs(z))
        d = 1 + e
        return np.where(pos, 1 / d, e / d)
    pos = np.real(z) >= 0
    e = np.exp(-np.where(pos, z, -z))  # exp(-|z|) continued analytically: never overflows
    return np.where(pos, 1 / (1 + e), e / (1 + e))


def softplus(z):
    z = np.asarray(z)
    pos = _pos(z)
    return np.log1p(np.exp(np.where(pos, -z, z))) + np.where(pos, z, 0)


def relu(z):
    return np.where(_pos(z), z, 0)


def absolute(z):
    return np.where(np.real(z) < 0, -np.asarray(z), z)


def maximum(a, b):
    return np.where(np.real(a) >= np.real(b), a, b)


def minimum(a, b):
    return np.where(np.real(a) <= np.real(b), a, b)


def where(condition, a, b):
    condition = np.asarray(condition)
    if np.iscomplexobj(condition):
        condition = np.real(condition)
    return np.where(condition.astype(bool), a, b)


def _moved(z: np.ndarray, axis) -> tuple[np.ndarray, tuple[int, ...]]:
    """``z`` with the reduced axes moved last and flattened into one; and those axes."""
    axes = tuple(range(z.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(sorted(a % z.ndim for a in axes)) if z.ndim else ()
    kept = [a for a in range(z.ndim) if a not in axes]
    moved = np.transpose(z, kept + list(axes)).reshape([z.shape[a] for a in kept] + [-1])
    return moved, axes


def _extreme(pick: Callable, numpy_fn: Callable) -> Callable:
    """max/min: the entry whose real part is largest (smallest), with its imaginary part."""

    def reduce(z, axis=None, keepdims=False):
        z = np.asarray(z)
        if not np.iscomplexobj(z):
            return numpy_fn(z, axis=axis, keepdims=keepdims)
        moved, axes = _moved(z, axis)
        out = np.take_along_axis(moved, pick(np.real(moved), axis=-1)[..., None], axis=-1)[..., 0]
        return np.expand_dims(out, axes) if keepdims else out

    return reduce


def _arg(pick: Callable) -> Callable:
    def reduce(z, axis=None, keepdims=False):
        return pick(np.real(np.asarray(z)), axis=axis, keepdims=keepdims)

    return reduce


def var(z, axis=None, keepdims=False, ddof=0):
    """Variance without conjugation (np.var would take |z - mean|^2: not analytic)."""
    z = np.asarray(z)
    d = z - np.mean(z, axis=axis, keepdims=True)
    count = math.prod(z.shape[a] for a in _moved(z, axis)[1])
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (count - ddof)


def std(z, axis=None, keepdims=False, ddof=0):
    return np.sqrt(var(z, axis=axis, keepdims=keepdims, ddof=ddof))


def logaddexp(a, b):
    a, b = np.asarray(a), np.asarray(b)
    d = a - b
    up = np.real(d) >= 0
    return np.where(up, a, b) + np.log1p(np.exp(np.where(up, -d, d)))  # exp(-|a - b|): never overflows


def clip(x, lo, hi):
    return minimum(maximum(x, lo), hi)


def sign(z):
    return np.sign(np.real(z))


def _continued(value: Callable[[float], float], derivative: Callable) -> Callable:
    """A real function of math's, on arrays, continued to first order off the real axis."""
    ufunc = np.frompyfunc(value, 1, 1)

    def kernel(z):
        z = np.asarray(z)
        a = np.real(z)
        out = np.asarray(ufunc(a), dtype=a.dtype if a.dtype.kind == "f" else np.float64)
        if np.iscomplexobj(z):
            return out + 1j * np.imag(z) * derivative(a)
        return out

    return kernel


erf = _continued(math.erf, lambda a: 2 / math.sqrt(math.pi) * np.exp(-a * a))
_normal_cdf = _continued(
    lambda a: 0.5 * math.erfc(-a / math.sqrt(2)),  # erfc: no cancellation in the left tail
    lambda a: np.exp(-a * a / 2) / math.sqrt(2 * math.pi),
)
_GELU_TANH = math.sqrt(2 / math.pi)


def gelu(z, approximate="none"):
    """x Phi(x) (torch's default); ``approximate="tanh"``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    z = np.asarray(z)
    if approximate == "tanh":
        return 0.5 * z * (1 + np.tanh(_GELU_TANH * (z + 0.044715 * z * z * z)))
    return z * _normal_cdf(z)


def log_sigmoid(z):
    return -softplus(-np.asarray(z))


def reciprocal(z):
    return 1.0 / np.asarray(z)  # np.reciprocal would divide integers as integers


def _real_max(z, axis, keepdims=True):
    m = np.max(np.real(z), axis=axis, keepdims=keepdims)
    return np.where(np.isfinite(m), m, 0)


def logsumexp(z, axis=None, keepdims=False):
    z = np.asarray(z)
    m = _real_max(z, axis)
    out = np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def softmax(z, axis=-1):
    z = np.asarray(z)
    e = np.exp(z - _real_max(z, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    z = np.asarray(z)
    shifted = z - _real_max(z, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def norm(z, axis=None, keepdims=False):
    z = np.asarray(z)
    return np.sqrt(np.sum(z * z, axis=axis, keepdims=keepdims))  # no conjugate: analytic


def trace(a):
    return np.trace(a, axis1=-2, axis2=-1)


def logdet(a):
    """log |det A| for real A; for complex A its analytic continuation.

    ``slogdet`` gives ``det = sign * exp(logabs)``; multiplying ``sign`` by s = +-1 so that
    its real part is positive makes ``log(s * sign)`` vanish for real A and continue
    analytically (principal branch near 1) for A + i h V.
    """
    sign, logabs = np.linalg.slogdet(a)
    if not np.iscomplexobj(sign):
        return logabs
    s = np.where(np.real(sign) < 0, -1, 1)
    return logabs + np.log(sign * s)


# -- linear algebra (fn-linalg) --------------------------------------------------------


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _sym(a):
    """The symmetric part (A + A^T) / 2: cholesky, eigvalsh and eigvecsh read it, so their
    gradients are symmetric (numpy and LAPACK read one triangle; the values agree on symmetric A)."""
    a = np.asarray(a)
    return (a + _mT(a)) / 2


def _float(*arrays) -> np.dtype:
    dtype = np.result_type(*arrays)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def cholesky(a):
    """The lower Cholesky factor L of the symmetric part of A (L L^T = (A + A^T)/2).

    Cholesky-Banachiewicz, row sums without conjugation, so that on A + i h V it is the analytic
    continuation (numpy's cholesky factors a complex A as L L^H). The pivots are tested on their
    real parts, like a real factorisation: a matrix that is not positive definite raises
    LinAlgError, as numpy's does. Real matrices go to LAPACK (50x faster at n = 100).
    """
    a = _sym(a)
    if not np.iscomplexobj(a):
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError("cholesky(): the matrix is not positive definite") from None
    n = a.shape[-1]
    out = np.zeros(a.shape, dtype=_float(a))
    for j in range(n):
        row = out[..., j, :j]
        pivot = a[..., j, j] - np.sum(row * row, axis=-1)
        if not np.all(np.real(pivot) > 0):
            raise np.linalg.LinAlgError("cholesky(): the matrix is not positive definite")
        d = np.sqrt(pivot)
        out[..., j, j] = d
        below = a[..., j + 1 :, j] - np.sum(out[..., j + 1 :, :j] * row[..., None, :], axis=-1)
        out[..., j + 1 :, j] = below / d[..., None]
    return out


def solve_triangular(a, b, lower=False):
    """A^{-1} B for triangular A (only its lower or upper triangle is read, as scipy's).

    Forward or back substitution with plain products: analytic in A and B (scipy's
    solve_triangular does not conjugate either, but gradcheck imports SciPy only in its oracles).
    ``b`` is a vector when it is exactly 1-D; otherwise (..., n, k), batch axes broadcasting.
    """
    a, b = np.asarray(a), np.asarray(b)
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    n = a.shape[-1]
    diagonal = np.diagonal(a, axis1=-2, axis2=-1)
    if np.any(diagonal == 0):
        raise np.linalg.LinAlgError("solve_triangular(): the matrix is singular (a zero on its diagonal)")
    x = np.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=_float(a, b))
    for i in range(n) if lower else range(n - 1, -1, -1):
        done = slice(0, i) if lower else slice(i + 1, n)
        known = split_product(np.matmul, a[..., i : i + 1, done], x[..., done, :])[..., 0, :]
        x[..., i, :] = (b[..., i, :] - known) / a[..., i, i][..., None]
    return x[..., 0] if vector else x


def eigvalsh(a):
    """The eigenvalues of the symmetric part of A, ascending (real A only: see the module notes)."""
    return np.linalg.eigvalsh(_sym(a))


def eigvecsh(a):
    """The eigenvectors of the symmetric part of A as columns, in eigvalsh's order, each signed
    so that its entry of largest magnitude is positive (a deterministic choice of the sign)."""
    v = np.linalg.eigh(_sym(a))[1]
    largest = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], axis=-2)
    return v * np.sign(largest)


def pinv(a):
    """The Moore-Penrose pseudo-inverse A^+ (numpy's SVD), continued to first order off the real axis.

    For A + iB: A^+ + i dA^+[B], with the derivative of a full-rank pseudo-inverse (Golub &
    Pereyra 1973, Thm 4.3)
    dA^+ = -A^+ dA A^+ + A^+ A^+T dA^T (I - A A^+) + (I - A^+ A) dA^T A^+T A^+,
    exact to O(|B|^2) like erf's continuation; valid where A has full rank (the rank, and so
    A^+, is constant nearby).
    """
    a = np.asarray(a)
    if not np.iscomplexobj(a):
        return np.linalg.pinv(a)
    re, d = np.real(a), np.imag(a)
    p = np.linalg.pinv(re)
    left = np.eye(re.shape[-1]) - p @ re
    right = np.eye(re.shape[-2]) - re @ p
    dp = -p @ d @ p + p @ _mT(p) @ _mT(d) @ right + left @ _mT(d) @ _mT(p) @ p
    return p + 1j * dp


def square(z):
    return np.asarray(z) * z


def onehot(y, k):
    y = np.asarray(y)
    if y.size and (np.min(y) < 0 or np.max(y) >= k):
        bad = y[(y < 0) | (y >= k)].flat[0]
        raise ValueError(f"onehot(): label {bad} is out of range for k={k}")
    return (y[..., None] == np.arange(k)).astype(np.float64)


def stack(arrays, axis=0):
    return np.stack([np.asarray(a) for a in arrays], axis=axis)


def concatenate(arrays, axis=0):
    return np.concatenate([np.asarray(a) for a in arrays], axis=axis)


# -- convolutions and pooling (torch's semantics: NCHW inputs, cross-correlation) --------------


def _axes_of(value, nd: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, tuple) else (int(value),) * nd


def _pads(padding, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """Zero padding (before, after) per spatial axis; 'same' as torch: of d(k - 1) in all, the
    odd one goes after."""
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "same":
        return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    return [(p, p) for p in _axes_of(padding, len(kernel))]


def _taps(kernel, stride, dilation, sizes):
    """For every kernel offset, the strided slices of the input it meets (one per output position)."""
    for offset in np.ndindex(*kernel):
        yield (
            offset,
            tuple(slice(d * o, d * o + s * (n - 1) + 1, s) for o, s, d, n in zip(offset, stride, dilation, sizes)),
        )


def _convolution(nd: int) -> Callable:
    """conv1d/conv2d(x, w): x (..., C, *spatial), w (C_out, C, *kernel), or w with a leading batch
    axis (K, C_out, C, *kernel) that pairs with x's first axis (x then (K, N, C, *spatial))."""
    spatial = "yx"[-nd:]

    def conv(x, w, stride=1, padding=0, dilation=1):
        x, w = np.asarray(x), np.asarray(w)
        kernel = w.shape[-nd:]
        s, d = _axes_of(stride, nd), _axes_of(dilation, nd)
        x = np.pad(x, [(0, 0)] * (x.ndim - nd) + _pads(padding, kernel, d))
        sizes = [(n - dd * (k - 1) - 1) // ss + 1 for n, k, ss, dd in zip(x.shape[-nd:], kernel, s, d)]
        rule = f"knc{spatial},koc->kno{spatial}" if w.ndim == nd + 3 else f"...c{spatial},oc->...o{spatial}"
        out = None
        for offset, where in _taps(kernel, s, d, sizes):
            term = split_product(lambda a, b: np.einsum(rule, a, b), x[(Ellipsis, *where)], w[(Ellipsis, *offset)])
            out = term if out is None else out + term
        return out

    return conv


def _transposed_convolution(nd: int) -> Callable:
    """conv_transpose1d/2d(x, w): the adjoint of conv in x; x (..., C, *spatial), w (C, C_out, *kernel)
    (torch's layout), or with a leading batch axis as for conv."""
    spatial = "yx"[-nd:]

    def conv_transpose(x, w, stride=1, padding=0, dilation=1):
        x, w = np.asarray(x), np.asarray(w)
        kernel = w.shape[-nd:]
        s, d, p = _axes_of(stride, nd), _axes_of(dilation, nd), _axes_of(padding, nd)
        sizes = x.shape[-nd:]
        full = [ss * (n - 1) + dd * (k - 1) + 1 for n, k, ss, dd in zip(sizes, kernel, s, d)]
        rule = f"knc{spatial},kco->kno{spatial}" if w.ndim == nd + 3 else f"...c{spatial},co->...o{spatial}"
        out = np.zeros(x.shape[: -nd - 1] + (w.shape[-nd - 1],) + tuple(full), dtype=np.result_type(x, w))
        for offset, where in _taps(kernel, s, d, sizes):
            out[(Ellipsis, *where)] += split_product(lambda a, b: np.einsum(rule, a, b), x, w[(Ellipsis, *offset)])
        return out[(Ellipsis, *(slice(pp, n - pp) for pp, n in zip(p, full)))]

    return conv_transpose


def _pool_windows(x, k: int, stride) -> np.ndarray:
    """Every k x k window of the last two axes at the stride (default k), stacked on a new first axis."""
    x = np.asarray(x)
    s = _axes_of(k if stride is None else stride, 2)
    sizes = [(n - k) // ss + 1 for n, ss in zip(x.shape[-2:], s)]
    return np.stack([x[(Ellipsis, *where)] for _, where in _taps((k, k), s, (1, 1), sizes)])


def max_pool2d(x, k, stride=None):
    windows = _pool_windows(x, k, stride)
    return np.take_along_axis(windows, np.argmax(np.real(windows), axis=0)[None], axis=0)[0]


def avg_pool2d(x, k, stride=None):
    return np.sum(_pool_windows(x, k, stride), axis=0) / (k * k)


# -- fn-index: gathers and shape manipulation (moves and copies of entries: complex-step safe) --


def arange(n):
    return np.arange(n)


def take_along_axis(a, indices, axis):
    return np.take_along_axis(np.asarray(a), np.asarray(indices), axis=axis)


def expand_dims(x, axis):
    return np.expand_dims(x, axis)


def squeeze(x, axis=None):
    return np.squeeze(x, axis=axis)


def tile(x, reps):
    return np.tile(x, reps)


def repeat(x, repeats, axis=None):
    return np.repeat(x, repeats, axis=axis)


def pad_widths(widths, ndim: int) -> tuple[tuple[int, int], ...]:
    """pad's widths as one (before, after) pair per axis (one pair is every axis's)."""
    return tuple(widths) * ndim if len(widths) == 1 else tuple(widths)


def pad(x, pad_width):
    """Zero padding; ``pad_width`` is a tuple of (before, after) pairs (one for every axis, or one per axis)."""
    x = np.asarray(x)
    return np.pad(x, pad_widths(pad_width, x.ndim))


def transpose(x, axis=None):
    return np.transpose(x, axis)


def _reduce(fn: Callable) -> Callable:
    def reduce(z, axis=None, keepdims=False):
        return fn(z, axis=axis, keepdims=keepdims)

    return reduce


KERNELS: dict[str, Callable[..., Any]] = {
    "sum": _reduce(np.sum),
    "mean": _reduce(np.mean),
    "prod": _reduce(np.prod),
    "max": _extreme(np.argmax, np.max),
    "min": _extreme(np.argmin, np.min),
    "amax": _extreme(np.argmax, np.max),
    "amin": _extreme(np.argmin, np.min),
    "argmax": _arg(np.argmax),
    "argmin": _arg(np.argmin),
    "var": var,
    "std": std,
    "cumsum": lambda z, axis=None: np.cumsum(z, axis=axis),
    "cumprod": lambda z, axis=None: np.cumprod(z, axis=axis),
    "logaddexp": logaddexp,
    "clip": clip,
    "sign": sign,
    "erf": erf,
    "gelu": gelu,
    "log_sigmoid": log_sigmoid,
    "abs2": square,
    "reciprocal": reciprocal,
    "tril": lambda x, k=0: np.tril(x, k),
    "triu": lambda x, k=0: np.triu(x, k),
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "square": square,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "relu": relu,
    "abs": absolute,
    "maximum": maximum,
    "minimum": minimum,
    "where": where,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "trace": trace,
    "det": np.linalg.det,
    "logdet": logdet,
    "inv": np.linalg.inv,
    "solve": np.linalg.solve,
    "diag": np.diag,
    "outer": np.outer,
    "kron": np.kron,
    "eye": lambda n: np.eye(n),
    "ones": lambda shape: np.ones(shape),
    "zeros": lambda shape: np.zeros(shape),
    "ones_like": np.ones_like,
    "zeros_like": np.zeros_like,
    "transpose": transpose,
    "reshape": np.reshape,
    "norm": norm,
    "dot": lambda a, b: split_product(np.dot, a, b),
    "einsum": np.einsum,
    "onehot": onehot,
    "stack": stack,
    "concatenate": concatenate,
    "conv1d": _convolution(1),
    "conv2d": _convolution(2),
    "conv_transpose1d": _transposed_convolution(1),
    "conv_transpose2d": _transposed_convolution(2),
    "max_pool2d": max_pool2d,
    "avg_pool2d": avg_pool2d,
    # -- fn-index --
    "conj": np.conj,
    "real": np.real,
    "imag": np.imag,
    "arange": arange,
    "take_along_axis": take_along_axis,
    "expand_dims": expand_dims,
    "squeeze": squeeze,
    "tile": tile,
    "repeat": repeat,
    "pad": pad,
    # linear algebra (fn-linalg)
    "cholesky": cholesky,
    "solve_triangular": solve_triangular,
    "eigvalsh": eigvalsh,
    "eigvecsh": eigvecsh,
    "pinv": pinv,
}
