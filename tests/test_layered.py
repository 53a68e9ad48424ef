"""The lookup maps a patch lays over the version before's (store/layered.py)
answer as the plain dict of the same keys would, each version its own,
through many patches and the merges they make."""
from __future__ import annotations

import pickle
import random

from store import layered
from store.layered import Layered


def test_every_version_answers_as_its_own_dict(monkeypatch):
    monkeypatch.setattr(layered, "MERGE_KEYS", 8)  # merges every few patches
    rng = random.Random(18)
    plain = {f"k{i}": i for i in range(600)}
    versions = [(Layered(dict(plain)), dict(plain))]
    merged = 0
    for step in range(300):
        mine, theirs = versions[-1]
        gone = rng.sample(sorted(theirs), k=min(len(theirs), rng.randrange(4)))
        put = {f"k{rng.randrange(900)}": step * 1000 + n for n in range(rng.randrange(4))}
        nxt = mine.patched(gone, put)
        merged += not nxt.top
        expected = {k: v for k, v in theirs.items() if k not in gone} | put
        versions.append((nxt, expected))
    assert merged > 5, "the patches never merged their keys into a new base"
    for mine, theirs in versions[::7]:  # every version still answers as it did
        assert len(mine) == len(theirs) and dict(mine.items()) == theirs
        assert sorted(mine) == sorted(theirs)
        for key in ("k1", "k599", "k899", "nothing"):
            assert (key in mine) == (key in theirs)
            assert mine.get(key) == theirs.get(key)
            assert mine.get(key, "absent") == theirs.get(key, "absent")


def test_a_key_taken_out_and_put_back_in_one_patch():
    first = Layered({"a": 1, "b": 2})
    second = first.patched(["a", "c"], {"a": 3, "c": 4})
    assert dict(second.items()) == {"a": 3, "b": 2, "c": 4} and len(second) == 3
    third = second.patched(["c", "a"])
    assert dict(third.items()) == {"b": 2} and len(third) == 1 and "a" not in third
    assert dict(first.items()) == {"a": 1, "b": 2}


def test_an_image_holds_one_plain_map():
    mine = Layered({"a": 1, "b": 2}).patched(["a"], {"c": 3})
    again = pickle.loads(pickle.dumps(mine))
    assert dict(again.items()) == {"b": 2, "c": 3} and not again.top and len(again) == 2
