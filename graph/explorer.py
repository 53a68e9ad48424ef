"""The GraphiQL explorer page and the routes that serve its assets from this server.

The page loads only the files pinned in ``assets.lock.json``: from
``assets_prefix`` when they were fetched (``python -m graph.assets``), else from
the CDN with SRI. A Content-Security-Policy in the page keeps the browser from
loading anything else.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import urllib.parse
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from graph.assets import load_lock, load_manifest, local_assets_dir

ASSETS_PREFIX = "/graphql/assets"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
_TEMPLATE = Path(__file__).with_name("templates") / "graphiql.html"
_FETCH_HINT = "Fetch them with: python -m graph.assets"

# Constant, so the page's CSP can allow exactly this inline script by its hash.
# The fetcher is ours rather than GraphiQL.createFetcher so that a non-JSON
# answer shows as an error, not as a parse failure.
_BOOT = """
      (function () {
        "use strict";
        var config = JSON.parse(document.getElementById("newsgraph-explorer-config").textContent);
        var container = document.getElementById("graphiql");
        if (!window.React || !window.ReactDOM || !window.GraphiQL) {
          var p = document.createElement("p");
          p.className = "newsgraph-explorer-message";
          p.textContent = config.missingMessage;
          container.replaceChildren(p);
          return;
        }
        function fetcher(params, options) {
          var headers = Object.assign(
            { "Content-Type": "application/json", Accept: "application/json" },
            (options && options.headers) || {}
          );
          return fetch(config.endpoint, {
            method: "POST",
            headers: headers,
            body: JSON.stringify(params),
            credentials: "same-origin"
          }).then(function (response) {
            return response.text().then(function (text) {
              try {
                return JSON.parse(text);
              } catch (error) {
                return { errors: [{
                  message: "HTTP " + response.status + ": the answer is not JSON",
                  extensions: { body: text.slice(0, 1000) }
                }] };
              }
            });
          });
        }
        var props = {
          fetcher: fetcher,
          defaultQuery: config.defaultQuery,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
          plugins: window.GraphiQLPluginExplorer
            ? [window.GraphiQLPluginExplorer.explorerPlugin()]
            : []
        };
        // Shared links: ?query=...&variables=...&headers=...
        var search = new URLSearchParams(window.location.search);
        ["query", "variables", "headers", "operationName"].forEach(function (key) {
          if (search.has(key)) props[key] = search.get(key);
        });
        ReactDOM.createRoot(container).render(React.createElement(GraphiQL, props));
      })();
    """
_BOOT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_BOOT.encode()).digest()).decode()


def explorer_html(
    *,
    endpoint: str = "/graphql",
    default_query: str,
    assets_prefix: str = ASSETS_PREFIX,
    local: bool,
    title: str = "newsgraph · GraphiQL",
) -> str:
    """A complete GraphiQL page posting JSON to ``endpoint``, opening on ``default_query``.

    ``local`` picks this server's copies under ``assets_prefix`` (see
    ``local_assets_available()``) over the CDN.
    """
    lock = load_lock()
    stylesheets, scripts, origins = [], [], set()
    for file in lock.files:
        url = f"{assets_prefix.rstrip('/')}/{file.name}" if local else lock.cdn_url(file)
        origins.add(_origin(url))
        attrs = f'integrity="{file.sha384}" ' if file.sha384 else ""
        if not local:
            attrs += 'crossorigin="anonymous" '
        if file.kind == "css":
            stylesheets.append(f'    <link rel="stylesheet" href="{html.escape(url)}" {attrs}/>')
        else:
            scripts.append(f'    <script src="{html.escape(url)}" {attrs.rstrip()}></script>')
    where = assets_prefix if local else lock.cdn
    config = {
        "endpoint": endpoint,
        "defaultQuery": default_query,
        "missingMessage": (
            f"The explorer's scripts did not load from {where}. "
            + (_FETCH_HINT if local else f"Without internet, serve them locally. {_FETCH_HINT}")
        ),
    }
    values = {
        "csp": html.escape(_csp(sorted(origins), _origin(endpoint))),
        "title": html.escape(title),
        "stylesheets": "\n".join(stylesheets),
        "scripts": "\n".join(scripts),
        "config": _script_json(config),
        "boot": _BOOT,
    }
    # One pass, so placeholders inside the values (a query, say) stay as they are.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], _template())


def asset_routes(directory: Path | None = None, *, prefix: str = ASSETS_PREFIX) -> list[Route]:
    """``GET <prefix>/{name}``: the fetched explorer assets, by manifest name only."""
    folder = Path(directory) if directory is not None else local_assets_dir()

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        entry = load_manifest(folder).get(name)
        path = folder / name
        if entry is None or not path.is_file():
            return _not_found(name, fetched=bool(load_manifest(folder)))
        return FileResponse(
            path,
            media_type=entry["content_type"],
            headers={"Cache-Control": CACHE_IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )

    # {name:path} so that "a/../b" reaches the handler (and its 404) rather than no route.
    return [
        Route(f"{prefix.rstrip('/')}/{{name:path}}", asset, methods=["GET"], name="explorer_asset")
    ]


def _not_found(name: str, *, fetched: bool) -> JSONResponse:
    message = f"No explorer asset named {name!r}."
    if not fetched:
        message += f" The explorer's assets are not on this server. {_FETCH_HINT}"
    body = {"errors": [{"message": message, "extensions": {"code": "NOT_FOUND"}}]}
    return JSONResponse(body, status_code=404)


@cache
def _template() -> str:
    return _TEMPLATE.read_text(encoding="utf-8")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "'self'"


def _csp(asset_origins: list[str], endpoint_origin: str) -> str:
    sources = " ".join(asset_origins)
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {sources} '{_BOOT_HASH}'",
            # GraphiQL sets inline styles; its fonts are data: URLs inside its CSS.
            f"style-src {sources} 'unsafe-inline'",
            "font-src data:",
            "img-src 'self' data:",
            f"connect-src {endpoint_origin}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _script_json(value: object) -> str:
    """JSON that cannot end its <script> element early."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
