"""``newsgraph load``: progress on a terminal, a summary table, rejections."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from loaders.keymap import KeyMapError
from store.db import Store
from store.errors import NothingToLoad, StoreError, StoreLocked, StrictLoadRejected
from store.ingest import LoadReport, load

KINDS = ("article", "topic", "provider")
STALE_LISTED = 20  # stale collection files named one by one; the rest are counted


def run_load(paths, db: str, *, prune: bool = False, strict: bool = False, workers=None,
             lock_timeout: float = 60.0, quiet: bool = False, changed=None, git: bool = False,
             keep_stale: bool = False, keymap_file=None, allow_empty: bool = False,
             store: Store | None = None) -> int:
    from .cli import EXIT_EMPTY, EXIT_LOCKED, EXIT_REJECTED, EXIT_STORE, EXIT_STRICT

    out = LazyConsole()
    err = LazyConsole(stderr=True)
    store = store if store is not None else Store(db)
    bar = None
    task = None

    def on_progress(done: int, total: int) -> None:
        nonlocal bar, task
        if bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(TextColumn("parsing"), BarColumn(), MofNCompleteColumn(),
                           TimeRemainingColumn(), console=err.made(), transient=True)
            bar.start()
            task = bar.add_task("parse", total=total)
        bar.update(task, completed=done, total=total)

    try:
        report = load(store, paths, prune=prune, strict=strict, workers=workers,
                      progress=on_progress if not quiet and err.is_terminal else None,
                      lock_timeout=lock_timeout, changed=changed, git=git, keep_stale=keep_stale,
                      keymap_file=keymap_file, allow_empty=allow_empty,
                      on_lock_wait=lambda holder: err.print(f"waiting for the store lock held by {holder}"))
    except StrictLoadRejected as exc:
        _stop(bar)
        _print_rejections(exc.report, err)
        err.print(f"[bold red]{exc}[/]")
        return EXIT_STRICT
    except KeyMapError as exc:
        _stop(bar)
        err.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        return 1
    except NothingToLoad as exc:
        from rich.markup import escape

        _stop(bar)
        _print_rejections(exc.report, err)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
        return EXIT_EMPTY
    except StoreError as exc:
        _stop(bar)
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        return EXIT_LOCKED if isinstance(exc, StoreLocked) else EXIT_STORE
    _stop(bar)
    if not quiet:
        _print_summary(report, db, out)
    _print_rejections(report, err)
    for folder in report.empty:
        err.print(f"warning: no news data in {folder}", soft_wrap=True, markup=False, highlight=False)
    return EXIT_REJECTED if report.rejected else 0


class LazyConsole:
    """A rich Console made when first used: a quiet load with nothing to
    say never imports rich (a tenth of a small load's start)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console = None

    def made(self):
        """The Console itself (for rich's own classes, which take one)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.made(), name)


def _stop(bar) -> None:
    if bar is not None:
        bar.stop()


def _print_summary(report: LoadReport, db: str, out) -> None:
    from rich.table import Table

    table = Table(title=f"{report.files_seen} files, {report.files_parsed} parsed -> {db}",
                  title_justify="left")
    table.add_column("records")
    for column in ("added", "updated", "unchanged", "removed"):
        table.add_column(column, justify="right")
    for kind in KINDS:
        table.add_row(kind + "s", *(str(getattr(report, c)[kind])
                                    for c in ("added", "updated", "unchanged", "removed")))
    out.print(table)
    out.print(f"articles in the store: {report.public} public, {report.hidden} hidden "
              "(unpublished or removed)", soft_wrap=True, markup=False, highlight=False)
    gone = len({named for _, named in report.stale})
    stale = f"{len(report.stale)} ({gone} collection file{'s' * (gone != 1)} gone)" if gone else "0"
    out.print(f"skipped: {len(report.templates)} templates, {len(report.skipped)} files not news data"
              f"   stale API items: {stale}   warnings: {len(report.warnings)}",
              soft_wrap=True, markup=False, highlight=False)
    out.print(f"rejected files: {len(report.rejected)}   data version: {report.data_version}"
              + ("" if report.written else "   (store unchanged)"), soft_wrap=True, markup=False, highlight=False)


def _print_rejections(report: LoadReport, err) -> None:
    # Paths may hold brackets: print them literally, never as markup.
    for warning in report.warnings:
        err.print(f"warning {warning}", soft_wrap=True, markup=False, highlight=False)
    listers: dict[str, set[str]] = {}
    for page, named in report.stale:
        listers.setdefault(named, set()).add(page)
    for named in sorted(listers)[:STALE_LISTED]:
        count = len(listers[named])
        err.print(f"stale {named}: gone, still listed by {count} API file{'s' * (count != 1)} "
                  "(served only with --keep-stale)", soft_wrap=True, markup=False, highlight=False)
    if len(listers) > STALE_LISTED:
        err.print(f"stale: {len(listers) - STALE_LISTED} more collection files gone",
                  markup=False, highlight=False)
    for error in report.rejected:
        err.print(f"rejected {error}", soft_wrap=True, markup=False, highlight=False)


def watch_and_load(paths, db: str, **options) -> None:
    """Load again on every batch of file changes, until interrupted."""
    from watchfiles import watch

    err = LazyConsole(stderr=True)
    announced = False
    # One store object for every load: it keeps the version it published, so
    # the next load reads the store again only if another writer changed it.
    store = Store(db, keep=True)
    try:
        # yield_on_timeout: the first (empty) yield comes once the watcher is
        # live, so a change made after the notice below is never missed.
        for changes in watch(*[Path(p) for p in paths], watch_filter=_not_the_store(db),
                             debounce=500, step=100, rust_timeout=200, yield_on_timeout=True):
            if not announced:
                err.print(f"watching {', '.join(map(str, paths))} for changes (Ctrl-C to stop)")
                announced = True
            if changes:
                # The events name what changed: no walk of the sites, no stat
                # of the files they do not name (store/ingest.py load).
                run_load(paths, db, changed=sorted({path for _, path in changes}), store=store, **options)
    except KeyboardInterrupt:
        sys.exit(0)


def _not_the_store(db: str):
    """The default filter, minus the store, its lock and its temporary files:
    a load writes those, and a store kept inside a watched folder would
    otherwise trigger a load after every load."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()
    store = os.path.abspath(db)

    def keep(change, path: str) -> bool:
        path = os.path.abspath(path)
        return default(change, path) and path != store and not path.startswith(store + ".")

    return keep
