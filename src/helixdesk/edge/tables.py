"""Every table: imports each model module so `Base.metadata` is complete (Alembic, tests, and every
command of the command line). The encrypted columns are listed in `edge/encrypted.py`."""

from helixdesk.actions import models as action_models
from helixdesk.analytics import models as analytics_models
from helixdesk.audit import models as audit_models
from helixdesk.auth import models as auth_models
from helixdesk.bank import models as bank_models
from helixdesk.bus import consumer as consumer_models
from helixdesk.bus import outbox as event_log_models
from helixdesk.channels.social import models as social_models
from helixdesk.channels.wechat import models as wechat_models
from helixdesk.conversations import models as conversation_models
from helixdesk.db import lease as lease_models
from helixdesk.db.base import Base
from helixdesk.dialogue import state as dialogue_models
from helixdesk.drift import models as drift_models
from helixdesk.handoff import models as handoff_models
from helixdesk.identity import models as identity_models
from helixdesk.incidents import models as incident_models
from helixdesk.insight import models as insight_models
from helixdesk.knowledge import models as knowledge_models
from helixdesk.learning import models as learning_models
from helixdesk.lifecycle import models as lifecycle_models
from helixdesk.llm import models as llm_models
from helixdesk.memory import models as memory_models
from helixdesk.notifications import models as notification_models
from helixdesk.outreach import models as outreach_models
from helixdesk.privacy import models as privacy_models
from helixdesk.quality import models as quality_models
from helixdesk.simulation import models as training_models

__all__ = [
    "Base",
    "action_models",
    "analytics_models",
    "audit_models",
    "auth_models",
    "bank_models",
    "consumer_models",
    "conversation_models",
    "dialogue_models",
    "drift_models",
    "event_log_models",
    "handoff_models",
    "identity_models",
    "incident_models",
    "insight_models",
    "knowledge_models",
    "learning_models",
    "lease_models",
    "lifecycle_models",
    "llm_models",
    "memory_models",
    "notification_models",
    "outreach_models",
    "privacy_models",
    "quality_models",
    "social_models",
    "training_models",
    "wechat_models",
]
