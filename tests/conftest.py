"""Shared fixtures: the real corpus loaded once per session, in-process
clients, and a helper to run GraphQL against them."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graph.app import create_app
from graph.http import Clock
from graph.settings import Settings
from graph.state import DataHolder
from store.db import Store
from store.ingest import load

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
POWER_APPS = CORPUS / "power-apps"
AZURE = CORPUS / "azure-sample"
SEED = CORPUS / "seed"
TOKEN = "preview-secret-for-tests"

if not POWER_APPS.is_dir():  # a missing corpus must fail loudly, never skip
    raise RuntimeError(f"the real corpus is expected at {CORPUS}")


def writable_copy(source: Path, target: Path) -> Path:
    """A copy of ``source`` (a corpus site, read-only) that a test may edit."""
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


class FrozenClock(Clock):
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment


# 2021-07-01: a week after the newest power-apps article, so `within` filters
# have something to find whatever day the suite runs.
FROZEN_NOW = dt.datetime(2021, 7, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("corpus") / "corpus.json"
    report = load(Store(path), [POWER_APPS, AZURE, SEED])
    assert report.ok, report.rejected
    return str(path)


@pytest.fixture(scope="session")
def corpus_holder(corpus_db) -> DataHolder:
    return DataHolder(Store(corpus_db))


@pytest.fixture(scope="session")
def corpus_model(corpus_holder):
    return corpus_holder.model


# The suite's in-process client speaks as current GraphQL clients do
# (Apollo Client 4, graphql-http): graphql-response+json first, so a refused
# request is a 4xx. tests/test_negotiation.py covers application/json, */*
# and no Accept at all, under which the same refusals are 200s.
ACCEPT = "application/graphql-response+json, application/json;q=0.9"


def make_client(holder: DataHolder, **settings) -> TestClient:
    settings.setdefault("preview_token", TOKEN)
    settings.setdefault("reload_interval", 0)
    app = create_app(Settings(db=holder.store.path, **settings), holder=holder,
                     clock=FrozenClock(FROZEN_NOW))
    return TestClient(app, headers={"accept": ACCEPT})


@pytest.fixture(scope="session")
def demo_client(tmp_path_factory):
    """A client of the bundled demo, the site the README's and docs' examples run on."""
    from newsgraph.cli import DEMO_SITE  # the CLI's, imported only by the tests that ask

    store = Store(tmp_path_factory.mktemp("demo-store") / "demo.json")
    assert load(store, [DEMO_SITE]).ok
    with make_client(DataHolder(store)) as client:
        yield client


@pytest.fixture(scope="session")
def client(corpus_holder):
    with make_client(corpus_holder) as test_client:
        yield test_client


class GQL:
    """Run a query, assert it succeeded, return ``data``."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, query: str, variables: dict | None = None, *, preview: bool = False) -> dict:
        body = self.raw(query, variables, preview=preview)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def raw(self, query: str, variables: dict | None = None, *, preview: bool = False) -> dict:
        headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
        response = self.client.post("/graphql", json={"query": query, "variables": variables},
                                    headers=headers)
        return response.json()


@pytest.fixture(scope="session")
def gql(client) -> GQL:
    return GQL(client)
