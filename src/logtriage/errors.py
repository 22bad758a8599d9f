"""Errors that reach the user as one clear line and a non-zero exit."""


class LogtriageError(Exception):
    """A problem the user can fix; the CLI prints its message and exits with ``exit_code``."""

    exit_code = 2


class InputError(LogtriageError):
    """An input path is missing, unreadable, or holds no logs."""


class FormatError(LogtriageError):
    """An unknown format name, or a format string that cannot be compiled."""


class ConfigError(LogtriageError):
    """The configuration file or a flag value is invalid."""


class ResourceError(LogtriageError):
    """The engine ran out of memory within its limit, or of disk for what it spills."""
