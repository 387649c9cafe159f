"""Runtime guards around job code: defence in depth behind the static policy check.

The job module executes with restricted builtins (no ``open``, ``exec``, ``getattr``…, and an
``__import__`` that admits only the allowlist), and DataFrame actions raise while ``build`` runs,
so a job that slipped past the static check still cannot read files, reach the platform's
modules or pull rows into Python.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.runtime.policy_check import ALLOWED_IMPORTS, BANNED_NAMES

_SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in dir(builtins)
    if not name.startswith("_") and name not in BANNED_NAMES
}
_ALLOWED_ROOTS = {"pyspark"}  # pyspark imports its own submodules lazily


class PolicyViolation(RuntimeError):
    """The job tried something the policy forbids at run time."""


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - import protocol
    if level or (name not in ALLOWED_IMPORTS and name.split(".")[0] not in _ALLOWED_ROOTS):
        raise PolicyViolation(f"import of {name} is not allowed")
    if name.split(".")[0] == "pyspark" and name not in ALLOWED_IMPORTS and name != "pyspark":
        raise PolicyViolation(f"import of {name} is not allowed")
    return builtins.__import__(name, globals, locals, fromlist, level)


def restricted_builtins() -> dict:
    return {**_SAFE_BUILTINS, "__import__": _guarded_import, "__build_class__": None}


_ACTIONS = (
    "collect", "collectAsList", "toPandas", "toArrow", "take", "head", "first", "tail", "show", "count",
    "foreach", "foreachPartition", "toLocalIterator", "toJSON", "describe", "summary", "cache", "persist",
    "checkpoint", "localCheckpoint", "createOrReplaceTempView", "createTempView", "createGlobalTempView",
    "createOrReplaceGlobalTempView", "isEmpty",
)  # fmt: skip
_PROPERTIES = ("write", "writeTo", "writeStream", "rdd")


def _refuse(name: str):
    def refused(*_args, **_kwargs):
        raise PolicyViolation(f"DataFrame.{name} is not allowed in a job")

    return refused


def _dataframe_classes() -> tuple[type, ...]:
    from pyspark.sql import DataFrame
    from pyspark.sql.classic.dataframe import DataFrame as ClassicDataFrame
    from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame

    return (ClassicDataFrame, ConnectDataFrame, DataFrame)


@contextmanager
def actions_refused() -> Iterator[None]:
    """While a job's ``build`` runs, DataFrame actions and writers raise ``PolicyViolation``."""
    saved = [
        (cls, name, cls.__dict__[name])
        for cls in _dataframe_classes()
        for name in (*_ACTIONS, *_PROPERTIES)
        if name in cls.__dict__
    ]
    try:
        for cls, name, _ in saved:
            setattr(cls, name, property(_refuse(name)) if name in _PROPERTIES else _refuse(name))
        yield
    finally:
        for cls, name, value in saved:
            setattr(cls, name, value)
