"""GraphiQL in headless Chromium against a real ``newsgraph serve``, offline.

Every request to a host other than loopback is aborted and reported by
tests/browser.py, so passing means the explorer loaded, ran its example
query and showed stored data with no internet at all. The screenshot is kept
in test-artifacts/ at the repository root.
"""
from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest

from graph.explorer import explorer_html
from tests import browser
from tests.conftest import AZURE, ROOT, SEED
from tests.independent import front_matter, iso, visible
from tests.live_server import serve

ARTIFACTS = ROOT / "test-artifacts"


def require_browser() -> None:
    missing = browser.browser_missing()
    if missing is None:
        return
    if os.environ.get("CI"):  # CI installs it (make browser): absent there is a failure
        pytest.fail(f"the browser test cannot run: {missing}. `make browser` installs Chromium.")
    pytest.skip(f"the browser test cannot run: {missing}")


def _articles(*files: Path) -> list[tuple[str, str, bool]]:
    """(publishedAt, title, visible) read straight from the files."""
    rows = []
    for path in files:
        data, _ = front_matter(path)
        rows.append((iso(data.get("publishedDateTime")), data["title"], visible(data)))
    return sorted(rows, reverse=True)


def test_explorer_runs_its_example_query_on_the_served_store_offline():
    require_browser()
    rows = _articles(*sorted((AZURE / "_news").glob("*.md")), *sorted(SEED.glob("*.txt")))
    newest_visible = next(title for _, title, shown in rows if shown)
    # The newest article of all is unpublished here, so a page that showed
    # it would be leaking, not rendering.
    assert rows[0][2] is False
    screenshot = ARTIFACTS / "graphiql-offline.png"
    with serve(str(AZURE), str(SEED)) as server:
        # The example query lists the newest articles first.
        browser.run_graphiql_check(server.base_url, newest_visible, screenshot)
    assert screenshot.stat().st_size > 10_000


class _Page(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_the_check_catches_a_page_that_reaches_for_the_internet(tmp_path):
    require_browser()
    # The explorer page as served when the assets were never fetched: it
    # loads them from the CDN. The offline check must refuse it, which is
    # what makes the test above mean "no request left this machine".
    _Page.body = explorer_html(default_query="{ stats { articles } }", local=False).encode()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(AssertionError, match=r"blocked non-loopback request: https://"):
            browser.run_graphiql_check(f"http://127.0.0.1:{httpd.server_port}", "articles",
                                       tmp_path / "cdn.png", timeout_ms=10_000)
    finally:
        httpd.shutdown()
        httpd.server_close()
