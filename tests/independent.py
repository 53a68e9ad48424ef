"""An independent reading of the corpus, written the plain way (PyYAML,
no project code), for tests to compare the API against."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

# libyaml's safe loader when PyYAML was built with it: the same answers,
# several times faster over the ~900 corpus files.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    lines = text.split("\n")
    assert lines[0] == "---", path
    end = lines.index("---", 1)
    data = yaml.load("\n".join(lines[1:end]), Loader=_SAFE_LOADER) or {}
    return data, "\n".join(lines[end + 1:])


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def visible(data: dict) -> bool:
    return data.get("published", True) is not False and not data.get("removed", False)


def news_files(*sites: Path) -> list[Path]:
    return sorted(p for site in sites for p in (site / "_news").glob("*.md"))


def article_id(site_file: Path) -> str:
    return f"news/{site_file.stem}"
