"""Verify a job's analyzed logical plan against the allowlist in ``rules``.

Spark has already parsed every SQL string and resolved every name, so what is checked here is what
would run, however it was written. Checks: every plan node and every expression is allowed; every
leaf is a declared input's view (what the trusted side put under it is not walked); patterns and
formats are literals (a pattern taken from data could fail on one value); joins are equality joins
on declared keys; windows are partitioned by a subject column or a declared key (else they move other
subjects' values onto a subject's rows); set operations line up columns of one origin; and each
output's entity column is an input's entity column passed through unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sandbox.runtime.plan import rules
from sandbox.runtime.plan.findings import PlanFinding

#: Expressions whose pattern or format (the second child) must be a literal.
_LITERAL_SECOND = frozenset({"RLike", "Like", "ILike", "RegExpReplace", "RegExpExtract", "StringSplit",
                             "DateFormatClass", "ParseToDate", "ParseToTimestamp", "GetTimestamp",
                             "ToUnixTimestamp", "UnixTimestamp", "FromUnixTime"})  # fmt: skip
_EQUALITY = frozenset({"EqualTo", "EqualNullSafe"})


@dataclass
class Node:
    cls: str
    fields: dict
    children: list[Node] = field(default_factory=list)


def _tree(nodes: list[dict], at: int = 0) -> tuple[Node, int]:
    """One node and its subtree from ``TreeNode.toJSON``'s pre-order list; returns the next index."""
    raw = nodes[at]
    node = Node(raw["class"].rsplit(".", 1)[-1], raw)
    at += 1
    for _ in range(raw.get("num-children", 0)):
        child, at = _tree(nodes, at)
        node.children.append(child)
    return node, at


def _expressions(value) -> list[Node]:
    """The expression trees in one field's JSON value (an expression, or nested sequences of them)."""
    if isinstance(value, list) and value and isinstance(value[0], dict) and "class" in value[0]:
        return [_tree(value)[0]]
    if isinstance(value, list):
        return [tree for item in value for tree in _expressions(item)]
    return []


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _expr_id(node: Node) -> int | None:
    expr_id = node.fields.get("exprId")
    return expr_id.get("id") if isinstance(expr_id, dict) else None


@dataclass
class _Verifier:
    output: str
    aliases: set[str]
    call_sites: dict[str, int]
    join_keys: dict[str, set[str]] = field(default_factory=dict)  # alias -> columns it may be joined on
    subjects: dict[str, str] = field(default_factory=dict)  # alias -> its subject column
    findings: list[PlanFinding] = field(default_factory=list)
    origin: dict[int, tuple[str, str]] = field(default_factory=dict)  # exprId -> (input alias, column)

    def refuse(self, rule: str, what_zh: str, what_en: str, function: str | None = None) -> None:
        zh, en = rules.reason(rule)
        line = self.call_sites.get((function or "").lower())
        finding = PlanFinding(self.output, rule, f"{what_zh}：{zh}", f"{what_en}: {en}", line)
        if finding not in self.findings:
            self.findings.append(finding)

    def plan(self, node: Node) -> list[int | None]:
        """Verify ``node``'s subtree; returns its output columns' exprIds (to follow origins through it)."""
        if node.cls == "View":
            return self.view(node)
        if node.cls not in rules.PLAN_NODES:
            self.refuse(node.cls, f"计划节点 {node.cls}", f"plan node {node.cls}")
            return []
        below = [self.plan(child) for child in node.children]
        for name, value in node.fields.items():
            if name in ("class", "num-children"):
                continue
            for tree in _expressions(value):
                self.expression(tree)
        if node.cls == "Join":
            self.join(node)
            semi = any(kind in json.dumps(node.fields.get("joinType")) for kind in ("LeftSemi", "LeftAnti"))
            return below[0] if semi else below[0] + below[1]
        if node.cls == "Window":
            self.window(node)
            return below[0] + _named_ids(node.fields.get("windowExpressions", []))
        if node.cls in ("Union", "Intersect", "Except"):
            self.line_up(below)
            return below[0]
        if node.cls in ("Project", "Aggregate"):
            named = node.fields.get("projectList") or node.fields.get("aggregateExpressions") or []
            self.carry(named)
            return _named_ids(named)
        if node.cls == "Expand":
            return _named_ids(node.fields.get("output", []))
        return below[0] if below else []

    def view(self, node: Node) -> list[int | None]:
        table = (node.fields.get("desc") or {}).get("identifier", {}).get("table")
        leaf = node.children[0] if len(node.children) == 1 else None
        if table not in self.aliases or leaf is None or leaf.children:
            self.refuse("source", f"视图 {table}", f"view {table}")
            return []
        attributes = _expressions(leaf.fields.get("output", []))
        for attribute in attributes:
            self.origin[_expr_id(attribute)] = (table, attribute.fields.get("name"))
        return [_expr_id(attribute) for attribute in attributes]

    def expression(self, tree: Node) -> None:
        for node in _walk(tree):
            function = _function_name(node.cls)
            if node.cls not in rules.EXPRESSION_NODES:
                self.refuse(node.cls, f"表达式 {node.cls}", f"expression {node.cls}", function)
            elif node.cls in _LITERAL_SECOND and len(node.children) > 1 and node.children[1].cls != "Literal":
                self.refuse("raise", f"{node.cls} 的模式或格式须为常量", f"{node.cls} needs a literal pattern or format",
                            function)  # fmt: skip

    def join(self, node: Node) -> None:
        conditions = _expressions(node.fields.get("condition", []))
        if not conditions:
            self.refuse("join", "没有连接条件的连接（笛卡尔积）", "a join without a condition (a cross join)")
            return
        for conjunct in _conjuncts(conditions[0]):
            if conjunct.cls not in _EQUALITY or any(c.cls != "AttributeReference" for c in conjunct.children):
                self.refuse("join", "连接条件只能是列与列的相等", "a join condition may only equate columns")
                continue
            for side in conjunct.children:
                source = self.origin.get(_expr_id(side))
                if source is None or source[1] not in self.join_keys.get(source[0], set()):
                    name = side.fields.get("name")
                    self.refuse("join", f"{name} 不是声明的连接键（job.toml 的 join_keys 或主体列）",
                                f"{name} is not a declared join key (job.toml's join_keys or the subject column)")  # fmt: skip

    def window(self, node: Node) -> None:
        """A window must stay within a subject (or a declared key's group): ``lag`` or ``first`` over
        anything wider copies one subject's values onto another's rows, where the gate counts the
        wrong person for them."""
        for tree in _expressions(node.fields.get("partitionSpec", [])):
            source = self.origin.get(_expr_id(tree)) if tree.cls == "AttributeReference" else None
            if source is not None and source[1] in self.join_keys.get(source[0], set()):
                return
        functions = [
            _window_function(tree) for tree in _expressions(node.fields.get("windowExpressions", []))
        ]
        self.refuse("window", "窗口未按主体列或声明的连接键分区", "a window not partitioned by the subject column or a declared key",
                    next((f for f in functions if f), None))  # fmt: skip

    def line_up(self, children: list[list[int | None]]) -> None:
        """A set operation's column keeps its origin only if every side's column has that origin (or
        every side's is a subject column): a union must not pass another column off as the subject's."""
        for position in zip(*children, strict=False):
            sources = [self.origin.get(expr_id) for expr_id in position]
            same = all(source == sources[0] for source in sources)
            if not same and not all(source is not None and self.is_subject(source) for source in sources):
                self.origin.pop(position[0], None)

    def is_subject(self, source: tuple[str, str]) -> bool:
        return self.subjects.get(source[0]) == source[1]

    def carry(self, named: list) -> None:
        """An alias of a bare column keeps that column's origin (``select(col.alias(...))``)."""
        for tree in _expressions(named):
            if (
                tree.cls == "Alias"
                and len(tree.children) == 1
                and tree.children[0].cls == "AttributeReference"
            ):
                source = self.origin.get(_expr_id(tree.children[0]))
                if source is not None:
                    self.origin[_expr_id(tree)] = source


def _named_ids(named: list) -> list[int | None]:
    """The exprIds a list of named expressions (a projection, aggregates, window columns) outputs."""
    return [_expr_id(tree) for tree in _expressions(named)]


def _window_function(tree: Node) -> str | None:
    """The job's name for the function a window column computes (``RowNumber`` → ``row_number``)."""
    for node in _walk(tree):
        if node.cls == "WindowExpression" and node.children:
            function = node.children[0]
            if function.cls == "AggregateExpression" and function.children:
                function = function.children[0]
            return re.sub(r"(?<!^)(?=[A-Z])", "_", function.cls).lower()
    return None


def _conjuncts(node: Node) -> list[Node]:
    if node.cls == "And":
        return [c for child in node.children for c in _conjuncts(child)]
    return [node]


_FUNCTION_OF = {"CallMethodViaReflection": "reflect", "RaiseError": "raise_error", "AssertTrue": "assert_true",
                "InputFileName": "input_file_name", "SparkPartitionID": "spark_partition_id",
                "MonotonicallyIncreasingID": "monotonically_increasing_id", "PythonUDF": "udf"}  # fmt: skip


def _function_name(cls: str) -> str:
    return _FUNCTION_OF.get(cls, cls.lower())


def verify(
    output: str, analyzed_json: str, root: list[tuple[str, int]], aliases: set[str], entity: str,
    input_entities: dict[str, str] | None, call_sites: dict[str, int], join_keys: dict[str, tuple[str, ...]],
) -> list[PlanFinding]:  # fmt: skip
    """Findings for one output's analyzed plan (``root``: its output columns as (name, exprId)).

    ``input_entities``: each input's subject column as the catalog declares it; ``None`` (a job run
    outside the platform, as in tests) takes the output's entity name for every input. An input may
    be joined on its subject column and on the ``join_keys`` its manifest entry declares.
    """
    subjects = input_entities if input_entities is not None else dict.fromkeys(aliases, entity)
    keys = {alias: {*join_keys.get(alias, ()), *([subjects[alias]] if subjects.get(alias) else [])}
            for alias in aliases}  # fmt: skip
    verifier = _Verifier(output, aliases, call_sites, keys, {a: c for a, c in subjects.items() if c})
    verifier.plan(_tree(json.loads(analyzed_json))[0])
    source = verifier.origin.get(dict(root).get(entity, -1))
    if source is None or not verifier.is_subject(source):
        declared = ", ".join(f"{alias}.{column}" for alias, column in sorted(subjects.items()) if column)
        verifier.refuse(
            "entity",
            f"实体列 {entity} 须原样取自某个输入的主体列（{declared or '无'}）",
            f"the entity column {entity} must be an input's subject column ({declared or 'none'}) passed through unchanged",
        )
    return verifier.findings
