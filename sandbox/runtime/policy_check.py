"""Static policy check of job code, at submission and again before every production run.

A job may import only an allowlist, may not reach the interpreter's escape hatches (``open``,
``exec``, ``getattr``, dunder attributes…), may not run DataFrame actions or writers (only the
trusted side materializes anything), and may read only the inputs its manifest declares.
Each finding names file, line and rule.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from sandbox.domain.job import JobManifest

ALLOWED_IMPORTS = frozenset({
    "pyspark.sql", "pyspark.sql.functions", "pyspark.sql.types", "pyspark.sql.window", "pyspark.sql.column",
    "math", "datetime", "decimal", "re", "typing", "dataclasses", "sandbox.runtime.sdk",
})  # fmt: skip
BANNED_NAMES = frozenset({
    "open", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "input", "breakpoint", "help", "memoryview", "print", "exit", "quit", "__builtins__", "__loader__",
    "__spec__", "type", "super", "object", "classmethod", "staticmethod", "property",
})  # fmt: skip
#: DataFrame / RDD actions, writers and escape hatches: only the trusted side materializes data.
BANNED_ATTRIBUTES = frozenset({
    "collect", "collectAsList", "toPandas", "toArrow", "take", "takeAsList", "head", "first", "tail", "show",
    "write", "writeTo", "writeStream", "foreach", "foreachPartition", "rdd", "toLocalIterator", "toJSON",
    "count", "describe", "summary", "explain", "cache", "persist", "checkpoint", "localCheckpoint",
    "createOrReplaceTempView", "createTempView", "createGlobalTempView", "createOrReplaceGlobalTempView",
    "registerTempTable", "sparkSession", "sql_ctx", "_jdf", "_jvm", "_sc", "sparkContext", "mapInPandas",
    "mapInArrow", "applyInPandas", "applyInArrow", "udf", "pandas_udf", "udtf", "inputFiles", "storageLevel",
    "isEmpty", "observe", "withWatermark", "hint", "read", "readStream", "sql", "table", "catalog", "pandas_api",
})  # fmt: skip
BANNED_FUNCTIONS = frozenset(
    {"udf", "pandas_udf", "udtf", "input_file_name", "reflect", "java_method", "spark_partition_id"}
)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} [{self.rule}] {self.zh} / {self.en}"


class _Checker(ast.NodeVisitor):
    def __init__(self, file: str, aliases: set[str]) -> None:
        self.file = file
        self.aliases = aliases
        self.findings: list[Finding] = []
        self.functions_modules: set[str] = set()  # names bound to pyspark.sql.functions (F.count is fine)

    def _add(self, node: ast.AST, rule: str, zh: str, en: str) -> None:
        self.findings.append(Finding(self.file, getattr(node, "lineno", 0), rule, zh, en))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                self._add(
                    node, "import", f"不允许导入 {alias.name}", f"import of {alias.name} is not allowed"
                )
            elif alias.name == "pyspark.sql.functions" and alias.asname:
                self.functions_modules.add(alias.asname)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in ALLOWED_IMPORTS:
            self._add(
                node,
                "import",
                f"不允许从 {module or '.'} 导入",
                f"import from {module or '.'} is not allowed",
            )
        for alias in node.names:
            if alias.name == "*" or alias.name in BANNED_FUNCTIONS or alias.name.startswith("_"):
                self._add(
                    node, "import", f"不允许导入 {alias.name}", f"importing {alias.name} is not allowed"
                )
            elif module == "pyspark.sql" and alias.name == "functions":
                self.functions_modules.add(alias.asname or alias.name)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in BANNED_NAMES or (node.id.startswith("__") and node.id.endswith("__")):
            self._add(node, "builtin", f"不允许使用 {node.id}", f"use of {node.id} is not allowed")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self._add(
                node,
                "dunder",
                f"不允许访问下划线属性 {node.attr}",
                f"access to underscore attribute {node.attr} is not allowed",
            )
        elif node.attr in BANNED_FUNCTIONS or (
            node.attr in BANNED_ATTRIBUTES and not self._on_functions(node)
        ):
            self._add(node, "action", f"不允许调用 {node.attr}（只有可信侧可以物化数据）",
                      f"{node.attr} is not allowed (only the trusted side materializes data)")  # fmt: skip
        self.generic_visit(node)

    def _on_functions(self, node: ast.Attribute) -> bool:
        """``F.count`` / ``F.first`` are column expressions, not actions."""
        return isinstance(node.value, ast.Name) and node.value.id in self.functions_modules

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "input":
            if (
                len(node.args) != 1
                or not isinstance(node.args[0], ast.Constant)
                or not isinstance(node.args[0].value, str)
            ):
                self._add(
                    node,
                    "input",
                    "ctx.input() 的参数须为字符串常量",
                    "ctx.input() takes a literal string alias",
                )
            elif node.args[0].value not in self.aliases:
                alias = node.args[0].value
                self._add(
                    node,
                    "input",
                    f"输入 {alias} 未在 job.toml 中声明",
                    f"input {alias} is not declared in job.toml",
                )
        self.generic_visit(node)

    def _no_def(self, node) -> None:
        if node.name.startswith("__"):
            self._add(node, "dunder", f"不允许定义 {node.name}", f"defining {node.name} is not allowed")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._no_def(node)
        if node.decorator_list:
            self._add(node, "decorator", "不允许使用装饰器", "decorators are not allowed")
        self.generic_visit(node)

    def _no_attribute_targets(self, node: ast.AST, targets: list[ast.expr]) -> None:
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store | ast.Del):
                    self._add(
                        node,
                        "mutation",
                        "不允许修改对象属性（如改写 SDK）",
                        "assigning attributes is not allowed (e.g. patching the SDK)",
                    )

    def visit_Assign(self, node: ast.Assign) -> None:
        self._no_attribute_targets(node, node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._no_attribute_targets(node, [node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._no_attribute_targets(node, [node.target])
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self._no_attribute_targets(node, node.targets)
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._add(node, "async", "不允许异步代码", "async code is not allowed")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._add(node, "class", "不允许定义类", "defining classes is not allowed")

    def visit_Global(self, node: ast.Global) -> None:
        self._add(node, "global", "不允许 global", "global is not allowed")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._add(node, "global", "不允许 nonlocal", "nonlocal is not allowed")


def check_source(source: str, file: str, manifest: JobManifest) -> list[Finding]:
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as exc:
        return [Finding(file, exc.lineno or 0, "syntax", "语法错误", "syntax error")]
    checker = _Checker(file, {i.alias for i in manifest.inputs})
    checker.visit(tree)
    if not any(isinstance(n, ast.FunctionDef) and n.name == "build" for n in tree.body):
        checker.findings.append(Finding(file, 1, "entry", "缺少 build(ctx) 函数", "no build(ctx) function"))
    return sorted(checker.findings, key=lambda f: (f.file, f.line, f.rule))


def check_job(job_dir: Path, manifest: JobManifest) -> list[Finding]:
    """Check every Python file of the job folder (a job may not hide code anywhere else)."""
    findings = []
    for path in sorted(job_dir.rglob("*")):
        relative = str(path.relative_to(job_dir))
        if path.is_dir() or relative in ("job.toml", "README.md"):
            continue
        if path.suffix != ".py":
            findings.append(Finding(relative, 0, "file", "作业目录只允许 job.toml、README.md 和 .py 文件",
                                    "a job folder holds only job.toml, README.md and .py files"))  # fmt: skip
            continue
        if relative != manifest.entry:
            findings.append(
                Finding(
                    relative,
                    0,
                    "file",
                    "作业只能有一个入口文件",
                    "a job has exactly one code file, its entry",
                )
            )
            continue
        findings.extend(check_source(path.read_text(encoding="utf-8"), relative, manifest))
    return findings
