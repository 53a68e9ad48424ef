"""A TinyDB ``Storage`` that reads with orjson and publishes atomically.

TinyDB's JSONStorage rewrites the file in place, so a reader (or a crash) can
see half a file. Here every write goes to a temporary file beside the target,
is flushed to disk, and replaces the target with one ``os.replace``: readers
see the old store or the new one, never a mix.
"""
from __future__ import annotations

import os
import stat
import tempfile

import orjson
from tinydb.storages import Storage

from .errors import StoreCorrupt


class AtomicOrjsonStorage(Storage):
    def __init__(self, path: str, create_dirs: bool = True, **_ignored) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.create_dirs = create_dirs

    def read(self):
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        if not raw:
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreCorrupt(self.path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(data, dict):
            raise StoreCorrupt(self.path, "not a TinyDB document (top level is not an object)")
        return data

    def write(self, data) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        if self.create_dirs:
            os.makedirs(folder, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=temp_prefix(self.path), dir=folder)
        try:
            # mkstemp makes the file private (0600); keep the store's own mode
            # so a server running as another user can still read it.
            os.fchmod(handle, _mode_of(self.path))
            with os.fdopen(handle, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(folder)

    def close(self) -> None:
        pass


def temp_prefix(path: str) -> str:
    """Names of the temporary files a write leaves behind if it is killed."""
    return os.path.basename(path) + ".tmp-"


def _mode_of(path: str) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o644


def _fsync_dir(folder: str) -> None:
    # The rename itself must reach the disk, or a power cut can undo it.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
