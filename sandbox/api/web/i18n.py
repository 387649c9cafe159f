"""The web UI's one translation table: every label in Simplified Chinese (the default) and English.

A page's language is ``?lang=zh|en`` (then remembered in a cookie), else the cookie, else Chinese.
States, roles and kinds are not repeated here: their Chinese names are ``sandbox.domain.labels``'
(the CLI prints the same ones) and their English names are the stored slugs.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import Request

from sandbox.domain.labels import ZH
from sandbox.domain.quality import DIMENSION_EN, Dimension
from sandbox.domain.scenario import ScenarioCategory

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "shuyu_lang"

#: The enums whose labels pages show, by name (templates say ``label("TicketState", value)``).
KINDS: dict[str, type[StrEnum]] = {kind.__name__: kind for kind in ZH}
_CATEGORY_EN = {
    ScenarioCategory.PUBLIC_GOVERNANCE: "public governance",
    ScenarioCategory.PUBLIC_WELFARE: "public welfare",
    ScenarioCategory.INDUSTRY: "industry development",
    ScenarioCategory.SECTOR: "sector development",
}


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in LANGS:
        return chosen
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGS else DEFAULT_LANG


def text(lang: str, key: str, **values: object) -> str:
    """The label ``key`` in ``lang``; a missing key is a programming error (a test reads every template)."""
    zh, en = TEXT[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen


def label(lang: str, kind: str, value: str | None) -> str:
    """A stored state, role or kind as a reader reads it; an unknown slug (an older release's) as it is."""
    if value is None:
        return "—"
    if kind == "Dimension":
        return value if lang == "zh" or value not in set(Dimension) else DIMENSION_EN[Dimension(value)]
    if kind == "ScenarioCategory":
        return (
            value
            if lang == "zh" or value not in set(ScenarioCategory)
            else _CATEGORY_EN[ScenarioCategory(value)]
        )
    names = ZH[KINDS[kind]]
    if lang == "zh":
        return names.get(value, value)
    return value.replace("_", " ")


TEXT: dict[str, tuple[str, str]] = {
    # -- the frame ------------------------------------------------------------------------------
    "app.name": ("数域 · 公共数据授权运营沙箱", "Shuyu · public data sandbox"),
    "app.footer": (
        "原始数据不出域，数据可用不可见 · 页面不含任何原始标识",
        "Raw data never leaves the domain · no page shows a raw identifier",
    ),
    "nav.label": ("主菜单", "Main menu"),
    "lang.switch": ("English", "中文"),
    "common.none": ("无", "None"),
    "common.submit": ("提交", "Submit"),
    "common.comment": ("意见", "Comment"),
    "common.reason": ("理由", "Reason"),
    "common.save": ("保存", "Save"),
    "common.back": ("返回", "Back"),
    "common.yes": ("是", "yes"),
    "common.no": ("否", "no"),
    "common.actions": ("操作", "Actions"),
    "common.details": ("详情", "Details"),
    "common.time": ("时间", "Time"),
    "common.state": ("状态", "State"),
    "common.title": ("名称", "Title"),
    "common.description": ("说明", "Description"),
    "common.filter": ("筛选", "Filter"),
    "common.done": ("已完成", "Done"),
    # -- signing in -----------------------------------------------------------------------------
    "auth.title": ("登录", "Sign in"),
    "auth.lead": ("请使用平台分配的账号登录。", "Sign in with the account the platform gave you."),
    "auth.username": ("用户名", "User name"),
    "auth.password": ("密码", "Password"),
    "auth.sign_in": ("登录", "Sign in"),
    "auth.sign_out": ("退出", "Sign out"),
    # -- errors ---------------------------------------------------------------------------------
    "error.title": ("无法完成", "Not done"),
    "error.home": ("回到首页", "Back to the start page"),
    # -- menu -----------------------------------------------------------------------------------
    "nav.provider.datasets": ("数据集", "Datasets"),
    "nav.provider.requests": ("数据使用申请", "Data-use requests"),
    "nav.provider.quality": ("质量报告", "Quality reports"),
    "nav.provider.tickets": ("整改工单", "Tickets"),
    "nav.provider.scorecard": ("评价", "Scorecard"),
    "nav.developer.scenarios": ("场景", "Scenarios"),
    "nav.developer.jobs": ("作业", "Jobs"),
    "nav.operator.queue": ("审核队列", "Review queue"),
    "nav.operator.runs": ("门控报告", "Gate reports"),
    "nav.operator.products": ("产品登记", "Product registry"),
    "nav.operator.redevelopment": ("再开发申请", "Re-development"),
    "nav.consumer.catalogue": ("产品目录", "Product catalogue"),
    "nav.consumer.keys": ("API 密钥", "API keys"),
    "nav.auditor.audit": ("审计记录", "Audit trail"),
    "nav.auditor.disclosure": ("信息披露", "Disclosure"),
    "nav.tasks": ("后台任务", "Tasks"),
    # -- tasks ----------------------------------------------------------------------------------
    "tasks.title": ("后台任务", "Tasks"),
    "tasks.kind": ("任务", "Task"),
    "tasks.state": ("状态", "State"),
    "tasks.stage": ("阶段", "Stage"),
    "tasks.stages_done": ("已完成阶段", "Stages done"),
    "tasks.elapsed": ("用时（秒）", "Elapsed (s)"),
    "tasks.requested_by": ("提交人", "Requested by"),
    "tasks.created": ("提交时间", "Queued at"),
    "tasks.live": ("页面会自动更新进度。", "This page follows the task's progress."),
    "tasks.error": ("未完成", "Not done"),
    "tasks.result": ("结果", "Result"),
    "kind.dataset.ingest": ("导入数据", "Data ingest"),
    "kind.dev.run": ("样例试运行", "Dev run on samples"),
    "kind.job.promote": ("转入生产", "Promotion to production"),
    "kind.samples.build": ("生成样例", "Sample build"),
    "kind.quality.run": ("质量检查", "Quality run"),
    # -- gate and runs --------------------------------------------------------------------------
    "gate.output": ("输出", "Output"),
    "gate.verdict": ("结论", "Verdict"),
    "gate.released": ("发布单元格", "Cells released"),
    "gate.suppressed": ("抑制单元格", "Cells suppressed"),
    "gate.by_rule": ("按规则抑制", "Suppressed by rule"),
    "gate.refused": ("整体拒绝", "Refused"),
    "gate.passes": ("可发布", "Releasable"),
    "run.run": ("运行", "Run"),
    "run.state": ("运行状态", "Run state"),
    "run.line": ("行", "line"),
    "run.interrupted": (
        "运行中断：执行它的进程已停止，未发布任何内容",
        "Interrupted: the process running it stopped; nothing was published",
    ),
    "run.failed_on_data": (
        "处理数据时失败（原因仅运营人员可见）",
        "Failed while processing data (the cause is for operators)",
    ),
    "run.traceback": ("错误回溯（样例上）", "Traceback (on samples)"),
    "devrun.ok": ("作业在样例上运行成功", "The job ran on the samples"),
    "devrun.frames": ("贡献表", "Contribution frames"),
    "devrun.rows": ("行", "rows"),
    "devrun.advisory": ("门控建议结论", "The gate's advisory verdict"),
    "devrun.advisory_note": (
        "仅为建议，未发布任何内容；生产运行以真实数据为准。",
        "Advice only: nothing is released; production decides on the real data.",
    ),
    "devrun.failed": ("作业在样例上失败", "The job failed on the samples"),
    # -- datasets and uploads -------------------------------------------------------------------
    "provider.datasets.title": ("本单位数据集", "Our datasets"),
    "provider.pending_requests": ("项数据使用申请待答复", "data-use requests to answer"),
    "provider.overdue": ("项已逾期", "overdue"),
    "provider.open_tickets": ("张整改工单未关闭", "open correction tickets"),
    "dataset.dataset": ("数据集", "Dataset"),
    "dataset.provider": ("数据提供单位", "Provider"),
    "dataset.grade": ("分级", "Grade"),
    "dataset.cycle": ("更新周期", "Update cycle"),
    "dataset.provision": ("提供方式", "Provision"),
    "dataset.keys": ("主键", "Keys"),
    "dataset.latest": ("最新版本", "Latest"),
    "dataset.rows": ("行数", "Rows"),
    "dataset.version": ("版本", "Version"),
    "dataset.versions": ("版本", "Versions"),
    "dataset.dup_keys": ("重复键", "Duplicate keys"),
    "dataset.schema": ("模式哈希", "Schema hash"),
    "dataset.quarantine": ("隔离区（被拒收的上传）", "Quarantine (refused uploads)"),
    "dataset.file": ("文件", "File"),
    "dataset.column": ("列", "Column"),
    "dataset.columns": ("列", "Columns"),
    "dataset.type": ("类型", "Type"),
    "dataset.role": ("角色", "Role"),
    "dataset.pii": ("个人信息", "Personal data"),
    "dataset.identical": (
        "与当前版本逐字节相同，未生成新版本。",
        "Identical to the current version: no new version.",
    ),
    "upload.title": ("交付新版本", "Deliver a new version"),
    "upload.lead": (
        "CSV、Parquet、JSON Lines 或 XLSX，一次至多 {files} 个文件；上传后排队导入，页面显示进度。",
        "CSV, Parquet, JSON Lines or XLSX, at most {files} files at once; the ingest is queued and its page shows the progress.",
    ),
    "upload.files": ("文件", "Files"),
    "upload.sending": ("正在上传…", "Uploading…"),
    "upload.submit": ("上传并导入", "Upload and ingest"),
    # -- data-use requests ----------------------------------------------------------------------
    "requests.title": ("数据使用申请", "Data-use requests"),
    "requests.lead": (
        "待答复的申请在答复期限后仍未答复即为逾期（今天：{today}）。",
        "A request still pending after its due date is overdue (today: {today}).",
    ),
    "requests.due": ("答复期限", "Due"),
    "requests.overdue": ("已逾期", "overdue"),
    "requests.decided_by": ("答复人", "Decided by"),
    "requests.justification": ("必要性说明", "Justification"),
    "requests.refuse_column": ("拒绝该列", "Refuse column"),
    "requests.refuse": ("拒绝", "refuse"),
    "requests.grant": ("同意（勾选的列除外）", "Grant (except the columns ticked)"),
    "requests.refuse_all": ("全部拒绝", "Refuse all"),
    "requests.confirm_refuse": (
        "确定拒绝该数据集的全部申请列？",
        "Refuse every requested column of this dataset?",
    ),
    "scenario.title": ("应用场景", "Scenarios"),
    "scenario.scenario": ("场景", "Scenario"),
    "scenario.category": ("类别", "Category"),
    "scenario.value": ("经济和社会价值", "Economic and social value"),
    "scenario.planned": ("拟开发产品", "Planned products"),
    "scenario.member": ("本人参与", "I work on it"),
    "scenario.developers": ("开发人员", "Developers"),
    "scenario.approved_columns": ("批准使用的列", "Approved columns"),
    "scenario.no_columns": ("尚无批准的列。", "No column is approved yet."),
    "scenario.not_member": (
        "您不是该场景的开发人员，不能查看其样例。",
        "You are not a developer of this scenario and cannot open its samples.",
    ),
    # -- quality --------------------------------------------------------------------------------
    "quality.title": ("数据质量", "Data quality"),
    "quality.overall": ("数据质量得分", "Quality score"),
    "quality.score": ("得分", "Score"),
    "quality.change": ("变化", "Change"),
    "quality.trend": ("各版本得分", "Score by version"),
    "quality.report": ("质量报告", "Quality report"),
    "quality.as_of": ("评估基准日", "As of"),
    "quality.chart_title": ("各规则通过率随版本变化", "Pass rate of each rule across versions"),
    "quality.dimensions": ("各维度得分（GB/T 36344）", "Scores by dimension (GB/T 36344)"),
    "quality.dimension": ("维度", "Dimension"),
    "quality.rules": ("规则（最新版本）", "Rules (latest version)"),
    "quality.rule": ("规则", "Rule"),
    "quality.pass_rate": ("通过率", "Pass rate"),
    "quality.failing_rows": ("不合格行", "Failing rows"),
    # -- tickets --------------------------------------------------------------------------------
    "tickets.title": ("整改工单", "Correction tickets"),
    "tickets.all": ("全部", "All"),
    "tickets.ticket": ("工单", "Ticket"),
    "tickets.severity": ("严重度", "Severity"),
    "tickets.keys": ("未解决 / 键数", "Remaining / keys"),
    "tickets.due": ("截止", "Due"),
    "tickets.issue": ("问题", "Issue"),
    "tickets.fix_hint": ("建议", "Suggested fix"),
    "tickets.raised_by": ("提出", "Raised"),
    "tickets.note": ("说明", "Note"),
    "tickets.keys_note": (
        "不合格记录的键只在域内导出（sandbox ticket export），页面不显示任何记录。",
        "The failing records' keys are exported inside the domain only (sandbox ticket export); no page shows a record.",
    ),
    "tickets.ack": ("确认收到", "Acknowledge"),
    "tickets.fix": ("报告已整改", "Report fixed"),
    "tickets.fix_lead": (
        "交付更正后的新版本后，质量检查会自动核验。",
        "The quality run on your next delivery verifies the fix.",
    ),
    "tickets.fix_note": ("整改说明", "What was corrected"),
    "tickets.dispute": ("提出异议", "Dispute"),
    "tickets.dispute_reason": ("异议理由（运营人员裁决）", "Reason (an operator decides)"),
    # -- scorecard ------------------------------------------------------------------------------
    "scorecard.title": ("数据提供单位评价", "Provider scorecard"),
    "scorecard.tickets": ("工单", "Tickets"),
    "scorecard.open": ("未关闭", "open"),
    "scorecard.answered": ("已答复", "Answered"),
    "scorecard.median_hours": ("答复用时中位数（小时）", "Median response (hours)"),
    "scorecard.on_time": ("按期答复", "Answered on time"),
    "scorecard.overdue": ("逾期", "Overdue"),
    "scorecard.as_of": ("统计日", "As of"),
    "scorecard.usage": ("数据应用情况", "Use in products"),
    "scorecard.scenarios": ("场景", "Scenarios"),
    "scorecard.columns": ("授权列", "Granted columns"),
    "scorecard.products": ("产品", "Products"),
    "scorecard.releases": ("发布", "Releases"),
    # -- developers -----------------------------------------------------------------------------
    "samples.title": ("样例卡", "Sample card"),
    "samples.open": ("查看样例卡", "Open the sample card"),
    "samples.version": ("样例版本", "Sample version"),
    "samples.seed": ("抽样种子", "Seed"),
    "samples.built": ("生成时间", "Built"),
    "samples.policy": ("抽样策略", "Sampling"),
    "samples.cap": ("主体上限", "entity cap"),
    "samples.raw_version": ("原始版本", "raw version"),
    "samples.entities": ("主体", "entities"),
    "samples.suppressed": ("抑制主体", "suppressed entities"),
    "samples.kind": ("类别", "Kind"),
    "samples.operator": ("脱敏方法", "Operator"),
    "samples.level": ("泛化层级", "Generalization"),
    "samples.flagged": ("画像标记的列", "Columns flagged by profiling"),
    "jobs.title": ("作业", "Jobs"),
    "jobs.dev_run": ("在样例上试运行", "Run on samples"),
    "jobs.dev_run_lead": (
        "上传作业目录中的文件（job.toml、job.py、README.md）；排队运行，结果含门控的建议结论。",
        "Upload the job folder's files (job.toml, job.py, README.md); the run is queued and its result has the gate's advice.",
    ),
    "jobs.submit": ("提交审核", "Submit for review"),
    "jobs.submit_lead": (
        "提交即快照代码并计算 SHA-256，再做策略检查；通过后进入审核队列。",
        "Submitting snapshots the code with its SHA-256 and runs the policy check; then it waits for review.",
    ),
    "jobs.files": ("作业文件", "Job files"),
    "jobs.mine": ("我的提交", "My submissions"),
    "jobs.job": ("作业", "Job"),
    "jobs.reviewer": ("审核人", "Reviewer"),
    "jobs.review_comment": ("审核意见", "Review comment"),
    "jobs.submitted": ("提交时间", "Submitted"),
    "jobs.terms": ("批准条件", "Approval terms"),
    "jobs.terms_text": ("至多 {runs} 次运行，至 {until}", "at most {runs} runs, until {until}"),
    "jobs.runs": ("生产运行", "Production runs"),
    "jobs.runs_note": (
        "只显示状态；失败时只显示错误类型与行号，日志仅运营人员可见。",
        "Status only; a failure shows its type and line; the logs are for operators.",
    ),
    "run.submission": ("提交", "Submission"),
    "run.timings": ("用时", "Timings"),
    "run.error": ("错误", "Error"),
    "run.started": ("开始", "Started"),
    "code.code": ("代码", "Code"),
    "code.lines": ("行", "lines"),
    "code.sha256": ("代码 SHA-256", "Code SHA-256"),
    "code.check": ("静态策略检查", "Static policy check"),
    "code.check_passed": ("通过，没有发现问题。", "Passed: no findings."),
    "code.file": ("文件", "File"),
    "code.finding": ("说明", "Finding"),
    # -- operators ------------------------------------------------------------------------------
    "queue.title": ("审核队列", "Review queue"),
    "queue.waiting": ("待审核", "Waiting for review"),
    "queue.approved": ("已批准，可转入生产", "Approved, ready to promote"),
    "queue.submitter": ("提交人", "Submitter"),
    "queue.promote": ("转入生产", "Promote"),
    "queue.confirm_promote": (
        "确定转入生产？将在原始数据上运行并经门控发布。",
        "Promote? It runs on the raw data and the gate releases what passes.",
    ),
    "queue.promotions": ("最近的转生产任务", "Recent promotions"),
    "review.title": ("作业审核", "Job review"),
    "review.diff": ("与上次批准版本的差异", "Changes since the last approved submission"),
    "review.diff_lead": (
        "对比同一作业上次批准的提交 {previous}。",
        "Compared with the same job's last approved submission {previous}.",
    ),
    "review.no_change": ("代码没有变化。", "The code did not change."),
    "review.first": (
        "该作业首次提交，没有可对比的版本。",
        "The job's first submission: nothing to compare with.",
    ),
    "review.decide": ("审核结论", "Decision"),
    "review.comment": (
        "审核意见（驳回时必填，提交人可见）",
        "Comment (required to reject; the submitter reads it)",
    ),
    "review.max_runs": ("批准的运行次数", "Runs allowed"),
    "review.period_days": ("有效天数", "Days valid"),
    "review.approve": ("批准", "Approve"),
    "review.reject": ("驳回", "Reject"),
    "review.promote_lead": (
        "隔离运行、门控、发布；任务页显示进度。",
        "Isolated run, gate, release; the task page shows the progress.",
    ),
    "runs.title": ("门控报告", "Gate reports"),
    "runs.lead": (
        "每次生产运行各输出发布与抑制的单元格及抑制规则；不含任何单元格的值。",
        "Every production run's released and suppressed cells per output, and the rules that suppressed them; never a value.",
    ),
    "runs.promoted_by": ("转入人", "Promoted by"),
    "runs.data": ("数据版本", "Data versions"),
    "products.title": ("数据产品登记", "Product registry"),
    "products.no": ("登记号", "Registration no."),
    "products.product": ("产品", "Product"),
    "products.charging": ("收费", "Charging"),
    "products.fee": ("有偿", "Fee-bearing"),
    "products.free": ("免费", "Free"),
    "products.revision": ("登记版次", "Revision"),
    "products.release": ("发布", "Release"),
    "products.released_v": ("已发布 v{v}", "released v{v}"),
    "products.not_released": ("未发布", "not released"),
    "products.register": ("首次登记", "Register"),
    "products.register_lead": (
        "产品标识须是该场景已批准作业的标识。",
        "The product id must be the id of an approved job of the scenario.",
    ),
    "products.form": ("产品形态", "Form"),
    "products.registered": ("登记人", "Registered by"),
    "products.versions": ("已发布版本", "Released versions"),
    "products.released_at": ("发布时间", "Released"),
    "products.amend": ("登记操作", "Registration actions"),
    "products.change": ("变更登记", "Change"),
    "products.correct": ("更正登记", "Correct"),
    "products.deregister": ("注销登记", "Deregister"),
    "products.confirm_deregister": ("确定注销该产品的登记？", "Deregister this product?"),
    "terms.title": ("使用条款", "Terms of use"),
    "terms.consumer": ("使用方机构", "Consumer organization"),
    "terms.granted_by": ("授予", "Granted"),
    "terms.ends_on": ("最后有效日", "Last day"),
    "terms.until_revoked": ("至撤销", "until revoked"),
    "terms.grant": ("授予使用条款", "Grant terms"),
    "redevelop.title": ("再开发申请", "Re-development applications"),
    "redevelop.applicant": ("申请机构", "Applicant"),
    "redevelop.purpose": ("用途", "Purpose"),
    # -- consumers ------------------------------------------------------------------------------
    "catalogue.title": ("数据产品目录", "Product catalogue"),
    "catalogue.lead": (
        "公共治理、公益事业类产品免费；产业发展、行业发展类产品按政府指导价收费（每次请求 ¥{per_request}，每千行 ¥{per_1000}），并须有使用条款。",
        "Public-governance and welfare products are free; industry and sector products cost the guided price (¥{per_request} per request, ¥{per_1000} per 1,000 rows) and need terms of use.",
    ),
    "catalogue.price": (
        "每次请求 ¥{per_request} + 每千行 ¥{per_1000}",
        "¥{per_request} per request + ¥{per_1000} per 1,000 rows",
    ),
    "catalogue.terms": ("使用条款", "Terms of use"),
    "catalogue.no_terms_needed": ("无需使用条款", "None needed"),
    "catalogue.terms_held": ("本机构已获授予（至 {until}）", "held by your organization (until {until})"),
    "catalogue.terms_missing": ("本机构尚无使用条款", "your organization holds none"),
    "product.cells": ("发布的单元格（v{version}）", "Released cells (v{version})"),
    "product.table": ("表", "Table"),
    "product.chart_title": ("发布的单元格：{measure}", "Released cells: {measure}"),
    "product.chart_note": (
        "图中为前 {n} 个单元格；被抑制的单元格没有值。",
        "The chart shows the first {n} cells; a suppressed cell has no value.",
    ),
    "product.suppressed": ("已抑制", "suppressed"),
    "product.shown": (
        "显示 {shown} 行，共 {total} 行；下载或查询接口可取全部。",
        "Showing {shown} of {total} rows; the download and the query API have them all.",
    ),
    "product.download": ("下载", "Download"),
    "product.api_hint": (
        "也可用 API 密钥查询：GET /api/v1/delivery/products/{product}/query",
        "Or query it with an API key: GET /api/v1/delivery/products/{product}/query",
    ),
    "keys.title": ("API 密钥", "API keys"),
    "keys.created": ("已创建新密钥", "A new key"),
    "keys.shown_once": (
        "请立即保存：密钥只显示这一次，平台只保存其哈希。",
        "Keep it now: it is shown this once; the platform keeps only its hash.",
    ),
    "keys.key": ("密钥编号", "Key"),
    "keys.label": ("用途说明", "Label"),
    "keys.used_today": ("今日请求 / 配额", "Requests today / quota"),
    "keys.created_at": ("创建", "Created"),
    "keys.active": ("有效", "active"),
    "keys.revoked": ("已吊销", "revoked"),
    "keys.create": ("创建密钥", "Create a key"),
    "keys.revoke": ("吊销", "Revoke"),
    "keys.confirm_revoke": (
        "确定吊销该密钥？使用它的程序将立即无法访问。",
        "Revoke this key? Programs using it stop at once.",
    ),
    "usage.title": ("本月用量与费用", "This month's usage and fees"),
    "usage.by_day": ("按日", "By day"),
    "usage.day": ("日期", "Day"),
    "usage.requests": ("请求", "Requests"),
    "usage.rows": ("行", "Rows"),
    "usage.amount": ("金额", "Amount"),
    # -- auditors -------------------------------------------------------------------------------
    "audit.title": ("审计记录", "Audit trail"),
    "audit.verify": ("校验整条审计链", "Verify the whole chain"),
    "audit.action": ("动作（前缀）", "Action (prefix)"),
    "audit.actor": ("操作者", "Actor"),
    "audit.limit": ("条数", "How many"),
    "audit.object": ("对象", "Object"),
    "disclosure.title": ("信息披露报告", "Disclosure report"),
    "disclosure.generated": ("生成于", "Generated"),
    "disclosure.authorizations": ("一、授权情况", "1. Authorizations"),
    "disclosure.authorization": ("授权", "Authorization"),
    "disclosure.object": ("授权对象", "Granted to"),
    "disclosure.content": ("授权内容", "Content"),
    "disclosure.scope": ("范围", "Scope"),
    "disclosure.period": ("期限", "Period"),
    "disclosure.products": ("二、数据产品", "2. Products"),
    "disclosure.operator": ("运营机构", "Operator"),
    "disclosure.datasets": ("使用的数据集", "Datasets read"),
    "disclosure.data_usage": ("三、数据使用情况", "3. Data usage"),
    "disclosure.reads": ("产品版本 ← 数据版本", "Product version ← data version"),
    "disclosure.product_usage": ("四、产品使用情况", "4. Product usage"),
    "disclosure.consumers": ("使用方数", "Consumers"),
}
