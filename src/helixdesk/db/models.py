"""Imports every model module so `Base.metadata` is complete (Alembic, tests)."""

from helixdesk.bank import models as bank_models
from helixdesk.conversations import models as conversation_models
from helixdesk.db.base import Base
from helixdesk.knowledge import models as knowledge_models

__all__ = ["Base", "bank_models", "conversation_models", "knowledge_models"]
