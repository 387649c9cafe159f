"""``sandbox demo``: the whole platform on a fresh home, end to end, on a synthetic county.

It refuses to touch a home that it did not create, so it can never wipe real data.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

from rich.console import Console

from sandbox.context import PlatformContext
from sandbox.domain.errors import AuditChainBroken, HomeError
from sandbox.settings import Settings


def prepare_home(settings: Settings) -> None:
    """Empty the home if it is a previous demo's; refuse if it holds anything else."""
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise HomeError(
            "演示只使用内置 SQLite 数据库，请取消 SANDBOX_DATABASE_URL",
            "the demo runs on the embedded SQLite store only; unset SANDBOX_DATABASE_URL",
        )
    home = settings.home_dir
    if not home.exists() or not any(home.iterdir()):
        return
    marker = PlatformContext(settings).home_marker()
    if not marker or not marker.get("demo"):
        raise HomeError(
            f"{home} 不是空目录，也不是此前演示创建的主目录；演示不会覆盖它。请设置 SANDBOX_HOME 指向空目录。",
            f"{home} is neither empty nor a previous demo's home; the demo will not overwrite it. "
            "Point SANDBOX_HOME at an empty directory.",
        )
    shutil.rmtree(home)


JOBS_ROOT = Path(__file__).resolve().parents[2] / "jobs"
DEMO_JOBS = ("elderly_care_hotspots", "enterprise_loan_support", "rental_housing_supply")


def run_demo(settings: Settings, console: Console, *, people: int = 20000, seed: int = 7) -> PlatformContext:
    """Synthesize → register → deliver → authorize → scenarios → samples → dev run → submit → review → promote → quality."""
    from sandbox.cli.output import Col, emit
    from sandbox.demo.cast import demo_passwords
    from sandbox.demo.platform import build_platform

    started = time.perf_counter()
    prepare_home(settings)
    ctx = PlatformContext(settings, actor="admin")
    console.rule("数域 Shuyu 演示 / demo")
    console.print(f"主目录 / home: {settings.home_dir}")
    with console.status(
        "合成县域、登记目录、数据提供单位交付数据、授权与场景审核 / county, catalog, deliveries, authorization, scenarios…"
    ):
        platform = build_platform(ctx, settings.home_dir / "deliveries" / "county", people=people, seed=seed)
    console.print(
        f"[green]✓[/] 合成 / synthesized {people:,} people in 云泽市, {platform.synth.defects:,} known defects"
    )
    console.print(f"[green]✓[/] 用户 / users: {', '.join(platform.users)}")
    columns = [Col("dataset", "数据集", "dataset", ident=True), Col("version", "版本", "version", show=lambda v: f"v{v}"),
               Col("rows", "行数", "rows"), Col("duplicate_keys", "重复键", "dup keys"), Col("sha256", "SHA-256", "SHA-256")]  # fmt: skip
    emit(console, "原始区版本 / raw-zone versions", columns, [
        {"dataset": d, "version": v.version, "rows": v.row_count, "duplicate_keys": v.duplicate_key_count,
         "sha256": v.content_sha256[:16]} for d, v in platform.versions.items()
    ])  # fmt: skip
    console.print(f"[green]✓[/] 授权 / authorization {platform.authorization}；场景 / scenarios elderly-care, "
                  "enterprise-credit, rental-housing: draft → submitted → under_review → approved → active")  # fmt: skip

    _samples_and_products(ctx, console)
    _quality(ctx, console, platform.synth)

    verdict = ctx.verify_audit()
    if not verdict.ok:
        raise AuditChainBroken(verdict.problem_zh or "", verdict.problem_en or "")
    console.print(f"[green]✓[/] {verdict.message}")
    console.print(f"完成 / done in {time.perf_counter() - started:.1f}s — SANDBOX_HOME={settings.home_dir}")
    console.print(
        f"试试 / try: SANDBOX_HOME={settings.home_dir} .venv/bin/sandbox --as operator-1 product list"
    )
    _service(settings, console, demo_passwords(ctx, platform.users))
    return ctx


def _service(settings: Settings, console: Console, passwords: dict[str, str]) -> None:
    """How to open the web UI on this home, and who can sign in with what."""
    from sandbox.cli.output import Col, emit

    console.print(
        f"网页界面 / web UI: SANDBOX_HOME={settings.home_dir} .venv/bin/sandbox serve → http://127.0.0.1:8000/",
        highlight=False,
    )
    emit(console, f"演示用户密码 / demo sign-ins（{settings.home_dir / 'demo-passwords.txt'}）",
         [Col("user", "用户", "user", ident=True), Col("password", "密码", "password", ident=True)],
         [{"user": u, "password": p} for u, p in passwords.items()])  # fmt: skip


def _samples_and_products(ctx: PlatformContext, console: Console) -> None:
    """Each job: samples → dev run (developer-1) → submit → review (operator-2) → promote → product."""
    from sandbox.cli.jobs import print_gate
    from sandbox.cli.samples import print_card_summary
    from sandbox.domain.job import RunState
    from sandbox.domain.labels import label_of
    from sandbox.governance.access import principal_for
    from sandbox.runtime import dev, production, submissions
    from sandbox.runtime.manifest import load_manifest
    from sandbox.samples import build_samples, card_of

    operator, reviewer, developer = (
        principal_for(ctx, u) for u in ("operator-1", "operator-2", "developer-1")
    )
    for job in DEMO_JOBS:
        job_dir = JOBS_ROOT / job
        scenario = load_manifest(job_dir).scenario
        console.rule(f"{job}（{scenario}）")
        with console.status("构建脱敏样例 / building desensitized samples…"):
            sample = build_samples(ctx, operator, scenario, seed=7)
        console.print(f"[green]✓[/] 样例 / samples {scenario} v{sample.version}")
        print_card_summary(card_of(sample))
        with console.status("开发人员在样例上试运行 / developer-1 runs the job on samples…"):
            report = next(dev.run(dev.prepare(ctx, developer, job_dir)))
        console.print(
            f"[green]✓[/] 样例试运行 / dev run on samples ({report['seconds']}s), 门控建议 / gate advisory:"
        )
        print_gate(report.get("gate", {}))
        submission = submissions.submit(ctx, developer, job_dir)
        submissions.review(ctx, reviewer, submission.id, approve=True, comment="代码与策略检查均已审阅")
        console.print(f"[green]✓[/] 提交 / submitted {submission.id} by developer-1 (sha256 {submission.code_sha256[:12]}), "
                      "审核通过 / approved by operator-2")  # fmt: skip
        with console.status(
            "隔离环境中在原始数据上运行，经门控发布 / isolated production run, gate, release…"
        ):
            run = production.promote(ctx, reviewer, submission.id)
        isolation = json.loads(run.isolation_json)
        console.print(f"[green]✓[/] 生产运行 / production run {run.id}: {label_of(RunState, run.state)}（隔离 / isolation: {isolation.get('network')}, "
                      f"内存上限 / memory {isolation.get('memory_limit_bytes')}）")  # fmt: skip
        if run.gate_summary_json:
            print_gate(json.loads(run.gate_summary_json))


def _quality(ctx: PlatformContext, console: Console, synth) -> None:
    from sandbox.demo.quality import run_demo_quality

    as_of = json.loads((synth.out / "synth.json").read_text(encoding="utf-8"))["as_of"]
    console.rule("数据质量 / data quality")
    run_demo_quality(ctx, console, date.fromisoformat(as_of))
