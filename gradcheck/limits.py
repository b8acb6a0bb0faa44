"""The old name of :mod:`gradcheck.user_limits` (limits on user code), kept importable; deprecated."""

from .user_limits import ClaimTimeout, deadline, user_traceback

__all__ = ["ClaimTimeout", "deadline", "user_traceback"]
