"""Atomic publish and hot reload: a server switches data versions between
requests, never inside one; a store that cannot be read is named and the old
version keeps serving; two loads never write at once."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from graph.state import DataHolder
from newsgraph.cli import EXIT_LOCKED
from store.db import Store
from store.ingest import load
from tests.conftest import AZURE, POWER_APPS, SEED, make_client
from tests.live_server import serve
from tests.stores import plain_tables
from tests.procs import newsgraph

VERSION_QUERY = "{ stats { dataVersion articles } articles { totalCount } facets { total } }"


def publish(source: str, target: str) -> None:
    """Publish the data of the store at ``source`` at ``target``, the way a
    load does: new segments, then the manifest naming them renamed in."""
    Store(target).write(Store(source).read())


def replace_manifest(target: str, raw: bytes) -> None:
    """Put ``raw`` at the store's path with one rename, as a publish would."""
    part = target + ".part"
    with open(part, "wb") as handle:
        handle.write(raw)
    os.replace(part, target)


def article_ids(path: str) -> set[str]:
    return set(plain_tables(path)["articles"])


def store_facts(path: str) -> tuple[str, int]:
    """(data version, published articles), read with TinyDB from the
    store's files rather than through the project's code."""
    tables = plain_tables(path)
    visible = [a for a in tables["articles"].values()
               if a.get("published", True) is not False and not a.get("removed")]
    return tables["meta"]["dataVersion"], len(visible)


@pytest.fixture(scope="module")
def versions(tmp_path_factory, corpus_db) -> list[str]:
    """Two published stores with different data and counts."""
    small = str(tmp_path_factory.mktemp("versions") / "small.json")
    assert load(Store(small), [AZURE, SEED]).ok
    facts = [store_facts(corpus_db), store_facts(small)]
    assert facts[0][0] != facts[1][0] and facts[0][1] != facts[1][1]
    return [corpus_db, small]


def _answer_facts(data: dict) -> tuple[str, int]:
    stats = data["stats"]
    assert stats["articles"] == data["articles"]["totalCount"] == data["facets"]["total"], data
    return stats["dataVersion"], stats["articles"]


# --- in-process -------------------------------------------------------------------

def test_a_request_in_flight_finishes_on_the_version_it_started_with(tmp_path, versions, monkeypatch):
    """The store is republished and reloaded in the middle of a request
    (inside its `facets` resolver): the answer is all old version, and the
    next request is all new."""
    import store.facets

    db = str(tmp_path / "live.json")
    publish(versions[0], db)
    holder = DataHolder(Store(db))
    real_facets = store.facets.count
    swapped = []

    def facets_then_publish(view, members):
        if not swapped:
            publish(versions[1], db)
            swapped.append(holder.reload_if_changed())
        return real_facets(view, members)

    monkeypatch.setattr(store.facets, "count", facets_then_publish)
    query = """{ before: stats { dataVersion articles } facets(where: {NOT: {heat: {eq: -1003}}}) { total }
                 after: stats { dataVersion articles } }"""
    with make_client(holder) as client:
        data = client.post("/graphql", json={"query": query}).json()["data"]
        assert swapped == [True]
        assert data["before"] == data["after"]
        assert (data["before"]["dataVersion"], data["facets"]["total"]) == store_facts(versions[0])
        assert _answer_facts(client.post("/graphql", json={"query": VERSION_QUERY}).json()["data"]) \
            == store_facts(versions[1])


@pytest.mark.parametrize("broken", [b'{"articles": {"1": {', b"\x00\x01binary", b"[1, 2, 3]",
                                    b'{"articles": {"1": {"id": "x"}}, "meta": {"1": {"format": 1}}}'],
                         ids=["truncated", "binary", "not-an-object", "wrong-shape"])
def test_a_store_that_cannot_be_read_at_reload_keeps_the_old_version(tmp_path, versions, caplog, broken):
    db = str(tmp_path / "live.json")
    publish(versions[0], db)
    holder = DataHolder(Store(db))
    with make_client(holder) as client:
        replace_manifest(db, broken)
        with caplog.at_level(logging.WARNING, logger="newsgraph"):
            assert holder.reload_if_changed() is False
        old_version = store_facts(versions[0])
        assert old_version[0] in caplog.text and db in caplog.text and "cannot be read" in caplog.text
        answer = client.post("/graphql", json={"query": VERSION_QUERY}).json()["data"]
        assert _answer_facts(answer) == old_version
        publish(versions[1], db)  # a good store after a bad one is taken
        assert holder.reload_if_changed() is True
        assert _answer_facts(client.post("/graphql", json={"query": VERSION_QUERY}).json()["data"]) \
            == store_facts(versions[1])


def test_response_cache_and_etags_follow_the_data_version(tmp_path, versions):
    db = str(tmp_path / "live.json")
    publish(versions[0], db)
    holder = DataHolder(Store(db))
    with make_client(holder) as client:
        first = client.get("/graphql", params={"query": VERSION_QUERY})
        publish(versions[1], db)
        assert holder.reload_if_changed()
        again = client.get("/graphql", params={"query": VERSION_QUERY},
                           headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
        assert _answer_facts(again.json()["data"]) == store_facts(versions[1])


# --- start-up -----------------------------------------------------------------------

@pytest.mark.parametrize("content, workers", [(b'{"articles": {', "1"), (b'{"articles": {"1": {"id": 1}}}', "2")],
                         ids=["broken-json", "wrong-shape-with-workers"])
def test_serve_names_a_broken_store_and_exits(tmp_path, content, workers):
    broken = tmp_path / "broken.json"
    broken.write_bytes(content)
    result = subprocess.run(newsgraph("serve", "--db", str(broken), "--port", "0", "--workers", workers),
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert str(broken) in result.stderr and "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_names_a_missing_store(tmp_path):
    missing = tmp_path / "missing.json"
    result = subprocess.run(newsgraph("serve", "--db", str(missing), "--port", "0"), capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0 and str(missing) in result.stderr
    assert "Traceback" not in result.stderr


# --- atomic publish -------------------------------------------------------------------

def test_a_load_publishes_a_new_file_and_keeps_its_mode(tmp_path):
    """Readers hold the old file (its inode) while a load writes a new one
    and renames it into place; the store stays readable by other users."""
    db = tmp_path / "store.json"
    assert load(Store(db), [SEED]).ok
    assert db.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
    db.chmod(0o640)
    with open(db, "rb") as reader:
        before = os.fstat(reader.fileno()).st_ino
        assert load(Store(db), [AZURE]).ok
        assert db.stat().st_ino != before
        assert json.loads(reader.read())  # the old file, whole, for whoever still reads it
    assert db.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


# --- the lock, with two processes -----------------------------------------------------

HOLD_LOCK = """
import sys
from store.db import Store
with Store(sys.argv[1]).lock():
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def lock_holder(tmp_path):
    """Another process that holds the store's lock until ``release()``."""
    db = str(tmp_path / "store.json")
    with subprocess.Popen([sys.executable, "-c", HOLD_LOCK, db], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "locked"
        holder.db = db
        holder.release = lambda: (holder.stdin.close(), holder.wait(timeout=10))
        yield holder
        if holder.poll() is None:
            holder.release()


def test_a_second_load_says_who_holds_the_lock(lock_holder):
    db = lock_holder.db
    result = subprocess.run(newsgraph("load", str(SEED), "--db", db, "--lock-timeout", "0.3"),
                            capture_output=True, text=True, timeout=60)
    holder = lock_holder
    assert result.returncode == EXIT_LOCKED
    assert f"pid {holder.pid}" in result.stderr and "being written by another load" in result.stderr
    assert not os.path.exists(db)  # it wrote nothing


def test_a_second_load_waits_for_the_lock_then_lands(lock_holder):
    db = lock_holder.db
    with subprocess.Popen(newsgraph("load", str(SEED), "--db", db, "--lock-timeout", "30", "-q"),
                          stderr=subprocess.PIPE, text=True) as waiting:
        line = waiting.stderr.readline()
        assert "waiting for the store lock held by" in line and f"pid {lock_holder.pid}" in line
        assert waiting.poll() is None and not os.path.exists(db)
        lock_holder.release()
        assert waiting.wait(timeout=60) == 0, waiting.stderr.read()
    assert store_facts(db)[1] == 1


def test_two_loads_at_once_both_land(tmp_path):
    """Each load reads the store, adds its site and writes: without the lock
    the later write would drop the earlier load's articles."""
    db = str(tmp_path / "store.json")
    loads = [subprocess.Popen(newsgraph("load", str(site), "--db", db, "-q")) for site in (POWER_APPS, AZURE)]
    assert [p.wait(timeout=120) for p in loads] == [0, 0]
    expected = set()
    for number, site in enumerate((POWER_APPS, AZURE)):
        alone = str(tmp_path / f"alone-{number}.json")
        load(Store(alone), [site])
        expected |= article_ids(alone)
    assert article_ids(db) == expected


# --- a real server under load ---------------------------------------------------------

def test_a_server_takes_each_publish_when_it_lands_not_at_its_next_check(tmp_path, versions):
    """With an hour between its checks of the store, the server still
    answers each new version: the watch of the manifest's folder wakes it
    (graph/versionwatch.py), and nothing else written there does harm."""
    db = str(tmp_path / "live.json")
    publish(versions[0], db)
    with serve("--db", db, "--reload-interval", "3600") as server:
        for turn, target in enumerate([versions[1], versions[0], versions[1]]):
            (tmp_path / "beside.json").write_text(str(turn))  # another file of the folder
            publish(target, db)
            version = store_facts(target)[0]
            deadline = time.monotonic() + 30
            while (answer := httpx.post(server.url, json={"query": VERSION_QUERY}).json()["data"])[
                    "stats"]["dataVersion"] != version:
                assert time.monotonic() < deadline, f"turn {turn}: the server never took the new version"
                time.sleep(0.05)
            assert _answer_facts(answer) == store_facts(target)


def test_hot_reload_under_load_loses_no_request_and_mixes_no_versions(tmp_path, versions):
    db = str(tmp_path / "live.json")
    publish(versions[0], db)
    expected = dict(store_facts(path) for path in versions)
    answers: list[tuple[str, int]] = []
    failures: list[str] = []
    stop = threading.Event()

    def client_loop(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set() and len(answers) < 100_000:
                try:
                    response = client.post("/graphql", json={"query": VERSION_QUERY})
                    if response.status_code != 200 or "errors" in response.json():
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    answers.append(_answer_facts(response.json()["data"]))
                except Exception as exc:  # a refused or broken connection is a failure too
                    failures.append(repr(exc))

    with serve("--db", db, "--reload-interval", "0.2") as server:
        thread = threading.Thread(target=client_loop, args=(server.base_url,))
        thread.start()
        try:
            while not answers and thread.is_alive():
                time.sleep(0.02)
            for turn in range(10):
                target = versions[(turn + 1) % 2]
                publish(target, db)
                version = store_facts(target)[0]
                deadline = time.monotonic() + 30
                while not (answers and answers[-1][0] == version) and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert answers[-1][0] == version, f"turn {turn}: the server did not switch"
        finally:
            stop.set()
            thread.join(timeout=60)
    assert failures == []
    assert all(expected[version] == count for version, count in answers)
    switches = sum(1 for a, b in zip(answers, answers[1:]) if a[0] != b[0])
    assert switches >= 10 and len(answers) > 100, (switches, len(answers))
