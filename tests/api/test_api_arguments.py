"""gradcheck.api.arguments: the API's keyword arguments obey the spec loader's rules.

Each misuse is a SchemaError located at the calling line, and its message and hint are the
ones the YAML loader gives for the same mistake in a spec file (the rules live once, in
gradcheck.spec.fields). Valid arguments still read as the loader reads the same spec.
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from gradcheck import check_gradient, check_vjp, problems
from gradcheck.api.arguments import dim_specs, input_specs
from gradcheck.errors import Location, SchemaError
from gradcheck.spec.load import load_spec_text
from gradcheck.spec.model import Domain

HERE = "tests/api/test_api_arguments.py"
YAML_DIMS = "{n: 3, k: 4}"


def loss(x, **_):
    return np.sum(x)


def grad(x, **_):
    return np.ones_like(x)


def api_error(**kwargs) -> tuple[SchemaError, int]:
    """The SchemaError of a check_gradient call with these arguments, and the call's line."""
    with pytest.raises(SchemaError) as info:
        check_gradient(loss, grad, wrt="x", examples=1, seed=0, **kwargs)
    return info.value, sys._getframe().f_lineno - 1


def yaml_error(inputs: str, dims: str = YAML_DIMS) -> SchemaError:
    """The loader's SchemaError for a spec with these ``inputs:`` (and ``dims:``)."""
    text = (
        f"dims: {dims}\ninputs:\n{textwrap.indent(inputs, '  ')}\n"
        "loss: sum(x)\nclaims:\n  - {name: c, wrt: x, gradient: x}\n"
    )
    with pytest.raises(SchemaError) as info:
        load_spec_text(text, "specs/s.yaml")
    return info.value


# id: (API keyword arguments, the same in a spec's inputs: [and dims:], message, hint)
SAME_AS_LOADER = {
    # domains
    "spd-on-a-vector": (
        dict(inputs={"x": "n"}, domains={"x": "spd"}),
        "x: {shape: [n], domain: spd}",
        None,
        "spd needs a square matrix: shape [n]",
        "input 'x' must end in two equal dims, e.g. [n, n]",
    ),
    "orthogonal-not-square": (
        dict(inputs={"x": "n k"}, domains={"x": "orthogonal"}),
        "x: {shape: [n, k], domain: orthogonal}",
        None,
        "orthogonal needs a square matrix: shape [n, k]",
        "input 'x' must end in two equal dims, e.g. [n, n]",
    ),
    "range-lo-above-hi": (
        dict(inputs={"x": "n"}, domains={"x": {"range": [3, 1]}}),
        "x: {shape: [n], domain: {range: [3, 1]}}",
        None,
        "range of input 'x' is empty: [3.0, 1.0]",
        "write [low, high] with low < high",
    ),
    "range-of-one-point": (
        dict(inputs={"x": "n"}, domains={"x": {"range": (1, 1)}}),
        "x: {shape: [n], domain: {range: [1, 1]}}",
        None,
        "range of input 'x' is empty: [1.0, 1.0]",
        "write [low, high] with low < high",
    ),
    "range-infinite": (
        dict(inputs={"x": "n"}, domains={"x": {"range": [0, float("inf")]}}),
        "x: {shape: [n], domain: {range: [0, .inf]}}",
        None,
        "a range bound of input 'x' must be finite, got inf",
        None,
    ),
    "range-three-bounds": (
        dict(inputs={"x": "n"}, domains={"x": {"range": [0, 1, 2]}}),
        "x: {shape: [n], domain: {range: [0, 1, 2]}}",
        None,
        "range of input 'x' must be a list [low, high], got a list of 3",
        None,
    ),
    "range-without-bounds": (
        dict(inputs={"x": "n"}, domains={"x": "range"}),
        "x: {shape: [n], domain: range}",
        None,
        "domain 'range' needs bounds: {range: [low, high]}",
        None,
    ),
    "unknown-domain": (
        dict(inputs={"x": "n"}, domains={"x": "postive"}),
        "x: {shape: [n], domain: postive}",
        None,
        "unknown domain 'postive' for input 'x'",
        "did you mean 'positive'?",
    ),
    "unknown-domain-kind": (
        dict(inputs={"x": "n"}, domains={"x": {"rnage": [0, 1]}}),
        "x: {shape: [n], domain: {rnage: [0, 1]}}",
        None,
        "unknown key 'rnage' in the domain of input 'x'",
        "did you mean 'range'?",
    ),
    "domain-of-the-wrong-type": (
        dict(inputs={"x": "n"}, domains={"x": ["positive"]}),
        "x: {shape: [n], domain: [positive]}",
        None,
        "domain of input 'x' must be one of real, positive, unit, symmetric, spd, invertible, orthogonal, "
        "simplex, or {range: [low, high]} or {integers: [lo, hi]}, got a list",
        None,
    ),
    "cond-zero": (
        dict(inputs={"x": "n n"}, domains={"x": {"spd": {"cond": 0}}}),
        "x: {shape: [n, n], domain: {spd: {cond: 0}}}",
        None,
        "condition number of input 'x' must be in [1, 1e15], got 0",
        None,
    ),
    "cond-below-one": (
        dict(inputs={"x": "n n"}, domains={"x": {"invertible": {"cond": 0.5}}}),
        "x: {shape: [n, n], domain: {invertible: {cond: 0.5}}}",
        None,
        "condition number of input 'x' must be in [1, 1e15], got 0.5",
        None,
    ),
    "cond-not-a-number": (
        dict(inputs={"x": "n n"}, domains={"x": {"spd": {"cond": "big"}}}),
        "x: {shape: [n, n], domain: {spd: {cond: big}}}",
        None,
        "the condition number of input 'x' must be a number, got a string",
        None,
    ),
    "cond-misspelt": (
        dict(inputs={"x": "n n"}, domains={"x": {"spd": {"kond": 10}}}),
        "x: {shape: [n, n], domain: {spd: {kond: 10}}}",
        None,
        "unknown key 'kond' in the spd domain of input 'x'",
        "did you mean 'cond'?",
    ),
    "spd-options-not-a-mapping": (
        dict(inputs={"x": "n n"}, domains={"x": {"spd": 10}}),
        "x: {shape: [n, n], domain: {spd: 10}}",
        None,
        "spd options of input 'x' must be a mapping like {cond: 1e6}, got an integer",
        None,
    ),
    "integers-empty": (
        dict(inputs={"x": "n", "y": {"shape": "n", "domain": {"integers": [2, 2]}}}),
        "x: {shape: [n]}\ny: {shape: [n], domain: {integers: [2, 2]}}",
        None,
        "integers of input 'y' is empty: [2, 2) is half-open",
        "write [lo, hi] with lo < hi",
    ),
    "integers-float-bound": (
        dict(inputs={"x": "n", "y": {"shape": "n", "domain": {"integers": [0, 3.5]}}}),
        "x: {shape: [n]}\ny: {shape: [n], domain: {integers: [0, 3.5]}}",
        None,
        "integer bounds of input 'y' must be integers or dims, got a number",
        None,
    ),
    "simplex-scalar": (
        dict(inputs={"x": ""}, domains={"x": "simplex"}),
        "x: {shape: [], domain: simplex}",
        None,
        "simplex needs at least one axis: shape []",
        None,
    ),
    # dims
    "dim-range-from-zero": (
        dict(inputs={"x": "n"}, dims={"n": (0, 4)}),
        "x: {shape: [n]}",
        "{n: [0, 4]}",
        "dim 'n' must be at least 1, got 0",
        None,
    ),
    "dim-range-reversed": (
        dict(inputs={"x": "n"}, dims={"n": (4, 2)}),
        "x: {shape: [n]}",
        "{n: [4, 2]}",
        "dim 'n' has an empty range [4, 2]",
        "write [lo, hi] with lo <= hi",
    ),
    "dim-three-values": (
        dict(inputs={"x": "n"}, dims={"n": (1, 2, 3)}),
        "x: {shape: [n]}",
        "{n: [1, 2, 3]}",
        "dim 'n' must be a positive integer or a range [lo, hi], got a list of 3",
        None,
    ),
    "dim-boolean": (
        dict(inputs={"x": "n"}, dims={"n": True}),
        "x: {shape: [n]}",
        "{n: true}",
        "dim 'n' must be a positive integer or a range [lo, hi], got a boolean",
        None,
    ),
    "dim-name": (
        dict(inputs={"x": "n"}, dims={"n": 3, "2n": 3}),
        "x: {shape: [n]}",
        "{n: 3, 2n: 3}",
        "dim name must be an identifier, got '2n'",
        "use letters, digits and underscores, not starting with a digit",
    ),
    # shapes
    "shape-size-zero": (
        dict(inputs={"x": "n 0"}),
        "x: {shape: [n, 0]}",
        None,
        "sizes in a shape must be at least 1, got 0",
        None,
    ),
    "shape-size-negative": (
        dict(inputs={"x": (-2,)}),
        "x: {shape: [-2]}",
        None,
        "sizes in a shape must be at least 1, got -2",
        None,
    ),
    "shape-boolean": (
        dict(inputs={"x": ("n", True)}),
        "x: {shape: [n, true]}",
        None,
        "shape of input 'x' must be a list of dims or integers, got a boolean",
        None,
    ),
    "shape-dim-with-underscore": (
        dict(inputs={"x": "n _k"}),
        "x: {shape: [n, _k]}",
        "{n: 3, _k: 4}",
        "names may not start with '_': '_k'",
        None,
    ),
    # inputs
    "input-without-shape": (
        dict(inputs={"x": {"domain": "positive"}}),
        "x: {domain: positive}",
        None,
        "input 'x' needs a shape",
        "for example {shape: [M, n]}; [] is a scalar",
    ),
    "dtype": (
        dict(inputs={"x": {"shape": "n", "dtype": "float16"}}),
        "x: {shape: [n], dtype: float16}",
        None,
        "dtype of input 'x' must be float64, float32 or complex128, got 'float16'",
        "did you mean 'float64'?",
    ),
    "input-keyword-name": (
        dict(inputs={"x": "n", "lambda": "n"}),
        "x: {shape: [n]}\nlambda: {shape: [n]}",
        None,
        "'lambda' is a Python keyword and cannot name an input",
        "only dims may be keywords (and are then usable only in shapes)",
    ),
    "input-underscore-name": (
        dict(inputs={"x": "n", "_y": "n"}),
        "x: {shape: [n]}\n_y: {shape: [n]}",
        None,
        "names may not start with '_': '_y'",
        None,
    ),
    "input-name-not-an-identifier": (
        dict(inputs={"x": "n", "1y": "n"}),
        "x: {shape: [n]}\n1y: {shape: [n]}",
        None,
        "input name must be an identifier, got '1y'",
        "use letters, digits and underscores, not starting with a digit",
    ),
}


@pytest.mark.parametrize("kwargs, inputs, dims, message, hint", SAME_AS_LOADER.values(), ids=SAME_AS_LOADER.keys())
def test_a_misuse_is_located_at_the_call_with_the_loaders_words(kwargs, inputs, dims, message, hint):
    error, line = api_error(**kwargs)
    assert type(error) is SchemaError
    assert (error.location, error.message, error.hint) == (Location(HERE, line, 9), message, hint)
    assert str(error).startswith(f"{HERE}:{line}:9: {message}")
    loaded = yaml_error(inputs, dims or YAML_DIMS)
    assert (loaded.message, loaded.hint) == (message, hint)


def test_a_name_used_by_a_dim_and_an_input_is_refused_as_in_a_spec():
    error, line = api_error(inputs={"x": "n", "n": ""})
    assert (error.location, error.message) == (
        Location(HERE, line, 9),
        f"name 'n' is already used by a dim (line {line})",
    )
    loaded = yaml_error("x: {shape: [n]}\nn: {shape: []}")
    assert loaded.message == "name 'n' is already used by a dim (line 1)"


def test_an_unknown_input_key_has_the_loaders_hint():
    error, line = api_error(inputs={"x": {"shape": "n", "domian": "unit"}})
    assert (error.location, error.message, error.hint) == (
        Location(HERE, line, 9),
        "unknown key 'domian' for input 'x'",
        "did you mean 'domain'?",
    )
    assert yaml_error("x: {shape: [n], domian: unit}").hint == error.hint
    error, _ = api_error(inputs={"x": {"shape": "n", "zzz": 1}})
    assert error.hint == yaml_error("x: {shape: [n], zzz: 1}").hint == "allowed keys: shape, domain, dtype"


def test_a_domain_given_twice_is_refused():
    error, line = api_error(inputs={"x": {"shape": "n", "domain": "unit"}}, domains={"x": "positive"})
    assert str(error) == (
        f"{HERE}:{line}:9: input 'x' has a domain both in inputs= and in domains=\n  give it in one place"
    )


def test_domains_for_no_input_lists_the_inputs():
    error, line = api_error(inputs={"x": "n"}, domains={"zzz": "positive"})
    assert str(error) == f"{HERE}:{line}:9: domains names 'zzz', which is not an input\n  inputs: x"


def test_the_output_shape_of_a_vjp_follows_the_shape_rules():
    with pytest.raises(SchemaError) as info:
        check_vjp(lambda x: x, lambda x, G: G, wrt="x", inputs={"x": "n"}, output_shape="n 0")
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == f"{HERE}:{line}:9: sizes in a shape must be at least 1, got 0"


def test_problems_refuses_misuse_at_its_call():
    with pytest.raises(SchemaError) as info:
        problems(inputs={"x": "n"}, domains={"x": {"range": [3, 1]}})
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == (
        f"{HERE}:{line}:9: range of input 'x' is empty: [3.0, 1.0]\n  write [low, high] with low < high"
    )
    with pytest.raises(SchemaError) as info:
        problems(inputs={"x": "n"}, dims={"n": (0, 4)})
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == f"{HERE}:{line}:9: dim 'n' must be at least 1, got 0"


def test_fixed_point_names_follow_the_input_name_rules():
    with pytest.raises(SchemaError) as info:
        check_gradient(loss, grad, wrt="x", at=[{"x": np.ones(3), "_y": np.ones(3)}])
    line = sys._getframe().f_lineno - 1
    assert str(info.value) == f"{HERE}:{line}:9: names may not start with '_': '_y'"


def test_integer_bounds_must_name_a_dim_once_the_dims_are_known():
    at = Location(HERE, 1, 1)
    inputs = {"x": "n", "y": {"shape": "n", "domain": {"integers": [0, "kk"]}}}
    with pytest.raises(SchemaError) as info:
        input_specs(inputs, None, at, dims={"k": 3})
    assert (info.value.message, info.value.hint) == (
        "unknown dim 'kk' in the integers of input 'y'",
        "did you mean 'k'?",
    )
    loaded = yaml_error("x: {shape: [n]}\ny: {shape: [n], domain: {integers: [0, kk]}}")
    assert (loaded.message, loaded.hint) == (info.value.message, info.value.hint)
    # a declared dim, or one in a shape, may be named
    assert input_specs(inputs, None, at, dims={"kk": 3})["y"].domain == Domain("integers", 0, "kk")
    assert input_specs({**inputs, "z": "kk"}, None, at, dims={})["y"].domain == Domain("integers", 0, "kk")
    # without the dims, a bound must at least be a dim name
    with pytest.raises(SchemaError, match="dim name must be an identifier, got '2k'"):
        input_specs({"y": {"shape": "n", "domain": {"integers": [0, "2k"]}}}, None, at)


# --- valid arguments still work ------------------------------------------------------------------


def test_valid_arguments_read_as_the_same_spec_file_does():
    at = Location(HERE, 1, 1)
    inputs = {
        "X": "M in",
        "S": {"shape": ("n", "n"), "domain": {"spd": {"cond": 100}}},
        "W": {"shape": "n n", "dtype": "float32"},
        "y": {"shape": "M", "domain": {"integers": [0, "k"]}},
        "p": {"shape": 3, "domain": {"range": (0.5, 2)}},
        "q": "M, 3",
        "s": "",
        "u": "n",
    }
    domains = {"W": "invertible", "u": "simplex"}
    dims = {"M": (2, 8), "in": 3, "k": [2, 4]}
    specs = input_specs(inputs, domains, at, dims=dims)
    assert specs == input_specs(inputs, domains, at)  # the dims only check integer bounds
    loaded = load_spec_text(
        textwrap.dedent("""\
        dims: {M: [2, 8], in: 3, k: [2, 4], n: [2, 6]}
        inputs:
          X: {shape: [M, in]}
          S: {shape: [n, n], domain: {spd: {cond: 100}}}
          W: {shape: [n, n], dtype: float32, domain: invertible}
          y: {shape: [M], domain: {integers: [0, k]}}
          p: {shape: [3], domain: {range: [0.5, 2]}}
          q: {shape: [M, 3]}
          s: {shape: []}
          u: {shape: [n], domain: simplex}
        loss: sum(X)
        claims:
          - {name: c, wrt: X, gradient: X}
        """),
        "specs/s.yaml",
    )
    assert {k: (s.shape, s.domain, s.dtype) for k, s in specs.items()} == {
        k: (s.shape, s.domain, s.dtype) for k, s in loaded.inputs.items()
    }
    drawn = dim_specs(dims, [s.shape for s in specs.values()], at)
    assert {d: (s.lo, s.hi) for d, s in drawn.items()} == {d: (s.lo, s.hi) for d, s in loaded.dims.items()}


def test_valid_arguments_still_check_a_gradient():
    def weighted(x, S, y, k):
        return float(k) * np.sum(x**2) + np.sum(S) + 0 * np.sum(y)

    def weighted_grad(x, k, **_):
        return 2 * float(k) * x

    result = check_gradient(
        weighted,
        weighted_grad,
        wrt="x",
        seed=3,
        examples=4,
        inputs={"x": "n", "S": {"shape": "n n", "domain": {"spd": {"cond": 10}}}, "y": "n"},
        dims={"n": (2, 4), "k": 3},
        domains={"x": {"range": (-1, 1)}, "y": {"integers": [0, "k"]}},
    )
    assert result.passed, result


def test_integer_bounds_naming_no_dim_are_refused_at_the_call_without_dims():
    """Without dims=, a bound may name only a dim that appears in some shape (as in a spec)."""
    import numpy as np

    from gradcheck.api import check_gradient

    with pytest.raises(SchemaError, match="unknown dim 'k' in the integers of input 'y'") as info:
        check_gradient(
            lambda x, y: np.sum(x),
            lambda x, y: np.ones_like(x),
            inputs={"x": "M", "y": {"shape": "M", "domain": {"integers": [0, "k"]}}},
            wrt="x",
        )
    assert info.value.location.file.endswith("test_api_arguments.py")


# --- the shared keywords, declared once (gradcheck.api.keywords) --------------------------------

CHECKS = (
    "check_gradient",
    "check_value_and_grad",
    "check_vjp",
    "check_jvp",
    "check_hvp",
    "check_hessian",
    "check_jacobian",
)
SHARED = {
    "inputs": None,
    "dims": None,
    "domains": None,
    "constants": None,
    "at": (),
    "examples": None,
    "seed": None,
    "rtol": None,
    "atol": None,
    "directions": None,
    "expect": "pass",
    "name": None,
}


@pytest.mark.parametrize("api", CHECKS)
def test_every_check_shows_every_shared_keyword_in_its_signature(api):
    """help() and editors that read the runtime signature see each keyword with its default."""
    import inspect

    import gradcheck

    params = inspect.signature(getattr(gradcheck, api)).parameters
    shown = {k: p.default for k, p in params.items() if k in SHARED}
    assert shown == SHARED
    assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in SHARED)
    assert "wrt" in params and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


@pytest.mark.parametrize("api", CHECKS)
def test_a_misspelt_keyword_is_refused_with_the_closest_name(api):
    import gradcheck

    functions = (np.sum,) if api == "check_value_and_grad" else (np.sum, np.sum)
    extra = {"output_shape": "n"} if api in ("check_vjp", "check_jvp", "check_jacobian") else {}

    with pytest.raises(
        TypeError, match=rf"^{api}\(\) got an unexpected keyword argument 'exmaples' \(did you mean 'examples'\?\)$"
    ):
        getattr(gradcheck, api)(*functions, wrt="x", inputs={"x": "n"}, **extra, exmaples=3)
