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


class InstallError(EcgEnergyError):
    """A library this command needs is missing or fails to import: an installation to repair."""


# what the operating system says, as what the user can do about it
_OS_FIXES = {
    "ENOSPC": (
        "no space left on the device",
        "free some space (or choose another folder) and "
        "run the same command again; finished outputs are kept",
    ),
    "EDQUOT": (
        "over the disk quota",
        "free some space (or choose another folder) and run the same command again",
    ),
    "EACCES": (
        "permission denied",
        "check the permissions of the file and its folder, or choose another folder",
    ),
    "EPERM": (
        "operation not permitted",
        "check the permissions of the file and its folder, or choose another folder",
    ),
    "EROFS": ("the file system is read-only", "choose a folder on a writable disk"),
    "EMFILE": ("too many open files", "raise the limit ('ulimit -n') and run again"),
}


def output_error(exc: OSError, path: str | None = None) -> EcgEnergyError:
    """An operating-system error while reading or writing ``path`` as one actionable line
    (an :class:`OutputError`); an error without a known fix names its cause all the same."""
    import errno as errno_mod

    name = errno_mod.errorcode.get(exc.errno or 0, "")
    where = path or exc.filename
    what, fix = _OS_FIXES.get(name, (exc.strerror or str(exc), "check the path and try again"))
    head = f"{where}: {what}" if where else f"{what} while reading or writing"
    return OutputError(head + (f" ({name})" if name else "") + f"; {fix}")


def is_actionable_os_error(exc: BaseException) -> bool:
    """An OSError the user can act on (disk full, permissions, a read-only disk, ...)."""
    import errno as errno_mod

    return isinstance(exc, OSError) and errno_mod.errorcode.get(exc.errno or 0) in _OS_FIXES
