"""Fuzzing the whole pipeline: grammar-built expressions and mutated gallery specs.

Every input must end in verdicts or located SpecFailures; any other exception is an escape.
The quick profile runs in the test suite; the long one on demand:

    GRADCHECK_FUZZ_EXAMPLES=100000 python -m pytest tests/reliability/test_fuzz.py -q -p no:warnings
"""

from __future__ import annotations

from hypothesis import strategies as st

ATOMS = [
    "X",
    "Y",
    "Theta",
    "w",
    "a",
    "b",
    "M",
    "lam",
    "G",
    "0",
    "1",
    "2.5",
    "1e-3",
    "-1",
    "10**10**10",
    "X.T",
    "Theta.T",
    "zz",
    "__x",
    "()",
    "'s'",
    "None",
    "X[0]",
    "X[:, 0]",
    "X[None]",
    "X[99]",
]
UNARY = [
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "softplus",
    "relu",
    "abs",
    "sum",
    "mean",
    "softmax",
    "log_softmax",
    "logsumexp",
    "norm",
    "diag",
    "inv",
    "det",
    "logdet",
    "trace",
    "ones_like",
    "transpose",
    "h",
    "dh",
    "expp",
    "eval",
    "np.exp",
]
BINARY = ["+", "-", "*", "/", "**", "@", " @ ", ">", "and", ",", ""]
CALL2 = ["maximum", "minimum", "outer", "kron", "dot", "solve", "where", "onehot", "reshape", "stack"]


def expressions():
    atoms = st.sampled_from(ATOMS)

    def extend(inner):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(st.sampled_from(CALL2), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(
                st.sampled_from(["sum", "mean", "softmax"]), inner, st.sampled_from(["0", "1", "-1", "5", "(0, 1)"])
            ).map(lambda t: f"{t[0]}({t[1]}, axis={t[2]})"),
        )

    return st.recursive(atoms, extend, max_leaves=12)


TEMPLATE = """dims: {{M: [2, 4], in: [2, 3], out: [2, 3]}}
constants: {{lam: 0.1}}
inputs:
  X: {{shape: [M, in]}}
  Y: {{shape: [M, out]}}
  Theta: {{shape: [in, out]}}
  w: {{shape: [in]}}
define:
  h(z): sigmoid(z)
  dh(z): h(z) * (1 - h(z))
graph:
  a: X @ Theta
  b: h(a)
loss: {loss}
claims:
  - name: fuzz
    wrt: Theta
    gradient: {claim}
  - name: fuzz-vjp
    node: a
    wrt: Theta
    vjp: {claim}
"""


def quote(expression: str) -> str:
    return '"' + expression.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'


def mutations(text: str):
    """Random edits of a valid spec: delete/duplicate/swap lines, replace a token, junk, tags, deep nesting."""
    lines = text.splitlines()
    n = len(lines)
    junk = st.sampled_from(
        [
            "\x00",
            "\ufeff",
            "é",
            "💥",
            "!!python/object:os.system",
            "&a",
            "*a",
            "{",
            "]",
            ": :",
            "- -",
            "\t",
            "1e999",
            "99999999999999999999",
            "[[[[[[[[",
            "~",
            "null",
            "<<: *a",
        ]
    )
    edit = st.one_of(
        st.integers(0, n - 1).map(lambda i: lines[:i] + lines[i + 1 :]),
        st.integers(0, n - 1).map(lambda i: lines[: i + 1] + lines[i:]),
        st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).map(
            lambda t: [lines[t[1]] if k == t[0] else lines[t[0]] if k == t[1] else line for k, line in enumerate(lines)]
        ),
        st.tuples(st.integers(0, n - 1), st.integers(0, 80), junk).map(
            lambda t: [line[: t[1]] + t[2] + line[t[1] :] if k == t[0] else line for k, line in enumerate(lines)]
        ),
        st.tuples(st.integers(0, n - 1), st.integers(0, 80)).map(
            lambda t: [line[: t[1]] if k == t[0] else line for k, line in enumerate(lines)]
        ),
    )
    return st.lists(edit, min_size=1, max_size=1).map(lambda edits: "\n".join(edits[0]) + "\n")
