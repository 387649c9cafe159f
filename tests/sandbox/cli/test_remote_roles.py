"""The roles a command admits are the same on the host and through the service: each command whose
service admits a role has an endpoint for that role, and the CLI's remote form finds it by the user's
roles (``Remote.route``). Where the local form admitted a role nothing else admits, the service now
refuses it too, so both forms refuse (E600 on the host, E603 at the service's door).

Both forms run in this process: ``--as USER`` on the home, and ``--server`` as USER with a token, the
client's HTTP requests answered by the real app through FastAPI's TestClient (no server process; the
socket-level client is ``test_remote.py``'s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sandbox.api.app import create_app
from sandbox.audit.chain import utc_now_iso
from sandbox.cli import app
from sandbox.cli import remote as remote_client
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import identities, scenarios
from sandbox.governance.access import principal_for
from sandbox.store.models import ProfileFindingRow, SampleVersionRow
from tests.conftest import cli_env
from tests.sandbox.governance.conftest import build_cast
from tests.sandbox.governance.test_scenarios import walk_to_active
from tests.sandbox.products.conftest import JOB_PY, JOB_TOML, released_product

SERVER = "http://testserver"
USERS = ("admin", "operator-1", "operator-2", "developer-1", "consumer-1", "provider-canlian", "auditor-1")


@dataclass
class Both:
    env: dict[str, str]
    config: Path

    def local(self, user: str, *args: str):
        return CliRunner().invoke(app, ["--as", user, *args], env=self.env)

    def remote(self, user: str, *args: str):
        env = {**self.env, "SANDBOX_CONFIG_DIR": str(self.config / user)}
        return CliRunner().invoke(app, ["--server", SERVER, *args], env=env)

    def alike(self, user: str, *args: str, there: tuple[str, ...] | None = None, same: dict | None = None):
        """Run ``args`` on the host and ``there`` (default the same) through the service; both must exit 0 and
        print the same, once ``same``'s remote-side strings are read as their local-side ones."""
        here, remote = self.local(user, *args), self.remote(user, *(there or args))
        printed = remote.stdout
        for theirs, ours in (same or {}).items():
            printed = printed.replace(theirs, ours)
        assert (here.exit_code, remote.exit_code) == (0, 0), (user, args, here.output, remote.output)
        assert here.stdout == printed, (user, args, here.stdout, remote.stdout)
        return here

    def refused(self, user: str, *args: str) -> tuple[str, str]:
        """Both forms refuse (exit 2); their codes, host first."""
        here, there = self.local(user, *args), self.remote(user, *args)
        assert (here.exit_code, there.exit_code) == (2, 2), (user, args, here.output, there.output)
        return _code(here.stderr), _code(there.stderr)


def _code(stderr: str) -> str:
    return stderr.split("错误 ", 1)[1].split("：", 1)[0]


@pytest.fixture
def both(sqlite_ctx, tmp_path, monkeypatch) -> Both:
    """elderly-care active with developer-1 on it, ``level_counts`` released, a profile finding on canlian's
    ``disability``; each user holds a token for the service."""
    ctx = sqlite_ctx
    cast = build_cast(ctx)
    admin = cast("admin")
    identities.create_org(ctx, admin, "regulator", "网信办", OrgKind.REGULATOR)
    identities.create_user(ctx, admin, "auditor-1", "审计一", "regulator", {Role.AUDITOR})
    walk_to_active(cast)
    scenarios.add_member(ctx, cast("operator-1"), "elderly-care", "developer-1")
    released_product(cast, "level_counts")
    with ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id="elderly-care", version=1, authorization_id="AUTH-2026-0001", seed=7,
                                     state="current", card_json="{}", created_by="operator-1",
                                     created_at=utc_now_iso()))  # fmt: skip
        session.flush()
        session.add(ProfileFindingRow(sample_version_id=1, dataset_id="disability", column="level",
                                      provider_id="canlian", declared_kind="none", detected_kind="cn_mobile",
                                      share=0.8, created_at=utc_now_iso()))  # fmt: skip
    config = tmp_path / "configs"
    for user in USERS:
        token_id, secret = identities.issue_token(ctx, principal_for(ctx, user), user, days=1, label="test")
        monkeypatch.setenv("SANDBOX_CONFIG_DIR", str(config / user))
        remote_client.save_token(SERVER, user, token_id, secret)
    monkeypatch.delenv("SANDBOX_CONFIG_DIR")
    with TestClient(create_app(ctx), base_url=SERVER) as client:

        def request(method, url, *, headers=None, timeout=None, **kwargs):
            return client.request(method, url, headers=headers, **kwargs)

        transport = SimpleNamespace(request=request, HTTPError=httpx.HTTPError)
        monkeypatch.setattr(remote_client, "httpx", transport)
        yield Both(cli_env(ctx), config)


def _json(result) -> object:
    return json.loads(result.stdout)


def test_an_operator_proposes_submits_and_withdraws_through_the_service(both):
    propose = ("scenario", "propose", "{id}", "--title", "真实房源", "--category", "产业发展",
               "--column", "people.district_code=按区县统计", "--product", "rental_supply")  # fmt: skip
    here = [a.replace("{id}", "rental-here") for a in propose]
    there = [a.replace("{id}", "rental-there") for a in propose]
    same = {"rental-there": "rental-here"}
    both.alike("operator-1", *here, there=tuple(there), same=same)
    for action in ("submit", "withdraw"):
        both.alike("operator-1", "scenario", action, "rental-here", there=("scenario", action, "rental-there"),
                   same=same)  # fmt: skip
    shown = both.alike("operator-1", "scenario", "show", "rental-here", "--format", "json",
                       there=("scenario", "show", "rental-there", "--format", "json"), same=same)  # fmt: skip
    assert (_json(shown)["state"], _json(shown)["proposer"]) == ("withdrawn", "operator-1")
    # not their scenario: the service refuses both ways, the same refusal
    assert both.refused("operator-2", "scenario", "withdraw", "elderly-care") == ("E600", "E600")


def test_a_provider_reads_its_own_profile_findings_through_the_service(both):
    found = both.alike("provider-canlian", "samples", "findings", "--format", "json")
    assert [(f["dataset"], f["column"]) for f in _json(found)] == [("disability", "level")]
    both.alike("operator-2", "samples", "findings", "--format", "json")
    assert both.refused("consumer-1", "samples", "findings") == ("E600", "E603")


@pytest.mark.parametrize("user", ["operator-2", "admin", "auditor-1"])
def test_staff_and_auditors_export_a_product_through_the_service(both, tmp_path, user):
    here, there = tmp_path / "here", tmp_path / "there"
    both.alike(user, "product", "export", "level_counts", "--out", str(here),
               there=("product", "export", "level_counts", "--out", str(there)), same={str(there): str(here)})  # fmt: skip
    assert [p.name for p in here.iterdir() if p.suffix == ".csv"] == ["level_counts-v1-by_level.csv"]
    name = "level_counts-v1-by_level.csv"
    assert (here / name).read_bytes() == (there / name).read_bytes()


def test_a_developer_raises_lists_shows_and_exports_their_own_requests_through_the_service(both, tmp_path):
    raise_ = ("ticket", "raise", "disability", "--description", "等级编码需核对", "--column", "level")
    both.alike("developer-1", *raise_, same={"QT-000002": "QT-000001"})
    listed = both.alike("developer-1", "ticket", "list", "--format", "json")
    assert [t["ticket"] for t in _json(listed)] == ["QT-000001", "QT-000002"]
    shown = both.alike("developer-1", "ticket", "show", "QT-000002", "--format", "json")
    assert _json(shown)["raised_by"] == "developer-1"
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    both.alike("developer-1", "ticket", "export", str(here), there=("ticket", "export", str(there)),
               same={str(there): str(here)})  # fmt: skip
    assert here.read_bytes() == there.read_bytes()
    refused = both.refused("consumer-1", "ticket", "raise", "disability", "--description", "x")
    assert refused == ("E600", "E603")


def test_an_auditor_reads_jobs_runs_products_terms_and_applications_through_the_service(both):
    jobs = both.alike("auditor-1", "job", "list", "--format", "json")
    (submission,) = [s["submission"] for s in _json(jobs)]
    both.alike("auditor-1", "job", "show", submission, "--format", "json")
    runs = both.alike("auditor-1", "job", "runs", "--format", "json")
    assert len(_json(runs)) == 1
    for command in (("product", "list"), ("product", "show", "level_counts"), ("product", "versions", "level_counts"),
                    ("product", "terms", "list"), ("product", "redevelop", "list"), ("catalog", "show", "people")):  # fmt: skip
        both.alike("auditor-1", *command, "--format", "json")
    assert both.refused("auditor-1", "job", "logs", _json(runs)[0]["run"]) == ("E600", "E603")


def test_a_developer_reads_the_catalog_and_the_products_through_the_service(both):
    catalog = both.alike("developer-1", "catalog", "show", "people", "--format", "json")
    assert _json(catalog)["columns"] and not _json(catalog)["versions"]  # the entry, not the deliveries
    both.alike("developer-1", "catalog", "list", "--format", "json")
    products = both.alike("developer-1", "product", "list", "--format", "json")
    assert [p["product"] for p in _json(products)] == ["level_counts"]


def test_what_no_other_face_admits_is_refused_on_the_host_too(both, tmp_path):
    # an administrator's sample build: the queued kind and the endpoint are operators', now so is the service
    assert both.refused("admin", "samples", "build", "elderly-care") == ("E600", "E603")
    # an operator's dev run: the queued kind and the endpoint are developers', now so is the service
    (tmp_path / "job.toml").write_text(JOB_TOML.format(job_id="disability_levels", scenario="elderly-care"))
    (tmp_path / "job.py").write_text(JOB_PY)
    assert both.refused("operator-1", "dev", "run", str(tmp_path)) == ("E600", "E603")
