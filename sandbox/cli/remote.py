"""The CLI as a client of a Shuyu service: ``sandbox --server URL`` after ``sandbox login``.

The token ``sandbox login`` obtains is kept per server in ``~/.config/shuyu/credentials.json``
(``SANDBOX_CONFIG_DIR`` elsewhere), readable by its owner only. Errors come back as the service's
own bilingual errors with their codes, so a command fails the same way locally and remotely.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from sandbox.domain.errors import ConfigError, NotFoundError, PermissionDenied, ShuyuError

API = "/api/v1"
TIMEOUT_S = 60.0


def config_dir() -> Path:
    return Path(os.environ.get("SANDBOX_CONFIG_DIR") or Path.home() / ".config" / "shuyu")


def _credentials_path() -> Path:
    return config_dir() / "credentials.json"


def _credentials() -> dict[str, dict]:
    path = _credentials_path()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write(stored: dict[str, dict]) -> Path:
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(stored, handle, ensure_ascii=False, indent=2)
    os.replace(path.with_suffix(".tmp"), path)
    return path


def save_token(server: str, user: str, token_id: str, secret: str) -> Path:
    return _write({**_credentials(), normalise(server): {"user": user, "token": token_id, "secret": secret}})


def forget(server: str) -> dict | None:
    stored = _credentials()
    entry = stored.pop(normalise(server), None)
    if entry is not None:
        _write(stored)
    return entry


def normalise(server: str) -> str:
    return server.rstrip("/")


class Remote:
    """One server, one token; every call returns decoded JSON or raises the service's own error."""

    def __init__(self, server: str, secret: str | None = None) -> None:
        self.server = normalise(server)
        entry = _credentials().get(self.server)
        self.secret = secret or (entry or {}).get("secret")
        self.user = (entry or {}).get("user")
        self._me: dict | None = None

    def request(self, method: str, path: str, *, authenticated: bool = True, **kwargs) -> Any:
        headers = {}
        if authenticated:
            if not self.secret:
                raise PermissionDenied(
                    f"尚未登录 {self.server}，请先运行 sandbox --server {self.server} login",
                    f"not signed in to {self.server}; run `sandbox --server {self.server} login` first",
                )
            headers["Authorization"] = f"Bearer {self.secret}"
        if kwargs.get("params"):  # an option left out is not sent (httpx would send it empty)
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if v is not None}
        try:
            response = httpx.request(method, self.url(path), headers=headers, timeout=TIMEOUT_S, **kwargs)
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"无法连接服务 {self.server}：{type(exc).__name__}",
                f"cannot reach {self.server}: {type(exc).__name__}",
            ) from None
        if response.is_success:
            if response.headers.get("content-type", "").startswith("application/json"):
                return response.json()
            return response.content
        raise _error_of(response)

    def url(self, path: str) -> str:
        return self.server + API + path

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs) -> Any:
        return self.request("DELETE", path, **kwargs)

    def upload(self, path: str, files: Iterable[tuple[str, Path]]) -> Any:
        """POST ``(name, path)`` files as one multipart request of ``files`` parts, streamed from disk."""
        with ExitStack() as stack:
            parts = [("files", (name, stack.enter_context(p.open("rb")))) for name, p in files]
            return self.post(path, files=parts)

    def me(self) -> dict:
        if self._me is None:
            self._me = self.get("/me")
        return self._me

    def route(self, routers: Mapping[str, str]) -> str:
        """The router (``/developer``, ``/operator``…) that serves the signed-in user: the first of ``routers``
        (role → router) whose role they hold; with none, the first, so the service refuses in its own words."""
        roles = set(self.me()["roles"])
        return next(
            (router for role, router in routers.items() if role in roles), next(iter(routers.values()))
        )


def _error_of(response: httpx.Response) -> ShuyuError:
    try:
        body = response.json()
        return ShuyuError(body["zh"], body["en"], code=body["code"])
    except (ValueError, KeyError, TypeError):
        if response.status_code == 404:
            return NotFoundError(
                "服务上没有这个地址（版本不一致？）", "no such path on the service (version mismatch?)"
            )
        return ShuyuError(f"服务返回 HTTP {response.status_code}", f"the service answered HTTP {response.status_code}",
                          code="E120")  # fmt: skip
