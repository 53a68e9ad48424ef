"""The ``newsgraph`` command as a script uses it: ``query`` (pulls, formats,
errors), ``load`` (summary, rejections, progress on a terminal, --watch) and
``export-schema``. Expectations come from reading the corpus files directly."""
from __future__ import annotations

import csv
import io
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from newsgraph.cli import DEMO_SITE, EXIT_REJECTED, EXIT_STORE, EXIT_STRICT, main
from store.db import Store
from tests.conftest import AZURE, POWER_APPS, ROOT, SEED
from tests.independent import front_matter, slug, visible
from tests.live_server import NEWSGRAPH, serve

# news and samples of the corpus: 251 published articles, three pages of 100.
PULL = """{ articles(first: 100, where: { collection: { in: ["news", "samples"] } }) {
  nodes { id title provider { domain name } topics { slug } } } }"""


def _expected_pull() -> dict[str, dict]:
    """id -> front matter of every published news or sample article."""
    files = [(f"{folder[1:]}/{p.stem}", p) for site in (POWER_APPS, AZURE)
             for folder in ("_news", "_samples") for p in sorted((site / folder).glob("*.md"))]
    files += [(f"news/{p.stem}", p) for p in sorted(SEED.glob("*.txt"))]  # outside any collection
    expected = {}
    for article_id, path in files:
        data, _ = front_matter(path)
        if visible(data):
            expected[article_id] = data
    return expected


EXPECTED = _expected_pull()


def run(*args: str, input: str | None = None, env: dict | None = None):
    result = CliRunner(env=env).invoke(main, list(args), input=input, catch_exceptions=False)
    return result


# --- query: --all and formats -------------------------------------------------------


def test_all_follows_the_cursor_and_returns_every_article_once(corpus_db):
    assert len(EXPECTED) >= 250
    result = run("query", PULL, "--db", corpus_db, "--all", "--format", "ndjson")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    ids = [orjson.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(EXPECTED)
    assert set(ids) == set(EXPECTED)


def test_all_as_json_is_the_list_of_nodes(corpus_db):
    result = run("query", PULL, "--db", corpus_db, "--all")
    assert result.exit_code == 0, result.stderr
    nodes = orjson.loads(result.stdout)
    assert sorted(n["id"] for n in nodes) == sorted(EXPECTED)


def test_csv_has_a_header_and_one_row_per_node_with_dotted_columns(corpus_db):
    result = run("query", PULL, "--db", corpus_db, "--all", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == ["id", "title", "provider.domain", "provider.name", "topics.slug"]
    rows = list(reader)
    assert len(rows) == len(EXPECTED)
    for row in rows:
        data = EXPECTED[row["id"]]
        assert row["title"] == data["title"]
        provider = data.get("provider") or {}
        if provider.get("domain"):
            assert row["provider.domain"] == provider["domain"].lower()
        shown = set(filter(None, row["topics.slug"].split("; ")))
        assert shown == {slug(name) for name in data.get("topics") or ()}


def test_csv_leaves_the_columns_of_a_null_object_empty(corpus_db):
    query = "{ articles(first: 100) { nodes { id provider { domain } } } }"
    nodes = [orjson.loads(line) for line in
             run("query", query, "--db", corpus_db, "--all", "--format", "ndjson").stdout.splitlines()]
    assert any(n["provider"] is None for n in nodes) and any(n["provider"] for n in nodes)
    rows = list(csv.reader(io.StringIO(run("query", query, "--db", corpus_db, "--all",
                                           "--format", "csv").stdout)))
    assert rows[0] == ["id", "provider.domain"]
    assert rows[1:] == [[n["id"], (n["provider"] or {}).get("domain", "")] for n in nodes]


def test_all_walks_with_the_querys_own_cursor_variable(corpus_db):
    query = """query Samples($after: String) {
      articles(first: 30, after: $after, where: { collection: { eq: "samples" } }) { nodes { id } } }"""
    samples = {article_id for article_id in EXPECTED if article_id.startswith("samples/")}
    everything = run("query", query, "--db", corpus_db, "--all", "--var", "after=null", "--format", "ndjson")
    assert everything.exit_code == 0, everything.stderr
    ids = [orjson.loads(line)["id"] for line in everything.stdout.splitlines()]
    assert sorted(ids) == sorted(samples)
    # Given a cursor, the walk starts there.
    first = orjson.loads(run("query", query.replace("nodes { id }", "pageInfo { endCursor } nodes { id }"),
                             "--db", corpus_db).stdout)["articles"]
    rest = run("query", query, "--db", corpus_db, "--all", "--format", "ndjson",
               "--var", f"after={first['pageInfo']['endCursor']}")
    rest_ids = [orjson.loads(line)["id"] for line in rest.stdout.splitlines()]
    assert rest_ids == ids[30:]


def test_ndjson_without_all_prints_the_first_page(corpus_db):
    result = run("query", "{ articles(first: 7) { edges { cursor node { id } } } }",
                 "--db", corpus_db, "--format", "ndjson")
    nodes = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(nodes) == 7 and all("id" in n for n in nodes)


# --- query: input, variables, errors ---------------------------------------------------


def test_query_from_argument_file_and_stdin_agree(corpus_db, tmp_path):
    query = '{ stats { articles topics providers } }'
    (tmp_path / "stats.graphql").write_text(query, encoding="utf-8")
    answers = {
        run("query", query, "--db", corpus_db).stdout,
        run("query", str(tmp_path / "stats.graphql"), "--db", corpus_db).stdout,
        run("query", "-", "--db", corpus_db, input=query).stdout,
    }
    assert len(answers) == 1
    assert orjson.loads(answers.pop())["stats"]["articles"] > 0


def test_variables_from_a_file_and_the_command_line(corpus_db, tmp_path):
    query = """query ($collection: String!, $first: Int) {
      articles(first: $first, where: { collection: { eq: $collection } }) { totalCount nodes { collection } } }"""
    (tmp_path / "vars.json").write_text('{"collection": "samples", "first": 4}', encoding="utf-8")
    from_file = orjson.loads(run("query", query, "--db", corpus_db,
                                 "--vars", str(tmp_path / "vars.json")).stdout)["articles"]
    samples = sum(1 for article_id in EXPECTED if article_id.startswith("samples/"))
    assert from_file["totalCount"] == samples
    assert [n["collection"] for n in from_file["nodes"]] == ["samples"] * 4
    # --var wins over the file; "2" is read as JSON (a number), "news" as a string.
    overridden = orjson.loads(run("query", query, "--db", corpus_db, "--vars", str(tmp_path / "vars.json"),
                                  "--var", "first=2", "--var", "collection=news").stdout)["articles"]
    assert [n["collection"] for n in overridden["nodes"]] == ["news", "news"]


def test_a_malformed_var_is_a_usage_error(corpus_db):
    result = run("query", "{ stats { articles } }", "--db", corpus_db, "--var", "novalue")
    assert result.exit_code == 2
    assert "name=value" in result.stderr


@pytest.mark.parametrize("query, message", [
    ("{ articles { nodes { nope } } }", "Cannot query field 'nope' on type 'Article'"),
    ("{ articles(first: 500) { nodes { id } } }", "100"),
    ("{ articles(", "Syntax Error"),
])
def test_a_graphql_error_exits_non_zero_with_its_message(corpus_db, query, message):
    result = run("query", query, "--db", corpus_db)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_all_needs_a_connection(corpus_db):
    result = run("query", "{ stats { articles } }", "--db", corpus_db, "--all")
    assert result.exit_code == 1
    assert "connection" in result.stderr


def test_a_missing_store_is_named(tmp_path):
    result = run("query", "{ stats { articles } }", "--db", str(tmp_path / "none.json"))
    assert result.exit_code == EXIT_STORE
    assert "none.json" in result.stderr and "newsgraph load" in result.stderr


def test_the_store_comes_from_the_environment(corpus_db):
    result = run("query", "{ stats { articles } }", env={"NEWSGRAPH_DB": corpus_db})
    assert result.exit_code == 0, result.stderr
    assert orjson.loads(result.stdout)["stats"]["articles"] > 0


def test_url_gives_what_the_store_gives(corpus_db):
    local = run("query", PULL, "--db", corpus_db, "--all", "--format", "csv")
    with serve("--db", corpus_db) as server:
        remote = run("query", PULL, "--url", server.url, "--all", "--format", "csv")
        failed = run("query", "{ articles { nodes { nope } } }", "--url", server.url)
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert failed.exit_code == 1 and "Cannot query field 'nope'" in failed.stderr


# --- load ---------------------------------------------------------------------------------


def _article_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.md")
                  if p.relative_to(site).parts[0].startswith("_") and p.relative_to(site).parts[0] != "_data")


def _articles_row(stdout: str) -> list[int]:
    """added, updated, unchanged, removed from the summary's articles row."""
    row = re.search(r"articles\W+(\d+)\W+(\d+)\W+(\d+)\W+(\d+)", stdout)
    assert row, stdout
    return [int(n) for n in row.groups()]


@pytest.fixture
def site(tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(DEMO_SITE, copy)
    return copy


def test_load_prints_a_summary_and_no_progress_bar_when_not_a_terminal(site, tmp_path):
    db = str(tmp_path / "news.json")
    files = _article_files(site)
    first = run("load", str(site), "--db", db)
    assert first.exit_code == 0, first.output
    assert _articles_row(first.stdout) == [len(files), 0, 0, 0]
    assert "rejected files: 0" in first.stdout
    assert first.stderr == ""  # no progress bar, no rejections

    text = files[0].read_text(encoding="utf-8")
    title = front_matter(files[0])[0]["title"]
    assert title in text
    files[0].write_text(text.replace(title, "An edited title", 1), encoding="utf-8")
    files[1].unlink()
    again = run("load", str(site), "--db", db, "--prune")
    assert _articles_row(again.stdout) == [0, 1, len(files) - 2, 1]


def test_load_names_each_rejected_file_and_keeps_the_good_ones(site, tmp_path):
    broken = site / "_news" / "2024-01-01-broken.md"
    broken.write_text('---\ntitle: "Unclosed\nheat: [1, 2\n---\nbody\n', encoding="utf-8")
    db = tmp_path / "news.json"
    result = run("load", str(site), "--db", str(db))
    assert result.exit_code == EXIT_REJECTED
    assert "rejected files: 1" in result.stdout
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected ")]
    assert len(rejected) == 1
    assert "2024-01-01-broken.md" in rejected[0] and re.search(r"\.md:\d+", rejected[0])
    assert len(Store(db).read().articles) == len(_article_files(site)) - 1


def test_strict_load_writes_nothing_when_a_file_is_rejected(site, tmp_path):
    (site / "_news" / "2024-01-01-broken.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    db = tmp_path / "news.json"
    result = run("load", str(site), "--db", str(db), "--strict")
    assert result.exit_code == EXIT_STRICT
    assert "2024-01-01-broken.md" in result.stderr
    assert not db.exists()


def test_load_shows_a_progress_bar_on_a_terminal(site, tmp_path):
    leader, follower = pty.openpty()
    # A plain terminal, whatever the environment running the suite says.
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    process = subprocess.Popen([str(NEWSGRAPH), "load", str(site), "--db", str(tmp_path / "news.json")],
                               stdin=follower, stdout=follower, stderr=follower, close_fds=True, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(30) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    files = len(_article_files(site))
    seen = int(re.search(r"(\d+) files, \d+ parsed", screen).group(1))
    assert seen >= files
    assert re.search(rf"parsing .*━.* {seen}/{seen}", screen), screen


def test_load_watch_reloads_when_a_file_changes(site, tmp_path):
    # The store inside the watched site: its own writes must not trigger loads.
    db = site / "news.json"
    article = sorted((site / "_news").glob("*.md"))[0]
    article_id = f"news/{article.stem}"
    summaries = tmp_path / "stdout.txt"
    with summaries.open("w") as stdout:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([str(NEWSGRAPH), "load", str(site), "--db", str(db), "--watch"],
                                   stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                                   text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    watching = threading.Event()
    log: list[str] = []

    def read_stderr():
        for line in process.stderr:
            log.append(line)
            if line.startswith("watching "):
                watching.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert watching.wait(30), f"--watch never started watching: {''.join(log)}"
        old = Store(db).read().articles[article_id]["title"]
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace(old, "Watched and reloaded", 1), encoding="utf-8")
        deadline = time.monotonic() + 20
        title = old
        while title == old and time.monotonic() < deadline:
            time.sleep(0.1)
            title = Store(db).read().articles[article_id]["title"]
        assert title == "Watched and reloaded", "".join(log)
        time.sleep(1.5)  # three debounce periods: time enough for a load to set off another
        assert process.poll() is None  # still watching
        assert summaries.read_text(encoding="utf-8").count(" files, ") == 2  # the first load, one reload
    finally:
        process.terminate()
        process.wait(10)
        reader.join(5)
        process.stderr.close()


# --- export-schema ---------------------------------------------------------------------------


def test_export_schema_prints_what_schema_graphql_holds():
    result = run("export-schema")
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text(encoding="utf-8")


def test_every_command_runs_as_a_module_too():
    # `python -m newsgraph` for machines where the script is not on PATH.
    done = subprocess.run([sys.executable, "-m", "newsgraph", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for command in ("load", "serve", "query", "export-schema"):
        assert command in done.stdout
