"""The first look at a job's plan: its Spark Connect message, before Spark parses any of it.

Some things must be refused before the planner sees them, because planning itself would act: a SQL
relation may hold commands the planner runs at once, a read of a path or a data source makes the
trusted session open files, a pivot without values runs a Spark job to find them. So every relation
anywhere in the message (joins, subqueries, ``with_relations``…) must be of an allowed kind, every
read must name a declared input, and no expression may carry user code. The message is walked
generically (every field of every nested message), so a relation hidden in a field this module does
not know is still seen.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import Message

from sandbox.runtime.plan import rules
from sandbox.runtime.plan.findings import PlanFinding, line_in


def _messages(message: Message) -> Iterator[Message]:
    yield message
    for child in _children(message):
        yield from _messages(child)


def _line(message: Message, entry: str) -> int | None:
    """The job file's line from an expression's recorded call site, when it points into the job."""
    common = getattr(message, "common", None)
    if common is None or not common.HasField("origin"):
        return None
    return line_in(common.origin.python_origin.call_site, entry)


def call_sites(plan: Message, entry: str, relation_lines: dict[int, int]) -> dict[str, int]:
    """Function name → the first job line that called it (for naming lines in later findings).

    The expression's own recorded call site when Spark kept one, else the line that made the
    DataFrame it belongs to (``relation_lines``: plan id → line, from the job process).
    """
    sites: dict[str, int] = {}

    def walk(message: Message, relation_line: int | None) -> None:
        name = message.DESCRIPTOR.name
        if name == "Relation" and message.HasField("common") and message.common.HasField("plan_id"):
            relation_line = relation_lines.get(message.common.plan_id, relation_line)
        if name == "Expression" and message.WhichOneof("expr_type") == "unresolved_function":
            line = _line(message, entry) or relation_line
            if line is not None:
                sites.setdefault(message.unresolved_function.function_name.lower(), line)
        for child in _children(message):
            walk(child, relation_line)

    walk(plan, None)
    return sites


def _children(message: Message) -> Iterator[Message]:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated:
            items = value.values() if field.message_type.GetOptions().map_entry else value
            yield from (item for item in items if isinstance(item, Message))
        else:
            yield value


def check(output: str, plan: Message, aliases: set[str], entry: str) -> list[PlanFinding]:
    """Findings for one output's Spark Connect ``Plan``; empty when it may be handed to the planner."""
    findings: list[PlanFinding] = []

    def refuse(kind: str, what_zh: str, what_en: str, line: int | None = None) -> None:
        zh, en = rules.reason(kind)
        findings.append(PlanFinding(output, kind, f"{what_zh}：{zh}", f"{what_en}: {en}", line))

    if plan.WhichOneof("op_type") != "root":
        refuse("command", "不是查询计划", "not a query plan")
        return findings
    for message in _messages(plan):
        name = message.DESCRIPTOR.name
        if name == "Relation":
            kind = message.WhichOneof("rel_type")
            if kind not in rules.RELATIONS:
                refuse(kind or "unknown", f"关系 {kind}", f"relation {kind}")
            elif kind == "read":
                read = message.read
                table = read.named_table.unparsed_identifier if read.HasField("named_table") else None
                if table not in aliases or read.is_streaming or read.named_table.options:
                    source = table or read.data_source.format or "?"
                    refuse("data_source", f"读取 {source}", f"read of {source}")
            elif (
                kind == "aggregate"
                and message.aggregate.HasField("pivot")
                and not message.aggregate.pivot.values
            ):
                refuse("pivot_without_values", "pivot 未给出取值", "pivot without values")
        elif name == "Expression":
            kind = message.WhichOneof("expr_type")
            if kind not in rules.EXPRESSIONS:
                refuse(kind or "unknown", f"表达式 {kind}", f"expression {kind}", _line(message, entry))
    return findings
