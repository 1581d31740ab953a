"""One exception hierarchy; every message says what to fix.

The CLI turns any :class:`RolecastError` into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BudgetError",
    "CaseError",
    "ConfigError",
    "ModelNotFoundError",
    "RolecastError",
    "StorageError",
]


class RolecastError(Exception):
    """Base class of every error rolecast raises on purpose."""


class ConfigError(RolecastError):
    """A configuration file or value is invalid (unknown key, bad type, bad value)."""


class CaseError(RolecastError):
    """A tool case is invalid or a case file cannot be read."""


class BackendError(RolecastError):
    """A backend cannot be created or failed as a whole (not a single bad generation)."""


class ModelNotFoundError(BackendError):
    """A model reference does not resolve to weights on this machine."""


class StorageError(RolecastError):
    """The profile store cannot be opened or written."""


class BudgetError(RolecastError):
    """No coalition satisfies the budget; the message names the binding budget."""
