"""The plan endpoint: what the job process's Spark Connect client talks to, on a Unix socket.

It answers configuration reads with the client's own defaults and schema questions about plans over
the declared inputs, answered by a session whose inputs are empty tables with the inputs' schemas:
whatever Spark does to answer touches no row, because there is none. It refuses to execute anything,
and refuses to analyze a plan ``protocheck`` refuses (a read of a path would make the trusted session
open that file just to tell its schema).
"""

from __future__ import annotations

import uuid
from concurrent import futures
from pathlib import Path

import grpc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.connect.proto import base_pb2 as pb2
from pyspark.sql.connect.proto import base_pb2_grpc as pb2_grpc
from pyspark.sql.connect.types import pyspark_types_to_proto_types

from sandbox.engines.connect_planner import Planner
from sandbox.runtime.plan import protocheck


class _Service(pb2_grpc.SparkConnectServiceServicer):
    def __init__(self, planner: Planner, aliases: set[str], entry: str) -> None:
        self._planner, self._aliases, self._entry = planner, aliases, entry
        self._server_session = str(uuid.uuid4())

    def Config(self, request, context):  # noqa: N802 - the gRPC method's name
        response = pb2.ConfigResponse(
            session_id=request.session_id, server_side_session_id=self._server_session
        )
        operation = request.operation
        kind = operation.WhichOneof("op_type")
        if kind == "get_with_default":
            for pair in operation.get_with_default.pairs:
                response.pairs.add(key=pair.key, value=pair.value)
        elif kind in ("get", "get_option"):
            for key in getattr(operation, kind).keys:
                response.pairs.add(key=key)
        return response

    def AnalyzePlan(self, request, context):  # noqa: N802
        if request.WhichOneof("analyze") != "schema":
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "作业只能询问计划的结构 / a job may only ask for a plan's schema")  # fmt: skip
        plan = request.schema.plan
        findings = protocheck.check("schema", plan, self._aliases, self._entry)
        if findings:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "; ".join(map(str, findings)))
        try:
            schema = self._planner.dataframe(plan.SerializeToString()).schema
        except Exception as exc:  # noqa: BLE001 - an analysis error on empty inputs: names and types only
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, _analysis_message(exc))
        response = pb2.AnalyzePlanResponse(
            session_id=request.session_id, server_side_session_id=self._server_session
        )
        response.schema.schema.CopyFrom(pyspark_types_to_proto_types(schema))
        return response

    def ExecutePlan(self, request, context):  # noqa: N802
        context.abort(grpc.StatusCode.PERMISSION_DENIED,
                      "作业不能执行任何操作，只能返回计划 / a job executes nothing; it returns plans")  # fmt: skip


def _analysis_message(exc: Exception) -> str:
    desc = getattr(exc, "desc", None) or str(exc)
    return desc.splitlines()[0][:2000] if desc else type(exc).__name__


class PlanEndpoint:
    """A started endpoint over empty inputs; use as a context manager around the job process."""

    def __init__(self, spark: SparkSession, schemas: dict[str, DataFrame], socket: Path, entry: str) -> None:
        session = spark.newSession()
        self.planner = Planner(session)
        self.planner.bind(
            {alias: session.createDataFrame([], frame.schema) for alias, frame in schemas.items()}
        )
        self.socket = socket
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        pb2_grpc.add_SparkConnectServiceServicer_to_server(
            _Service(self.planner, set(schemas), entry), self._server
        )
        self._server.add_insecure_port(f"unix:{socket}")

    def __enter__(self) -> PlanEndpoint:
        self._server.start()
        self.socket.chmod(0o666)  # the job process runs as another user
        return self

    def __exit__(self, *_exc) -> None:
        self._server.stop(0).wait()
