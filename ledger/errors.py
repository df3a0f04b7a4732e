"""Exceptions for when the tool cannot go on.

Problems with the *content* of an input are :class:`ledger.problems.Problem` records,
not exceptions. Every message here is Chinese because the CLI shows it to the user.
"""


class LedgerError(Exception):
    """The tool cannot go on; the message tells the user what to do."""


class ConfigError(LedgerError):
    """ledger.toml is missing, malformed or has a wrong key."""


class WorkspaceError(LedgerError):
    """A path escapes the workspace or cannot be written."""


class DiskFull(WorkspaceError):
    """A write failed because the disk (or the user's quota) is full."""


class InputError(LedgerError):
    """An input file cannot be read at all (wrong type, encoding, empty)."""


class UnknownProgramme(LedgerError):
    """The programme id is not configured in ledger.toml."""
