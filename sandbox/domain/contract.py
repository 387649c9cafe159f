"""A broken frame contract, in names from the manifest only, so it may travel to the developer.

The job process reports which output and which columns; the trusted side keeps the report only if
every name in it comes from the manifest (:meth:`FrameContract.within`), and words the message
itself. A job cannot pass anything else through this channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sandbox.domain.job import JobManifest, OutputSpec


class Breach(StrEnum):
    NO_BUILD = "no_build"  # the entry file defines no build(ctx)
    NOT_A_MAPPING = "not_a_mapping"  # build returned something other than {output: frame}
    OUTPUTS = "outputs"  # declared outputs missing from what build returned
    UNDECLARED = "undeclared"  # build returned outputs job.toml does not declare (never named)
    NOT_A_FRAME = "not_a_frame"
    COLUMNS = "columns"  # a frame lacks required columns


def required_columns(spec: OutputSpec) -> list[str]:
    """The columns a contribution frame must carry: the entity, the dimensions, the measures' inputs."""
    measures = [m.column for m in spec.measures if m.column]
    return list(dict.fromkeys([spec.entity, *spec.dimensions, *measures]))


@dataclass(frozen=True)
class FrameContract:
    breach: Breach
    output: str | None = None
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"breach": self.breach.value, "output": self.output, "missing": list(self.missing)}

    @classmethod
    def from_dict(cls, data: Any, manifest: JobManifest) -> FrameContract | None:
        """The report if it names only what ``manifest`` declares; otherwise ``None``."""
        try:
            contract = cls(Breach(data["breach"]), data.get("output"), tuple(data.get("missing") or ()))
        except (TypeError, KeyError, ValueError, AttributeError):
            return None
        return contract if contract.within(manifest) else None

    def within(self, manifest: JobManifest) -> bool:
        outputs = {o.name: o for o in manifest.outputs}
        if not all(isinstance(m, str) for m in self.missing) or not isinstance(self.output, str | None):
            return False
        if self.breach in (Breach.NO_BUILD, Breach.NOT_A_MAPPING, Breach.UNDECLARED):
            return self.output is None and not self.missing
        if self.breach is Breach.OUTPUTS:
            return self.output is None and set(self.missing) <= set(outputs)
        if self.output not in outputs:
            return False
        return not self.missing or set(self.missing) <= set(required_columns(outputs[self.output]))

    def message(self, manifest: JobManifest) -> tuple[str, str]:
        """The reason in Chinese and English, worded here from manifest names."""
        missing = ", ".join(self.missing)
        declared = ", ".join(o.name for o in manifest.outputs)
        if self.breach is Breach.NO_BUILD:
            return f"{manifest.entry} 没有定义 build(ctx)", f"{manifest.entry} defines no build(ctx)"
        if self.breach is Breach.NOT_A_MAPPING:
            return (
                f"build(ctx) 须返回 {{输出名: DataFrame}}（声明的输出：{declared}）",
                f"build(ctx) must return {{output name: DataFrame}} (declared outputs: {declared})",
            )
        if self.breach is Breach.UNDECLARED:
            return (
                f"build(ctx) 返回了 job.toml 未声明的输出（声明的输出：{declared}）",
                f"build(ctx) returned outputs job.toml does not declare (declared: {declared})",
            )
        if self.breach is Breach.OUTPUTS:
            return (
                f"build(ctx) 没有返回声明的输出：{missing}",
                f"build(ctx) did not return declared output(s): {missing}",
            )
        if self.breach is Breach.NOT_A_FRAME:
            return f"输出 {self.output} 不是 DataFrame", f"output {self.output} is not a DataFrame"
        spec = next(o for o in manifest.outputs if o.name == self.output)
        entity_zh = f"（{spec.entity} 是其主体列）" if spec.entity in self.missing else ""
        entity_en = f" ({spec.entity} is its entity column)" if spec.entity in self.missing else ""
        return (
            f"输出 {self.output} 缺少列：{missing}{entity_zh}",
            f"output {self.output} lacks column(s): {missing}{entity_en}",
        )
