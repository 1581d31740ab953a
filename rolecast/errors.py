"""One exception hierarchy; every message says what to fix.

The CLI turns any :class:`RolecastError` into one line on stderr and exits with the
error's :attr:`~RolecastError.exit_code`:

* 2: bad input (a config, case or model file to fix; a budget nothing fits): retrying
  will not help until someone changes something.
* 4: an infrastructure fault (:class:`InfrastructureError`: a model server down, slow,
  failing or refusing the key): nothing was scored; retry when the server is back.

(130 is an interrupt, 143 SIGTERM; ``rolecast reprofile`` adds 3, "the coalition
changed".)
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BudgetError",
    "CaseError",
    "ConfigError",
    "InfrastructureError",
    "ModelNotFoundError",
    "RolecastError",
    "StorageError",
    "ToolError",
]


class RolecastError(Exception):
    """Base class of every error rolecast raises on purpose."""

    exit_code: int = 2
    """The CLI's exit status for this error (2: bad input, fix it and rerun)."""


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


class InfrastructureError(RolecastError):
    """A model server was down, timed out, failed or refused the key: nothing was scored.

    Raised after everything that did succeed is stored; the faulted steps were not stored,
    so the next run generates them. Exit code 4: a scheduler should retry later.
    """

    exit_code = 4


class ToolError(InfrastructureError):
    """A tool set failed as a whole (an MCP server that will not start, a lost connection).

    An infrastructure fault, never a tool's answer: the agent run stops rather than
    showing the model an error it did not cause.
    """
