"""The memory of a process holding millions of long-lived objects: the
cyclic collector kept from rescanning them, and freed memory given back."""
from __future__ import annotations

import contextlib
import ctypes
import gc


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection while millions of long-lived objects are
    made: each collection would scan them all again (half the time of a
    large read). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle() -> None:
    """Move everything alive now out of the cyclic collector's sight
    (``gc.freeze``, which costs a few pointer moves). For what lives as
    long as a data version: a read model is millions of objects, and a
    memo of a whole view a list of a million articles. Each full
    collection would scan them all again and find nothing (a stall of a
    second for a model of 100k articles, of some 100 ms per whole-view
    memo at 1M). Whatever became garbage by then is freed when the next
    data version replaces this one (graph/state.py retire)."""
    gc.freeze()


def release_free_memory() -> None:
    """Give freed memory back to the system. glibc keeps freed blocks for
    reuse, but a load frees parsed files of one size and makes records of
    another, so what it freed stayed resident, unused."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the memory stays reserved, nothing else changes
