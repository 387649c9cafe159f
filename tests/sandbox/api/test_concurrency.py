"""The service under concurrency on PostgreSQL: two ``sandbox serve`` processes on one database, as a
deployment with two API replicas runs, and requests released at the same instant.

Each race is made to happen rather than hoped for: a lock on the table the requests need first
(``held_database``) holds them until all of them are waiting inside their servers, then lets them go
together. Each test fails without the guard it checks (shown in its docstring).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from sandbox.catalog.service import show_dataset
from sandbox.store.models import AuditEventRow, TaskRow
from tests.conftest import PG_URL, cli_env, held_database, make_context
from tests.sandbox.catalog.test_ingest_service import people_csv
from tests.sandbox.products.conftest import live_cast, submitted_job

from ..cli.test_remote import free_port
from .conftest import token_for

pytestmark = pytest.mark.postgres

USERS = ("operator-1", "operator-2", "developer-1", "provider-gongan", "admin", "consumer-1")


@dataclass
class Replicas:
    ctx: object
    cast: object
    urls: list[str]
    tokens: dict[str, str]
    env: dict[str, str]

    def call(self, replica: int, user: str, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return httpx.request(
            method, f"{self.urls[replica]}/api/v1{path}", headers=headers, timeout=120, **kwargs
        )


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--no-worker", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen, url: str) -> None:
    for _ in range(300):  # a guard against hanging, not a measurement
        if process.poll() is not None:
            pytest.fail(f"sandbox serve exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.2)
    pytest.fail("sandbox serve did not answer")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[Replicas]:
    schema = f"shuyu_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    ctx = make_context(tmp_path_factory.mktemp("replicas") / "home", database_url=PG_URL, schema=schema)
    cast = live_cast(ctx)
    tokens = {user: token_for(ctx, user) for user in USERS}
    env = cli_env(ctx, COLUMNS="200")
    servers = [_start(env) for _ in range(2)]
    try:
        for process, url in servers:
            _wait_ready(process, url)
        yield Replicas(ctx, cast, [url for _, url in servers], tokens, env)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)
        ctx.engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def at_once(replicas: Replicas, table: str, calls: list[Callable[[], object]]) -> list:
    """Run ``calls`` on threads while ``table`` is locked; release the lock once every call waits for it
    (each call's first request, that is: what it sends after that runs concurrently as it comes)."""
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        try:
            answers[i] = calls[i]()
        except Exception as exc:  # handed to the test to show
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with held_database(replicas.ctx, table) as wait_until_blocked:
        for thread in threads:
            thread.start()
        wait_until_blocked(len(calls))
    for thread in threads:
        thread.join(timeout=300)
    assert not [a for a in answers if isinstance(a, Exception) or a is None], answers
    return answers


def _events(ctx, action: str, object_id: str | None = None) -> int:
    with ctx.sessions() as session:
        query = select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == action)
        if object_id is not None:
            query = query.where(AuditEventRow.object_id == object_id)
        return session.scalar(query)


def _audit_intact(replicas: Replicas) -> None:
    verified = subprocess.run([sys.executable, "-m", "sandbox", "--as", "admin", "audit", "verify"],
                              env=replicas.env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr


def test_two_operators_reviewing_then_promoting_one_submission_at_once_give_one_approval_and_one_promotion(
    replicas,
):
    """Without the submission's row lock both approvals pass (two ``job.approve`` events, the second
    overwriting the first's terms); without the tasks' unique index both promotions are queued, and
    with an approval for several runs the two workers would run the job twice."""
    submission = submitted_job(replicas.cast, "twice", "elderly-care").id
    body = {"approve": True, "comment": "符合要求"}
    reviews = at_once(replicas, "job_submissions", [
        lambda: replicas.call(0, "operator-1", "POST", f"/operator/submissions/{submission}/review", json=body),
        lambda: replicas.call(1, "operator-2", "POST", f"/operator/submissions/{submission}/review", json=body),
    ])  # fmt: skip
    assert sorted(r.status_code for r in reviews) == [200, 409], [r.text for r in reviews]
    refused = next(r for r in reviews if r.status_code == 409).json()
    assert refused["code"] == "E500" and refused["zh"] and refused["en"]
    assert _events(replicas.ctx, "job.approve", submission) == 1

    promotions = at_once(replicas, "tasks", [
        lambda: replicas.call(0, "operator-1", "POST", f"/operator/submissions/{submission}/promote"),
        lambda: replicas.call(1, "operator-2", "POST", f"/operator/submissions/{submission}/promote"),
    ])  # fmt: skip
    assert sorted(r.status_code for r in promotions) == [202, 409], [r.text for r in promotions]
    queued = next(r for r in promotions if r.status_code == 202).json()["task"]
    refused = next(r for r in promotions if r.status_code == 409).json()
    assert refused["code"] == "E911" and queued in refused["zh"] and queued in refused["en"]
    with replicas.ctx.sessions() as session:
        tasks = session.scalars(select(TaskRow).where(TaskRow.kind == "job.promote")).all()
    assert [t.id for t in tasks if submission in t.args_json] == [queued]

    again = replicas.call(1, "operator-2", "POST", f"/operator/submissions/{submission}/promote")
    assert again.status_code == 409 and again.json()["code"] == "E911"  # still queued: still one


def test_twenty_deliveries_of_one_dataset_at_once_become_consecutive_versions(replicas, tmp_path):
    """Twenty uploads through both replicas at once, ingested by two workers at once: versions 1..n
    without a gap, each holding the bytes of the upload it reports, identical bytes never a new
    version, nothing lost (the store's version counter is taken under a lock, ``store.allocate``)."""
    uploads = [people_csv(tmp_path / f"d{i}.csv", 10 * i) for i in range(19)]
    (tmp_path / "again.csv").write_bytes(uploads[0].read_bytes())  # the same bytes delivered twice at once
    uploads.append(tmp_path / "again.csv")

    def deliver(i: int) -> Callable[[], httpx.Response]:
        upload = uploads[i]
        return lambda: replicas.call(i % 2, "provider-gongan", "POST", "/provider/datasets/people/versions",
                                     files=[("files", (upload.name, upload.read_bytes(), "text/csv"))])  # fmt: skip

    answers = at_once(replicas, "tasks", [deliver(i) for i in range(len(uploads))])
    assert [a.status_code for a in answers] == [202] * len(uploads), [a.text for a in answers]
    tasks = [a.json()["task"] for a in answers]

    workers = [subprocess.Popen([sys.executable, "-m", "sandbox", "worker", "--until-idle"], env=replicas.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    for worker in workers:
        _out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0 and "Traceback" not in err, err
    views = {
        t: replicas.call(0, "provider-gongan", "GET", f"/me/tasks/{t}").json() for t in tasks
    }  # upload order
    assert {v["state"] for v in views.values()} == {"succeeded"}, views

    versions = {v.version: v for v in show_dataset(replicas.ctx, "people").versions}
    assert sorted(versions) == list(range(1, len(versions) + 1))
    sha = [hashlib.sha256(u.read_bytes()).hexdigest() for u in uploads]
    for digest, view in zip(sha, views.values(), strict=True):  # each task reports its own upload's version
        assert (
            versions[view["result"]["version"]].content_sha256 == view["result"]["content_sha256"] == digest
        )
    new = [v["result"]["version"] for v in views.values() if not v["result"]["identical"]]
    assert sorted(new) == sorted(versions)  # every version is one upload's, and no upload made two
    for number in range(2, len(versions) + 1):  # identical bytes right after themselves are no new version
        assert versions[number].content_sha256 != versions[number - 1].content_sha256
    _audit_intact(replicas)


def test_the_audit_chain_stays_valid_under_eight_concurrent_writers(replicas):
    """Eight clients, each issuing itself five tokens through alternating replicas, the first requests
    released at once: every write succeeds, each is audited once, and ``sandbox audit verify`` finds the
    chain intact (each event's link to the one before is taken under the chain head's lock)."""
    writers = [*USERS, "operator-1", "operator-2"]
    before = _events(replicas.ctx, "token.issued")

    def writer(i: int) -> Callable[[], list[httpx.Response]]:
        return lambda: [replicas.call((i + n) % 2, writers[i], "POST", "/me/tokens", json={"label": f"w{i}-{n}"})
                        for n in range(5)]  # fmt: skip

    done = [
        answer
        for answers in at_once(replicas, "api_tokens", [writer(i) for i in range(8)])
        for answer in answers
    ]
    assert [a.status_code for a in done] == [201] * 40, [a.text for a in done if a.status_code != 201]
    assert _events(replicas.ctx, "token.issued") - before == 40
    _audit_intact(replicas)
