"""Side by side: the sync engine, `rutter-pipeline sync`, and the baselines anyone can rerun, in one run.

One Shopify connection of `BENCH_ORDERS` orders (100,000 by default) in the sandbox (its own process, no rate
limit, no faults), pulled into an empty PostgreSQL database per variant and round, by:
- fetch: every page, nothing else;
- floor: fetch + one `COPY` per page of the objects as received into an `(id, data jsonb)` table;
- engine: `sync.backfill` over the monthly windows of `rutter-pipeline sync`, one process;
- engine ×2: the same windows split between two processes (alternate months);
- dagster: `rutter-pipeline sync` as a user runs it (its own DAGSTER_HOME and data dir, marts off);
- naive: one `INSERT … ON CONFLICT` per order;
- dlt: dlt's `rest_api` source → postgres destination, merge on `id`, default nesting (the `bench` extra).

The variants are interleaved over `BENCH_ROUNDS` rounds (3 by default, each round starting one variant later),
so the load of a shared machine falls on all of them. Reported per variant: the median rows/s (and range),
peak RSS of the variant's client processes together, their CPU seconds, and the CPU seconds of the PostgreSQL
backends serving the variant's databases. Every variant's row count is checked against the warehouse, so a
broken variant fails the test instead of reporting a speed; speed itself is not asserted.

    make benchmark   # or, alone:
    .venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_throughput_side_by_side.py -s

`BENCH_OUTPUT=path.json` also writes the figures and ratios there. `BENCH_VARIANTS=floor,engine` runs only the
named variants (fetch, floor, engine, engine2, sync, sync1, naive, dlt, before), and prints the ratios between
those. `BENCH_ENGINE_BEFORE=dir` adds the variant `before`: the engine of another revision, exported to `dir`
(`git archive <rev> rutter_pipeline | tar -x -C dir`) and put first on the workers' `PYTHONPATH`, so a change's
before and after are measured in the same run. `BENCH_SYNC_LOG=path` appends the output of each
`rutter-pipeline sync` (a line per run with its seconds) there.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests
import sqlalchemy as sa
from test_sync_throughput import big_store_id, run_workers, start_sandbox

from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.settings import Settings
from rutter_pipeline.sync.periods import month_windows
from rutter_pipeline.warehouse import schema, warehouse_engine
from rutter_pipeline_tests.fixtures.databases import POSTGRES_SERVER, _fresh_database

ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("side_by_side_worker.py")
CLI = Path(sys.executable).with_name("rutter-pipeline")
#: Rutter's own limit: 500 requests per 10 s per organisation, at 500 objects per page.
RUTTER_CEILING_ROWS_PER_S = 500 / 10 * 500
SAMPLE_S = 0.2


@dataclass
class Sandbox:
    server: str
    pid: int
    connection_id: str
    access_token: str


@dataclass
class Measure:
    """What one variant cost in one round."""

    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    client_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0
    reported_rss_mib: list[float] = field(default_factory=list)


@contextmanager
def measured(sandbox: Sandbox, databases: list[str]) -> Iterator[Measure]:
    """Time the block; sample the RSS of this process's children (but the sandbox) and the CPU of the backends
    of `databases`; count the CPU of the children waited for meanwhile (`RUSAGE_CHILDREN`)."""
    measure = Measure()
    done = threading.Event()
    backends: dict[int, float] = {}

    def sample() -> None:
        me = psutil.Process()
        while not done.wait(SAMPLE_S):
            rss = 0
            for child in me.children(recursive=True):
                try:
                    if child.pid != sandbox.pid:
                        rss += child.memory_info().rss
                except psutil.Error:
                    pass
            measure.peak_rss_mib = max(measure.peak_rss_mib, rss / 2**20)
            for process in psutil.process_iter(["name", "cmdline"]):
                try:
                    title = " ".join(process.info["cmdline"] or ())
                    if process.info["name"] == "postgres" and any(f" {db} " in title for db in databases):
                        times = process.cpu_times()
                        backends[process.pid] = times.user + times.system
                except psutil.Error:
                    pass

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield measure
    finally:
        measure.seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        measure.client_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        measure.postgres_cpu_s = sum(backends.values())
        measure.peak_rss_mib = max([measure.peak_rss_mib, *measure.reported_rss_mib])


def database_name(url: str) -> str:
    return sa.make_url(url).database


def plain_url(url: str) -> str:
    """The URL without SQLAlchemy's driver name, as psycopg2 and dlt take it."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def count_orders(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return db.execute(sa.text(f"select count(*) from {table}")).scalar_one()
    finally:
        engine.dispose()


def sync_months() -> list[tuple[int | None, int | None]]:
    """The month windows `rutter-pipeline sync` backfills by default (its first month takes everything older)."""
    start = Settings.from_env({}).history_start
    windows = month_windows(datetime(start.year, start.month, 1, tzinfo=UTC))
    return [(w.start_ms, w.end_ms) for w in windows]


# --- the variants: each runs in its own process(es) inside `measured` and checks what it landed -------------


def run_baseline(mode: str, sandbox: Sandbox, url: str | None) -> Measure:
    env = dict(
        os.environ,
        BENCH_MODE=mode,
        BENCH_SERVER=sandbox.server,
        BENCH_ACCESS_TOKEN=sandbox.access_token,
        BENCH_DATABASE_URL=plain_url(url) if url else "",
        RUNTIME__DLTHUB_TELEMETRY="false",
    )
    databases = [database_name(url)] if url else []
    with measured(sandbox, databases) as measure:
        done = subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=3600)
        assert done.returncode == 0, f"{mode} failed:\n{done.stderr[-3000:]}"
        result = json.loads(done.stdout.strip().splitlines()[-1])
        measure.reported_rss_mib.append(result["peak_rss_mib"])
    assert result["rows"] == ORDERS, f"{mode} landed {result['rows']} orders, not {ORDERS}"
    return measure


def fetch(sandbox: Sandbox, url: str | None) -> Measure:
    return run_baseline("fetch", sandbox, None)


def floor(sandbox: Sandbox, url: str) -> Measure:
    return run_baseline("copy", sandbox, url)


def naive(sandbox: Sandbox, url: str) -> Measure:
    return run_baseline("naive", sandbox, url)


def dlt(sandbox: Sandbox, url: str) -> Measure:
    return run_baseline("dlt", sandbox, url)


def engine(sandbox: Sandbox, url: str, *, processes: int = 1) -> Measure:
    warehouse = warehouse_engine(url)
    schema.upgrade(warehouse)
    warehouse.dispose()
    months = sync_months()
    groups = [months[i::processes] for i in range(processes)]
    with measured(sandbox, [database_name(url)]) as measure:
        results, _, _ = run_workers(sandbox.server, url, sandbox.connection_id, groups)
        measure.reported_rss_mib.append(sum(r["peak_rss_mib"] for r in results))
    assert sum(r["inserted"] for r in results) == ORDERS
    assert count_orders(url, "rutter.orders") == ORDERS
    return measure


def engine_two(sandbox: Sandbox, url: str) -> Measure:
    return engine(sandbox, url, processes=2)


def engine_before(sandbox: Sandbox, url: str) -> Measure:
    """The engine of the revision exported to `BENCH_ENGINE_BEFORE`, one process (the schema is this one's)."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.environ["BENCH_ENGINE_BEFORE"]
    try:
        return engine(sandbox, url)
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous


def dagster(sandbox: Sandbox, url: str, *, workers: int = 2) -> Measure:
    """`rutter-pipeline sync` against the external sandbox, its Dagster storage in a database of its own, with
    `workers` runs at a time (RUTTER_MAX_CONCURRENT_RUNS; the sync takes at most the CPU count)."""
    with _database() as storage_url, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))}
        env.update(
            RUTTER_BASE_URL=f"{sandbox.server}/versioned",
            RUTTER_CLIENT_ID=DEFAULT_CLIENT_ID,
            RUTTER_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
            WAREHOUSE_URL=url,
            RUTTER_DAGSTER_STORAGE_URL=storage_url,
            DAGSTER_HOME=f"{home}/dagster_home",
            RUTTER_PIPELINE_DATA_DIR=f"{home}/data",
            RUTTER_REFRESH_MARTS="false",
            RUTTER_MAX_CONCURRENT_RUNS=str(workers),
        )
        with measured(sandbox, [database_name(url), database_name(storage_url)]) as measure:
            done = subprocess.run([str(CLI), "sync"], env=env, cwd=REPO, capture_output=True, text=True, timeout=3600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        if os.environ.get("BENCH_SYNC_LOG"):  # the sync's own lines: a line per run with its seconds
            with Path(os.environ["BENCH_SYNC_LOG"]).open("a") as log:
                log.write(f"--- rutter-pipeline sync, {workers} worker(s)\n{done.stdout}")
    assert count_orders(url, "rutter.orders") == ORDERS
    return measure


def dagster_one_worker(sandbox: Sandbox, url: str) -> Measure:
    return dagster(sandbox, url, workers=1)


@contextmanager
def _database() -> Iterator[str]:
    yield from _fresh_database(POSTGRES_SERVER, "postgres", mysql=False)


#: (short name for BENCH_VARIANTS, name in the table, function, needs a database); the order of the first round.
ALL_VARIANTS: list[tuple[str, str, Callable[..., Measure], bool]] = [
    ("fetch", "fetch every page, nothing else", fetch, False),
    ("floor", "fetch + COPY into (id, data jsonb): the floor", floor, True),
    ("engine", "sync engine, 1 process (sync.backfill, monthly windows)", engine, True),
    ("engine2", "sync engine, 2 processes (half the months each)", engine_two, True),
    ("sync", "rutter-pipeline sync (through Dagster, 2 workers)", dagster, True),
    ("sync1", "rutter-pipeline sync (through Dagster, 1 worker)", dagster_one_worker, True),
    ("naive", "naive: one INSERT … ON CONFLICT per row", naive, True),
    ("dlt", "dlt rest_api → postgres, merge on id", dlt, True),
]
if os.environ.get("BENCH_ENGINE_BEFORE"):
    ALL_VARIANTS.append(("before", "sync engine before the change, 1 process", engine_before, True))
CHOSEN = os.environ.get("BENCH_VARIANTS", "").replace(" ", "").split(",") if os.environ.get("BENCH_VARIANTS") else []
assert set(CHOSEN) <= {short for short, *_ in ALL_VARIANTS}, f"BENCH_VARIANTS names an unknown variant: {CHOSEN}"
VARIANTS = [(name, run, needs) for short, name, run, needs in ALL_VARIANTS if not CHOSEN or short in CHOSEN]
SHORT = {name: short for short, name, _, _ in ALL_VARIANTS}


def open_sandbox() -> tuple[subprocess.Popen, Sandbox]:
    process, server = start_sandbox(ORDERS)
    connection_id = big_store_id(server)
    connections = requests.get(f"{server}/_sandbox/connections", timeout=30).json()["connections"]
    token = next(c["access_token"] for c in connections if c["id"] == connection_id)
    return process, Sandbox(server=server, pid=process.pid, connection_id=connection_id, access_token=token)


def summary(measures: dict[str, list[Measure]]) -> dict[str, dict]:
    figures = {}
    for name, runs in measures.items():
        rates = [ORDERS / m.seconds for m in runs]
        figures[name] = {
            "rows_per_s": round(statistics.median(rates)),
            "rows_per_s_range": [round(min(rates)), round(max(rates))],
            "peak_rss_mib": round(statistics.median(m.peak_rss_mib for m in runs)),
            "client_cpu_s": round(statistics.median(m.client_cpu_s for m in runs), 1),
            "postgres_cpu_s": round(statistics.median(m.postgres_cpu_s for m in runs), 1),
        }
    return figures


@pytest.mark.benchmark
@pytest.mark.timeout(4 * 3600)
def test_throughput_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    measures: dict[str, list[Measure]] = {name: [] for name, _, _ in VARIANTS}
    process, sandbox = open_sandbox()
    try:
        for round_ in range(ROUNDS):
            shift = round_ % len(VARIANTS)
            for name, variant, needs_database in VARIANTS[shift:] + VARIANTS[:shift]:
                if needs_database:
                    with _database() as url:
                        measures[name].append(variant(sandbox, url))
                else:
                    measures[name].append(variant(sandbox, None))
                with capsys.disabled():
                    last = measures[name][-1]
                    print(
                        f"round {round_ + 1}: {name}: {ORDERS / last.seconds:,.0f} rows/s, peak RSS "
                        f"{last.peak_rss_mib:.0f} MiB, client CPU {last.client_cpu_s:.1f} s, PostgreSQL CPU "
                        f"{last.postgres_cpu_s:.1f} s",
                        flush=True,
                    )
    finally:
        process.terminate()
        process.wait()

    figures = summary(measures)
    rate = {SHORT[name]: figures[name]["rows_per_s"] for name in figures}
    pairs = {
        "engine / floor": ("engine", "floor"),
        "engine before the change / floor": ("before", "floor"),
        "engine / engine before the change": ("engine", "before"),
        "engine 2 processes / 1 process": ("engine2", "engine"),
        "dlt / engine": ("dlt", "engine"),
        "naive / engine": ("naive", "engine"),
        "rutter-pipeline sync / engine": ("sync", "engine"),
        "rutter-pipeline sync 1 worker / engine": ("sync1", "engine"),
        "rutter-pipeline sync 2 workers / 1 worker": ("sync", "sync1"),
        "rutter-pipeline sync / dlt": ("sync", "dlt"),
        "rutter-pipeline sync / naive": ("sync", "naive"),
    }
    ratios = {label: round(rate[a] / rate[b], 2) for label, (a, b) in pairs.items() if a in rate and b in rate}
    engines = [rate[short] for short in ("engine", "engine2", "sync", "sync1") if short in rate]
    if engines:
        ratios["best engine figure / Rutter's ceiling (25,000 rows/s)"] = round(
            max(engines) / RUTTER_CEILING_ROWS_PER_S, 3
        )
    if "fetch" in rate:
        ratios["fetch alone / Rutter's ceiling"] = round(rate["fetch"] / RUTTER_CEILING_ROWS_PER_S, 3)
    # Client CPU per order does not depend on the machine's load as wall time does.
    cpu_us = {SHORT[name]: round(figures[name]["client_cpu_s"] / ORDERS * 1e6) for name in figures}
    output = {
        "orders": ORDERS,
        "rounds": ROUNDS,
        "variants": figures,
        "ratios": ratios,
        "client_cpu_us_per_order": cpu_us,
    }
    with capsys.disabled():
        print(f"\n\nSide by side: {ORDERS:,} orders of one connection, median of {ROUNDS} interleaved rounds\n")
        print("| variant | rows/s (median) | range | peak RSS | client CPU | PostgreSQL CPU |")
        print("|---|---|---|---|---|---|")
        for name, f in figures.items():
            low, high = f["rows_per_s_range"]
            print(
                f"| {name} | {f['rows_per_s']:,} | {low:,}–{high:,} | {f['peak_rss_mib']} MiB "
                f"| {f['client_cpu_s']} s | {f['postgres_cpu_s']} s |"
            )
        print("\n" + json.dumps(ratios, indent=2, ensure_ascii=False))
        print("client CPU µs per order: " + json.dumps(cpu_us))
    if os.environ.get("BENCH_OUTPUT"):
        Path(os.environ["BENCH_OUTPUT"]).write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    assert all(len(runs) == ROUNDS for runs in measures.values())
