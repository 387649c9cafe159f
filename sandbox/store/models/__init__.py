"""SQLAlchemy 2 models of the metadata store.

Only metadata lives here: catalog entries, version records, governance, audit events. Data lives
in the zones on disk; key material lives in ``secrets/`` and never in these tables.
"""

from sandbox.store.models.audit import AuditEventRow, AuditHeadRow
from sandbox.store.models.base import Base
from sandbox.store.models.catalog import (
    CodeTableRow,
    DatasetColumnRow,
    DatasetRow,
    DatasetVersionRow,
    ProviderRow,
    QuarantineRow,
)
from sandbox.store.models.delivery import ApiKeyDayRow, ApiKeyRow, ProductUsageRow
from sandbox.store.models.gate import PrivacyBudgetRow, PrivacySpendRow, ReleaseCellRow, ReleaseRow
from sandbox.store.models.governance import (
    ApiTokenRow,
    AuthFailureRow,
    AuthorizationRow,
    ConsentRow,
    OrganizationRow,
    ScenarioColumnRow,
    ScenarioMemberRow,
    ScenarioRow,
    UserRow,
)
from sandbox.store.models.products import ProductRow, ProductTermsRow, RedevelopmentRow
from sandbox.store.models.quality import (
    QualityDeliveryRow,
    QualityExceptionRow,
    QualityRuleResultRow,
    QualityRunRow,
    QualityTicketRow,
    QualityWebhookRow,
)
from sandbox.store.models.runtime import JobRunRow, JobSubmissionRow, ProductVersionRow
from sandbox.store.models.samples import ProfileFindingRow, SampleDatasetRow, SampleVersionRow
from sandbox.store.models.tasks import TaskRow

__all__ = [
    "ApiKeyDayRow", "ApiKeyRow", "ApiTokenRow", "AuditEventRow", "AuthFailureRow", "AuditHeadRow", "AuthorizationRow", "Base", "CodeTableRow",
    "ConsentRow", "DatasetColumnRow", "JobRunRow", "JobSubmissionRow", "ProductVersionRow", "DatasetRow", "DatasetVersionRow", "OrganizationRow",
    "PrivacyBudgetRow", "PrivacySpendRow", "ProductRow", "ProductTermsRow", "ProductUsageRow", "ProviderRow", "ReleaseCellRow", "ReleaseRow", "QualityDeliveryRow", "QualityExceptionRow",
    "QualityRuleResultRow", "QualityRunRow", "QualityTicketRow", "QualityWebhookRow", "QuarantineRow", "RedevelopmentRow", "ScenarioColumnRow",
    "ScenarioMemberRow", "ScenarioRow", "UserRow",
    "ProfileFindingRow", "SampleDatasetRow", "SampleVersionRow", "TaskRow",
]  # fmt: skip
