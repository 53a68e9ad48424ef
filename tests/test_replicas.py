"""Three replicas behind a real HAProxy (deploy/haproxy.cfg, as docs/deploy.md
gives it), all on loopback, under wrk's load for a minute while the store
gets three new versions, one replica is killed and restarted, and every
replica is restarted in turn with SIGTERM. No request may fail, every
replica must answer the newest version within 2 s of its publish, and no
answer may mix versions.

Two replicas share the store path; the third has its own folder, which
gets each version the way docs/deploy.md says for another machine."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SEED
from tests.ops import wrk
from tests.procs import newsgraph
from tests.stores import plain_tables

SECONDS = 60
PROPAGATION = 2.0  # seconds a replica may take to answer a new version
# One version, whole: a count, a total and a page that must agree.
PROBE = {"query": "query Probe { stats { dataVersion articles } "
                  "articles(first: 1, where: {collection: {eq: \"extra\"}}) { totalCount } "
                  "facets { total } }"}
LOAD = {"query": "query Load { articles(first: 20) { totalCount nodes { id title provider { name } } } }"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _haproxy() -> str:
    found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy") and "/usr/sbin/haproxy")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("haproxy is missing (make haproxy): the replicas test cannot run")
        pytest.skip("haproxy is missing (make haproxy)")
    return found


def publish_elsewhere(source: Path, target: Path) -> None:
    """docs/deploy.md's "replicas on other machines": the segments the
    replica lacks (a segment never changes once named) and the search index
    of the version, then the image, each copied to a temporary name beside
    its place and renamed in, the manifest last (its rename is what a
    replica notices, and it must find the rest already there); then the
    segments and indexes it no longer names are removed."""
    have, want = Path(f"{target}.d"), Path(f"{source}.d")
    have.mkdir(exist_ok=True)
    tables = plain_tables(source)
    named = tables["segments"]
    # The search index of the version (a directory never changed once named).
    index = tables["meta"].get("searchIndex")
    indexes = Path(f"{target}.search")
    if index and not (indexes / index).exists():
        shutil.copytree(Path(f"{source}.search") / index, indexes / (index + ".incoming"))
        os.replace(indexes / (index + ".incoming"), indexes / index)
    for name in named:
        if not (have / name).exists():
            shutil.copy2(want / name, have / (name + ".incoming"))
            os.replace(have / (name + ".incoming"), have / name)
    names = [p.name for p in source.parent.glob(source.name + ".image")] + [source.name]
    for name in names:
        shutil.copy2(source.parent / name, target.parent / (name + ".incoming"))
    for name in names:
        os.replace(target.parent / (name + ".incoming"), target.parent / name)
    for stale in set(os.listdir(have)) - set(named):
        os.unlink(have / stale)
    for stale in set(os.listdir(indexes) if indexes.exists() else ()) - {index}:
        shutil.rmtree(indexes / stale)


class Replica:
    def __init__(self, name: str, db: Path, port: int, log_dir: Path) -> None:
        self.name, self.db, self.port, self.log_dir = name, db, port, log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{self.name}-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            newsgraph("serve", "--db", str(self.db), "--port", str(self.port), "--log-level", "warning",
                      "--reload-interval", "0.2", "--shutdown-timeout", "10"),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")})
        log.close()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited {self.process.returncode}"
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} never ready")

    def version(self) -> str | None:
        try:
            return httpx.get(self.url + "/readyz", timeout=2).json()["dataVersion"]
        except (httpx.TransportError, ValueError):
            return None

    def stop(self, sig=signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(30)


def _add_article(site: Path, n: int) -> None:
    (site / "_extra" / f"2026-12-0{n}-extra-{n}.md").write_text(
        f"---\ntitle: Extra {n}\npublishedDateTime: 2026-12-0{n}T00:00:00Z\n---\nbody {n}\n",
        encoding="utf-8")


# A minute of wrk through HAProxy counts every failed request: it runs in
# the suite's serial phase (Makefile), with the machine to itself.
@pytest.mark.serial
def test_replicas_behind_haproxy_lose_nothing_and_never_mix_versions(tmp_path):
    haproxy = _haproxy()
    wrk.wrk_binary()
    shared = tmp_path / "shared" / "news.json"
    own = tmp_path / "own" / "news.json"
    shared.parent.mkdir()
    own.parent.mkdir()
    site = tmp_path / "site"
    (site / "_extra").mkdir(parents=True)
    _add_article(site, 1)
    versions: dict[str, int] = {}  # data version -> its articles in the `extra` collection

    def publish(n: int) -> tuple[str, float]:
        """The new version, and when it was published (the load's end)."""
        if n > 1:
            _add_article(site, n)
        done = subprocess.run(newsgraph("load", str(SEED), str(site), "--db", str(shared)),
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        published = time.monotonic()
        assert done.returncode == 0, done.stderr
        publish_elsewhere(shared, own)
        version = re.search(r"data version: ([0-9a-f]+)", done.stdout).group(1)
        versions[version] = n
        return version, published

    publish(1)
    logs = tmp_path / "logs"
    logs.mkdir()
    replicas = [Replica("r1", shared, _free_port(), logs), Replica("r2", shared, _free_port(), logs),
                Replica("r3", own, _free_port(), logs)]
    front = _free_port()
    config = (ROOT / "deploy" / "haproxy.cfg").read_text()
    config = config.replace("127.0.0.1:8080", f"127.0.0.1:{front}")
    for replica, default in zip(replicas, (8001, 8002, 8003)):
        config = config.replace(f"127.0.0.1:{default}", f"127.0.0.1:{replica.port}")
    # Log the requests that went wrong, to say what happened if any did.
    config = config.replace("defaults\n", "defaults\n    log stdout format raw local0\n"
                            "    option httplog\n    option dontlog-normal\n", 1)
    (tmp_path / "haproxy.cfg").write_text(config)
    balancer = None
    load_run = None
    probes: list[tuple[float, dict | None, int]] = []
    stop_probing = threading.Event()
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready()
        balancer_log = open(logs / "haproxy.log", "wb")
        balancer = subprocess.Popen([haproxy, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                                    stdout=balancer_log, stderr=subprocess.STDOUT)
        balancer_log.close()
        api = f"http://127.0.0.1:{front}/graphql"
        _wait_through(api)
        began = time.monotonic()
        load_run = wrk.start(api, LOAD, seconds=SECONDS, workdir=tmp_path, connections=8, threads=1)
        prober = threading.Thread(target=_probe, args=(api, probes, stop_probing), daemon=True)
        prober.start()
        late: list[str] = []

        def publish_and_watch(n: int) -> None:
            version, published = publish(n)
            for replica in replicas:
                while replica.version() != version:
                    if time.monotonic() - published > PROPAGATION:
                        late.append(f"{replica.name} not at version {n} {PROPAGATION} s after its publish")
                        break
                    time.sleep(0.02)

        time.sleep(3)
        publish_and_watch(2)
        time.sleep(2)
        assert replicas[1].stop(signal.SIGKILL) == -signal.SIGKILL
        time.sleep(2)
        replicas[1].start()
        replicas[1].wait_ready()
        time.sleep(2)
        publish_and_watch(3)
        time.sleep(2)
        for replica in replicas:  # a rolling restart
            assert replica.stop(signal.SIGTERM) == 0, f"{replica.name} did not exit 0 on SIGTERM"
            replica.start()
            replica.wait_ready()
            time.sleep(1.2)  # HAProxy's checks see it up (rise 2 x 500 ms) before the next goes
        publish_and_watch(4)
        took = time.monotonic() - began
        assert took < SECONDS - 1, f"the script took {took:.0f} s, more than wrk's minute"
        counted = wrk.result(load_run, timeout=SECONDS + 30)
        load_run = None
        stop_probing.set()
        prober.join(10)
    finally:
        stop_probing.set()
        if load_run is not None:
            load_run.kill()
        if balancer is not None:
            balancer.terminate()
            balancer.wait(10)
        for replica in replicas:
            if replica.process is not None and replica.process.poll() is None:
                replica.stop()

    assert late == [], late
    failures = {k: counted[k] for k in ("non2xx", "connect", "read", "write", "timeout") if counted[k]}
    abnormal = [line for line in (logs / "haproxy.log").read_text().splitlines() if "/graphql" in line]
    assert failures == {}, (failures, counted, abnormal[-20:])
    assert counted["requests"] > 1000, counted
    mixed = [(when, body) for when, body, status in probes
             if status != 200 or body is None or not _one_version(body, versions)]
    assert len(probes) > 200 and mixed == [], mixed[:5]
    seen = {body["data"]["stats"]["dataVersion"] for _, body, _ in probes}
    assert seen == set(versions), (seen, versions)
    print(f"through HAProxy: {counted['requests'] / (counted['duration_us'] / 1e6):.0f} requests/s, "
          f"p50 {counted['p50_us'] / 1000:.1f} ms, p99 {counted['p99_us'] / 1000:.1f} ms")


def _one_version(body: dict, versions: dict[str, int]) -> bool:
    data = body.get("data") or {}
    version = data.get("stats", {}).get("dataVersion")
    if version not in versions or body.get("errors"):
        return False
    articles = data["stats"]["articles"]
    return (data["articles"]["totalCount"] == versions[version]
            and data["facets"]["total"] == articles)


def _probe(api: str, probes: list, stop: threading.Event) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            began = time.monotonic()
            try:
                response = client.post(api, json=PROBE)
                probes.append((began, response.json(), response.status_code))
            except (httpx.TransportError, ValueError):
                probes.append((began, None, 0))
            time.sleep(0.01)


def _wait_through(api: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.post(api, json=PROBE, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("HAProxy never answered")
