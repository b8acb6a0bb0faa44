"""``gradcheck derive --numpy``: the derived backward pass as a plain numpy function to paste.

The function takes the spec's inputs (and its constants as keywords with the spec's values),
binds the dims it needs from the inputs' shapes, runs the forward graph, then one line per
adjoint in backward order (``d_a = d_b * dh(a)``), and returns a dict of the gradients. The
spec's helpers become small functions, and the few whitelisted functions numpy lacks
(``sigmoid``, ``softplus``, ...) are defined in a preamble (plain numpy; they are not the
overflow-safe kernels gradcheck evaluates with).
"""

from __future__ import annotations

from ..expr import ir
from ..expr.parse import walk
from .printer import to_text
from .reverse import Derivation

__all__ = ["backward_function"]

_NUMPY = {
    **{
        f: f"np.{f}"
        for f in "sum mean prod exp log log1p expm1 sqrt square sin cos tanh abs maximum minimum where".split()
    },
    **{f: f"np.{f}" for f in "trace diag outer kron eye ones zeros ones_like zeros_like transpose reshape dot".split()},
    **{f: f"np.{f}" for f in "einsum stack concatenate".split()},
    **{f: f"np.{f}" for f in "max min amax amin argmax argmin var std cumsum cumprod logaddexp clip sign".split()},
    **{f: f"np.{f}" for f in "reciprocal tril triu".split()},
    **{f: f"np.{f}" for f in "conj real imag arange take_along_axis expand_dims squeeze tile repeat pad".split()},
    "det": "np.linalg.det",
    "inv": "np.linalg.inv",
    "solve": "np.linalg.solve",
    "norm": "np.linalg.norm",
    "pinv": "np.linalg.pinv",
}
_PREAMBLE = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "softplus": "def softplus(x):\n    return np.logaddexp(0, x)",
    "relu": "def relu(x):\n    return np.maximum(x, 0)",
    "logsumexp": (
        "def logsumexp(x, axis=None, keepdims=False):\n"
        "    m = np.max(x, axis=axis, keepdims=True)\n"
        "    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m\n"
        "    return out if keepdims else np.squeeze(out, axis=axis)"
    ),
    "softmax": "def softmax(x, axis=-1):\n    e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return e / np.sum(e, axis=axis, keepdims=True)",
    "log_softmax": "def log_softmax(x, axis=-1):\n    s = x - np.max(x, axis=axis, keepdims=True)\n"
    "    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))",
    "logdet": "def logdet(a):\n    return np.linalg.slogdet(a)[1]",
    "erf": "def erf(x):\n    import math\n\n    return np.vectorize(math.erf, otypes=[float])(x)",
    "gelu": (
        "def gelu(x, approximate='none'):\n"
        "    import math\n\n"
        "    if approximate == 'tanh':\n"
        "        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))\n"
        "    return 0.5 * x * np.vectorize(math.erfc, otypes=[float])(-x / math.sqrt(2))"
    ),
    "log_sigmoid": "def log_sigmoid(x):\n    return -np.logaddexp(0, -x)",
    "abs2": "def abs2(x):\n    return np.abs(x) ** 2",
    "onehot": "def onehot(y, k):\n    return (np.asarray(y)[..., None] == np.arange(k)).astype(float)",
    # linear algebra (fn-linalg): cholesky and eigh of the symmetric part, as gradcheck's kernels
    "cholesky": "def cholesky(a):\n    return np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2)",
    "solve_triangular": (
        "def solve_triangular(a, b, lower=False):\n    return np.linalg.solve(np.tril(a) if lower else np.triu(a), b)"
    ),
    "eigvalsh": "def eigvalsh(a):\n    return np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / 2)",
    "eigvecsh": (
        "def eigvecsh(a):\n"
        "    v = np.linalg.eigh((a + np.swapaxes(a, -1, -2)) / 2)[1]\n"
        "    largest = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], axis=-2)\n"
        "    return v * np.sign(largest)"
    ),
}

_CONV = """def {name}(x, w, stride=1, padding=0, dilation=1):
    \"\"\"torch.nn.functional.{name} (a cross-correlation), by a loop over the kernel's offsets.\"\"\"
    nd = w.ndim - 2
    k = w.shape[2:]
    s, d = np.broadcast_to(stride, nd), np.broadcast_to(dilation, nd)
    if padding == "same":
        pads = [(d[a] * (k[a] - 1) // 2, d[a] * (k[a] - 1) - d[a] * (k[a] - 1) // 2) for a in range(nd)]
    else:
        pads = [(p, p) for p in np.broadcast_to(0 if padding == "valid" else padding, nd)]
    x = np.pad(x, [(0, 0), (0, 0)] + pads)
    size = [(x.shape[2 + a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(nd)]
    out = 0
    for o in np.ndindex(*k):
        part = x[(..., *(slice(d[a] * o[a], d[a] * o[a] + s[a] * (size[a] - 1) + 1, s[a]) for a in range(nd)))]
        out = out + np.einsum("nc...,oc->no...", part, w[(..., *o)])
    return out"""
_CONV_TRANSPOSE = """def {name}(x, w, stride=1, padding=0, dilation=1):
    \"\"\"torch.nn.functional.{name}: the adjoint in x of the convolution with w.\"\"\"
    nd = w.ndim - 2
    k, n = w.shape[2:], x.shape[2:]
    s, d, p = (np.broadcast_to(v, nd) for v in (stride, dilation, padding))
    full = [s[a] * (n[a] - 1) + d[a] * (k[a] - 1) + 1 for a in range(nd)]
    out = np.zeros((x.shape[0], w.shape[1], *full))
    for o in np.ndindex(*k):
        part = tuple(slice(d[a] * o[a], d[a] * o[a] + s[a] * (n[a] - 1) + 1, s[a]) for a in range(nd))
        out[(..., *part)] += np.einsum("nc...,co->no...", x, w[(..., *o)])
    return out[(..., *(slice(p[a], full[a] - p[a]) for a in range(nd)))]"""
_POOL = """def {name}(x, k, stride=None):
    s = np.broadcast_to(k if stride is None else stride, 2)
    h, w = ((x.shape[2 + a] - k) // s[a] + 1 for a in range(2))
    parts = [x[..., i : i + s[0] * (h - 1) + 1 : s[0], j : j + s[1] * (w - 1) + 1 : s[1]] for i in range(k) for j in range(k)]
    return np.{how}(parts, axis=0)"""
_PREAMBLE.update(
    {
        **{f: _CONV.format(name=f) for f in ("conv1d", "conv2d")},
        **{f: _CONV_TRANSPOSE.format(name=f) for f in ("conv_transpose1d", "conv_transpose2d")},
        "max_pool2d": _POOL.format(name="max_pool2d", how="max"),
        "avg_pool2d": _POOL.format(name="avg_pool2d", how="mean"),
    }
)


def _py(name: str) -> str:
    import keyword

    return name + "_" if keyword.iskeyword(name) else name


def backward_function(problem, derivation: Derivation, wrt: tuple[str, ...] = ()) -> str:
    spec = problem.spec
    rename = {f"dL/d{n}": f"d_{n}" for n in [*spec.inputs, *(g.name for g in spec.graph)]}
    rename.update({n: _py(n) for n in [*spec.inputs, *spec.dims]})
    functions = dict(_NUMPY)
    exprs = [g.body.expr for g in spec.graph] + [d.body.expr for d in spec.define.values()]
    steps = [s for s in derivation.steps if s.step is not None]
    wanted = [a for n, a in derivation.inputs.items() if a.step is not None and (not wrt or n in wrt)]
    exprs += [s.step for s in steps] + [a.step for a in wanted]
    used_funcs: set[str] = set()
    used_names: set[str] = set()
    for e in exprs:
        for node in walk(e):
            if isinstance(node, ir.Call):
                used_funcs.add(node.func)
            elif isinstance(node, ir.Name):
                used_names.add(node.id)
    lines = ["import numpy as np", ""]
    for f in sorted(used_funcs & set(_PREAMBLE)):
        lines += [_PREAMBLE[f], ""]
    for h, d in spec.define.items():
        lines += [f"def {h}({', '.join(d.params)}):", f"    return {to_text(d.body.expr, functions=functions)}", ""]
    params = [_py(n) for n in spec.inputs] + [f"{c}={v!r}" for c, v in spec.constants.items()]
    lines.append(f"def backward({', '.join(params)}):")
    lines.append(f'    """Gradients of the loss of spec {spec.name!r}, derived and verified by gradcheck."""')
    for d in spec.dims:
        if d in used_names:
            where = next(((n, i) for n, inp in spec.inputs.items() for i, s in enumerate(inp.shape) if s == d), None)
            if where is not None:
                lines.append(f"    {_py(d)} = np.shape({_py(where[0])})[{where[1]}]")
    for g in spec.graph:
        lines.append(f"    {g.name} = {to_text(g.body.expr, names=rename, functions=functions)}")
    for s in [*steps, *wanted]:
        lines.append(f"    d_{s.name} = {to_text(s.step, names=rename, functions=functions)}  # {s.shape_text}")
    lines.append("    return {" + ", ".join(f'"{a.name}": d_{a.name}' for a in wanted) + "}")
    return "\n".join(lines)
