"""Errors of the store: each says which file and what to do."""
from __future__ import annotations


class StoreError(Exception):
    """Base of every store fault; the CLI prints ``str(exc)`` and exits."""


class StoreCorrupt(StoreError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"store {path} cannot be read: {reason}")
        self.path = path
        self.reason = reason


class StoreLocked(StoreError):
    def __init__(self, path: str, holder: str) -> None:
        super().__init__(f"store {path} is being written by another load ({holder}); "
                         "wait for it to finish or raise --lock-timeout")
        self.path = path
        self.holder = holder


class StrictLoadRejected(StoreError):
    """``--strict`` and something was rejected: nothing was written."""

    def __init__(self, message: str, report) -> None:
        super().__init__(message)
        self.report = report


class BadQuery(ValueError):
    """A request the read model cannot answer as asked (a malformed cursor,
    duration or limit); the API turns it into ``BAD_USER_INPUT``."""


class NothingToLoad(Exception):
    """A folder given to load holds no news data (``--allow-empty`` makes
    it a warning); nothing was written. Not a fault of the store."""

    def __init__(self, folders: list[str], report) -> None:
        super().__init__(f"no news data in {', '.join(folders)}: nothing was written "
                         "(give --allow-empty to load it anyway)")
        self.folders = folders
        self.report = report
