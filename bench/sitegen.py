#!/usr/bin/env python3
"""Deterministic generator of synthetic Jekyll-style news sites.

Used by benchmarks and tests.  The shapes (front matter keys, nesting, value
formats, blank-line grouping, CRLF files, ``_data`` taxonomies) are modelled on
the real corpus in ``/work/shared/corpus``; all text is produced from the
built-in vocabulary below, never copied from the corpus.

Usage::

    python bench/sitegen.py OUT_DIR --articles N [--seed S] [--providers P]
        [--topics T] [--body-fraction F] [--crlf-fraction F] [--overwrite]
        [--verify]

or from Python::

    from bench.sitegen import generate_site
    stats = generate_site(Path("/tmp/site"), 1000, seed=1)

Output layout::

    OUT_DIR/_config.yml
    OUT_DIR/_news/000/YYYY-MM-DD-<slug>-<n>.md      (<= 1000 files per folder)
    OUT_DIR/_data/topics/NN-<slug>.yaml
    OUT_DIR/_data/organizations/<domain>.md

Same arguments -> byte-identical output (everything is drawn from
``random.Random`` instances seeded from ``seed``; no clocks, no hash-order
dependence).  Article ``n`` numbers follow publication order, so
``_news/000`` holds the oldest articles.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import itertools
import json
import random
import shutil
import sys
import time
from pathlib import Path

__all__ = ["generate_site", "verify_site", "FILES_PER_DIR"]

FILES_PER_DIR = 1000

SITE_URL = "https://example.github.io"
SITE_BASEURL = "/synthetic-news"

# 2015-01-01T00:00:00Z .. 2026-12-31T23:59:59Z
TS_MIN = 1420070400
TS_MAX = 1798761599

# Quality and heat spread over wide ranges (100,001 and a million values),
# so that at any size two bounds drawn at random (the benchmark's fresh
# values) rarely fall between the same two articles' values, and so rarely
# select the same set. Heat follows quality half way, as on real sites,
# where the better stories are also the more read.
QUALITY_MAX = 100_000
HEAT_MAX = 1_000_000

# --------------------------------------------------------------------------
# Vocabulary (hand written, generic English / tech words)
# --------------------------------------------------------------------------

VOCAB = """
the a an and or but of to in on for with from by at as into over about after
before under between through during without within across against toward
new old big small fast slow open secure simple smart modern global local
public private hybrid native remote mobile digital virtual real early late
first last next major minor key core main latest better faster cheaper
stronger easier bigger quick rapid steady bold clear deep wide strong weak
cloud data model models app apps platform service services network networks
server servers storage database databases query queries api apis sdk tool
tools toolkit framework library package release update updates version
feature features preview beta launch launches roadmap plan plans strategy
market markets company companies startup startups team teams developer
developers engineer engineers customer customers user users partner
partners industry leader leaders report reports study research survey
analysis trend trends growth revenue profit deal deals funding round
investment investors price prices cost costs budget chip chips device
devices phone phones laptop laptops tablet camera screen battery sensor
sensors robot robots drone drones vehicle vehicles car cars engine engines
energy power solar grid battery network edge compute computing machine
learning intelligence vision speech language translation search engine
security privacy threat threats attack attacks breach patch vulnerability
identity access password login account policy policies compliance
regulation law court ruling government agency city school university lab
labs hospital health care patient patients doctor clinic science
scientist scientists experiment discovery space satellite rocket mission
planet climate weather ocean river forest farm food water supply chain
factory warehouse retail store shop commerce payment payments bank banks
finance crypto token ledger blockchain contract contracts workflow
workflows automation pipeline pipelines container containers cluster
clusters kubernetes serverless function functions event events stream
streams message messages queue queues cache caches index indexes graph
graphs schema schemas type types field fields record records file files
folder document documents page pages site sites portal portals form forms
dashboard dashboards chart charts report insight insights metric metrics
monitor monitoring log logs trace tracing alert alerts incident outage
backup recovery migration upgrade integration connector connectors plugin
plugins extension extensions template templates component components
design designer designers interface experience feedback community
communities event conference keynote session sessions webinar podcast
video videos episode episodes tutorial guide guides lesson course courses
training skills jobs hiring talent work office meeting meetings email
calendar chat voice call calls assistant assistants agent agents bot bots
builds ships adds brings boosts cuts expands extends improves introduces
announces unveils releases reveals launches delivers enables supports
powers helps lets makes takes gives shows explains shares tests tracks
opens closes raises lowers wins loses joins leaves hires acquires buys
sells signs partners migrates scales connects protects detects predicts
why how what when where who which this that these those every each more
most less least many much some any all several few today tomorrow now soon
week month year quarter decade annual daily weekly monthly
GraphQL Python JavaScript TypeScript Rust Linux Windows Android iOS
Kubernetes Docker Jekyll Markdown YAML JSON SQL NoSQL AI ML IoT AR VR 5G
GPU CPU SaaS DevOps
""".split()

# A few tokens that exercise quoting, escaping and UTF-8 handling.
SPECIAL_TOKENS = [
    '"quoted"', "C:\\Temp\\logs", "50%", "Q&A", "it's", "\u2014", "caf\u00e9",
    "na\u00efve", "\u201csmart\u201d", "r\u00e9sum\u00e9", "#hashtag",
    "key:value", "[beta]", "{draft}", "@handle", "\U0001F680", "M\u00fcnchen",
    "e.g.", "vs.", "&amp;", "<b>bold</b>", "x*y", "a|b", "`code`",
]

# Capitalised words used for provider names and topic names (YAML-safe as
# plain scalars: no booleans/nulls, no punctuation).
NAME_WORDS = """
Acme Apex Arc Atlas Aurora Axis Beacon Binary Blue Bright Byte Cascade Cedar
Circuit Civic Clear Cloud Code Coral Cosmic Crest Crystal Cyber Data Delta
Digital Echo Edge Ember Falcon Field Flux Forge Frontier Fusion Galaxy Gate
Global Granite Green Grid Harbor Horizon Hyper Insight Iron Jade Kinetic
Lambda Laser Ledger Lumen Lunar Matrix Meridian Metro Nexus Noble North
Nova Oak Omni Orbit Pacific Pixel Pioneer Polar Prime Pulse Quantum Quartz
Radiant Rapid River Signal Silver Solar Sonic Spark Sphere Summit Swift
Terra Titan Trend Unity Vector Vertex Vista Wave Zenith
""".split()

PROVIDER_SUFFIXES = """
Times Daily Wire News Post Journal Review Report Insider Weekly Tribune
Herald Digest Today Tech Labs Media Monitor Observer Gazette Chronicle
Dispatch Ledger Bulletin Blog Hub World Network Radar Register
""".split()

TLDS = ["com", "com", "com", "com", "net", "org", "io", "co.uk", "ai", "dev",
        "news", "tech"]

TOPIC_WORDS = """
Analytics Automation Blockchain Chips Cloud Compliance Compute Containers
Data Databases Design DevOps Devices Edge Energy Finance Gaming Graphs
Hardware Health Identity Infrastructure Integration Learning Logistics
Machine Media Messaging Mobile Monitoring Networking Open Payments Platforms
Privacy Quantum Retail Robotics Search Security Serverless Software Space
Speech Storage Streaming Vision Web Workflows Agents Portals Forms Apps
Models Robots Sensors Satellites Batteries Vehicles Drones Markets Startups
""".split()

IMAGE_SIZES = [(1280, 720), (1200, 675), (1024, 683), (1200, 630),
               (760, 428), (800, 450), (640, 360), (600, 337), (960, 1200),
               (1600, 900), (400, 400), (1920, 1080)]

TZ_OFFSETS = ["-08:00", "-07:00", "-05:00", "-04:00", "+00:00", "+01:00",
              "+02:00", "+05:30", "+08:00", "+09:00", "+10:00"]

OTHER_TYPES = ["podcast", "slides", "event", "tweet"]

URL_PATTERNS = [
    "/{y}/{m}/{d}/{slug}-{n}/",
    "/news/{slug}-{n}",
    "/article/{slug}-{n}.html",
    "/blog/{slug}-{n}/",
    "/{y}/{m}/{slug}-{n}",
    "/stories/{n}/{slug}",
]

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _ascii_slug(word: str) -> str:
    out = []
    for ch in word.lower():
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
    return "".join(out)


SLUG = {w: _ascii_slug(w) for w in VOCAB + SPECIAL_TOKENS}


def _slug_of(word: str) -> str:
    s = SLUG.get(word)
    if s is None:
        s = SLUG[word] = _ascii_slug(word)
    return s


def _ri(r: random.Random, a: int, b: int) -> int:
    """Fast randint(a, b) (random.randint is slow in CPython)."""
    return a + int(r.random() * (b - a + 1))


def _rr(r: random.Random, a: int, b: int | None = None) -> int:
    """Fast randrange(a) / randrange(a, b)."""
    if b is None:
        return int(r.random() * a)
    return a + int(r.random() * (b - a))


def _q(s: str) -> str:
    """YAML double-quoted scalar."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cap(w: str) -> str:
    return w[:1].upper() + w[1:]


def _zipf_cum(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (k + 1) ** s for k in range(n)))


# --------------------------------------------------------------------------
# Text generators
# --------------------------------------------------------------------------

class _Text:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def _words(self, k: int, special_p: float) -> list[str]:
        rng = self.rng
        w = rng.choices(VOCAB, k=k)
        if rng.random() < special_p:
            w[_rr(rng, k)] = rng.choice(SPECIAL_TOKENS)
        return w

    def title(self) -> tuple[str, str]:
        """Return (title, slug)."""
        rng = self.rng
        k = _ri(rng, 6, 12)
        w = self._words(k, 0.06)
        if rng.random() < 0.5:
            w = [_cap(x) for x in w]
        else:
            w[0] = _cap(w[0])
        r = rng.random()
        if r < 0.08:
            w[_rr(rng, 1, k - 1)] += ":"
        elif r < 0.12:
            w.insert(_rr(rng, 2, k - 1), "|")
            if k == 12:
                w.pop()
        slug = "-".join(filter(None, (_slug_of(x) for x in w[:7])))
        return " ".join(w), slug or "untitled"

    def sentences(self, total: int, special_p: float = 0.03) -> str:
        rng = self.rng
        w = self._words(total, special_p)
        out = []
        i = 0
        while i < total:
            j = min(total, i + _ri(rng, 7, 18))
            if total - j < 4:
                j = total
            s = w[i:j]
            s[0] = _cap(s[0])
            if len(s) > 6 and rng.random() < 0.3:
                s[_rr(rng, 2, len(s) - 2)] += ","
            out.append(" ".join(s) + ("." if rng.random() < 0.9 else "!"))
            i = j
        return " ".join(out)

    def excerpt(self) -> str:
        if self.rng.random() < 0.03:
            return ""
        return self.sentences(_ri(self.rng, 20, 60))


def _fmt_dt(ts: int, offset: str | None) -> str:
    if offset is None:
        t = time.gmtime(ts)
        suffix = "Z"
    else:
        sign = -1 if offset[0] == "-" else 1
        secs = sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
        t = time.gmtime(ts + secs)
        suffix = offset
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}{suffix}")


# --------------------------------------------------------------------------
# Taxonomies
# --------------------------------------------------------------------------

def _make_providers(rng: random.Random, count: int, prefix_taken=None):
    """Return list of (name, domain, url_pattern_index)."""
    out = []
    seen = set(prefix_taken or ())
    while len(out) < count:
        a = rng.choice(NAME_WORDS)
        r = rng.random()
        if r < 0.15:
            name = f"The {a} {rng.choice(PROVIDER_SUFFIXES)}"
        elif r < 0.3:
            name = f"{a}{rng.choice(NAME_WORDS)}"
        else:
            name = f"{a} {rng.choice(PROVIDER_SUFFIXES)}"
        tld = rng.choice(TLDS)
        base = name.lower().replace("the ", "").replace(" ", "")
        domain = f"{base}.{tld}"
        k = 2
        while domain in seen:
            domain = f"{base}{k}.{tld}"
            k += 1
        if domain != f"{base}.{tld}":
            name = f"{name} {k - 1}"
        seen.add(domain)
        out.append((name, domain, _rr(rng, len(URL_PATTERNS))))
    return out


def _make_topics(rng: random.Random, count: int):
    """Return list of (name, slug, keywords, hashtags, shortname|None)."""
    out = []
    seen = set()
    root = f"{rng.choice(NAME_WORDS)} {rng.choice(TOPIC_WORDS)}"
    seen.add(root.lower())
    out.append(root)
    while len(out) < count:
        r = rng.random()
        if r < 0.35:
            name = rng.choice(TOPIC_WORDS)
        elif r < 0.85:
            name = f"{rng.choice(NAME_WORDS)} {rng.choice(TOPIC_WORDS)}"
        else:
            name = f"{rng.choice(NAME_WORDS)} {rng.choice(TOPIC_WORDS)} {rng.choice(TOPIC_WORDS)}"
        if len(out) > 1 and rng.random() < 0.3:
            name = name[:1] + name[1:].lower()  # "Canvas apps" style
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        out.append(name)
    topics = []
    for name in out:
        slug = "-".join(name.lower().split())
        kws = [name.lower()]
        if rng.random() < 0.4:
            kws.append(name.lower().rstrip("s") if name.endswith("s") else name.lower() + "s")
        if rng.random() < 0.2:
            kws.append(name.lower().replace(" ", "-"))
        tags = ["#" + "".join(_cap(p) for p in name.split())]
        if rng.random() < 0.2:
            tags.append("#" + "".join(p[0].upper() for p in name.split()) + "News")
        short = "".join(p[0].upper() for p in name.split()) if (" " in name and rng.random() < 0.3) else None
        topics.append((name, slug, kws, tags, short))
    return topics


# --------------------------------------------------------------------------
# Main generator
# --------------------------------------------------------------------------

def generate_site(out_dir: Path, n_articles: int, seed: int = 1,
                  providers: int | None = None, topics: int | None = None,
                  *, body_fraction: float = 0.2, crlf_fraction: float = 0.05,
                  overwrite: bool = False) -> dict:
    """Generate a synthetic news site under ``out_dir`` and return stats.

    Raises FileExistsError if ``out_dir`` already holds generated output
    (``_news``, ``_data`` or ``_config.yml``) unless ``overwrite`` is true, in
    which case exactly those generated paths are removed first.
    """
    out_dir = Path(out_dir)
    n = int(n_articles)
    if n < 0:
        raise ValueError("n_articles must be >= 0")
    n_prov = providers if providers is not None else min(2000, max(10, n // 200))
    n_top = topics if topics is not None else min(300, max(8, n // 1000))
    if n_prov < 1 or n_top < 1:
        raise ValueError("providers and topics must be >= 1")

    generated = [out_dir / "_news", out_dir / "_data", out_dir / "_config.yml"]
    existing = [p for p in generated if p.exists()]
    if existing:
        if not overwrite:
            raise FileExistsError(f"{existing[0]} exists (use overwrite=True / --overwrite)")
        for p in existing:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()

    # Independent streams: changing body/crlf fractions never changes
    # front matter, and vice versa.
    rng_tax = random.Random(f"sitegen:{seed}:taxonomy")
    rng = random.Random(f"sitegen:{seed}:articles")
    rng_ext = random.Random(f"sitegen:{seed}:external")
    rng_body = random.Random(f"sitegen:{seed}:body")
    rng_crlf = random.Random(f"sitegen:{seed}:crlf")
    text = _Text(rng)
    tax_text = _Text(rng_tax)

    prov = _make_providers(rng_tax, n_prov)
    ext_prov = _make_providers(rng_tax, max(5, n_prov // 5),
                               prefix_taken=[p[1] for p in prov])
    tops = _make_topics(rng_tax, n_top)
    topic_names = [t[0] for t in tops]
    prov_cum = _zipf_cum(n_prov, 0.9)
    topic_cum = _zipf_cum(n_top, 1.1)
    site = SITE_URL + SITE_BASEURL
    org_img = site + "/assets/images/organizations/"

    files = 0
    total_bytes = 0

    def write(path: Path, s: str) -> None:
        nonlocal files, total_bytes
        b = s.encode("utf-8")
        path.write_bytes(b)
        files += 1
        total_bytes += len(b)

    # ---- _config.yml --------------------------------------------------
    out_dir.mkdir(parents=True, exist_ok=True)
    write(out_dir / "_config.yml", (
        "# Synthetic news site generated by newsgraph bench/sitegen.py\n"
        f"title: {tops[0][0]} Synthetic News\n"
        f"url: {SITE_URL}\n"
        f'baseurl: "{SITE_BASEURL}"\n'
        f"webUrl: {SITE_URL}{SITE_BASEURL}/\n"
        'locale: "en-us"\n'
        "charset: utf-8\n"
        f"topic: {tops[0][0]}\n"
        "\n"
        "permalink: /:year/:month/:day/:title/\n"
        "\n"
        "collections:\n"
        "  news:\n"
        "    output: true\n"
        "    permalink: /api/news/:year/:month/:day/:title/index.json\n"
        "\n"
        "defaults:\n"
        "  - scope:\n"
        '      path: ""\n'
        "      type: news\n"
        "    values:\n"
        "      layout: post\n"
        "      deleted: false\n"
        "      related: true\n"
        "\n"
        "pagination:\n"
        "  page_size: 20\n"
        "\n"
        "sitegen:\n"
        f"  seed: {seed}\n"
        f"  articles: {n}\n"
        f"  providers: {n_prov}\n"
        f"  topics: {n_top}\n"
        f"  body_fraction: {body_fraction}\n"
        f"  crlf_fraction: {crlf_fraction}\n"
        f"  files_per_dir: {FILES_PER_DIR}\n"
    ))

    # ---- _data/topics -----------------------------------------------------
    tdir = out_dir / "_data" / "topics"
    tdir.mkdir(parents=True)
    width = max(2, len(str(n_top - 1)))
    for i, (name, slug, kws, tags, short) in enumerate(tops):
        lines = ["taxonomy: topic", f"_id: {slug}", f"name: {name}"]
        if short:
            lines.append(f"shortname: {short}")
        if i:
            lines.append(f"parent: {tops[0][0]}")
        lines.append("keywords:")
        lines.extend(f"  - {_q(k)}" for k in kws)
        lines.append("hashtags:")
        lines.extend(f"  - {_q(h)}" for h in tags)
        lines.append("services:")
        lines.append(f"  news: {site}/api/news/{slug}/")
        body = "\n".join(lines)
        if rng_tax.random() < 0.7:   # corpus files often lack the final newline
            body += "\n"
        write(tdir / f"{i:0{width}d}-{slug}.yaml", body)

    # ---- _data/organizations ------------------------------------------
    odir = out_dir / "_data" / "organizations"
    odir.mkdir(parents=True)
    for name, domain, _ in prov:
        desc = tax_text.sentences(_ri(rng_tax, 8, 25), special_p=0.1) if rng_tax.random() < 0.9 else ""
        other = ""
        if rng_tax.random() < 0.1:
            other = f"otherNames:\n  - {name} Group\n"
        write(odir / f"{domain}.md", (
            "---\n"
            "taxonomy: organization\n"
            f"_id: {domain}\n"
            f"name: {name}\n"
            f"{other}"
            f"domain: {domain}\n"
            "images:\n"
            f"  - url: /assets/images/organizations/{domain}-50x50.jpg\n"
            "    width: 50\n"
            "    height: 50\n"
            f"  - url: /assets/images/organizations/{domain}-400x400.jpg\n"
            "    width: 400\n"
            "    height: 400\n"
            f"description: {_q(desc)}\n"
            "---\n"
        ))

    # ---- pass 1: article metadata ---------------------------------------
    stamps = sorted(_ri(rng, TS_MIN, TS_MAX) for _ in range(n))
    A_title, A_slug, A_exc, A_dt, A_url, A_type, A_prov, A_q, A_img = ([] for _ in range(9))
    for i, ts in enumerate(stamps):
        title, slug = text.title()
        off = rng.choice(TZ_OFFSETS) if rng.random() < 0.10 else None
        dt = _fmt_dt(ts, off)
        p = bisect.bisect_left(prov_cum, rng.random() * prov_cum[-1])
        r = rng.random()
        typ = "article" if r < 0.80 else ("video" if r < 0.95 else rng.choice(OTHER_TYPES))
        pat = URL_PATTERNS[prov[p][2]]
        url = f"https://{prov[p][1]}" + pat.format(y=dt[0:4], m=dt[5:7], d=dt[8:10], slug=slug, n=i)
        q = _ri(rng, 0, QUALITY_MAX)
        A_title.append(title)
        A_slug.append(slug)
        A_exc.append(text.excerpt())
        A_dt.append(dt)
        A_url.append(url)
        A_type.append(typ)
        A_prov.append(p)
        A_q.append(q)
        A_img.append(None)  # filled in below, once all titles/dates exist

    # ---- external related-story pool -------------------------------------
    n_ext = max(200, n)
    ext_text = _Text(rng_ext)
    ext_stamps = sorted(_ri(rng_ext, TS_MIN, TS_MAX) for _ in range(n_ext))
    ext_blocks: list[str] = []
    for j, ts in enumerate(ext_stamps):
        title, slug = ext_text.title()
        exc = ext_text.excerpt()
        if rng_ext.random() < 0.85:
            pname, pdom, _ = prov[bisect.bisect_left(prov_cum, rng_ext.random() * prov_cum[-1])]
        else:
            pname, pdom, _ = ext_prov[_rr(rng_ext, len(ext_prov))]
        url = f"https://{pdom}/story/{slug}-x{j}"
        parts = [
            f"  - title: {_q(title)}\n"
            f"    excerpt: {_q(exc)}\n"
            f"    publishedDateTime: {_fmt_dt(ts, None)}\n"
            f"    webUrl: {_q(url)}\n"
        ]
        if rng_ext.random() < 0.35:
            amp = f"https://{pdom}/amp/story/{slug}-x{j}/"
            cdn_host = pdom.replace(".", "-") + ".cdn.ampproject.org"
            cdn = f"https://{cdn_host}/c/s/{pdom}/amp/story/{slug}-x{j}/"
            parts.append(f"    ampWebUrl: {_q(amp)}\n    cdnAmpWebUrl: {_q(cdn)}\n")
        etype = "article" if rng_ext.random() < 0.9 else "video"
        parts.append(
            f"    type: {etype}\n"
            f"    provider:\n      name: {pname}\n      domain: {pdom}\n"
            f"    quality: {_ri(rng_ext, 0, 200)}\n"
        )
        if rng_ext.random() < 0.85:
            w, h = rng_ext.choice(IMAGE_SIZES)
            parts.append(
                f"    images:\n"
                f"      - url: {_q(f'https://img.{pdom}/{ts % 100000:05d}/{j}.jpg')}\n"
                f"        width: {w}\n        height: {h}\n"
                + ("        isCached: true\n" if rng_ext.random() < 0.8 else "")
            )
        ext_blocks.append("".join(parts))

    local_blocks: list[str | None] = [None] * n

    def local_block(k: int) -> str:
        b = local_blocks[k]
        if b is None:
            pname, pdom, _ = prov[A_prov[k]]
            b = (f"  - title: {_q(A_title[k])}\n"
                 f"    excerpt: {_q(A_exc[k])}\n"
                 f"    publishedDateTime: {A_dt[k]}\n"
                 f"    webUrl: {_q(A_url[k])}\n"
                 f"    type: {A_type[k]}\n"
                 f"    provider:\n      name: {pname}\n      domain: {pdom}\n"
                 f"    quality: {A_q[k]}\n")
            img = A_img[k]
            if img:
                url, w, h, _title, cached = img
                b += (f"    images:\n      - url: {_q(url)}\n"
                      f"        width: {w}\n        height: {h}\n"
                      + (f"        isCached: {cached}\n" if cached else ""))
            local_blocks[k] = b
        return b

    # Images are drawn up front so that local related blocks can reference
    # them regardless of generation order.
    for i in range(n):
        pdom = prov[A_prov[i]][1]
        if A_type[i] == "video":
            vid = base64.urlsafe_b64encode(rng.randbytes(8))[:11].decode()
            k = 1 if rng.random() < 0.95 else 0
            imgs = [(f"https://i.ytimg.com/vi/{vid}/maxresdefault.jpg", 1280, 720, None, "true")] if k else []
            A_img[i] = (vid, imgs)
        else:
            r = rng.random()
            k = 0 if r < 0.15 else (1 if r < 0.85 else 2)
            imgs = []
            for m in range(k):
                w, h = rng.choice(IMAGE_SIZES)
                rr = rng.random()
                cached = "true" if rr < 0.85 else ("false" if rr < 0.9 else None)
                ititle = A_title[i] if rng.random() < 0.25 else None
                imgs.append((f"https://cdn.{pdom}/images/{A_dt[i][0:4]}/{A_dt[i][5:7]}/{i}-{m}.jpg",
                             w, h, ititle, cached))
            A_img[i] = (None, imgs)
    A_vid = [x[0] for x in A_img]
    A_imgs = [x[1] for x in A_img]
    A_img = [x[1][0] if x[1] else None for x in A_img]

    # ---- pass 2: write articles ------------------------------------------
    news = out_dir / "_news"
    news.mkdir()
    dwidth = max(3, len(str(max(0, n - 1) // FILES_PER_DIR)))
    cur_dir = None
    n_true = n_false = n_missing = n_video = n_related = n_local = n_body = n_crlf = 0
    # related stories are drawn from a window around the article's position
    # in publication order, mostly older ones
    window = 60

    for i in range(n):
        if i % FILES_PER_DIR == 0:
            cur_dir = news / f"{i // FILES_PER_DIR:0{dwidth}d}"
            cur_dir.mkdir()
        pname, pdom, _ = prov[A_prov[i]]
        typ = A_type[i]
        dt = A_dt[i]
        url = A_url[i]
        q = A_q[i]
        out = [
            "---\n"
            "category: news\n"
            f"title: {_q(A_title[i])}\n"
            f"excerpt: {_q(A_exc[i])}\n"
            f"publishedDateTime: {dt}\n"
        ]
        if rng.random() < 0.70:
            if typ == "video":
                orig = f"https://youtube.com/watch?v={A_vid[i]}"
            elif rng.random() < 0.7:
                orig = url
            else:
                orig = url + "?utm_source=rss&utm_medium=feed"
            out.append(f"originalUrl: {_q(orig)}\n")
        out.append(f"webUrl: {_q(url)}\n")
        if rng.random() < 0.10:
            rest = url.split("/", 3)[3]
            cdn_host = pdom.replace(".", "-") + ".cdn.ampproject.org"
            out.append(f"ampWebUrl: {_q(f'https://{pdom}/amp/{rest}')}\n"
                       f"cdnAmpWebUrl: {_q(f'https://{cdn_host}/c/s/{pdom}/amp/{rest}')}\n")
        heat = -1 if rng.random() < 0.02 else (q * (HEAT_MAX // QUALITY_MAX) + _ri(rng, 0, HEAT_MAX)) // 2
        out.append(f"type: {typ}\nquality: {q}\nheat: {heat}\n")
        r = rng.random()
        if r < 0.70:
            out.append("published: true\n")
            n_true += 1
        elif r < 0.95:
            out.append("published: false\n")
            n_false += 1
        else:
            n_missing += 1
        if typ == "video":
            n_video += 1
            out.append(
                "\nfeaturedContent: "
                + _q(f'<iframe width="800" height="500" frameborder="0" '
                     f'src="https://www.youtube.com/embed/{A_vid[i]}" allow="accelerometer; '
                     f'autoplay; encrypted-media; gyroscope; picture-in-picture" allowfullscreen></iframe>')
                + "\n")
        out.append(
            f"\nprovider:\n  name: {pname}\n  domain: {pdom}\n  images:\n"
            f'    - url: "{org_img}{pdom}-50x50.jpg"\n      width: 50\n      height: 50\n'
        )
        # topics: 1-3 distinct names, Zipf-skewed
        nt = rng.choice((1, 1, 1, 2, 2, 2, 2, 3, 3, 3))
        tsel: list[str] = []
        for _ in range(nt * 3):
            t = topic_names[bisect.bisect_left(topic_cum, rng.random() * topic_cum[-1])]
            if t not in tsel:
                tsel.append(t)
                if len(tsel) == nt:
                    break
        out.append("\ntopics:\n" + "".join(f"  - {t}\n" for t in tsel))
        imgs = A_imgs[i]
        if imgs:
            out.append("\nimages:\n")
            for (iurl, w, h, ititle, cached) in imgs:
                out.append(f"  - url: {_q(iurl)}\n    width: {w}\n    height: {h}\n")
                if ititle:
                    out.append(f"    title: {_q(ititle)}\n")
                if cached:
                    out.append(f"    isCached: {cached}\n")
        if rng.random() < 0.80:
            k = _ri(rng, 3, 12)
            chosen_local: list[int] = []
            chosen_ext: list[int] = []
            blocks = []
            ext_center = bisect.bisect_left(ext_stamps, stamps[i])
            attempts = 0
            while len(blocks) < k and attempts < 8 * k:
                attempts += 1
                if n > 1 and rng.random() < 0.30:
                    c = _ri(rng, max(0, i - window), min(n - 1, i + window // 4))
                    if c != i and c not in chosen_local:
                        chosen_local.append(c)
                        blocks.append(local_block(c))
                        n_local += 1
                else:
                    c = _ri(rng, max(0, ext_center - window), min(n_ext - 1, ext_center + window // 4))
                    if c not in chosen_ext:
                        chosen_ext.append(c)
                        blocks.append(ext_blocks[c])
            if blocks:
                n_related += len(blocks)
                out.append("\nrelated:\n")
                out.extend(blocks)
        out.append("\nsecured: " + _q(base64.b64encode(rng.randbytes(225)).decode()) + "\n---\n\n")

        if rng_body.random() < body_fraction:
            n_body += 1
            out.append(_body(rng_body, A_title, A_url, i))
        doc = "".join(out)
        if rng_crlf.random() < crlf_fraction:
            n_crlf += 1
            doc = doc.replace("\n", "\r\n")
        fname = f"{dt[0:10]}-{A_slug[i]}-{i}.md"
        write(cur_dir / fname, doc)

    return {
        "out_dir": str(out_dir),
        "seed": seed,
        "files": files,
        "articles": n,
        "providers": n_prov,
        "topics": n_top,
        "organizations": n_prov,
        "news_dirs": (n + FILES_PER_DIR - 1) // FILES_PER_DIR,
        "published_true": n_true,
        "published_false": n_false,
        "published_missing": n_missing,
        "videos": n_video,
        "related_items": n_related,
        "local_related_links": n_local,
        "body_files": n_body,
        "crlf_files": n_crlf,
        "bytes": total_bytes,
    }


def _body(rng: random.Random, titles: list[str], urls: list[str], i: int) -> str:
    t = _Text(rng)
    n = len(urls)
    parts = []
    for p in range(_ri(rng, 1, 4)):
        if p and rng.random() < 0.2:
            parts.append("## " + _cap(" ".join(rng.choices(VOCAB, k=_ri(rng, 2, 6)))))
        para = t.sentences(_ri(rng, 25, 110), special_p=0.05)
        r = rng.random()
        if r < 0.15 and n > 1:
            k = _rr(rng, n)
            para += f" See also [{titles[k].replace('[', '').replace(']', '')}]({urls[k]})."
        elif r < 0.25:
            para += f" Read more at <{urls[i]}>."
        elif r < 0.32:
            para += " Run `" + rng.choice(VOCAB) + " --" + rng.choice(VOCAB).lower() + "` to try it."
        parts.append(para)
        if rng.random() < 0.1:
            parts.append("\n".join("- **" + rng.choice(VOCAB) + "** " + " ".join(rng.choices(VOCAB, k=_ri(rng, 3, 9)))
                                   for _ in range(_ri(rng, 2, 4))))
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------
# Verification helper
# --------------------------------------------------------------------------

def _front_matter(text: str) -> str:
    """Front matter between the first line '---' and the next line exactly '---'."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0] != "---":
        raise ValueError("no opening ---")
    for k in range(1, len(lines)):
        if lines[k] == "---":
            return "\n".join(lines[1:k]) + "\n"
    raise ValueError("no closing ---")


def verify_site(out_dir: Path, expected_articles: int | None = None) -> dict:
    """Parse every generated file with yaml.CSafeLoader; raise on problems."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out_dir = Path(out_dir)
    errors = []
    counts = {"articles": 0, "topics": 0, "organizations": 0, "published_false": 0,
              "local_related_links": 0, "crlf_files": 0, "mixed_eol_files": 0}
    urls = set()
    related_urls = []
    arts = sorted((out_dir / "_news").rglob("*.md"))
    for f in arts:
        raw = f.read_bytes()
        crlf = raw.count(b"\r\n")
        if crlf:
            counts["crlf_files"] += 1
            if crlf != raw.count(b"\n"):
                counts["mixed_eol_files"] += 1
        try:
            d = yaml.load(_front_matter(raw.decode("utf-8")), Loader=loader)
            assert isinstance(d, dict), "front matter is not a mapping"
            for key in ("category", "title", "excerpt", "publishedDateTime", "webUrl",
                        "type", "quality", "heat", "provider", "topics", "secured"):
                assert key in d, f"missing {key}"
            assert len(d["secured"]) == 300
            urls.add(d["webUrl"])
            related_urls.extend(r["webUrl"] for r in d.get("related") or ())
            if d.get("published") is False:
                counts["published_false"] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"{f}: {e!r}")
        counts["articles"] += 1
    counts["local_related_links"] = sum(u in urls for u in related_urls)
    counts["unique_web_urls"] = len(urls)
    for f in sorted((out_dir / "_data" / "topics").glob("*.yaml")):
        try:
            d = yaml.load(f.read_text(encoding="utf-8"), Loader=loader)
            assert d["taxonomy"] == "topic"
            counts["topics"] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"{f}: {e!r}")
    for f in sorted((out_dir / "_data" / "organizations").glob("*.md")):
        try:
            d = yaml.load(_front_matter(f.read_text(encoding="utf-8")), Loader=loader)
            assert d["taxonomy"] == "organization" and d["_id"] == f.name[:-3]
            counts["organizations"] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"{f}: {e!r}")
    per_dir = max((len(list(p.iterdir())) for p in (out_dir / "_news").iterdir()), default=0)
    counts["max_files_per_dir"] = per_dir
    if per_dir > FILES_PER_DIR:
        errors.append(f"a _news subfolder holds {per_dir} files")
    if expected_articles is not None and counts["articles"] != expected_articles:
        errors.append(f"expected {expected_articles} articles, found {counts['articles']}")
    if counts["unique_web_urls"] != counts["articles"]:
        errors.append("webUrl values are not unique")
    counts["errors"] = errors
    return counts


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def _fraction(s: str) -> float:
    v = float(s)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--articles", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--providers", type=int, default=None,
                    help="default max(10, N // 200), capped at 2000")
    ap.add_argument("--topics", type=int, default=None,
                    help="default max(8, N // 1000), capped at 300")
    ap.add_argument("--body-fraction", type=_fraction, default=0.2)
    ap.add_argument("--crlf-fraction", type=_fraction, default=0.05)
    ap.add_argument("--overwrite", action="store_true",
                    help="remove previously generated _news/_data/_config.yml first")
    ap.add_argument("--verify", action="store_true",
                    help="parse every file with yaml.CSafeLoader afterwards")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = generate_site(a.out_dir, a.articles, seed=a.seed, providers=a.providers,
                          topics=a.topics, body_fraction=a.body_fraction,
                          crlf_fraction=a.crlf_fraction, overwrite=a.overwrite)
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    stats["megabytes"] = round(stats["bytes"] / 1e6, 1)
    if a.verify:
        t1 = time.perf_counter()
        v = verify_site(a.out_dir, a.articles)
        v["seconds"] = round(time.perf_counter() - t1, 3)
        stats["verify"] = v
    print(json.dumps(stats, indent=2))
    return 1 if a.verify and stats["verify"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
