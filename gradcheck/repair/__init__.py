"""Repair: the nearest correct claim (the smallest edit of the user's expression that passes),
and the derived gradient when no edit within the budget does; both verified before shown."""

from ..verdict.model import Repair
from .search import repair

__all__ = ["Repair", "repair"]
