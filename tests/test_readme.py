"""The README tried as a new user would: its shell blocks run in order in an
empty folder (with a demo server standing in for `make serve`), its GraphQL
gallery runs against the bundled demo, its fetch and gql examples run against
a real server. And docs/configuration.md names every option of every command."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest

from newsgraph.cli import main
from tests.conftest import POWER_APPS, ROOT, SEED, make_client
from tests.live_server import serve

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
VENV_BIN = Path(sys.executable).parent
README_PORT = "127.0.0.1:8000"  # where the README's `make serve` listens

# Commands not run here, and why.
NOT_RUN = {
    "make ": "make is what runs this suite; the targets are checked to exist",
    "python3 -m venv": "installs the project, which is done before the suite runs",
    ".venv/bin/python -m pytest": "runs tests: this test is one of them",
}


def blocks(language: str) -> list[str]:
    return [m.group(1) for m in re.finditer(rf"^```{language}\n(.*?)^```", README, re.M | re.S)]


def commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    # `make serve` in a checkout: no store in the folder, so the bundled demo.
    with serve(cwd=tmp_path_factory.mktemp("demo-server")) as server:
        yield server


def _for_this_machine(text: str, server) -> str:
    return text.replace(README_PORT, f"127.0.0.1:{server.port}")


# --- shell blocks --------------------------------------------------------------------


def test_the_shell_blocks_run_as_written(tmp_path, demo_server):
    home = tmp_path / "home"
    (home / "sites").mkdir(parents=True)
    (home / "sites" / "power-apps").symlink_to(POWER_APPS)  # the README's ~/sites/power-apps
    work = tmp_path / "work"
    work.mkdir()
    listing = next(b for b in blocks("graphql") if b.startswith("query Listing"))
    (work / "listing.graphql").write_text(listing, encoding="utf-8")  # "holds the listing query above"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    env.update(HOME=str(home), PATH=f"{VENV_BIN}{os.pathsep}{env['PATH']}")

    ran, served = [], []
    for block in blocks("sh"):
        group: list[str] = []
        for command in commands(block):
            if any(command.startswith(prefix) for prefix in NOT_RUN):
                if command.startswith("make "):
                    for target in shlex.split(command, comments=True)[1:]:
                        assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(), re.M), command
                continue
            words = shlex.split(command, comments=True)
            if words[0].endswith("newsgraph") and words[1] == "serve":
                _run_group(group, work, env, demo_server)
                ran += group
                group = []
                served.append(_check_serve(words[2:], work, env))
                continue
            group.append(command.replace(".venv/bin/", f"{VENV_BIN}/"))
        _run_group(group, work, env, demo_server)
        ran += group

    assert len(ran) >= 10 and len(served) >= 2
    header = (work / "articles.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == ["id", "title", "provider.domain"]
    assert (work / "schema.graphql").read_text() == (ROOT / "schema.graphql").read_text()


def _run_group(group: list[str], work: Path, env: dict, server) -> None:
    """Consecutive commands share one shell, as in a terminal (variables carry
    over); a trailing `# -> TEXT` says what the output shows."""
    if not group:
        return
    script = "set -euo pipefail\n" + "\n".join(_for_this_machine(c, server) for c in group)
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{script}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
    expected = [m.group(1).strip() for c in group for m in [re.search(r"#\s*->\s*(.+)$", c)] if m]
    for text in expected:
        assert text in done.stdout, f"{script}\nshould show {text}:\n{done.stdout}"
    if not any(re.fullmatch(r"[A-Z_]+", text) for text in expected):  # no error announced
        assert "errors" not in done.stdout and "error:" not in done.stderr, f"{script}\n{done.stdout}{done.stderr}"


def _check_serve(args: list[str], work: Path, env: dict) -> str:
    with serve(*args, cwd=work, env=env) as server:
        health = httpx.get(server.base_url + "/healthz").json()
        page = httpx.get(server.url, headers={"Accept": "text/html"})
    assert health["counts"]["articles"] > 0
    assert "graphiql" in page.text.lower()
    return " ".join(args)


# --- the GraphQL gallery ---------------------------------------------------------------


@pytest.mark.parametrize("query", blocks("graphql"), ids=lambda q: q.split("(")[0].strip(" {\n")[:30])
def test_every_graphql_example_runs_on_the_demo(demo_client, query):
    body = demo_client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body["errors"]
    # A gallery query that finds nothing teaches nothing.
    for field, value in body["data"].items():
        assert value is not None, field
        if isinstance(value, dict):
            assert value.get("totalCount", 1) > 0 and value.get("total", 1) > 0, (field, value)


def test_the_gallery_has_examples():
    assert len(blocks("graphql")) >= 5


# --- client examples -------------------------------------------------------------------------


def test_the_gql_example_runs_against_a_server(demo_server):
    (code,) = blocks("python")
    done = subprocess.run([sys.executable, "-c", _for_this_machine(code, demo_server)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    health = httpx.get(demo_server.base_url + "/healthz").json()
    lines = done.stdout.splitlines()
    assert len(lines) == health["counts"]["articles"]  # every page, each article once
    assert len(set(lines)) == len(lines)


def test_the_fetch_example_runs_against_a_server(demo_server):
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing: the README's fetch example cannot be checked")
        pytest.skip("node is missing")
    (code,) = blocks("js")
    done = subprocess.run([node, "-e", _for_this_machine(code, demo_server)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    latest = httpx.post(demo_server.url, json={"query": "{ articles(first: 5) { nodes { title } } }"})
    titles = [n["title"] for n in latest.json()["data"]["articles"]["nodes"]]
    assert [line.split(" ", 1)[1] for line in done.stdout.splitlines()] == titles


# --- docs/configuration.md ------------------------------------------------------------------------


def _section(command: str) -> str:
    found = re.search(rf"^## `newsgraph {command}\b.*?(?=^## |\Z)", CONFIGURATION, re.M | re.S)
    assert found, f"docs/configuration.md has no section for `newsgraph {command}`"
    return found.group(0)


def _options(command: str) -> list[click.Option]:
    return [p for p in main.commands[command].params
            if isinstance(p, click.Option) and p.name != "help"]


@pytest.mark.parametrize("command", ["serve", "load", "query"])
def test_every_option_is_documented_with_its_variable(command):
    section = _section(command)
    for option in _options(command):
        assert option.help, f"{command} {option.opts[0]} has no help text"
        assert option.envvar, f"{command} {option.opts[0]} has no environment variable"
        for name in option.opts + option.secondary_opts:
            assert f"`{name}" in section, f"docs/configuration.md does not document `{command} {name}`"
        assert f"`{option.envvar}`" in section, f"docs/configuration.md lacks {option.envvar} ({command})"


@pytest.mark.parametrize("command", ["serve", "load", "query"])
def test_the_docs_name_no_option_that_does_not_exist(command):
    known = {name for option in _options(command) for name in option.opts + option.secondary_opts}
    rows = [line for line in _section(command).splitlines() if line.startswith("| `-")]
    documented = {name for row in rows for name in re.findall(r"`(--?[\w-]+)", row.split("|")[1])}
    assert documented and documented <= known, documented - known


# --- what docs/configuration.md promises ----------------------------------------------------


def _table(heading: str) -> list[str]:
    """The first column of the table under ``heading``, without backquotes."""
    found = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#|\Z)", CONFIGURATION, re.M | re.S)
    assert found, f"docs/configuration.md has no section {heading!r}"
    rows = [line for line in found.group(1).splitlines() if line.startswith("| `")]
    return [row.split("|")[1].strip().strip("`") for row in rows]


def _bad_site(root: Path) -> Path:
    (root / "_news").mkdir(parents=True)
    (root / "_news" / "good.md").write_text("---\ntitle: Good\n---\nbody\n", encoding="utf-8")
    (root / "_news" / "bad.md").write_text("---\ntitle: Bad\nheat: hot\n---\nbody\n", encoding="utf-8")
    return root


def _empty_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "README.md").write_text("# Notes, no news\n", encoding="utf-8")
    return root


def _exit_code_cases(tmp_path: Path, corpus_db: str):
    """Each documented exit code, and a command that ends with it."""
    import fcntl
    import socket

    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"broken', encoding="utf-8")
    locked = tmp_path / "locked.json"
    lock = open(str(locked) + ".lock", "a+")  # the lock a running load holds (FILE.lock)
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    site = _bad_site(tmp_path / "site")
    cases = {
        0: ["export-schema"],
        1: ["query", "{ nope }", "--db", corpus_db],
        2: ["query", str(tmp_path / "nofile.graphql")],
        3: ["load", str(site), "--db", str(tmp_path / "some.json"), "-q"],
        4: ["load", str(site), "--db", str(tmp_path / "strict.json"), "--strict", "-q"],
        5: ["query", "{ stats { articles } }", "--db", str(corrupt)],
        6: ["load", str(SEED), "--db", str(locked), "--lock-timeout", "0.2", "-q"],
        7: ["serve", "--db", corpus_db, "--port", str(busy.getsockname()[1])],
        8: ["load", str(_empty_folder(tmp_path / "empty")), "--db", str(tmp_path / "empty.json")],
    }
    return cases, (lock, busy)


def test_every_documented_exit_status_is_what_its_case_exits_with(tmp_path, corpus_db):
    documented = {int(code) for code in _table("Exit status")}
    cases, held = _exit_code_cases(tmp_path, corpus_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    try:
        assert documented == set(cases), "a documented exit status without a case, or the reverse"
        for code, args in cases.items():
            done = subprocess.run([str(VENV_BIN / "newsgraph"), *args], capture_output=True, text=True,
                                  timeout=120, env=env, stdin=subprocess.DEVNULL)
            assert done.returncode == code, (args, done.returncode, done.stderr[-2000:])
            assert "Traceback" not in done.stderr, done.stderr
            if code:
                assert done.stderr.strip(), f"exit {code} without a word: {args}"
    finally:
        for thing in held:
            thing.close()


def test_every_documented_error_code_is_what_its_case_answers(corpus_holder, monkeypatch):
    from starlette.testclient import TestClient

    from graph.app import create_app
    from graph.http import GraphQLHTTP
    from graph.settings import Limits
    from graph.settings import Settings as ServerSettings

    documented = set(_table("Error codes"))
    digest = "0" * 64

    def internal(_client):
        def boom(*args, **kwargs):
            raise RuntimeError("a fault of ours")
        app = create_app(ServerSettings(db=corpus_holder.store.path, reload_interval=0),
                         holder=corpus_holder)
        with monkeypatch.context() as patch:
            patch.setattr(GraphQLHTTP, "_decode_body", boom)
            return TestClient(app, raise_server_exceptions=False).post(
                "/graphql", json={"query": "{ stats { articles } }"})

    def loading(_client):  # an app whose store is still being read: its lifespan has not run
        app = create_app(ServerSettings(db=corpus_holder.store.path))
        return TestClient(app).post("/graphql", json={"query": "{ stats { articles } }"})

    cases = {
        "BAD_USER_INPUT": lambda c: c.post("/graphql", json={"query": "{ nope }"}),
        "QUERY_TOO_COMPLEX": lambda c: c.post("/graphql", json={"query": "{ a: stats { articles } b: stats { topics } }"}),
        "NOT_FOUND": lambda c: c.get("/nope"),
        "PERSISTED_QUERY_NOT_FOUND": lambda c: c.post("/graphql", json={
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}),
        "UNAUTHENTICATED": lambda c: c.post("/graphql", json={"query": "{ stats { articles } }"},
                                            headers={"Authorization": "Bearer wrong"}),
        "UNAVAILABLE": loading,
        "INTERNAL": internal,
        "BAD_REQUEST": lambda c: c.put("/healthz"),
    }
    assert documented == set(cases), "a documented error code without a case, or the reverse"
    with make_client(corpus_holder, limits=Limits(max_aliases=1)) as client:
        for code, case in cases.items():
            body = case(client).json()
            assert body["errors"][0]["extensions"]["code"] == code, (code, body)


def test_the_documented_default_page_size_is_the_one_served(demo_client):
    documented = re.search(r"`first`/`last` default to `(\d+)`", CONFIGURATION)
    assert documented, "docs/configuration.md does not say the default page size"
    body = demo_client.post("/graphql", json={"query": "{ articles { totalCount nodes { id } } }"}).json()
    total = body["data"]["articles"]["totalCount"]
    assert total > int(documented.group(1)), "the demo is too small to show the default"
    assert len(body["data"]["articles"]["nodes"]) == int(documented.group(1))


# --- docs/deploy.md ------------------------------------------------------------------------------

DEPLOY = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("language, path", [("haproxy", "deploy/haproxy.cfg"),
                                            ("ini", "deploy/newsgraph@.service")])
def test_deploy_shows_the_files_the_tests_run(language, path):
    shown = re.findall(rf"^```{language}\n(.*?)^```", DEPLOY, re.M | re.S)
    assert shown == [(ROOT / path).read_text(encoding="utf-8")], f"docs/deploy.md differs from {path}"


def test_the_systemd_unit_is_valid_and_runs_options_that_exist(tmp_path):
    unit = (ROOT / "deploy" / "newsgraph@.service").read_text(encoding="utf-8")
    command = re.search(r"^ExecStart=(\S+) (.*)$", unit, re.M)
    args = shlex.split(command.group(2).replace("%i", "8001"))
    assert args[0] == "serve"
    serve_options = {name for option in _options("serve") for name in option.opts}
    assert {a for a in args if a.startswith("--")} <= serve_options
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing")
    # As installed, but with this checkout's newsgraph, which exists here.
    (tmp_path / "newsgraph@.service").write_text(unit.replace(command.group(1), str(VENV_BIN / "newsgraph")))
    (tmp_path / "newsgraph@8001.service").symlink_to(tmp_path / "newsgraph@.service")
    done = subprocess.run([analyze, "verify", str(tmp_path / "newsgraph@8001.service")],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "newsgraph@" in line and "EnvironmentFile" not in line]
    assert problems == [], problems
