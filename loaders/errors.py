"""The one error a loader reports: which file, where in it, and why."""
from __future__ import annotations


class LoadError(Exception):
    """A file that could not be turned into records.

    ``path`` is relative to the loaded root so messages read the same on every
    machine; ``line`` is 1-based and ``None`` when the fault has no position
    (an unreadable file, say).
    """

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "reason": self.reason}

    def __reduce__(self):
        # Rejections cross process boundaries when parsing runs in a pool.
        return (type(self), (self.path, self.reason, self.line))


class LoadWarning(LoadError):
    """A fault the loader worked around: the file loads, and the warning
    says what was changed. ``--strict`` makes it a rejection."""
