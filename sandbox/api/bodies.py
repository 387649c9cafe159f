"""Request bodies that more than one actor's router takes, because the service admits more than one role
for the action: a scenario proposal (operators and developers of an operator organization) and a manual
data correction request (operators, and developers on a scenario that uses the dataset).

``arguments()`` is the body as the service's keyword arguments, so each router calls the same service
with the same arguments and nothing is shaped twice.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from sandbox.domain.identifiers import NAME
from sandbox.domain.quality import Dimension, Severity
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance.scenarios import ColumnRequest

ID = 64  # the longest identifier any kind allows


class ColumnBody(BaseModel):
    dataset: str = Field(pattern=f"^{NAME}$")
    column: str = Field(min_length=1, max_length=64)
    justification: str = Field(min_length=1, max_length=2000)


class ProposeRequest(BaseModel):
    id: str = Field(pattern=f"^{NAME}$")
    title: str = Field(min_length=1, max_length=200)
    category: ScenarioCategory
    columns: list[ColumnBody] = Field(min_length=1, max_length=200)
    planned_products: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=50
    )
    description: str = Field("", max_length=5000)
    value: str = Field("", max_length=5000)

    def arguments(self) -> dict:
        """``scenarios.propose``'s keyword arguments."""
        columns = [ColumnRequest(c.dataset, c.column.strip(), c.justification.strip()) for c in self.columns]
        return {"scenario_id": self.id, "title": self.title, "category": self.category,
                "description": self.description, "value_statement": self.value,
                "planned_products": self.planned_products, "columns": columns}  # fmt: skip


class RaiseRequest(BaseModel):
    dataset: str = Field(min_length=1, max_length=ID)
    description: str = Field(min_length=1, max_length=2000)
    column: str = Field("", max_length=ID)
    severity: Severity = Severity.MEDIUM
    dimension: Dimension = Dimension.ACCURACY

    def arguments(self) -> dict:
        """``tickets.raise_request``'s keyword arguments."""
        return {"dataset_id": self.dataset, "description": self.description, "column": self.column,
                "severity": self.severity, "dimension": self.dimension}  # fmt: skip
