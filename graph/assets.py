"""The GraphiQL explorer's browser assets: pinned, fetched, verified, never committed.

``assets.lock.json`` pins each npm package (version, tarball URL, the
registry's ``dist.integrity``) and the files taken from it. ``fetch_assets``
downloads each tarball, refuses it unless its sha512 matches the lock, checks
each wanted file against its sha384, and only then writes the files, under flat
versioned names, into ``graph/static/graphiql/`` with a ``manifest.json``.

    python -m graph.assets            # fetch what is missing (idempotent)
    python -m graph.assets --force    # fetch again even when present
    python -m graph.assets --relock   # after editing versions or paths in the lock
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOCK_PATH = Path(__file__).with_name("assets.lock.json")
MANIFEST_NAME = "manifest.json"
REGISTRY = "https://registry.npmjs.org"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# Strongest first: per the SRI spec only the strongest algorithm present counts.
_SRI_ALGORITHMS = ("sha512", "sha384", "sha256")
_FLAT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TIMEOUT = 60


class AssetError(Exception):
    """The explorer's assets could not be fetched or are not what the lock says."""


class IntegrityError(AssetError):
    """Bytes whose hash differs from the lock's: nothing is extracted or written."""


@dataclass(frozen=True)
class AssetFile:
    name: str  # flat name, served as <assets_prefix>/<name>
    path: str  # path inside the package tarball, without its top folder
    package: str
    version: str
    size: int | None
    sha384: str | None  # an SRI string, also used as the page's integrity attribute

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[Path(self.name).suffix]

    @property
    def kind(self) -> str:
        return Path(self.name).suffix.lstrip(".")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    tarball: str
    integrity: str
    files: tuple[AssetFile, ...]


@dataclass(frozen=True)
class Lock:
    cdn: str
    packages: tuple[Package, ...]

    @property
    def files(self) -> tuple[AssetFile, ...]:
        return tuple(f for p in self.packages for f in p.files)

    def cdn_url(self, file: AssetFile) -> str:
        return f"{self.cdn.rstrip('/')}/{file.package}@{file.version}/{file.path}"


def load_lock(path: Path = LOCK_PATH) -> Lock:
    return _load_lock(Path(path).resolve())


@cache
def _load_lock(path: Path) -> Lock:
    raw = json.loads(path.read_text(encoding="utf-8"))
    packages = []
    seen: set[str] = set()
    for p in raw["packages"]:
        files = []
        for f in p["files"]:
            name = f["name"]
            if not _FLAT_NAME.fullmatch(name) or name == MANIFEST_NAME or name in seen:
                raise AssetError(f"{path}: bad or repeated asset name {name!r}")
            if Path(name).suffix not in CONTENT_TYPES:
                raise AssetError(f"{path}: {name!r} has no known content type")
            seen.add(name)
            files.append(
                AssetFile(
                    name=name,
                    path=f["path"],
                    package=p["name"],
                    version=p["version"],
                    size=f.get("size"),
                    sha384=f.get("sha384"),
                )
            )
        packages.append(
            Package(p["name"], p["version"], p["tarball"], p["integrity"], tuple(files))
        )
    return Lock(cdn=raw["cdn"], packages=tuple(packages))


def sri(data: bytes, algorithm: str = "sha384") -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def verify_integrity(data: bytes, integrity: str, *, what: str = "data") -> None:
    """Raise IntegrityError unless ``data`` matches the SRI string ``integrity``."""
    expected: dict[str, set[str]] = {}
    for token in integrity.split():
        algorithm, _, digest = token.partition("-")
        if algorithm in _SRI_ALGORITHMS and digest:
            expected.setdefault(algorithm, set()).add(digest.split("?", 1)[0])
    if not expected:
        raise IntegrityError(f"{what}: no sha256/sha384/sha512 hash in {integrity!r}")
    algorithm = next(a for a in _SRI_ALGORITHMS if a in expected)
    actual = sri(data, algorithm)
    if actual.partition("-")[2] not in expected[algorithm]:
        raise IntegrityError(
            f"{what}: integrity mismatch: expected {algorithm}-"
            f"{sorted(expected[algorithm])[0]}, got {actual} ({len(data)} bytes); "
            "refusing to use it"
        )


def local_assets_dir() -> Path:
    return Path(__file__).with_name("static") / "graphiql"


def local_assets_available(directory: Path | None = None) -> bool:
    """True when every file the lock lists is in place (checked by size, not hashed)."""
    directory = Path(directory) if directory is not None else local_assets_dir()
    manifest = load_manifest(directory)
    for f in load_lock().files:
        path = directory / f.name
        if f.name not in manifest or not path.is_file():
            return False
        if f.size is not None and path.stat().st_size != f.size:
            return False
    return True


_manifest_cache: dict[Path, tuple[tuple[int, int], dict[str, dict]]] = {}


def load_manifest(directory: Path | None = None) -> dict[str, dict]:
    """The manifest's files by name, or {} when assets were never fetched.

    Re-read only when the file changes, since the asset route asks per request.
    """
    directory = Path(directory) if directory is not None else local_assets_dir()
    path = directory / MANIFEST_NAME
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _manifest_cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return {}
    # Names become file paths: keep only flat ones, whatever the file says.
    files = {n: e for n, e in files.items() if _FLAT_NAME.fullmatch(n) and n != MANIFEST_NAME}
    _manifest_cache[path] = (stamp, files)
    return files


def _download(url: str) -> bytes:
    if urllib.parse.urlsplit(url).scheme != "https":
        raise AssetError(f"refusing to download {url!r}: only https URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "newsgraph-assets"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return response.read()
    except OSError as e:  # URLError and HTTPError are OSErrors
        raise AssetError(f"could not download {url}: {e}") from e


def _extract(tarball: bytes, package: Package, paths: list[str]) -> dict[str, bytes]:
    """The wanted files' bytes, read in memory; nothing in the archive is written."""
    wanted = set(paths)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            for member in tar:
                # npm tarballs hold one top folder, usually (not always) "package/".
                inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                if inner in wanted and inner not in found and member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None  # isfile() guarantees it
                    found[inner] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise AssetError(f"{package.name}@{package.version}: unreadable tarball: {e}") from e
    missing = wanted - found.keys()
    if missing:
        raise AssetError(
            f"{package.name}@{package.version}: tarball has no {', '.join(sorted(missing))}"
        )
    return found


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _in_place(path: Path, file: AssetFile) -> bool:
    if file.sha384 is None or not path.is_file():
        return False
    if file.size is not None and path.stat().st_size != file.size:
        return False
    try:
        verify_integrity(path.read_bytes(), file.sha384)
    except IntegrityError:
        return False
    return True


def _fetch_package(package: Package) -> dict[str, bytes]:
    """Download, verify and read one package's files; raise before returning anything bad."""
    what = f"{package.name}@{package.version} tarball from {package.tarball}"
    tarball = _download(package.tarball)
    verify_integrity(tarball, package.integrity, what=what)
    contents = _extract(tarball, package, [f.path for f in package.files])
    out = {}
    for f in package.files:
        data = contents[f.path]
        if f.sha384 is not None:
            verify_integrity(data, f.sha384, what=f"{f.path} in {package.name}@{package.version}")
        out[f.name] = data
    return out


def fetch_assets(
    dest: Path | None = None,
    *,
    force: bool = False,
    lock: Lock | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Make every locked file present and verified in ``dest``; return their paths.

    Packages whose files are already there with the locked hashes are not
    downloaded again, so this is cheap to call before each use.
    """
    lock = lock or load_lock()
    dest = Path(dest) if dest is not None else local_assets_dir()
    say = log or (lambda _message: None)
    dest.mkdir(parents=True, exist_ok=True)
    for package in lock.packages:
        label = f"{package.name}@{package.version}"
        if not force and all(_in_place(dest / f.name, f) for f in package.files):
            say(f"present  {label}: {', '.join(f.name for f in package.files)}")
            continue
        files = _fetch_package(package)
        for name, data in files.items():
            _write_atomic(dest / name, data)
        sizes = ", ".join(f"{n} ({len(d):,} bytes)" for n, d in files.items())
        say(f"fetched  {label}: {sizes}")
    _write_manifest(dest, lock)
    return [dest / f.name for f in lock.files]


def _write_manifest(dest: Path, lock: Lock) -> None:
    files = {}
    for f in lock.files:
        data = (dest / f.name).read_bytes()
        files[f.name] = {
            "package": f.package,
            "version": f.version,
            "path": f.path,
            "size": len(data),
            "sha384": f.sha384 or sri(data),
            "content_type": f.content_type,
        }
    manifest = {"_about": "Written by `python -m graph.assets`; do not edit.", "files": files}
    _write_atomic(dest / MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())


def relock(path: Path = LOCK_PATH, *, log: Callable[[str], None] | None = None) -> None:
    """Refresh tarball URLs, integrities, sizes and sha384s for the versions in the lock.

    Asks the registry for each pinned version's ``dist`` and checks the tarball
    against it; review the diff before committing.
    """
    say = log or (lambda _message: None)
    raw = json.loads(path.read_text(encoding="utf-8"))
    for p in raw["packages"]:
        meta_url = f"{REGISTRY}/{p['name']}/{urllib.parse.quote(p['version'])}"
        dist = json.loads(_download(meta_url))["dist"]
        p["tarball"], p["integrity"] = dist["tarball"], dist["integrity"]
        tarball = _download(p["tarball"])
        verify_integrity(tarball, p["integrity"], what=f"{p['name']}@{p['version']}")
        package = Package(p["name"], p["version"], p["tarball"], p["integrity"], ())
        contents = _extract(tarball, package, [f["path"] for f in p["files"]])
        for f in p["files"]:
            f["size"] = len(contents[f["path"]])
            f["sha384"] = sri(contents[f["path"]])
        say(f"locked   {p['name']}@{p['version']} {p['integrity']}")
    _write_atomic(path, (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode())
    _load_lock.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graph.assets",
        description="Fetch the GraphiQL explorer's pinned assets from the npm registry.",
    )
    parser.add_argument("--dest", type=Path, help=f"target folder (default {local_assets_dir()})")
    parser.add_argument("--force", action="store_true", help="download even when present")
    parser.add_argument(
        "--relock", action="store_true", help="refresh hashes in the lock for its versions first"
    )
    args = parser.parse_args(argv)
    try:
        if args.relock:
            relock(log=print)
        paths = fetch_assets(args.dest, force=args.force, log=print)
    except AssetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{len(paths)} files in {paths[0].parent if paths else args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
