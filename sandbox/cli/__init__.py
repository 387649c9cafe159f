"""The ``sandbox`` command: thin faces over the services, one module per group (Typer + Rich)."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli import (
    audit,
    billing,
    catalog,
    governance,
    identities,
    jobs,
    platform,
    products,
    quality,
    register,
    samples,
    scenarios,
    service,
)
from sandbox.cli.common import IdParam, console, state
from sandbox.domain.identifiers import IdKind

app = typer.Typer(
    help="数域 Shuyu — 公共数据授权运营隐私计算沙箱 / privacy-preserving sandbox for authorized public data",
    no_args_is_help=True,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"数域 Shuyu {version('shuyu-sandbox')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="SANDBOX_USER",
            parser=IdParam(IdKind.USER),
            metavar="USERNAME",
            help="以该用户身份操作 / act as this local user",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="SANDBOX_SERVER",
            metavar="URL",
            help="经服务操作（先 sandbox login）/ act through a Shuyu service (after sandbox login)",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="显示版本 / show the version and exit"
        ),
    ] = False,
) -> None:
    """Every command acts as ``--as USER`` (or ``SANDBOX_USER``) on the local home, or through the service
    ``--server URL`` (or ``SANDBOX_SERVER``) as the user ``sandbox login`` signed in."""
    if as_user and server:
        raise typer.BadParameter(
            "--as 只用于本机；经服务时用 sandbox login / --as is local only; use sandbox login"
        )
    state.user = as_user
    state.server = server


platform.register(app)
catalog.register(app)
audit.register(app)
identities.register(app)
scenarios.register(app)
governance.register(app)
products.register(app)
jobs.register(app)
samples.register(app)
quality.register(app)
register.register(app)
service.register(app)
billing.register(app)
