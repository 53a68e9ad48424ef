"""Where a load keeps what it parsed until it writes the store: a file
beside the store, not memory.

A load of a large site parses every file before it can write anything
(article numbers follow the sorted ids, known only once every file is
parsed; a duplicate id rejects the later file, whichever came first). What
it keeps meanwhile is most of the store's bytes: each article's record, or
the fragments several files give of one. Those go to the spill as each
file is parsed, and the load keeps their places (``Spilled``); the search
index, the segment and the read-model image then read them back one at a
time. Reading back is ``pread`` into a short-lived bytes object, not a
mapping, whose pages would stay in the load's resident set.

The spill is named ``<store>.spill-XXXX`` (one per load, under the
store's lock): a load killed at any moment leaves one that names nothing,
and the next holder of the lock removes it (``remove_strays``); a load
that ends removes its own. It is never read by anything but its load.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

from .storage import remove_beside

# Writes are gathered into one of this many bytes (a write per record would
# be a system call per article).
BUFFER_BYTES = 1 << 20


def prefix_of(store_path: str) -> str:
    return os.path.basename(store_path) + ".spill-"


class Spill:
    """An append-only file of byte strings, each read back by its place."""

    def __init__(self, store_path: str) -> None:
        folder = os.path.dirname(os.path.abspath(store_path))
        os.makedirs(folder, exist_ok=True)
        self.fd, self.path = tempfile.mkstemp(prefix=prefix_of(store_path), dir=folder)
        self.size = 0  # bytes on disk
        self._buffer = bytearray()

    def put(self, data: bytes) -> int:
        """Append ``data``; its offset (its length is the caller's)."""
        at = self.size + len(self._buffer)
        self._buffer += data
        if len(self._buffer) >= BUFFER_BYTES:
            self.flush()
        return at

    def flush(self) -> None:
        view = memoryview(self._buffer)
        while view:
            view = view[os.write(self.fd, view):]
        self.size += len(self._buffer)
        self._buffer = bytearray()

    def read(self, offset: int, length: int) -> bytes:
        if offset + length > self.size:
            self.flush()
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise OSError(f"the load's spill {self.path} ended early")
        return data

    def close(self) -> None:
        if self.fd < 0:
            return
        os.close(self.fd)
        self.fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def remove_strays(store_path: str) -> None:
    """Remove the spills of loads killed before they ended. Only for the
    holder of the store's lock, the one load that may have one open."""
    remove_beside(store_path, prefix_of(store_path))
