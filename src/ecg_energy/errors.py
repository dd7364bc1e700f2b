"""Errors a user can act on.

Every error the CLI turns into one line derives from :class:`EcgEnergyError`; its message names the
thing (a file, a record, an option) and the fix. Anything else that escapes is a bug and is reported
as such (with the traceback under ``--verbose``).
"""

from __future__ import annotations


class EcgEnergyError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 2


class DataError(EcgEnergyError):
    """Unreadable, malformed or unusable ECG data."""


class ConfigError(EcgEnergyError):
    """A bad option, source name or configuration value."""


class OutputError(EcgEnergyError):
    """An output folder that cannot or must not be written."""


class ModelError(EcgEnergyError):
    """A model file that cannot be loaded safely, or does not fit the data."""
