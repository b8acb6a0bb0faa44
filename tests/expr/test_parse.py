"""Parsing: valid text -> expected IR; every refused construct -> a pinned message and span."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.errors import ExpressionError
from gradcheck.expr import ir
from gradcheck.expr.functions import WHITELIST
from gradcheck.expr.parse import MAX_DEPTH, called_functions, free_names, parse

CALLABLES = WHITELIST | {"dh"}


def P(text):
    return parse(text, CALLABLES)


def refused(text):
    with pytest.raises(ExpressionError) as info:
        P(text)
    err = info.value
    assert err.location is None and err.source == text
    return err


# -- valid expressions -----------------------------------------------------------------------


def test_matmul_transpose_and_define_call():
    assert P("X.T @ ((b - Y) * dh(a))") == ir.Binary(
        (0, 23),
        "@",
        ir.Transpose((0, 3), ir.Name((0, 1), "X")),
        ir.Binary(
            (7, 22),
            "*",
            ir.Binary((8, 13), "-", ir.Name((8, 9), "b"), ir.Name((12, 13), "Y")),
            ir.Call((17, 22), "dh", (ir.Name((20, 21), "a"),), ()),
        ),
    )


def test_reduction_keywords():
    expr = P("sum(x, axis=0, keepdims=True) / M")
    assert expr == ir.Binary(
        (0, 33),
        "/",
        ir.Call(
            (0, 29),
            "sum",
            (ir.Name((4, 5), "x"),),
            (("axis", ir.Number((12, 13), 0)), ("keepdims", ir.Number((24, 28), True))),
        ),
        ir.Name((32, 33), "M"),
    )


def test_axis_tuple_and_shape_tuple():
    assert P("sum(x, axis=(0, -1))").kwargs[0][1] == ir.TupleExpr(
        (12, 19), (ir.Number((13, 14), 0), ir.Number((16, 18), -1))
    )
    assert P("ones((M, 3))").args == (ir.TupleExpr((5, 11), (ir.Name((6, 7), "M"), ir.Number((9, 10), 3))),)


def test_einsum_string_and_lists():
    assert P('einsum("ij,jk->ik", A, B)').args[0] == ir.String((7, 18), "ij,jk->ik")
    stack = P("stack([a, b])")
    assert stack.args == (ir.TupleExpr((6, 12), (ir.Name((7, 8), "a"), ir.Name((10, 11), "b"))),)


def test_where_condition_is_a_comparison():
    cond = P("where(x > 0, x, 0.01 * x)").args[0]
    assert cond == ir.Compare((6, 11), ">", ir.Name((6, 7), "x"), ir.Number((10, 11), 0))


def test_subscripts():
    assert P("x[:, 0]").items == (ir.IndexSlice(None, None, None), ir.IndexInt(0))
    assert P("x[None, -1:]").items == (ir.IndexNewAxis(), ir.IndexSlice(-1, None, None))
    assert P("x[1:3]").items == (ir.IndexSlice(1, 3, None),)
    assert P("x[::-2]").items == (ir.IndexSlice(None, None, -2),)


def test_numbers_keep_int_and_fold_powers():
    assert P("3") == ir.Number((0, 1), 3) and isinstance(P("3").value, int)
    assert P("2.5") == ir.Number((0, 3), 2.5)
    assert P("-3") == ir.Number((0, 2), -3)
    assert P("10**9") == ir.Number((0, 5), 1_000_000_000)
    assert P("2**-1") == ir.Number((0, 5), 0.5)
    assert P("-2**2") == ir.Number((0, 5), -4)
    assert P("2**3**2") == ir.Number((0, 7), 512)


def test_spans_are_characters_not_bytes():
    expr = P("é + ab")  # é is two bytes in UTF-8
    assert expr.right == ir.Name((4, 6), "ab")


def test_leading_whitespace_keeps_offsets():
    assert P("  x + y").right == ir.Name((6, 7), "y")


def test_free_names_and_called_functions_in_order():
    expr = P("X.T @ ((b - Y) * dh(a)) + sum(X)")
    assert free_names(expr) == [("X", (0, 1)), ("b", (8, 9)), ("Y", (12, 13)), ("a", (20, 21)), ("X", (30, 31))]
    assert called_functions(expr) == [("dh", (17, 19)), ("sum", (26, 29))]


# -- refused constructs ----------------------------------------------------------------------

ATTRIBUTE_HINT = "use bare function names: exp, log, tanh, sigmoid, ... (only `.T` is allowed)"
BARE_HINT = "write exp(...): functions are called by their bare names"


@pytest.mark.parametrize(
    "text, message, span, hint",
    [
        ("__import__('os')", "names starting with '_' are not allowed", (0, 10), None),
        ("_x + 1", "names starting with '_' are not allowed", (0, 2), None),
        ("().__class__", "attribute access is not allowed", (0, 12), ATTRIBUTE_HINT),
        ("X.tofile('x')", "attribute access is not allowed", (0, 8), ATTRIBUTE_HINT),
        ("np.exp(x)", "attribute access is not allowed", (0, 6), BARE_HINT),
        (
            "x.sum()",
            "attribute access is not allowed",
            (0, 5),
            "write sum(...): functions are called by their bare names",
        ),
        (
            "np.linalg.norm(x)",
            "attribute access is not allowed",
            (0, 14),
            "write norm(...): functions are called by their bare names",
        ),
        ("np.arctan(x)", "attribute access is not allowed", (0, 9), ATTRIBUTE_HINT),
        ("10**10**10", "constant 10**10**10 is too large", (0, 10), None),
        ("1 + 0**-1", "constant 0**-1 divides by zero", (4, 9), None),
        ("(-8)**0.5", "constant (-8)**0.5 is not a real number", (0, 9), None),
        ("lambda x: x", "lambda is not allowed", (0, 11), None),
        ("sum([v for v in x])", "comprehensions are not allowed", (4, 18), None),
        ("x if y else z", "conditional expressions (x if c else y) are not allowed", (0, 13), None),
        ("x and y", "boolean operators (and, or, not) are not allowed", (0, 7), None),
        ("not x", "boolean operators (and, or, not) are not allowed", (0, 5), None),
        ("(y := 3)", "assignment expressions (:=) are not allowed", (1, 7), None),
        ("f'{x}'", "f-strings are not allowed", (0, 6), None),
        ("{1: 2}", "dict literals are not allowed", (0, 6), None),
        ("{x}", "set literals are not allowed", (0, 3), None),
        ("exp(*x)", "starred arguments (*args) are not allowed", (4, 6), None),
        ("exp(**x)", "**kwargs are not allowed", (4, 7), None),
        ("x // 2", "operator '//' is not allowed", (0, 6), None),
        ("~x", "operator '~' is not allowed", (0, 2), None),
        ("x > 0", "comparisons are only allowed as the condition of where()", (0, 5), None),
        ("where(0 < x < 1, x, 0)", "chained comparisons are not allowed; use one comparison", (6, 15), None),
        ("(x, y)", "tuples and lists are only allowed as function arguments (shapes, axis=, stack)", (0, 6), None),
        ("x + 'a'", "a string is only allowed as the first argument of einsum()", (4, 7), None),
        ("einsum(A, B)", "einsum() needs a subscripts string as first argument", (7, 8), None),
        ("x + True", "True/False are only allowed as keepdims= and lower= values", (4, 8), None),
        ("sum(x, keepdims=1)", "keepdims= must be True or False", (16, 17), None),
        ("solve_triangular(A, b, lower=1)", "lower= must be True or False", (29, 30), None),
        ("sum(x, axis=k)", "axis= must be an integer or a tuple of integers", (12, 13), None),
        (
            "sum(x, out=y)",
            "keyword argument 'out' is not allowed "
            "(only axis=, axes=, keepdims=, ddof=, k=, approximate=, stride=, padding=, dilation= and lower=)",
            (7, 12),
            None,
        ),
        ("var(x, ddof=n)", "ddof= must be an integer", (12, 13), None),
        ("tril(X, k=1.5)", "k= must be an integer", (10, 13), None),
        ("gelu(x, approximate='erf')", "approximate= must be 'none' or 'tanh'", (20, 25), None),
        ("gelu(x, approximate=True)", "approximate= must be 'none' or 'tanh'", (20, 24), None),
        (
            "x[exp(i)]",
            "indices must be integer literals, slices with integer-literal bounds, None, arange(n) or an integer input",
            (2, 8),
            None,
        ),
        (
            "x[x > 0]",
            "indices must be integer literals, slices with integer-literal bounds, None, arange(n) or an integer input",
            (2, 7),
            None,
        ),
        (
            "x[...]",
            "indices must be integer literals, slices with integer-literal bounds, None, arange(n) or an integer input",
            (2, 5),
            None,
        ),
        (
            "x[1:n]",
            "indices must be integer literals, slices with integer-literal bounds, None, arange(n) or an integer input",
            (4, 5),
            None,
        ),
        ("x[::0]", "slice step cannot be zero", (4, 5), None),
        ("1j * x", "complex literals are not allowed", (0, 2), None),
        ("x * 9007199254740993", "integer literal is too large (more than 2**53)", (4, 20), None),
        ("None + x", "None is only allowed inside a subscript (x[None, :])", (0, 4), None),
        ("f(x)(y)", "only bare function names can be called", (0, 4), None),
    ],
)
def test_refused(text, message, span, hint):
    err = refused(text)
    assert (err.message, err.span, err.hint) == (message, span, hint)


def test_unknown_function_suggests_the_closest_name():
    err = refused("expp(x) + 1")
    assert (err.message, err.span, err.hint) == ("unknown function 'expp'", (0, 4), "did you mean 'exp'?")
    assert refused("frobnicate(x)").hint is None
    assert refused("dhh(x)").hint == "did you mean 'dh'?"


@pytest.mark.parametrize(
    "text, hint",
    [
        ("eigh(A)", "'eigh' is not an expression function; use eigvalsh(A) and eigvecsh(A)"),
        ("lstsq(A, b)", "'lstsq' is not an expression function; use pinv(A) @ b (full rank)"),
        ("triangular_solve(b, A)", "'triangular_solve' is not an expression function; use solve_triangular(A, b)"),
    ],
)
def test_linear_algebra_spellings_get_a_replacement(text, hint):
    assert refused(text).hint == hint


def test_statements_do_not_parse_and_point_at_the_column():
    err = refused("import os")
    assert err.message == "does not parse: invalid syntax" and err.span == (0, 1)
    err = refused("x + (")
    assert err.message == "does not parse: '(' was never closed" and err.span == (4, 5)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + "x" + ")" * 5000,
        "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
        "-" * 1500 + "x",
        "+".join(["x"] * 100),
        "exp(" * 61 + "x" + ")" * 61,
    ],
)
def test_deep_nesting_is_refused(text):
    err = refused(text)
    assert err.message == "expression is nested too deeply (more than 60 levels)"


def test_moderate_nesting_is_fine():
    P("(" * 40 + "x" + ")" * 40)
    P(" + ".join(["x"] * 40))


def test_too_long():
    err = refused("x" * 2001)
    assert err.message == "expression is too long (2001 characters, at most 2000)"
    assert err.span == (2000, 2001)


def test_empty():
    assert refused("   ").message == "expression is empty"


def test_error_text_shows_the_caret():
    text = str(refused("np.exp(x)"))
    assert text == (
        "attribute access is not allowed\n"
        "  np.exp(x)\n"
        "  ^^^^^^\n"
        "  write exp(...): functions are called by their bare names"
    )


def test_parse_and_shapes_do_not_import_numpy():
    import subprocess
    import sys

    code = (
        "import sys, gradcheck.expr.parse, gradcheck.expr.shapes, gradcheck.expr.functions;"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


ALPHABET = "xyXM_ab01.2eT()[]{},:;+-*/@<>=!%&|^~'\"\\ \n\tjJ" + "lambdaifornotsumexpwhere"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_arbitrary_text_either_parses_or_raises_expression_error(text):
    try:
        expr = P(text)
    except ExpressionError as err:
        assert err.source == text
        if err.span is not None:
            assert 0 <= err.span[0] <= err.span[1] <= len(text)
    else:
        for name, (start, end) in free_names(expr):
            assert text[start:end] == name


@pytest.mark.parametrize(
    "text, cut",
    [
        ("sum(sigmoid(X @ W) ** 2)", False),
        ("0.5 * sum((Y - X) ** 2) / M", False),
        ("x ** -2", False),
        ("sum(log(x))", True),
        ("sqrt(x)", True),
        ("log1p(x)", True),
        ("x ** 0.5", True),
        ("x ** w", True),
        ("logsumexp(X) + logdet(S) + softplus(x)", False),  # defined for every real input
    ],
)
def test_branch_cuts_are_log_sqrt_and_fractional_powers(text, cut):
    from gradcheck.expr.parse import has_branch_cut

    assert has_branch_cut(parse(text, WHITELIST)) is cut
