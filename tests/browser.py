"""A real-browser check of the GraphiQL explorer, with the internet cut off.

Debian's Chromium (``apt-get install chromium``) driven by Playwright
(``pip install playwright``; no ``playwright install``: the system browser is
used). Every request to a host other than loopback is aborted and counted as a
failure, so the check passes only when the page works offline.

    python tests/browser.py http://127.0.0.1:8000 world /tmp/graphiql.png
"""

from __future__ import annotations

import shutil
import sys
import urllib.parse
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> Path | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def browser_missing() -> str | None:
    """Why the check cannot run here, or None when it can."""
    if chromium_path() is None:
        return "no chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no playwright (pip install playwright)"
    return None


def run_graphiql_check(
    base_url: str,
    expect_text: str,
    screenshot: Path,
    *,
    path: str = "/graphql",
    timeout_ms: int = 30_000,
) -> None:
    """Open the explorer at ``base_url + path``, run its query, expect ``expect_text``.

    Raises AssertionError naming what went wrong: a non-loopback request, a
    script error, a CSP violation, an HTTP error for the page or an asset, or
    a result that never showed ``expect_text``. The screenshot is taken either way.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise AssertionError("no chromium on PATH (apt-get install chromium)")
    url = urllib.parse.urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))
    problems: list[str] = []
    console: list[str] = []

    def guard(route) -> None:
        host = urllib.parse.urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK_HOSTS:
            route.continue_()
        else:
            problems.append(f"blocked non-loopback request: {route.request.url}")
            route.abort()

    def on_response(response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.url}")

    def on_console(message) -> None:
        console.append(f"{message.type}: {message.text}")
        if "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(timeout_ms)
            page.route("**/*", guard)
            page.on("response", on_response)
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            try:
                page.goto(url, wait_until="load")
                # The page's own notice when its scripts did not load: no use waiting.
                notice = page.locator("#graphiql > .newsgraph-explorer-message")
                if notice.count() and not notice.inner_text().startswith("Loading"):
                    raise _NotRendered(notice.inner_text())
                run = page.locator(".graphiql-execute-button")
                run.wait_for(state="visible")
                page.locator(".graphiql-query-editor .CodeMirror").wait_for(state="visible")
                # The click must send the editor's query (not GraphiQL's
                # introspection, whose failure can also fill the result pane).
                with page.expect_request(_is_query_post):
                    run.click()
                page.wait_for_function(
                    """(text) => {
                        const pane = document.querySelector(".graphiql-response");
                        return pane !== null && pane.innerText.includes(text);
                    }""",
                    arg=expect_text,
                )
            except _NotRendered as e:
                problems.append(f"the explorer did not start: {e}")
            except PlaywrightError as e:
                shown = _response_text(page)
                problems.append(
                    f"{type(e).__name__}: {str(e).splitlines()[0]}; result pane: {shown[:300]!r}"
                )
            finally:
                page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    if problems:
        raise AssertionError(
            f"GraphiQL check of {url} failed (screenshot {screenshot}):\n  "
            + "\n  ".join(problems)
            + ("\nconsole:\n  " + "\n  ".join(console) if console else "")
        )


class _NotRendered(Exception):
    pass


def _is_query_post(request) -> bool:
    body = request.post_data or ""
    return request.method == "POST" and "__schema" not in body


def _response_text(page) -> str:
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(
            """() => {
                const pane = document.querySelector(".graphiql-response");
                return pane === null ? "" : pane.innerText;
            }"""
        )
    except PlaywrightError as e:
        return f"<unreadable: {e}>"


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python tests/browser.py BASE_URL EXPECT_TEXT SCREENSHOT.png")
    run_graphiql_check(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
    print(f"ok: the explorer ran a query and showed {sys.argv[2]!r}; screenshot {sys.argv[3]}")
