"""The hostile-spec catalogue: every entry must be refused with a located message.

Each entry: (name, spec text, expected location "line:col", expected message fragment).
The spec texts are complete files; ``{EXPR}``-style templating is avoided on purpose so each
entry reads as the attacker would write it.
"""

BASE = "dims: {n: [2, 4]}\ninputs: {X: {shape: [n]}, A: {shape: [n, n]}}\n"


def expr_spec(expression: str) -> str:
    return BASE + f"loss: sum(X ** 2)\nclaims:\n  - name: evil\n    wrt: X\n    gradient: {expression}\n"


CATALOGUE = [
    (
        "dunder-import",
        expr_spec("\"__import__('os').system('touch pwned')\""),
        "7:16",
        "attribute access is not allowed",
    ),
    ("class-escape", expr_spec('"().__class__.__bases__[0].__subclasses__()"'), "7:16", "not allowed"),
    ("dunder-attribute", expr_spec("X.__class__"), "7:15", "attribute access is not allowed"),
    ("tofile", expr_spec("\"X.tofile('pwned')\""), "7:16", "attribute access is not allowed"),
    ("numpy-attribute", expr_spec("np.exp(X)"), "7:15", "attribute access is not allowed"),
    ("getattr", expr_spec("\"getattr(X, 'T')\""), "7:16", "unknown function 'getattr'"),
    ("eval", expr_spec("\"eval('1')\""), "7:16", "unknown function 'eval'"),
    ("open", expr_spec("\"open('/etc/passwd')\""), "7:16", "unknown function 'open'"),
    ("lambda", expr_spec('"(lambda: 0)()"'), "7:", "only bare function names can be called"),
    ("dunder-name", expr_spec('"__builtins__"'), "7:16", "names starting with '_' are not allowed"),
    ("comprehension", expr_spec('"[x for x in X]"'), "7:16", "not allowed"),
    ("walrus", expr_spec('"(y := X)"'), "7:", "not allowed"),
    ("boolean-mask", expr_spec('"X[X > 0]"'), "7:", "indices must be integer literals"),
    ("power-tower", expr_spec("10**10**10"), "7:15", "constant 10**10**10 is too large"),
    ("huge-literal", expr_spec("1e999 * X"), "7:15", "not finite"),
    ("ones-billion", expr_spec("ones(10**9)"), "7:15", "would allocate 1000000000 elements"),
    (
        "kron-blowup",
        expr_spec('"sum(kron(kron(kron(A, A), kron(A, A)), kron(kron(A, A), kron(A, A)))) * X"'),
        "7:",
        "would allocate",
    ),
    ("deep-nesting", expr_spec('"' + "(" * 500 + "X" + ")" * 500 + '"'), "7:", "nested too deeply"),
    ("long-expression", expr_spec('"' + "+".join(["X"] * 1500) + '"'), "7:", "too long"),
    (
        "billion-dims",
        "dims: {n: 1000000000}\ninputs: {X: {shape: [n, n]}}\nloss: sum(X)\n"
        "claims: [{name: g, wrt: X, gradient: ones_like(X)}]\n",
        "2:",
        "budget",
    ),
    (
        "evaluation-budget",
        "dims: {n: 3000}\ninputs: {X: {shape: [n, n]}}\ngraph:\n  a: X * 2\n  b: a * 2\n"
        "  c: b * 2\n  d: c * 2\nloss: sum(d)\nclaims: [{name: g, wrt: X, gradient: 16 * ones_like(X)}]\n",
        "2:",
        "one evaluation would hold up to 45000000 elements",
    ),
    (
        "define-recursion",
        BASE + "define:\n  f(z): g(z)\n  g(z): f(z)\nloss: sum(f(X))\nclaims: [{name: g, wrt: X, gradient: X}]\n",
        "4:",
        "calls itself",
    ),
    (
        "billion-laughs",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        + BASE
        + "loss: sum(X)\nclaims: [{name: g, wrt: X, gradient: X}]\n",
        "1:",
        "anchors and aliases are not allowed",
    ),
    ("python-tag", "!!python/object/apply:os.system ['touch pwned']\n", "1:", "tags are not allowed"),
    (
        "python-tag-inside",
        BASE + "loss: !!python/object/apply:os.system ['touch pwned']\nclaims: [{name: g, wrt: X, gradient: X}]\n",
        "3:",
        "tags are not allowed",
    ),
    (
        "duplicate-keys",
        BASE + "loss: sum(X)\nloss: sum(X ** 2)\nclaims: [{name: g, wrt: X, gradient: X}]\n",
        "4:",
        "duplicate key 'loss'",
    ),
    ("binary-junk", "\x00\x01\x02\xff\xfe", "1:1", ""),
]

# {python: ...} entries that must never reach a non-user callable (a verdict `error`, located).
PYTHON_CATALOGUE = [
    ("os-system", "os:system", "names the standard library"),
    ("subprocess", "subprocess:run", "names the standard library"),
    ("builtins-eval", "builtins:eval", "names the standard library"),
    ("numpy-ufunc", "numpy:exp", "not a Python function"),
    ("gradcheck-itself", "gradcheck.run:run", "names the standard library"),
]
