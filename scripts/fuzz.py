"""Fuzz the API with queries generated from its live schema.

    .venv/bin/python scripts/fuzz.py [--examples 2000] [--negative 500] [--seed N]

hypothesis-graphql writes valid queries (and, with --negative, queries with
one schema violation) from graph.schema.sdl(); each runs in-process against
the real corpus as the public and, at random, with the preview token. No
answer may be a 5xx or INTERNAL, leak a trace or a path, or show the public
an unpublished article (tests/fuzzing.py). Prints what the answers were.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis_graphql import Mode, queries  # noqa: E402

from graph.schema import sdl  # noqa: E402
from graph.state import DataHolder  # noqa: E402
from store.db import Store  # noqa: E402
from store.ingest import load  # noqa: E402
from tests.conftest import AZURE, POWER_APPS, SEED, TOKEN, make_client  # noqa: E402
from tests.fuzzing import check_answer, custom_scalars  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="valid queries to run")
    parser.add_argument("--negative", type=int, default=500, help="invalid queries to run")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: random)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsgraph-fuzz-") as workdir:
        db = Path(workdir) / "corpus.json"
        assert load(Store(db), [POWER_APPS, AZURE, SEED]).ok
        holder = DataHolder(Store(db))
        hidden = frozenset(a.id for a in holder.model.all_articles if not a.visible)
        tally: Counter = Counter()
        with make_client(holder) as client:
            def ask(query: str, preview: bool) -> dict:
                headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
                response = client.post("/graphql", json={"query": query}, headers=headers)
                body = check_answer(query, response.status_code, response.content,
                                    hidden=frozenset() if preview else hidden)
                codes = ",".join(sorted({e["extensions"]["code"] for e in body.get("errors", ())}))
                tally[(response.status_code, codes or "-")] += 1
                return body

            common = dict(deadline=None, database=None, print_blob=True,
                          suppress_health_check=list(HealthCheck))

            @settings(max_examples=args.examples, **common)
            @given(query=queries(sdl(), custom_scalars=custom_scalars()), preview=st.booleans())
            def valid(query, preview):
                ask(query, preview)

            @settings(max_examples=args.negative, **common)
            @given(query=queries(sdl(), custom_scalars=custom_scalars(), mode=Mode.NEGATIVE))
            def invalid(query):
                assert ask(query, False).get("errors"), query

            started = time.monotonic()
            for name, test in (("valid", valid), ("invalid", invalid)):
                if args.seed is not None:
                    test = seed(args.seed)(test)
                before = sum(tally.values())
                test()
                print(f"{name}: {sum(tally.values()) - before} queries, none failed")
    print(f"answers by status and error codes: {orjson.dumps({f'{s} {c}': n for (s, c), n in sorted(tally.items())}).decode()}")
    print(f"{sum(tally.values())} queries in {time.monotonic() - started:.0f} s: 0 5xx, 0 INTERNAL, "
          "0 traces or paths, 0 unpublished ids in public answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
