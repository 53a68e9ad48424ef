"""Sets of article numbers: the one module that imports the engine
(pyroaring's compressed bitmaps), so another could replace it here."""
from __future__ import annotations

from pyroaring import BitMap as NumberSet

EMPTY = NumberSet()


def union(sets) -> NumberSet:
    sets = list(sets)
    return NumberSet.union(*sets) if sets else NumberSet()
