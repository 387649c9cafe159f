"""Every web page's server-side time and weight on a seeded home, against the 150 ms goal (issue 18).

The home is the web tests' (``tests/sandbox/api/web_home.py``: ``seed_web_home`` and ``seed_web_extras``,
no Spark, no Ray): the governance cast on the mini catalog with raw data ingested through the real path,
an active scenario, a free and a fee-bearing released product, a job waiting for review with a dev run
of its exact code, an overdue data-use request, tickets open, disputed and fixed, two quality runs and
a sample version with its file. It is served by ``sandbox serve --no-worker`` on 127.0.0.1 in its own
process (a real uvicorn, as deployed: the timing client does not share its interpreter, so neither
steals the other's GIL; a TestClient would run the app in this process and time its own overhead too).

Every GET page of the app is asked for, as a user its rule admits, over one keep-alive connection: its
route list comes from the app itself, so a page added without an entry here stops the benchmark. Each
page is first asked ``--warm`` times (templates compiled, caches and the store's pages warm), then timed
``--repeat`` times, one request after another; the time is from sending the request to the last byte of
the answer (loopback: the network adds well under a millisecond). File downloads (a product's archive,
a sample's Parquet) are not pages and are left out. Prints each page's median and p90, its HTML weight
in KB (uncompressed; the stylesheet and script are cached once and printed apart), the ratio of the
median to the goal, the slowest five, and whether every page meets the goal.

    .venv/bin/python bench/pages.py [--repeat 20] [--warm 3] [--audit-events 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the seed lives with the tests that use it
sys.path.insert(0, str(Path(__file__).parent))

from served import HOST, free_port, serve_argv, start, stop  # noqa: E402

GOAL_MS = 150.0
#: Not pages: file downloads (timed by their own benchmarks, if any).
DOWNLOADS = (
    "/consumer/products/{product_id}/download",
    "/developer/scenarios/{scenario_id}/samples/{dataset_id}.parquet",
)


def pages(seeded, extras) -> dict[str, list[tuple[str, str | None]]]:
    """Route → the concrete pages timed for it: (URL, the user who asks; None: nobody signed in)."""
    return {
        "/login": [("/login", None)],
        "/": [("/", "operator-1")],  # a redirect to the user's start page
        "/tasks": [("/tasks", "operator-1")],
        "/tasks/{task_id}": [(f"/tasks/{extras.dev_task}", "developer-1")],
        "/provider": [("/provider", "provider-gongan")],
        "/provider/datasets/{dataset_id}": [("/provider/datasets/people", "provider-gongan")],
        "/provider/requests": [("/provider/requests", "provider-gongan")],
        "/provider/requests/{scenario_id}/{dataset_id}": [
            ("/provider/requests/housing/people", "provider-gongan")
        ],
        "/provider/quality": [("/provider/quality", "provider-gongan")],
        "/provider/quality/{dataset_id}": [("/provider/quality/people", "provider-gongan")],
        "/provider/tickets": [("/provider/tickets", "provider-gongan")],
        "/provider/tickets/{ticket}": [(f"/provider/tickets/{seeded.ticket}", "provider-gongan")],
        "/provider/scorecard": [("/provider/scorecard", "provider-gongan")],
        "/developer": [("/developer", "developer-1")],
        "/developer/scenarios/{scenario_id}": [("/developer/scenarios/elderly-care", "developer-1")],
        "/developer/scenarios/{scenario_id}/samples": [
            ("/developer/scenarios/elderly-care/samples", "developer-1")
        ],
        "/developer/jobs": [("/developer/jobs", "developer-1")],
        "/developer/submissions/{submission_id}": [
            (f"/developer/submissions/{seeded.submission}", "developer-1")
        ],
        "/operator": [("/operator", "operator-1")],
        "/operator/submissions/{submission_id}": [
            (f"/operator/submissions/{seeded.submission}", "operator-1")
        ],
        "/operator/runs": [("/operator/runs", "operator-1")],
        "/operator/scenarios": [("/operator/scenarios", "operator-1")],
        "/operator/scenarios/{scenario_id}": [("/operator/scenarios/housing", "operator-1")],
        "/operator/tickets": [("/operator/tickets", "operator-1")],
        "/operator/tickets/{ticket}": [(f"/operator/tickets/{extras.disputed}", "operator-1")],
        "/operator/products": [("/operator/products", "operator-1")],
        "/operator/products/{product_id}": [("/operator/products/credit_levels", "operator-1")],
        "/operator/redevelopment": [("/operator/redevelopment", "operator-1")],
        "/consumer": [("/consumer", "consumer-1")],
        "/consumer/products/{product_id}": [("/consumer/products/level_counts", "consumer-1")],
        "/consumer/keys": [("/consumer/keys", "consumer-1")],
        "/auditor": [("/auditor", "auditor-1")],
        "/auditor/verify": [("/auditor/verify", "auditor-1")],
        "/auditor/disclosure": [("/auditor/disclosure", "auditor-1")],
        "/admin": [("/admin", "admin")],
        "/admin/users/{username}": [("/admin/users/developer-2", "admin")],
        "/admin/authorizations": [("/admin/authorizations", "admin")],
    }


def page_routes(ctx) -> list[str]:
    """Every GET route of the web UI (outside ``/api`` and the static files), from the app itself."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from sandbox.api.app import create_app

    found = set()
    for context in iter_route_contexts(create_app(ctx).routes):
        route = context.original_route
        if isinstance(route, APIRoute) and "GET" in route.methods and not context.path.startswith("/api"):
            found.add(context.path)
    return sorted(found - set(DOWNLOADS))


def build_home(home: Path, scratch: Path, audit_events: int) -> tuple[dict, dict[str, str], int]:
    """The seeded home, its audit trail grown by ``audit_events`` recorded actions; returns the pages to
    time, a session cookie per user (as signing in issues them) and the trail's length."""
    from sqlalchemy import func, select

    from sandbox.governance import identities
    from sandbox.governance.access import principal_for
    from sandbox.store.models import AuditEventRow
    from tests.conftest import make_context
    from tests.sandbox.api.web_home import USERS, seed_web_extras, seed_web_home

    ctx = make_context(home)
    scratch.mkdir(parents=True, exist_ok=True)
    seeded = seed_web_home(ctx, scratch)
    extras = seed_web_extras(ctx, seeded)
    wanted = pages(seeded, extras)
    missing = sorted(set(page_routes(ctx)) - set(wanted))
    if missing:
        raise SystemExit(f"pages without an entry in bench/pages.py: {missing}")
    sessions = {user: identities.issue_session(ctx, principal_for(ctx, user))[1] for user in USERS}
    for start_at in range(0, audit_events, 1000):  # a longer history: what verification and the trail read
        with ctx.transaction() as session:
            for n in range(start_at, min(audit_events, start_at + 1000)):
                ctx.audit(session, "bench.history", "bench", str(n), actor="operator-1", n=n)
    with ctx.sessions() as session:
        events = session.scalar(select(func.count()).select_from(AuditEventRow))
    ctx.engine.dispose()
    return wanted, sessions, events


def time_page(client: httpx.Client, url: str, cookie: str | None, warm: int, repeat: int) -> dict:
    cookies = {"shuyu_session": cookie} if cookie else {}
    for _ in range(warm):
        client.get(url, cookies=cookies)
    times, size, status = [], 0, None
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, cookies=cookies)
        size = len(response.content)  # read in full before the clock stops
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    times.sort()
    return {"median": statistics.median(times), "p90": times[min(len(times) - 1, int(len(times) * 0.9))],
            "kb": size / 1024, "status": status}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (after the warm-up)")
    parser.add_argument("--warm", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--audit-events", type=int, default=0, help="grow the audit trail by this many events "
                        "(the trail page reads the newest 50; verification reads them all)")  # fmt: skip
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-pages-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env.update(SANDBOX_HOME=str(work / "home"), SPARK_LOCAL_IP=HOST)
    process = None
    try:
        wanted, sessions, events = build_home(work / "home", work / "deliveries", args.audit_events)
        port = free_port()
        process = start(serve_argv(port), env, f"http://{HOST}:{port}/api/health")
        results = []
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30, follow_redirects=False) as client:
            assets = sum(len(client.get(f"/static/shuyu.{ext}").content) for ext in ("css", "js")) / 1024
            for route, concrete in wanted.items():
                for url, user in concrete:
                    result = time_page(
                        client, url, sessions.get(user) if user else None, args.warm, args.repeat
                    )
                    expected = 303 if route == "/" else 200
                    if result["status"] != expected:
                        raise SystemExit(f"{url} as {user}: HTTP {result['status']}, not {expected}")
                    results.append({"url": url, "user": user or "(anonymous)", **result})
        print(f"web pages: {len(results)} pages ({len(wanted)} routes), each warmed {args.warm}x then timed "
              f"{args.repeat}x, one keep-alive client; server: sandbox serve --no-worker on {HOST} (its own "
              f"process, SQLite home seeded by tests/sandbox/api/web_home.py, {events:,} audit events); "
              f"goal: median <= {GOAL_MS:.0f} ms")  # fmt: skip
        print(f"{'page':<48} {'as':<16} {'median ms':>9} {'p90 ms':>7} {'KB':>6} {'/goal':>6}")
        for r in results:
            print(f"{r['url'][:48]:<48} {r['user']:<16} {r['median']:>9.1f} {r['p90']:>7.1f} {r['kb']:>6.1f} "
                  f"{r['median'] / GOAL_MS:>6.2f}")  # fmt: skip
        print(f"stylesheet + script (cached after the first page): {assets:.1f} KB")
        print("slowest five (median):")
        for r in sorted(results, key=lambda r: r["median"], reverse=True)[:5]:
            print(
                f"  {r['url']:<48} {r['median']:6.1f} ms  ({r['median'] / GOAL_MS:.2f} of the goal, {r['kb']:.1f} KB)"
            )
        over = [r["url"] for r in results if r["median"] > GOAL_MS]
        heaviest = max(results, key=lambda r: r["kb"])
        print(f"heaviest page: {heaviest['url']} {heaviest['kb']:.1f} KB; "
              f"median of medians {statistics.median(r['median'] for r in results):.1f} ms")  # fmt: skip
        print(f"goal (every page's median <= {GOAL_MS:.0f} ms): "
              + ("met" if not over else f"NOT met by {len(over)}: {', '.join(over)}"))  # fmt: skip
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
