"""What may be queued: each kind names its service, who may queue it, and what recovery undoes.

A runner returns ``(done, result)``: ``done`` is False when the action ran but did not do what was
asked (a failed or withheld production run), so the task ends *failed* with the result attached.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identity import Role
from sandbox.domain.progress import Stages
from sandbox.governance.access import Principal, check_role
from sandbox.store.zones import Zone, zone_path

Runner = Callable[[PlatformContext, Principal, dict, Stages], tuple[bool, dict]]
Undo = Callable[[PlatformContext, object, dict], list[str]]


def _nothing_to_undo(_ctx, _session, _args) -> list[str]:
    return []


@dataclass(frozen=True)
class TaskKind:
    name: str
    roles: frozenset[Role]
    what_zh: str
    what_en: str
    run: Runner
    on_lost: Undo = _nothing_to_undo
    #: What only one queued or running task of this kind may act on at a time (``queue.enqueue``).
    exclusive: Callable[[dict], str] | None = None

    def check(self, actor: Principal) -> None:
        check_role(actor, self.roles, self.what_zh, self.what_en)


def upload_dir(ctx: PlatformContext, upload_id: str) -> Path:
    """Where the API keeps an upload until its task (ingest, dev run) has run (the trusted work zone)."""
    return zone_path(ctx.settings, Zone.WORK, "uploads", upload_id)


def _build_samples(ctx, actor, args, stages):
    from sandbox.samples import build_samples

    row = build_samples(ctx, actor, args["scenario"], seed=args.get("seed"), stages=stages)
    return True, {"scenario": row.scenario_id, "sample_version": row.version, "seed": row.seed}


def _promote(ctx, actor, args, stages):
    from sandbox.domain.job import RunState
    from sandbox.runtime.production import promote, promotion_view

    run = promote(ctx, actor, args["submission"], stages=stages)
    return run.state == RunState.RELEASED.value, promotion_view(run)


def _fail_runs_of(ctx, session, args) -> list[str]:
    from sandbox.runtime.production import fail_interrupted

    return [f"job_run:{r}" for r in fail_interrupted(ctx, session, args["submission"], "system")]


def _quality_run(ctx, actor, args, stages):
    from sandbox.quality.runner import run_quality

    as_of = date.fromisoformat(args["as_of"]) if args.get("as_of") else None
    summary = run_quality(ctx, actor, args["dataset"], version=args.get("version"), as_of=as_of,
                          cross_check=bool(args.get("cross_check")), stages=stages)  # fmt: skip
    return True, summary.view()


def _ingest(ctx, actor, args, stages):
    from sandbox.catalog.service import delivery_view, ingest

    folder = upload_dir(ctx, args["upload"])
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        if not files:
            raise InvalidInput("上传的文件已不存在", "the uploaded files are gone")
        stages("校验并转换上传文件", "validating and converting the upload")
        delivery = ingest(ctx, actor, args["dataset"], files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # a refused upload is kept in quarantine by ingest
    return True, delivery_view(ctx, actor, delivery)


def _dev_run(ctx, actor, args, stages):
    """A job folder the developer uploaded, run once on its scenario's samples (``sandbox dev run``);
    the result is the report as ``dev.report_view`` narrows it, with the code's hash computed as a
    submission's is (``snapshot.code_sha256``; ``prepare`` has refused any file a snapshot would not
    hold), so a reviewer can find the dev run of exactly the code submitted
    (``submissions.advisory_for``). The upload is removed either way."""
    from sandbox.runtime import dev
    from sandbox.runtime.snapshot import code_sha256

    folder = upload_dir(ctx, args["upload"])
    try:
        if not (folder / "job.toml").is_file():
            raise InvalidInput("上传的作业已不存在", "the uploaded job is gone")
        stages("检查作业与场景成员", "checking the job and scenario membership")
        spec = dev.prepare(ctx, actor, folder)
        digest = code_sha256(folder)  # before the run: nothing it leaves behind counts
        stages("启动 Spark 并在样例上运行", "starting Spark and running on the samples")
        report = dev.report_view(dev.first_report(spec))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return bool(report["job"]["ok"]), {**report, "code_sha256": digest}


def _remove_upload(ctx, _session, args) -> list[str]:
    shutil.rmtree(upload_dir(ctx, args["upload"]), ignore_errors=True)
    return [f"upload:{args['upload']}"]


KINDS: dict[str, TaskKind] = {
    kind.name: kind
    for kind in (
        TaskKind(
            "samples.build",
            frozenset({Role.OPERATOR}),
            "生成样例",
            "build samples",
            _build_samples,
            exclusive=lambda args: f"samples.build:{args['scenario']}",
        ),  # fmt: skip
        TaskKind(
            "job.promote",
            frozenset({Role.OPERATOR}),
            "将作业转入生产",
            "promote jobs to production",
            _promote,
            _fail_runs_of,
            # two clicks, or two operators at once: one promotion
            exclusive=lambda args: f"job.promote:{args['submission']}",
        ),  # fmt: skip
        TaskKind(
            "quality.run",
            frozenset({Role.OPERATOR, Role.ADMIN}),
            "运行质量检查",
            "run quality checks",
            _quality_run,
        ),  # fmt: skip
        TaskKind(
            "dataset.ingest",
            frozenset({Role.PROVIDER, Role.ADMIN}),
            "导入数据",
            "ingest data",
            _ingest,
            _remove_upload,
        ),  # fmt: skip
        TaskKind(
            "dev.run",
            frozenset({Role.DEVELOPER}),
            "在样例上运行作业",
            "run jobs on samples",
            _dev_run,
            _remove_upload,
        ),  # fmt: skip
    )
}


def kind_named(name: str) -> TaskKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(
            f"未知的任务类型 {name!r}（可选：{', '.join(KINDS)}）",
            f"unknown task kind {name!r} (allowed: {', '.join(KINDS)})",
        ) from None
