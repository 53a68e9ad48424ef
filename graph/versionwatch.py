"""When a server looks for a new data version: as soon as a publish puts a
new manifest in place, and every ``--reload-interval`` seconds besides.

Every publish and every compaction ends by renaming a new manifest over the
store's path (store/segments.py), so a watch of the folder holding it,
asking only for files moved or written in there, names each new version
when it lands. On Linux that is an inotify descriptor in the server's own
event loop: it wakes on the rename alone and costs nothing while nothing
happens. watchfiles (the load's watcher) was not taken here: its watching
thread wakes every step to ask for events and answers a step after the last
one, latency and idle work that a server does not need. Where no watch can be
had (another system, the watch limit reached) the interval's checks are all
there is, and they stay in any case: a watch misses a store on a network
file system written by another machine.

Each server process (``--workers``) keeps its own watch and applies the
change to its own model.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import struct

log = logging.getLogger("newsgraph")

# From <sys/inotify.h>: the events a rename into the folder, or a file
# written there and closed, make.
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000  # events were lost: the manifest's may be among them
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


class ManifestWatch:
    """Sets ``wake`` (an asyncio.Event of the running loop) whenever the
    file at ``path`` is renamed into place or written. ``start`` says
    whether a watch could be had."""

    def __init__(self, path: str, wake: asyncio.Event) -> None:
        folder, name = os.path.split(os.path.abspath(path))
        self.folder, self.name = folder, os.fsencode(name)
        self.wake = wake
        self.fd: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> bool:
        libc = _libc()
        if libc is None:
            return False
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            log.warning("no watch of the store for new versions (inotify: %s); checking on the interval",
                        os.strerror(ctypes.get_errno()))
            return False
        if libc.inotify_add_watch(fd, os.fsencode(self.folder), IN_MOVED_TO | IN_CLOSE_WRITE) < 0:
            log.warning("no watch of %s for new versions (inotify: %s); checking on the interval",
                        self.folder, os.strerror(ctypes.get_errno()))
            os.close(fd)
            return False
        self.fd = fd
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(fd, self._readable)
        return True

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # the descriptor broke: the interval's checks go on
            log.warning("the watch of the store stopped (%s); checking on the interval", exc)
            self.close()
            return
        if any(name == self.name or mask & IN_Q_OVERFLOW for mask, name in _events(data)):
            self.wake.set()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = None


def _events(data: bytes):
    """(mask, file name) of each inotify event of a read."""
    at = 0
    while at + _EVENT.size <= len(data):
        _, mask, _, length = _EVENT.unpack_from(data, at)
        at += _EVENT.size
        yield mask, data[at:at + length].rstrip(b"\0")
        at += length


def _libc():
    """The C library, when it has inotify (Linux); else None."""
    try:
        # The process's own symbols, libc's among them: no search for the
        # library (find_library runs a program).
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch  # noqa: B018 - present or AttributeError
    except (OSError, AttributeError):
        return None
    libc.inotify_add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
    return libc


async def new_versions(path: str, interval: float):
    """Yields each time the store at ``path`` may have a new version: when
    its manifest is renamed into place or written, and at least every
    ``interval`` seconds. A wake during a caller's check is kept for the
    next one, so no version is missed."""
    wake = asyncio.Event()
    watch = ManifestWatch(path, wake)
    watch.start()
    try:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), interval)
            wake.clear()
            yield
    finally:
        watch.close()
