"""The product query API under a bounded loopback load vs a bare FastAPI endpoint, side by side (issue 18).

(a) Shuyu: ``sandbox serve --no-worker`` on 127.0.0.1 (its own process, a SQLite home), the query
    endpoint ``GET /api/v1/delivery/products/enterprise_loan_support/query?sort=-enterprises&limit=100``
    with a valid ``X-API-Key``: key check, export rule (registered, fee-bearing, terms of use in force),
    the release's hash checked on every read, sort and page, and every answer metered in the store
    (key quota + usage upsert, one transaction per request). The product is the demo's
    ``enterprise_loan_support``, submitted, approved, registered and released the way production does
    after its gate (``versions.release``), with a synthetic table of ``--cells`` cells; no Spark runs.
(b) Baseline: a bare FastAPI app under the same uvicorn settings, in its own process, whose one
    endpoint returns the same JSON document.

Each side gets ``--clients`` concurrent keep-alive connections for ``--seconds`` (after a short
warm-up), one side after the other, ``--rounds`` times in turn (both servers stay up; the idle one
costs nothing); the load generator is a plain asyncio HTTP/1.1 client in this process. Prints, per
side, requests per second, p50 and p99, and the server process's CPU time per answered request (on
Linux: a figure the load generator's own share of a small machine does not move), the medians over
the rounds, and the ratio (the median of the rounds' ratios). Goal: p99 <= 50 ms and >= 70 % of the
bare endpoint's throughput. Afterwards the store's metered request count is checked against the
answers the clients received. Stops by itself and removes its temporary home.

    .venv/bin/python bench/api.py [--seconds 30] [--clients 64] [--rounds 1] [--cells 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from served import HOST, free_port, serve_argv, start, stop  # noqa: E402

JOB = Path(__file__).parents[1] / "jobs" / "enterprise_loan_support"
PRODUCT = "enterprise_loan_support"
QUERY = f"/api/v1/delivery/products/{PRODUCT}/query?sort=-enterprises&limit=100"
BARE = "/bare"
BARE_SERVER = """
import json, sys
import uvicorn
from fastapi import FastAPI

payload = json.loads(open(sys.argv[1], encoding="utf-8").read())
app = FastAPI()


@app.get("/bare")
def bare() -> dict:
    return payload


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def build_home(home: Path, deliveries: Path, cells: int, database_url: str | None) -> str:
    """The demo platform with one released fee-bearing product under terms for the bank; returns a key."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sandbox.audit.chain import utc_now_iso
    from sandbox.context import PlatformContext
    from sandbox.demo.platform import build_platform
    from sandbox.governance.access import principal_for
    from sandbox.products import api_keys, registry, terms, versions
    from sandbox.runtime import submissions
    from sandbox.settings import Settings
    from sandbox.store.models import JobRunRow

    ctx = PlatformContext(Settings(home=home, database_url=database_url), actor="admin")
    build_platform(ctx, deliveries, people=2000, seed=7)
    who = lambda user: principal_for(ctx, user)  # noqa: E731
    submission = submissions.submit(ctx, who("developer-1"), JOB)
    submissions.review(ctx, who("operator-2"), submission.id, approve=True, comment="基准")
    registry.register(ctx, who("operator-1"), product_id=PRODUCT, title="企业信贷支持统计",
                      scenario_id="enterprise-credit", description="基准 / benchmark")  # fmt: skip
    industries, districts = 20, -(-cells // 20)
    keys = [(f"{i:02d}", f"4299{d:02d}") for i in range(industries) for d in range(districts)][:cells]
    table = pa.table({
        "industry_code": [k[0] for k in keys], "district_code": [k[1] for k in keys],
        "enterprises": pa.array([10 + (n * 7919) % 500 for n in range(len(keys))], type=pa.int64()),
        "penalty_rate": [((n * 31) % 100) / 100 for n in range(len(keys))],
        "median_capital": [float(50_000 + (n * 977) % 900_000) for n in range(len(keys))],
        "total_capital": [float(1_000_000 + n * 1_234) for n in range(len(keys))],
        "decision": ["released"] * len(keys),
    })  # fmt: skip
    gate_dir = ctx.settings.work_dir / f"gate-{uuid.uuid4().hex[:8]}"
    gate_dir.mkdir(parents=True)
    pq.write_table(table, gate_dir / "credit_by_industry_district.parquet")
    run_id = uuid.uuid4().hex[:12]
    with ctx.transaction() as session:
        session.add(JobRunRow(id=run_id, submission_id=submission.id, promoted_by="operator-2", state="running",
                              dataset_versions_json="{}", logs_path=f"runs/{run_id}", started_at=utc_now_iso()))  # fmt: skip
        session.flush()
        versions.release(ctx, session, product_id=PRODUCT, run_id=run_id, gate_dir=gate_dir,
                         code_sha256=submission.code_sha256, dataset_versions={}, policy={},
                         outputs={"credit_by_industry_district": {"released": len(keys), "suppressed": 0}},
                         actor="operator-2")  # fmt: skip
    terms.grant_terms(ctx, who("operator-1"), PRODUCT, "yunze-bank")
    row, secret = api_keys.create_key(ctx, who("consumer-1"), "bench")
    api_keys.set_quota(ctx, who("operator-1"), row.id, api_keys.MAX_DAILY_QUOTA)
    ctx.engine.dispose()
    return secret


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        int(v) for k, _, v in (line.partition(":") for line in lines[1:]) if k.lower() == "content-length"
    )
    await reader.readexactly(length)
    return status


async def _client(
    port: int, request: bytes, warm_until: float, stop_at: float, out: list, statuses: dict
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(request)
            status = await _read_response(reader)
            statuses[status] = statuses.get(status, 0) + 1
            if started >= warm_until:
                out.append(time.perf_counter() - started)
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> dict:
    """``clients`` keep-alive connections asking ``path`` back to back; latencies after the warm-up."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{extra}\r\n".encode()
    warm_up = min(3.0, seconds / 5)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def run() -> None:
        now = time.perf_counter()
        await asyncio.gather(*(_client(port, request, now + warm_up, now + warm_up + seconds, latencies, statuses)
                               for _ in range(clients)))  # fmt: skip

    asyncio.run(run())
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "statuses": statuses,
        "answered": statuses.get(200, 0),
    }


def metered_requests(home: Path, database_url: str | None) -> int:
    from sqlalchemy import func, select

    from sandbox.context import PlatformContext
    from sandbox.settings import Settings
    from sandbox.store.models import ProductUsageRow

    ctx = PlatformContext(Settings(home=home, database_url=database_url))
    with ctx.sessions() as session:
        counted = session.scalar(select(func.sum(ProductUsageRow.requests))) or 0
    ctx.engine.dispose()
    return int(counted)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="measured seconds per side (after warm-up)"
    )
    parser.add_argument("--clients", type=int, default=64, help="concurrent keep-alive connections")
    parser.add_argument(
        "--rounds", type=int, default=1, help="times each side is loaded, in turn (medians shown)"
    )
    parser.add_argument("--cells", type=int, default=2000, help="cells of the released table")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to hold the store (a schema of its "
                        "own, dropped afterwards) instead of the embedded SQLite, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")  # fmt: skip
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-api-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env.update(SANDBOX_HOME=str(work / "home"), SPARK_LOCAL_IP=HOST)
    processes: list[subprocess.Popen] = []
    schema = f"shuyu_bench_{uuid.uuid4().hex[:8]}" if args.postgres else None
    database_url = f"{args.postgres}?options=-csearch_path%3D{schema}" if schema else None
    if schema:
        _schema(args.postgres, f'CREATE SCHEMA "{schema}"')
        env["SANDBOX_DATABASE_URL"] = database_url
    try:
        secret = build_home(work / "home", work / "deliveries", args.cells, database_url)
        port = free_port()
        shuyu_server = start(serve_argv(port), env, f"http://{HOST}:{port}/api/health")
        processes.append(shuyu_server)
        first = httpx.get(f"http://{HOST}:{port}{QUERY}", headers={"X-API-Key": secret}, timeout=10)
        assert first.status_code == 200, first.text
        (work / "payload.json").write_bytes(first.content)

        bare_port = free_port()
        (work / "bare.py").write_text(BARE_SERVER, encoding="utf-8")
        bare_server = start([sys.executable, str(work / "bare.py"), str(work / "payload.json"), str(bare_port)],
                            env, f"http://{HOST}:{bare_port}{BARE}")  # fmt: skip
        processes.append(bare_server)
        check = httpx.get(f"http://{HOST}:{bare_port}{BARE}", timeout=10)
        assert check.json() == first.json(), "the bare endpoint must return the same JSON"

        sides = (("(a) shuyu query API (key, terms, hash check, metering)", shuyu_server, port, QUERY,
                  {"X-API-Key": secret}),
                 ("(b) bare FastAPI, same JSON                           ", bare_server, bare_port, BARE, {}))  # fmt: skip
        rounds: list[list[dict]] = []
        for number in range(1, args.rounds + 1):
            measured = []
            for label, server, side_port, path, headers in sides:
                before = cpu_seconds(server.pid)
                result = load(side_port, path, headers, args.clients, args.seconds)
                after = cpu_seconds(server.pid)
                served = sum(result["statuses"].values())
                result["cpu_ms"] = (
                    None if before is None or after is None else 1000 * (after - before) / served
                )
                measured.append(result)
                if args.rounds > 1:
                    print(f"round {number} {_line(label, result)}", flush=True)
            rounds.append(measured)
        for process in (shuyu_server, bare_server):
            stop(processes.pop(processes.index(process)))

        counted = metered_requests(work / "home", database_url)
        answered = sum(r[0]["answered"] for r in rounds) + 1
        rows = len(first.json()["rows"])
        print(f"product query: {rows} rows of a {args.cells:,}-cell released table, JSON ({len(first.content):,} bytes), "
              f"{args.clients} clients x {args.seconds:g} s per side x {args.rounds} round(s), loopback, one uvicorn "
              f"process each; store: {'PostgreSQL' if schema else 'SQLite (embedded default)'}"
              + ("; medians of the rounds:" if args.rounds > 1 else ""))  # fmt: skip
        for index, (label, *_rest) in enumerate(sides):
            results = [r[index] for r in rounds]
            summary = {key: statistics.median(r[key] for r in results) for key in ("rps", "p50", "p99")}
            cpu = [r["cpu_ms"] for r in results if r["cpu_ms"] is not None]
            summary["cpu_ms"] = statistics.median(cpu) if cpu else None
            summary["statuses"] = {s: sum(r["statuses"].get(s, 0) for r in results)
                                   for s in {s for r in results for s in r["statuses"]}}  # fmt: skip
            print(_line(label, summary))
        ratio = statistics.median(a["rps"] / b["rps"] for a, b in rounds)
        p99 = statistics.median(a["p99"] for a, _b in rounds)
        print(f"ratio (a)/(b) throughput: {ratio:.2f} (goal >= 0.70) -> {'met' if ratio >= 0.7 else 'NOT met'}; "
              f"p99 (a) {p99:.1f} ms (goal <= 50 ms) -> {'met' if p99 <= 50 else 'NOT met'}")  # fmt: skip
        print(f"metering: {counted:,} requests counted in the store for {answered:,} answered "
              f"-> {'consistent' if counted == answered else 'MISMATCH'}")  # fmt: skip
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
        if schema:
            _schema(args.postgres, f'DROP SCHEMA "{schema}" CASCADE')


def _line(label: str, result: dict) -> str:
    others = {s: n for s, n in result["statuses"].items() if s != 200}
    cpu = f", server CPU {result['cpu_ms']:.3f} ms/request" if result.get("cpu_ms") is not None else ""
    return (f"{label}: {result['rps']:8.1f} req/s, p50 {result['p50']:6.1f} ms, p99 {result['p99']:6.1f} ms{cpu}"
            + (f", non-200 answers {others}" if others else ""))  # fmt: skip


def _schema(url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


if __name__ == "__main__":
    main()
