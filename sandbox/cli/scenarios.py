"""``sandbox scenario``: proposal, review, the providers' consent, developers, listing."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.common import (
    DEVELOPER_OR_STAFF,
    DatasetArg,
    ScenarioArg,
    UserArg,
    console,
    friendly_errors,
    parse_enum,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, Section, emit, emit_show
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identifiers import IdKind, check_id
from sandbox.domain.labels import label_of
from sandbox.domain.scenario import ColumnStatus, ConsentState, ScenarioCategory, ScenarioState

scenario_app = typer.Typer(help="应用场景（一场景一审核）/ scenarios", no_args_is_help=True)

#: Who proposes, submits and withdraws (``scenarios.propose``: operators and developers of an operator
#: organization); operators first, so an operator who is a developer too needs no developer clearance.
PROPOSERS = {"operator": "/operator", "developer": "/developer"}


def register(app: typer.Typer) -> None:
    app.add_typer(scenario_app, name="scenario")


def _column_requests(values: list[str]):
    from sandbox.governance.scenarios import ColumnRequest

    requests = []
    for value in values:
        target, _, justification = value.partition("=")
        dataset, _, column = target.partition(".")
        if not dataset or not column:
            raise InvalidInput(
                f"列申请须写成 数据集.列=必要性说明：{value!r}",
                f"a column request reads dataset.column=justification: {value!r}",
            )
        requests.append(
            ColumnRequest(check_id(IdKind.DATASET, dataset.strip()), column.strip(), justification.strip())
        )
    return requests


@scenario_app.command("propose")
@friendly_errors
def scenario_propose(
    scenario_id: ScenarioArg,
    title: Annotated[str, typer.Option(help="场景名称 / title")],
    category: Annotated[str, typer.Option(help="场景类别 / category: 公共治理|公益事业|产业发展|行业发展")],
    column: Annotated[
        list[str], typer.Option(help="数据集.列=必要性说明 / dataset.column=justification, repeatable")
    ],
    planned: Annotated[list[str], typer.Option("--product", help="拟开发产品 / planned product, repeatable")],
    description: Annotated[str, typer.Option(help="场景描述 / description")] = "",
    value: Annotated[str, typer.Option(help="经济和社会价值 / economic and social value")] = "",
) -> None:
    """提出场景建设方案（草稿）/ propose a scenario (draft)."""
    from dataclasses import asdict

    from sandbox.governance.scenarios import propose

    kind, columns = parse_enum(ScenarioCategory, category, "--category"), _column_requests(column)
    remote_or_local(
        lambda c: c.post(f"{c.route(PROPOSERS)}/scenarios", json={
            "id": scenario_id, "title": title, "category": kind, "columns": [asdict(r) for r in columns],
            "planned_products": planned, "description": description, "value": value}),
        lambda ctx, who: propose(ctx, who, scenario_id=scenario_id, title=title, category=kind,
                                 description=description, value_statement=value, planned_products=planned,
                                 columns=columns),
    )  # fmt: skip
    console.print(f"场景草稿已创建 / draft created: {scenario_id}")


def _scenario_action(name: str, help_text: str, router: str | dict[str, str], call):
    """``scenario NAME``: ``POST {router}/scenarios/ID/NAME`` through a service (``router`` or, given by role,
    the caller's), ``call`` locally; a submission answers with the data-use requests it sent."""

    @scenario_app.command(name, help=help_text)
    @friendly_errors
    def command(
        scenario_id: ScenarioArg, comment: Annotated[str, typer.Option(help="意见 / comment")] = ""
    ) -> None:
        def through_service(client):
            where = router if isinstance(router, str) else client.route(router)
            return client.post(f"{where}/scenarios/{scenario_id}/{name}", json={"comment": comment})

        answer = remote_or_local(through_service, lambda ctx, who: call(ctx, who, scenario_id, comment))
        for consent in answer if isinstance(answer, list) else []:
            console.print(
                f"  → {consent['provider']}: {consent['dataset']} 答复期限 / due {consent['due_on']}"
            )
        state = _scenario(scenario_id)["state"]
        console.print(f"{scenario_id}: {name} ✓（{label_of(ScenarioState, state)}）")

    return command


def _scenario(scenario_id: str) -> dict:
    from sandbox.governance.scenarios import get, scenario_detail

    return remote_or_local(
        lambda c: c.get(f"{c.route(DEVELOPER_OR_STAFF)}/scenarios/{scenario_id}"),
        lambda ctx, _who: scenario_detail(get(ctx, scenario_id)),
    )


def _submit(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import consent_view, submit

    return [consent_view(c) for c in submit(ctx, actor, scenario_id)]


def _start_review(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import start_review

    start_review(ctx, actor, scenario_id)


def _approve(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import approve

    approve(ctx, actor, scenario_id, comment)


def _reject(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import reject

    reject(ctx, actor, scenario_id, comment)


def _withdraw(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import withdraw

    withdraw(ctx, actor, scenario_id)


def _activate(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import activate

    activate(ctx, actor, scenario_id)


def _revoke(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import revoke

    revoke(ctx, actor, scenario_id, comment or "revoked")


_scenario_action(
    "submit", "提交审核并向数据提供单位发出申请 / submit and request provider consent", PROPOSERS, _submit
)
_scenario_action(
    "start-review", "开始审核（非提出人）/ start review (not the proposer)", "/operator", _start_review
)
_scenario_action("approve", "批准（非提出人）/ approve (not the proposer)", "/operator", _approve)
_scenario_action("reject", "驳回 / reject", "/operator", _reject)
_scenario_action("withdraw", "撤回（提出人）/ withdraw (proposer)", PROPOSERS, _withdraw)
_scenario_action(
    "activate", "启用（需有效授权）/ activate (needs a covering authorization)", "/operator", _activate
)
_scenario_action("revoke", "撤销并删除样例数据 / revoke and delete its samples", "/operator", _revoke)


@scenario_app.command("consent")
@friendly_errors
def scenario_consent(
    scenario_id: ScenarioArg,
    dataset: DatasetArg,
    grant: Annotated[bool, typer.Option("--grant/--refuse", help="同意或拒绝 / grant or refuse")],
    refuse_column: Annotated[
        list[str] | None, typer.Option(help="拒绝的列 / column to refuse, repeatable")
    ] = None,
    comment: Annotated[str, typer.Option(help="意见 / comment")] = "",
) -> None:
    """数据提供单位答复数据使用申请 / a provider decides on a data-use request."""
    from sandbox.governance.scenarios import decide_consent

    refused = sorted(set(refuse_column or []))
    state = remote_or_local(
        lambda c: c.post(f"/provider/requests/{scenario_id}/{dataset}",
                         json={"grant": grant, "refuse_columns": refused, "comment": comment})["state"],
        lambda ctx, who: decide_consent(ctx, who, scenario_id, dataset, grant=grant, refuse_columns=set(refused),
                                        comment=comment).state,
    )  # fmt: skip
    console.print(f"{scenario_id}/{dataset}: {label_of(ConsentState, state)}")


@scenario_app.command("add-developer")
@friendly_errors
def scenario_add_developer(scenario_id: ScenarioArg, username: UserArg) -> None:
    """为场景添加开发人员（须已签保密协议）/ add a cleared developer to the scenario."""
    from sandbox.governance.scenarios import add_member

    remote_or_local(
        lambda c: c.post(f"/operator/scenarios/{scenario_id}/developers", json={"username": username}),
        lambda ctx, who: add_member(ctx, who, scenario_id, username),
    )
    console.print(f"{scenario_id}: + {username}")


_SCENARIO_COLUMNS = [
    Col("scenario", "场景", "scenario", ident=True),
    Col("title", "名称", "title"),
    Col("category", "类别", "category"),
    Col("state", "状态", "state", show=lambda v: label_of(ScenarioState, v)),
    Col("proposer", "提出人", "proposer", ident=True),
    Col("reviewer", "审核人", "reviewer", ident=True),
]


@scenario_app.command("list")
@friendly_errors
def scenario_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出场景 / list scenarios."""
    from sandbox.governance.scenarios import list_scenarios, scenario_view

    rows = remote_or_local(
        lambda c: c.get(f"{c.route(DEVELOPER_OR_STAFF)}/scenarios"),
        lambda ctx, _who: [scenario_view(s) for s in list_scenarios(ctx)],
    )
    emit(console, "场景 / scenarios", _SCENARIO_COLUMNS, rows, fmt)


_CONSENT_COLUMNS = [
    Col("scenario", "场景", "scenario", ident=True),
    Col("dataset", "数据集", "dataset", ident=True),
    Col("provider", "提供单位", "provider", ident=True),
    Col("state", "状态", "state", show=lambda v: label_of(ConsentState, v)),
    Col("due_on", "期限", "due"),
    Col("overdue", "逾期", "overdue"),
    Col("decided_by", "答复人", "decided by", ident=True),
]


@scenario_app.command("show")
@friendly_errors
def scenario_show(scenario_id: ScenarioArg, fmt: FormatOption = Format.TABLE) -> None:
    """场景详情：申请的列、说明与答复 / a scenario's columns, justifications and consents."""
    s = _scenario(scenario_id)
    fields = [(c, s[c.key]) for c in _SCENARIO_COLUMNS] + [
        (Col("decision_comment", "审核意见", "review comment"), s["decision_comment"]),
        (Col("developers", "开发人员", "developers"), s["developers"]),
    ]
    columns = Section("columns", "申请的列 / requested columns", [
        Col("dataset", "数据集", "dataset", ident=True), Col("column", "列", "column", ident=True),
        Col("justification", "必要性说明", "justification"),
        Col("status", "答复", "status", show=lambda v: label_of(ColumnStatus, v)),
    ], s["columns"])  # fmt: skip
    consents = Section("consents", "数据使用申请 / data-use requests", _CONSENT_COLUMNS[1:], s["consents"])
    emit_show(console, f"{s['scenario']} {s['title']}", fields, [columns, consents], fmt)


@scenario_app.command("requests")
@friendly_errors
def scenario_requests(
    overdue: Annotated[bool, typer.Option(help="只看逾期 / overdue only")] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """数据使用申请（数据提供单位只看本单位）/ data-use requests (providers see their own)."""
    from datetime import date

    from sandbox.governance.scenarios import consent_view, consents_for, local_today

    def on_host(ctx, who):
        today = local_today()
        found = consents_for(ctx, who, overdue_on=date.fromisoformat(today) if overdue else None)
        return [consent_view(c, today) for c in found]

    rows = remote_or_local(lambda c: c.get("/provider/requests", params={"overdue": overdue}), on_host)
    emit(console, "数据使用申请 / data-use requests", _CONSENT_COLUMNS, rows, fmt)
