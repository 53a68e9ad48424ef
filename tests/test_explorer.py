"""The offline GraphiQL explorer: pinned assets, the page, the asset route, a real browser."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import re
import socket
import tarfile
import threading
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from graph import assets
from graph.assets import (
    AssetError,
    IntegrityError,
    fetch_assets,
    load_lock,
    load_manifest,
    local_assets_available,
    local_assets_dir,
    sri,
    verify_integrity,
)
from graph.explorer import asset_routes, explorer_html

QUERY = '# Try me\n{ hello }\n# </script><!-- {{csp}} "quoted" & more\n'


def _load_browser_helper():
    spec = importlib.util.spec_from_file_location("browser", Path(__file__).with_name("browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fetched() -> list[Path]:
    # Idempotent: downloads only what is missing or differs from the lock.
    return fetch_assets()


# --- integrity -----------------------------------------------------------------


def test_verify_integrity_accepts_the_exact_bytes():
    blob = b"console.log('hello')"
    for algorithm in ("sha256", "sha384", "sha512"):
        verify_integrity(blob, sri(blob, algorithm))


def test_verify_integrity_rejects_a_tampered_blob():
    blob = bytearray(b"\x1f\x8b" + bytes(range(256)) * 8)
    integrity = sri(bytes(blob), "sha512")
    blob[100] ^= 0x01
    with pytest.raises(IntegrityError, match="integrity mismatch"):
        verify_integrity(bytes(blob), integrity, what="react tarball")


def test_verify_integrity_uses_the_strongest_hash_given():
    blob, other = b"real", b"fake"
    # A matching weak hash must not rescue a mismatching strong one.
    with pytest.raises(IntegrityError):
        verify_integrity(blob, f"{sri(blob, 'sha256')} {sri(other, 'sha512')}")
    verify_integrity(blob, f"{sri(other, 'sha256')} {sri(blob, 'sha512')}")


@pytest.mark.parametrize("integrity", ["", "md5-abc", "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="])
def test_verify_integrity_refuses_without_a_supported_hash(integrity):
    with pytest.raises(IntegrityError, match="no sha256/sha384/sha512"):
        verify_integrity(b"x", integrity)


def _tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _fake_lock(tarball: bytes, script: bytes) -> assets.Lock:
    file = assets.AssetFile(
        name="fake-1.0.0.js",
        path="dist/fake.js",
        package="fake",
        version="1.0.0",
        size=len(script),
        sha384=sri(script),
    )
    package = assets.Package(
        name="fake",
        version="1.0.0",
        tarball="https://registry.npmjs.org/fake/-/fake-1.0.0.tgz",
        integrity=sri(tarball, "sha512"),
        files=(file,),
    )
    return assets.Lock(cdn="https://cdn.example/npm", packages=(package,))


SCRIPT = b"window.fake = 1;\n"
TARBALL = _tarball(
    {
        "package/dist/fake.js": SCRIPT,
        "package/dist/other.js": b"not wanted",
        "package/../../escaped.js": b"must never be written",
    }
)


def test_fetch_refuses_a_tampered_tarball_before_extracting(tmp_path, monkeypatch):
    lock = _fake_lock(TARBALL, SCRIPT)
    tampered = bytearray(TARBALL)
    tampered[len(tampered) // 2] ^= 0xFF
    monkeypatch.setattr(assets, "_download", lambda url: bytes(tampered))
    dest = tmp_path / "static"
    with pytest.raises(IntegrityError, match="fake@1.0.0 tarball"):
        fetch_assets(dest, lock=lock)
    assert list(dest.iterdir()) == []
    assert not local_assets_available(dest)


def test_fetch_refuses_a_file_that_differs_from_its_locked_hash(tmp_path, monkeypatch):
    other = _tarball({"package/dist/fake.js": b"window.evil = 1;\n"})
    lock = _fake_lock(other, SCRIPT)  # the tarball's hash is right, the file's is not
    monkeypatch.setattr(assets, "_download", lambda url: other)
    with pytest.raises(IntegrityError, match="dist/fake.js in fake@1.0.0"):
        fetch_assets(tmp_path, lock=lock)
    assert list(tmp_path.iterdir()) == []


def test_fetch_extracts_only_listed_files_and_is_idempotent(tmp_path, monkeypatch):
    lock = _fake_lock(TARBALL, SCRIPT)
    downloads = []
    monkeypatch.setattr(assets, "_download", lambda url: downloads.append(url) or TARBALL)
    dest = tmp_path / "a" / "b"
    paths = fetch_assets(dest, lock=lock)
    assert paths == [dest / "fake-1.0.0.js"]
    assert sorted(p.name for p in dest.iterdir()) == ["fake-1.0.0.js", "manifest.json"]
    assert (dest / "fake-1.0.0.js").read_bytes() == SCRIPT
    assert not list(tmp_path.rglob("escaped.js"))
    manifest = load_manifest(dest)
    assert manifest["fake-1.0.0.js"]["content_type"].startswith("text/javascript")
    assert downloads == [lock.packages[0].tarball]

    fetch_assets(dest, lock=lock)
    assert len(downloads) == 1, "files present with the right hash are not fetched again"

    (dest / "fake-1.0.0.js").write_bytes(b"corrupted")
    fetch_assets(dest, lock=lock)
    assert len(downloads) == 2
    assert (dest / "fake-1.0.0.js").read_bytes() == SCRIPT


def test_fetch_names_a_file_missing_from_the_tarball(tmp_path, monkeypatch):
    empty = _tarball({"package/README.md": b"hi"})
    monkeypatch.setattr(assets, "_download", lambda url: empty)
    with pytest.raises(AssetError, match="tarball has no dist/fake.js"):
        fetch_assets(tmp_path, lock=_fake_lock(empty, SCRIPT))


def test_only_https_is_downloaded():
    with pytest.raises(AssetError, match="only https"):
        assets._download("file:///etc/passwd")


# --- the lock ------------------------------------------------------------------


def test_lock_pins_exact_versions_with_sha512_and_registry_tarballs():
    lock = load_lock()
    names = [p.name for p in lock.packages]
    assert names[:3] == ["react", "react-dom", "graphiql"], "scripts load in lock order"
    for package in lock.packages:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version)
        assert package.integrity.startswith("sha512-")
        assert package.tarball.startswith("https://registry.npmjs.org/")
        assert package.tarball.endswith(f"-{package.version}.tgz")
        for file in package.files:
            assert file.sha384 and file.sha384.startswith("sha384-")
            assert package.version in file.name, "versioned names keep immutable caching honest"


def test_fetched_files_match_the_lock(fetched):
    lock = load_lock()
    assert [p.name for p in fetched] == [f.name for f in lock.files]
    for path, file in zip(fetched, lock.files, strict=True):
        data = path.read_bytes()
        assert len(data) == file.size
        verify_integrity(data, file.sha384)
    assert local_assets_available()


# --- the page ------------------------------------------------------------------


def _urls(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"', page)


def _config(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def _csp(page: str) -> str:
    return re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)


def test_local_page_references_only_local_assets(fetched):
    page = explorer_html(default_query=QUERY, local=True)
    urls = [u for u in _urls(page) if not u.startswith("data:")]
    manifest = load_manifest()
    assert urls and all(u.startswith("/graphql/assets/") for u in urls)
    assert {u.rsplit("/", 1)[1] for u in urls} == set(manifest)
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page
    csp = _csp(page)
    assert "default-src &#x27;none&#x27;" in csp and "connect-src &#x27;self&#x27;" in csp


def test_page_loads_scripts_in_lock_order_with_sri():
    page = explorer_html(default_query=QUERY, local=True, assets_prefix="/x/")
    scripts = re.findall(r'<script src="([^"]+)" integrity="(sha384-[^"]+)"', page)
    expected = [f for f in load_lock().files if f.kind == "js"]
    assert scripts == [(f"/x/{f.name}", f.sha384) for f in expected]


def test_cdn_page_uses_the_same_pinned_files_with_sri():
    page = explorer_html(default_query=QUERY, local=False)
    lock = load_lock()
    for file in lock.files:
        tag = re.search(rf'<(?:script|link)\b[^>]*"{re.escape(lock.cdn_url(file))}"[^>]*>', page)
        assert tag, file.name
        assert f'integrity="{file.sha384}"' in tag.group(0)
        assert 'crossorigin="anonymous"' in tag.group(0)
    assert "/graphql/assets/" not in page


def test_page_carries_endpoint_and_default_query_safely():
    page = explorer_html(endpoint="/api/graphql", default_query=QUERY, local=True)
    config = _config(page)
    assert config["endpoint"] == "/api/graphql"
    assert config["defaultQuery"] == QUERY
    # The query's "</script>" must not close any element early.
    assert page.count("</script>") == page.count("<script")
    assert "isHeadersEditorEnabled: true" in page
    assert 'credentials: "same-origin"' in page


def test_csp_allows_exactly_the_inline_boot_script():
    page = explorer_html(default_query=QUERY, local=True)
    inline = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(inline) == 1
    digest = hashlib.sha256(inline[0].encode()).digest()
    assert f"sha256-{base64.b64encode(digest).decode()}" in _csp(page)


# --- the asset route -------------------------------------------------------------


@pytest.fixture
def client(fetched):
    with TestClient(Starlette(routes=asset_routes())) as c:
        yield c


def test_route_serves_js_and_css_with_immutable_caching(client):
    for file in load_lock().files:
        response = client.get(f"/graphql/assets/{file.name}")
        assert response.status_code == 200, file.name
        expected = "text/javascript" if file.kind == "js" else "text/css"
        assert response.headers["content-type"].split(";")[0] == expected
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        verify_integrity(response.content, file.sha384)
    head = client.head("/graphql/assets/" + load_lock().files[0].name)
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/assets/nope.js",
        "/graphql/assets/manifest.json",
        "/graphql/assets/..%2Fassets.py",
        "/graphql/assets/..%2F..%2Fpyproject.toml",
        "/graphql/assets/%2e%2e/%2e%2e/explorer.py",
        "/graphql/assets/graphiql/..%2F..%2Fassets.lock.json",
        "/graphql/assets/%2Fetc%2Fpasswd",
    ],
)
def test_route_refuses_unknown_names_and_traversal(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "No explorer asset named" in error["message"]


def test_route_ignores_manifest_names_that_are_not_flat(tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    sub = tmp_path / "assets"
    sub.mkdir()
    entry = {"content_type": "text/plain"}
    manifest = {"files": {"../secret.txt": entry, "ok.js": entry}}
    (sub / "manifest.json").write_text(json.dumps(manifest))
    (sub / "ok.js").write_text("ok")
    with TestClient(Starlette(routes=asset_routes(sub))) as c:
        assert c.get("/graphql/assets/..%2Fsecret.txt").status_code == 404
        assert c.get("/graphql/assets/ok.js").text == "ok"


def test_route_says_how_to_fetch_when_nothing_was_fetched(tmp_path):
    with TestClient(Starlette(routes=asset_routes(tmp_path))) as c:
        response = c.get("/graphql/assets/graphiql-3.8.3.min.js")
    assert response.status_code == 404
    assert "python -m graph.assets" in response.json()["errors"][0]["message"]
    assert not local_assets_available(tmp_path)


def test_local_assets_dir_is_inside_the_package():
    assert local_assets_dir() == Path(assets.__file__).parent / "static" / "graphiql"


# --- a real browser, offline ---------------------------------------------------


def _tiny_app() -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(explorer_html(default_query="{ hello }", local=True))

    async def answer(request: Request) -> JSONResponse:
        await request.json()
        return JSONResponse({"data": {"hello": "world"}})

    return Starlette(
        routes=[
            Route("/graphql", page, methods=["GET"]),
            Route("/graphql", answer, methods=["POST"]),
            *asset_routes(),
        ]
    )


@pytest.fixture
def live_server(fetched):
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_tiny_app(), lifespan="off", ws="none", http="h11", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_graphiql_runs_a_query_in_a_real_browser_offline(live_server, tmp_path):
    browser = _load_browser_helper()
    missing = browser.browser_missing()
    if missing:
        pytest.skip(f"browser check needs {missing}")
    browser.run_graphiql_check(live_server, "world", tmp_path / "graphiql.png")
    assert (tmp_path / "graphiql.png").stat().st_size > 10_000
