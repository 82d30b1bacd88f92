"""Every domain's tables, imported in one explicit list so the metadata is complete.

Imported by the migration environment and by the composition roots, never by domains.
"""

from warroom.accounts import models as accounts_models
from warroom.audit import models as audit_models
from warroom.catalog import models as catalog_models
from warroom.db.base import Base
from warroom.diagnosis import models as diagnosis_models
from warroom.incidents import models as incidents_models
from warroom.intake import models as intake_models
from warroom.learning import models as learning_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "audit_models",
    "catalog_models",
    "diagnosis_models",
    "incidents_models",
    "intake_models",
    "learning_models",
    "metadata",
]
