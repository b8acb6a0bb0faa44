"""The safe expression language: parse (ast whitelist) -> shapes (symbolic) -> evaluate (numpy).

:mod:`.parse` and :mod:`.shapes` never import numpy; only :mod:`.evaluate` and
:mod:`.kernels` do. :mod:`.functions` holds the one table of whitelisted functions.
"""
