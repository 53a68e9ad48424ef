"""The ``newsgraph`` command. It only turns options into settings and calls
the library; errors become messages and exit codes here and nowhere else."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click
import orjson

from graph.settings import Limits, Settings

DEFAULT_DB = "newsgraph.json"
DEMO_SITE = Path(__file__).with_name("demo") / "site"

# Exit codes, one per kind of failure (docs/configuration.md lists them and
# tests/test_readme.py brings each about): 0 all good, 1 a query's GraphQL
# error or any other failure, 2 usage (click's), then:
EXIT_REJECTED = 3   # load: some files rejected (the good ones landed)
EXIT_STRICT = 4     # load --strict: something rejected, nothing written
EXIT_STORE = 5      # the store is missing or cannot be read
EXIT_LOCKED = 6     # load: another load holds the store's lock past --lock-timeout
EXIT_LISTEN = 7     # serve: cannot listen on --host/--port (in use, not permitted)
EXIT_EMPTY = 8      # load: a folder holds no news data (nothing written; --allow-empty loads it)


class ExitError(click.ClickException):
    """An error message, and the documented exit code that goes with it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def store_error(exc: Exception) -> ExitError:
    from store.errors import StoreLocked

    return ExitError(str(exc), EXIT_LOCKED if isinstance(exc, StoreLocked) else EXIT_STORE)

db_option = click.option("--db", envvar="NEWSGRAPH_DB", show_envvar=True, default=None,
                         type=click.Path(dir_okay=False),
                         help=f"The store: a manifest at this path, its segments in PATH.d/ (TinyDB JSON). Default: ./{DEFAULT_DB}.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="newsgraph")
def main() -> None:
    """newsgraph: a GraphQL API over news sites built from files.

    \b
      newsgraph load ./my-site --db news.json     # files -> store
      newsgraph serve --db news.json              # store -> http://127.0.0.1:8000/graphql
      newsgraph serve                             # the bundled demo
      newsgraph query '{ stats { articles } }' --db news.json
    """


# --- load ----------------------------------------------------------------------

@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--prune", is_flag=True, envvar="NEWSGRAPH_PRUNE", show_envvar=True,
              help="Remove records whose files are gone from the loaded folders.")
@click.option("--strict", is_flag=True, envvar="NEWSGRAPH_STRICT", show_envvar=True,
              help="Refuse files that load only with a warning, and write nothing if any file "
              "is rejected.")
@click.option("--keep-stale", is_flag=True, envvar="NEWSGRAPH_KEEP_STALE", show_envvar=True,
              help="Serve API items whose collection file is gone (by default they are counted "
              "and left out).")
@click.option("--map", "keymap_file", type=click.Path(exists=True, dir_okay=False),
              envvar="NEWSGRAPH_MAP", show_envvar=True, default=None,
              help="A mapping file naming this site's keys for newsgraph's fields "
              "(default: newsgraph.yaml beside each site).")
@click.option("--allow-empty", is_flag=True, envvar="NEWSGRAPH_ALLOW_EMPTY", show_envvar=True,
              help="Load a folder with no news data with a warning, instead of refusing it.")
@click.option("--workers", type=click.IntRange(min=1), default=None, envvar="NEWSGRAPH_LOAD_WORKERS",
              show_envvar=True, help="Processes that parse files. Default: one per core.")
@click.option("--lock-timeout", type=float, default=60.0, show_default=True,
              envvar="NEWSGRAPH_LOCK_TIMEOUT", show_envvar=True,
              help="Seconds to wait for another load that holds the store's lock.")
@click.option("--watch", is_flag=True, envvar="NEWSGRAPH_WATCH", show_envvar=True,
              help="Keep running and load again whenever a file changes.")
@click.option("--git", "use_git", is_flag=True, envvar="NEWSGRAPH_GIT", show_envvar=True,
              help="In PATHs that are git work trees, look only at the files git says changed "
              "since the last load with --git (committed since, or not committed).")
@click.option("--quiet", "-q", is_flag=True, envvar="NEWSGRAPH_QUIET", show_envvar=True,
              help="Print only rejections and errors.")
def load(paths, db, prune, strict, keep_stale, keymap_file, allow_empty, workers, lock_timeout,
         watch, use_git, quiet):
    """Load sites, folders or files into the store.

    Each PATH is a Jekyll site (collections such as _news/, _data/topics,
    _data/organizations, api/**/index.json), a plain folder, or single files
    (.md .markdown .txt .html with front matter, .yaml, static API .json).
    Loading again updates what changed; good files land even when others
    are rejected, and each rejected file is named with its line and reason.

    Exit status: 0 when nothing was rejected, 3 when some files were rejected
    (the rest landed), 4 with --strict when anything was rejected (nothing
    written), 5 when the store cannot be read, 6 when another load holds its
    lock past --lock-timeout, 8 when a folder holds no news data (nothing
    written), 1 on other errors.
    """
    from .loading import run_load, watch_and_load

    db = db or DEFAULT_DB
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise click.UsageError(f"no such path: {', '.join(missing)}")
    options = dict(prune=prune, workers=workers, lock_timeout=lock_timeout, quiet=quiet,
                   keep_stale=keep_stale, keymap_file=keymap_file, allow_empty=allow_empty)
    code = run_load(paths, db, strict=strict, git=use_git, **options)
    if watch:
        watch_and_load(paths, db, **options)
    sys.exit(code)


# --- serve ---------------------------------------------------------------------

@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar="NEWSGRAPH_HOST",
              show_envvar=True, help="Interface to bind; loopback unless you mean otherwise.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              envvar="NEWSGRAPH_PORT", show_envvar=True, help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              envvar="NEWSGRAPH_WORKERS", show_envvar=True, help="Server processes.")
@click.option("--preview-token", default=None, envvar="NEWSGRAPH_PREVIEW_TOKEN", show_envvar=True,
              help="Bearer token that lets a request see unpublished articles.")
@click.option("--cors-origin", "cors_origins", multiple=True, envvar="NEWSGRAPH_CORS_ORIGINS",
              show_envvar=True, help="An origin allowed to call the API from a browser; repeatable "
              "(space-separated in the variable). Off by default.")
@click.option("--introspection/--no-introspection", default=True, envvar="NEWSGRAPH_INTROSPECTION",
              show_envvar=True, help="Allow schema introspection (and field suggestions).")
@click.option("--graphiql/--no-graphiql", default=True, envvar="NEWSGRAPH_GRAPHIQL", show_envvar=True,
              help="Serve the GraphiQL explorer at /graphql to browsers.")
@click.option("--cache-control", default=None, envvar="NEWSGRAPH_CACHE_CONTROL", show_envvar=True,
              help='Cache-Control of public GET answers, e.g. "public, max-age=60". Default: no-cache (revalidate with the ETag).')
@click.option("--response-cache-mb", default=64, show_default=True, type=click.IntRange(min=0),
              envvar="NEWSGRAPH_RESPONSE_CACHE_MB", show_envvar=True,
              help="Memory for cached answers (0 turns the cache off).")
@click.option("--answer-parts-mb", default=32, show_default=True, type=click.IntRange(min=0),
              envvar="NEWSGRAPH_ANSWER_PARTS_MB", show_envvar=True,
              help="Memory per view for the serialized parts of answers showing one article, "
              "provider, topic or facets (0 turns them off).")
@click.option("--max-depth", default=Limits.max_depth, show_default=True, type=click.IntRange(min=1),
              envvar="NEWSGRAPH_MAX_DEPTH", show_envvar=True, help="Deepest nesting of a query.")
@click.option("--max-aliases", default=Limits.max_aliases, show_default=True, type=click.IntRange(min=0),
              envvar="NEWSGRAPH_MAX_ALIASES", show_envvar=True, help="Aliases in one query.")
@click.option("--max-tokens", default=Limits.max_tokens, show_default=True, type=click.IntRange(min=10),
              envvar="NEWSGRAPH_MAX_TOKENS", show_envvar=True, help="Tokens in one query document.")
@click.option("--max-cost", default=Limits.max_cost, show_default=True, type=click.IntRange(min=1),
              envvar="NEWSGRAPH_MAX_COST", show_envvar=True,
              help="Estimated nodes (page sizes multiplied down nested connections).")
@click.option("--max-body-kb", default=Limits.max_body_bytes // 1024, show_default=True,
              type=click.IntRange(min=1), envvar="NEWSGRAPH_MAX_BODY_KB", show_envvar=True,
              help="Largest request body.")
@click.option("--max-batch", default=Limits.max_batch, show_default=True, type=click.IntRange(min=1),
              envvar="NEWSGRAPH_MAX_BATCH", show_envvar=True, help="Operations in one batched request.")
@click.option("--max-page", default=Limits.max_page, show_default=True, type=click.IntRange(1, 100),
              envvar="NEWSGRAPH_MAX_PAGE", show_envvar=True,
              help="Largest first/last of a connection (the API promises at most 100).")
@click.option("--max-conditions", default=Limits.max_conditions, show_default=True,
              type=click.IntRange(min=1), envvar="NEWSGRAPH_MAX_CONDITIONS", show_envvar=True,
              help="Conditions in the where filters of one query (AND/OR/NOT counted by their parts).")
@click.option("--timeout", default=Limits.timeout_seconds, show_default=True, type=float,
              envvar="NEWSGRAPH_TIMEOUT", show_envvar=True, help="Seconds one request may execute.")
@click.option("--reload-interval", default=1.0, show_default=True, type=float,
              envvar="NEWSGRAPH_RELOAD_INTERVAL", show_envvar=True,
              help="Seconds between checks for a newly published store, besides a watch of its folder "
              "that wakes the server as each publish lands (0: never reload).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              envvar="NEWSGRAPH_LOG_LEVEL", show_envvar=True, help="Server log verbosity.")
@click.option("--access-log", default="text", show_default=True, type=click.Choice(["text", "json", "off"]),
              envvar="NEWSGRAPH_ACCESS_LOG", show_envvar=True,
              help="A line per request on standard output: text (uvicorn's, at log level info "
              "or debug), json (one object a line: time, operation, status, duration, cache hit, "
              "bytes, client; never variables or tokens) or off.")
@click.option("--metrics", is_flag=True, envvar="NEWSGRAPH_METRICS", show_envvar=True,
              help="Serve Prometheus metrics at /metrics.")
@click.option("--shutdown-timeout", default=30.0, show_default=True, type=click.FloatRange(min=0),
              envvar="NEWSGRAPH_SHUTDOWN_TIMEOUT", show_envvar=True,
              help="Seconds requests in flight get to finish after SIGTERM or Ctrl-C.")
def serve(paths, db, host, port, workers, preview_token, cors_origins, introspection, graphiql,
          cache_control, response_cache_mb, answer_parts_mb, max_depth, max_aliases, max_tokens, max_cost,
          max_body_kb, max_batch, max_page, max_conditions, timeout, reload_interval, log_level,
          access_log, metrics, shutdown_timeout):
    """Serve the GraphQL API (and GraphiQL at /graphql).

    With PATHs, they are loaded first (into --db, or a temporary store). With
    none, --db is served; with no store at all, the bundled demo collection is,
    so a first run shows a working explorer.

    /healthz answers as soon as the server listens; /readyz (and the API) once
    the store is read, and /readyz says 503 again once SIGTERM asks it to stop.

    Exit status: 0 after SIGTERM or Ctrl-C, 5 when the store is missing or
    cannot be read, 7 when it cannot listen on --host/--port, 8 when PATHs
    hold no news data, 1 otherwise.
    """
    from graph.server import run

    if len(cors_origins) == 1 and " " in cors_origins[0]:
        cors_origins = tuple(cors_origins[0].split())
    scratch = None  # a folder of our own for a store nobody named: removed on exit
    if paths:
        if db is None:
            scratch = tempfile.mkdtemp(prefix="newsgraph-")
            db = os.path.join(scratch, DEFAULT_DB)
        code = None
        try:
            code = _load_quietly(paths, db)
        finally:
            if code not in (0, EXIT_REJECTED) and scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)  # nothing to serve, or interrupted
        if code not in (0, EXIT_REJECTED):
            sys.exit(code)  # the load has said why (no news data, the store, its lock)
        click.echo(f"Loaded {', '.join(map(str, paths))} into {db}", err=True)
    elif db is None and os.path.exists(DEFAULT_DB):
        db = DEFAULT_DB
    elif db is None:
        scratch = tempfile.mkdtemp(prefix="newsgraph-demo-")
        db = os.path.join(scratch, DEFAULT_DB)
        _load_quietly([DEMO_SITE], db)
        click.echo("No data given: serving the bundled demo collection.", err=True)
    elif not os.path.exists(db):
        raise ExitError(f"no store at {db}: run `newsgraph load PATH --db {db}` first", EXIT_STORE)
    settings = Settings(
        db=db, host=host, port=port, workers=workers, preview_token=preview_token or None,
        introspection=introspection, graphiql=graphiql, cors_origins=tuple(cors_origins),
        cache_control=cache_control, response_cache_bytes=response_cache_mb * 1024 * 1024,
        answer_parts_bytes=answer_parts_mb * 1024 * 1024,
        reload_interval=reload_interval, log_level=log_level, access_log=access_log,
        metrics=metrics, shutdown_timeout=shutdown_timeout,
        limits=Limits(max_depth=max_depth, max_aliases=max_aliases, max_tokens=max_tokens,
                      max_cost=max_cost, max_body_bytes=max_body_kb * 1024, max_batch=max_batch,
                      max_page=max_page, max_conditions=max_conditions, timeout_seconds=timeout))

    def ready(url: str) -> None:
        # Only now: the address printed is one that answers.
        click.echo(f"newsgraph: GraphiQL and the API at {url}/graphql (store {db})", err=True)

    from graph.server import ListenError
    from store.errors import StoreError

    try:
        run(settings, on_ready=ready)
    except ListenError as exc:
        raise ExitError(str(exc), EXIT_LISTEN) from None
    except StoreError as exc:  # a store that cannot be read at start-up
        raise store_error(exc) from None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _load_quietly(paths, db: str) -> int:
    # Imported only when serve loads something: the loader's progress
    # display (rich) is a twentieth of a large store's start-up to import.
    from .loading import run_load

    return run_load(paths, db, quiet=True)


# --- query ---------------------------------------------------------------------

def _parse_var(raw: str) -> tuple[str, object]:
    name, sep, value = raw.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{raw!r} is not name=value", param_hint="--var")
    try:
        parsed = orjson.loads(value)  # numbers, booleans, null, JSON objects
    except orjson.JSONDecodeError:
        parsed = value  # anything else is a string
    return name.lstrip("$"), parsed


@main.command()
@click.argument("query_or_file")
@db_option
@click.option("--url", envvar="NEWSGRAPH_URL", show_envvar=True, default=None,
              help="Query a running server (its /graphql URL) instead of a store file.")
@click.option("--var", "var_items", multiple=True, metavar="NAME=VALUE", envvar="NEWSGRAPH_VAR",
              show_envvar=True, help="A variable; VALUE is read as JSON when it parses, else as a "
              "string. Repeatable (space-separated in the variable). Wins over --vars.")
@click.option("--vars", "vars_file", type=click.File("rb"), default=None, envvar="NEWSGRAPH_VARS",
              show_envvar=True, help="A JSON file of variables (- for stdin).")
@click.option("--operation-name", default=None, envvar="NEWSGRAPH_OPERATION_NAME", show_envvar=True,
              help="Which operation of the document to run.")
@click.option("--all", "follow", is_flag=True, envvar="NEWSGRAPH_ALL", show_envvar=True,
              help="Follow the first connection's pageInfo.endCursor to the end.")
@click.option("--format", "fmt", type=click.Choice(["json", "ndjson", "csv"]), default="json",
              envvar="NEWSGRAPH_FORMAT", show_envvar=True, show_default=True, help="json: the answer; ndjson: one node a line; csv: one node a row, "
              "nested fields as dotted columns (provider.domain).")
@click.option("--preview-token", default=None, envvar="NEWSGRAPH_PREVIEW_TOKEN", show_envvar=True,
              help="With --url: sent as a bearer token to see unpublished articles.")
@click.option("--preview", is_flag=True, envvar="NEWSGRAPH_PREVIEW", show_envvar=True,
              help="In-process: include unpublished articles.")
def query(query_or_file, db, url, var_items, vars_file, operation_name, follow, fmt,
          preview_token, preview):
    """Run a query in-process on a store, or against a server with --url.

    QUERY_OR_FILE is the query itself, a file holding it, or - for stdin.

    \b
      newsgraph query '{ articles(first: 5) { nodes { title url } } }'
      newsgraph query listing.graphql --var topic=ai --all --format csv
      newsgraph query q.graphql --url http://127.0.0.1:8000/graphql --format ndjson

    A GraphQL error prints its message and exits with status 1.
    """
    from store.errors import StoreError

    from .output import rows_of, to_csv, to_json, to_ndjson
    from .pull import LocalRunner, PullError, RemoteRunner, check, pull_all

    if query_or_file == "-":
        text = sys.stdin.read()
    elif os.path.isfile(query_or_file):
        text = Path(query_or_file).read_text(encoding="utf-8")
    elif "{" not in query_or_file:
        # Every query has a selection set: without a brace it was meant as a file.
        raise click.BadParameter(f"no such file: {query_or_file}", param_hint="QUERY_OR_FILE")
    else:
        text = query_or_file
    variables: dict = {}
    if vars_file is not None:
        try:
            loaded = orjson.loads(vars_file.read())
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc.msg}", param_hint="--vars") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must hold a JSON object", param_hint="--vars")
        variables.update(loaded)
    variables.update(_parse_var(item) for item in var_items)
    runner = None
    try:
        if url:
            runner = RemoteRunner(url, preview_token)
        else:
            runner = LocalRunner(db or DEFAULT_DB, preview=preview)
        if follow:
            rows = list(pull_all(runner, text, variables, operation_name))
            data = rows
        else:
            data = check(runner.run(text, variables, operation_name))
            rows = None
    except PullError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except StoreError as exc:
        raise store_error(exc) from None
    finally:
        if runner is not None:
            runner.close()
    if fmt == "json":
        click.echo(to_json(data), nl=False)
    else:
        rows = rows if rows is not None else rows_of(data)
        click.echo(to_ndjson(rows) if fmt == "ndjson" else to_csv(rows), nl=False)


# --- export-schema ----------------------------------------------------------------

@main.command("export-schema")
def export_schema():
    """Print the schema in SDL (what schema.graphql holds)."""
    from graph.schema import sdl

    click.echo(sdl(), nl=False)
