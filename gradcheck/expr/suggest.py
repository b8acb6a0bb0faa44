"""Did-you-mean for names and functions: what the user probably meant, or what to write instead.

:func:`closest` ranks the names in scope: the same name in another case first (``p`` -> ``P``,
not ``lp``), then the fewest edits (a swap of two neighbours counts as one), then difflib's
similarity as before. :data:`FUNCTION_ALIASES` maps numpy spellings the expression language
does not have to what to write instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

__all__ = ["FUNCTION_ALIASES", "closest", "function_hint"]

#: numpy (and math) spellings that are not expression functions -> what to write instead. One
#: entry per line: when a function joins the whitelist its entry is never consulted again
#: (only unknown functions get a hint); drop the line then.
FUNCTION_ALIASES: dict[str, str] = {
    "matmul": "a @ b",
    "power": "a ** b",
    "pow": "a ** b",
    "multiply": "a * b",
    "add": "a + b",
    "subtract": "a - b",
    "divide": "a / b",
    "true_divide": "a / b",
    "negative": "-a",
    "expit": "sigmoid(x)",
    "log_expit": "log_sigmoid(x)",
    "erfc": "1 - erf(x)",
    "silu": "x * sigmoid(x)",
    "swish": "x * sigmoid(x)",
    "ptp": "max(x) - min(x)",
    "logistic": "sigmoid(x)",
    "inner": "sum(a * b) or a @ b",
    "vdot": "sum(a * b)",
    "tensordot": "einsum('ij,jk->ik', a, b)",
    "inverse": "inv(a)",
    "slogdet": "logdet(a)",
    "eigh": "eigvalsh(A) and eigvecsh(A)",
    "lstsq": "pinv(A) @ b (full rank)",
    "triangular_solve": "solve_triangular(A, b)",
    "identity": "eye(n)",
    "heaviside": "where(x > 0, 1, 0)",
    "log2": "log(x) / log(2)",
    "log10": "log(x) / log(10)",
    "cosh": "(exp(x) + exp(-x)) / 2",
    "sinh": "(exp(x) - exp(-x)) / 2",
    "average": "mean(x)",
    "full": "c * ones(shape)",
    "full_like": "c * ones_like(x)",
    "len": "a dim name",
}


def function_hint(name: str, callables: Collection[str]) -> str | None:
    """The hint for an unknown function: its replacement from the table, or the closest callable."""
    if name in FUNCTION_ALIASES:
        return f"'{name}' is not an expression function; use {FUNCTION_ALIASES[name]}"
    close = closest(name, callables)
    return f"did you mean '{close}'?" if close else None


def closest(word: object, choices: Collection[str]) -> str | None:
    """The choice ``word`` most probably meant, or None.

    Parameters
    ----------
    word : object
        What was written; anything but a string has no suggestion.
    choices : collection of str
        Every name in scope.

    Returns
    -------
    str or None
        A choice equal to ``word`` but for case; else the choice with the fewest edits
        (insert, delete, replace, swap neighbours; none for a one-letter word, at most 1 up to
        3 characters, 2 up to 7, else 3), ties broken by difflib's ratio then alphabetically;
        else difflib's best match above 0.6 (as before: 'p' -> 'lp' when there is no 'P').
    """
    if not isinstance(word, str) or not choices:
        return None
    folded = word.casefold()
    ordered = sorted(c for c in choices if isinstance(c, str) and c != word)
    same = [c for c in ordered if c.casefold() == folded]
    if same:
        return same[0]
    limit = (
        0 if len(word) == 1 else 1 if len(word) <= 3 else 2 if len(word) <= 7 else 3
    )  # 'w' is one edit from every letter
    ranked = []
    for choice in ordered:
        if abs(len(choice) - len(word)) > limit:
            continue  # cheap: most names in a large scope stop here
        edits = _edits(folded, choice.casefold(), limit)
        if edits <= limit:
            ranked.append((edits, -difflib.SequenceMatcher(None, word, choice).ratio(), choice))
    if ranked:
        return min(ranked)[2]
    close = difflib.get_close_matches(word, ordered, n=1)
    return close[0] if close else None


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b``, or ``limit + 1`` once past it."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
