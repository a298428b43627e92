"""One `Settings` object, read from `HELIXDESK_*` environment variables (and an optional `.env`)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from helixdesk.core.channel_settings import ChannelSettings
from helixdesk.core.llm_settings import LLM_USES, LlmSettings, LlmUse
from helixdesk.core.timezones import zone

__all__ = ["LLM_USES", "LlmUse", "Settings"]


class Settings(ChannelSettings, LlmSettings):
    """Every setting is documented in docs/configuration.md (a test keeps the two in step). The
    channels' settings are in `ChannelSettings`, the LLM backend's in `LlmSettings`."""

    model_config = SettingsConfigDict(
        env_prefix="HELIXDESK_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="sqlite:///./var/helixdesk.db",
        description="SQLAlchemy URL: sqlite:///PATH (embedded default) or postgresql+psycopg://USER@HOST/DB.",
    )
    event_bus: Literal["memory", "redis", "nats"] = Field(
        default="memory",
        description=(
            "Event bus: 'memory' for one process, 'redis' (Redis Streams) for several workers, "
            "'nats' (NATS JetStream, replicated) for several nodes or sites."
        ),
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS servers for the 'nats' bus, comma-separated (every server of the cluster).",
    )
    nats_stream: str = Field(
        default="HELIXDESK_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="JetStream stream name."
    )
    nats_replicas: int = Field(
        default=1, ge=1, le=5, description="Copies of each event in the JetStream cluster (3 in production)."
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis URL for the 'redis' bus.")
    redis_stream: str = Field(default="helixdesk:events", description="Redis stream name for events.")
    bus_retention_hours: float = Field(
        default=24,
        gt=0,
        le=24 * 90,
        description="How long events stay in the Redis stream (the event log in the database is the record).",
    )
    nlu_process: bool = Field(
        default=True,
        description="Understand messages in a process of their own (on another core) rather than a thread of the worker.",
    )
    quality_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs quality monitoring (`helixdesk qa run`) as a child process.",
    )
    insight_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs insight (`helixdesk insight run`: hotspots) as a child process.",
    )
    analytics_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs analytics (`helixdesk analytics run`: the dashboards' rollups) as a child process.",
    )
    outreach_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs outreach (`helixdesk outreach run`: goodwill after a resolved complaint) as a child process.",
    )
    learning_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs learning (`helixdesk learning run`: the labelling queue, shadow runs) as a child process.",
    )
    cost_agent_per_hour: float = Field(
        default=90.0,
        ge=0,
        le=100_000,
        description="Analytics' cost model: what an hour of an agent's time costs.",
    )
    cost_bot_per_conversation: float = Field(
        default=0.6,
        ge=0,
        le=100_000,
        description="Analytics' cost model: what the bot costs per conversation.",
    )
    cost_baseline_minutes: float = Field(
        default=6.0,
        gt=0,
        le=600,
        description="Analytics' cost model: the minutes of an agent's time a conversation the bot contained would have taken (the all-human baseline).",
    )
    cost_currency: str = Field(
        default="CNY",
        pattern=r"^[A-Z]{3}$",
        description="Analytics' cost model: the currency of the costs (ISO 4217).",
    )
    analytics_reports_dir: str = Field(
        default="./var/reports",
        max_length=1000,
        description="Where analytics writes the scheduled PDF reports (the daily one after midnight in the bank's time zone, the weekly one on Monday); empty: none.",
    )
    analytics_reports_language: Literal["zh-Hans", "zh-Hant", "en"] = Field(
        default="zh-Hans",
        description="The language of the scheduled PDF reports.",
    )
    drift_worker: bool = Field(
        default=True,
        description="`helixdesk serve` also runs drift monitoring (`helixdesk drift run`: the daily NLU figures, their alarms and the weekly retraining job) as a child process.",
    )
    drift_judge_seconds: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="Drift monitoring: how often the drift process judges the days whose figures changed, in seconds.",
    )
    drift_reference_days: int = Field(
        default=28,
        ge=7,
        le=365,
        description="Drift monitoring: a day is compared with this many days before it (unless a reference period is pinned).",
    )
    drift_reference_start: date | None = Field(
        default=None,
        description="Drift monitoring: the first day (YYYY-MM-DD) of a pinned reference period, with `drift_reference_end`; unset: the moving window.",
    )
    drift_reference_end: date | None = Field(
        default=None,
        description="Drift monitoring: the last day (YYYY-MM-DD, inclusive) of a pinned reference period.",
    )
    drift_min_messages: int = Field(
        default=30,
        ge=10,
        le=1_000_000,
        description="Drift monitoring: the fewest understood messages a day (and each language of it) needs before it is judged.",
    )
    drift_intent_jsd: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Drift monitoring: the Jensen-Shannon divergence (base 2) of the day's intent mix from the reference's that raises an alarm.",
    )
    drift_confidence_drop: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Drift monitoring: the fall of the mean intent confidence that raises an alarm.",
    )
    drift_oos_rise: float = Field(
        default=0.06,
        gt=0,
        le=1,
        description="Drift monitoring: the rise of the out-of-scope share that raises an alarm.",
    )
    drift_vocabulary_rise: float = Field(
        default=0.04,
        gt=0,
        le=1,
        description="Drift monitoring: the rise of the share of tokens outside the reference vocabulary that raises an alarm.",
    )
    drift_retrain_weekly: bool = Field(
        default=True,
        description="Drift monitoring: once a week, propose (never promote) a candidate model when there are new labels since the last one.",
    )
    outbox_poll_seconds: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description="How often the outbox relay looks for events stored by other workers, in seconds.",
    )
    turn_lease_seconds: float = Field(
        default=30,
        ge=1,
        le=600,
        description="How long a bot turn holds its conversation; a worker that dies mid-turn loses it then.",
    )
    campaign_messages_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Incident campaigns: at most this many notices per minute over all campaigns; unset: the pack's (retail_bank: 60).",
    )
    campaign_quiet_hours: str | None = Field(
        default=None,
        pattern=r"^(off|([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9])$",
        description="Incident campaigns: the bank's local hours when no notice is sent (21:00-08:00), or off; unset: the pack's (retail_bank: 21:00-08:00).",
    )
    pack: str = Field(
        default="retail_bank", description="Domain pack to load (a folder under helixdesk/packs)."
    )
    bank_timezone: str | None = Field(
        default=None,
        description=(
            "The bank's time zone, an IANA name (Asia/Shanghai, Asia/Hong_Kong); unset: the pack's "
            "(retail_bank: Asia/Shanghai)."
        ),
    )
    handoff_policy: Path | None = Field(
        default=None,
        description=(
            "A handoff policy file (YAML) used instead of the pack's handoff/policy.yaml: triggers, "
            "queues, SLA targets, wellbeing. Unset: the pack's."
        ),
    )
    model_dir: Path = Field(
        default=Path("./var/models"),
        description="Where trained NLU models live; the server loads the newest one for the pack.",
    )
    max_message_chars: int = Field(
        default=2000, ge=1, le=20000, description="Longest customer message accepted, in characters."
    )
    max_request_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest HTTP request body accepted, in bytes."
    )
    kb_upload_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest document uploaded to the knowledge base from the console, in bytes.",
    )
    ws_history_limit: int = Field(
        default=500, ge=1, description="Most messages replayed to a WebSocket that resumes."
    )
    shutdown_grace_seconds: float = Field(
        default=8.0,
        ge=0.5,
        le=600,
        description="On SIGTERM, how long requests in flight may take before they are cancelled.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret for HMACs of one-time codes (32+ characters); unset: a generated key in var/.",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description=(
            "AES-256 keys for personal data at rest, 'KEY_ID:BASE64,...' (helixdesk keys generate); "
            "unset: a generated key file in var/."
        ),
    )
    encryption_active_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$",
        description="The id of the key that encrypts new values (needed when several keys are configured).",
    )
    encryption_rotate_batch: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Rows re-encrypted per transaction by `helixdesk keys rotate`.",
    )
    demo_pages: bool = Field(
        default=True,
        description="Demo mode: serve the demo pages (/demo/outbox) and let the chat page sign in as a "
        "demo customer (`?customer=`) without a channel API key. Turn off in production.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Wrong passwords in a row before a staff account is locked."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a staff account stays locked after that."
    )
    session_idle_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="A staff session ends after this long without activity."
    )
    session_max_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 7,
        description="A staff session ends this long after sign-in, active or not.",
    )
    password_min_length: int = Field(
        default=12, ge=8, le=128, description="Shortest password accepted for staff accounts."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Secure flag of the staff session cookie: 'auto' sets it when the request came over "
        "HTTPS (behind a proxy, run uvicorn with --proxy-headers), 'always' for TLS-only sites.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server and CLI."
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit log's hash chain (32+ characters); unset: derived from secret_key.",
    )
    # Retention, in days; 0 keeps the data class for ever (docs/security.md).
    retention_conversations_days: int = Field(
        default=730, ge=0, description="Days after a conversation's last message before its text is removed."
    )
    retention_nlu_days: int = Field(
        default=90,
        ge=0,
        description="Days before a conversation's NLU records are cut to intent and emotion.",
    )
    retention_outbox_days: int = Field(
        default=7, ge=0, description="Days demo outbox notifications are kept."
    )
    retention_verification_days: int = Field(
        default=30, ge=0, description="Days one-time-code challenges and failed attempts are kept."
    )
    retention_dialogue_state_days: int = Field(
        default=30, ge=0, description="Days an idle conversation's dialogue state is kept."
    )
    retention_action_records_days: int = Field(
        default=730, ge=0, description="Days action run records and idempotency results are kept."
    )
    retention_audit_days: int = Field(
        default=0, ge=0, description="Days audit entries are kept (0: for ever); pruned as a verified prefix."
    )
    rate_limit_backend: Literal["auto", "memory", "redis"] = Field(
        default="auto",
        description="Rate-limit counters: memory (one process), redis (shared), auto (as event_bus).",
    )
    rate_limit_ip_per_minute: int = Field(
        default=600,
        ge=0,
        description="HTTP requests and WebSocket connections per client IP per minute (0: off).",
    )
    rate_limit_api_key_per_minute: int = Field(
        default=1200, ge=0, description="HTTP requests per X-Api-Key value per minute (0: off)."
    )
    rate_limit_conversation_messages_per_minute: int = Field(
        default=30,
        ge=0,
        description="Customer messages per conversation per minute, REST and WebSocket (0: off).",
    )
    rate_limit_ws_frames_per_minute: int = Field(
        default=240, ge=0, description="Frames of any type per WebSocket connection per minute (0: off)."
    )
    ws_max_per_ip: int = Field(
        default=20, ge=0, description="Open WebSockets per client IP in each worker process (0: no cap)."
    )
    ws_max_per_conversation: int = Field(
        default=5, ge=0, description="Open WebSockets per conversation in each worker process (0: no cap)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (comma-separated); none by default.",
    )
    qa_review_sample_percent: float = Field(
        default=5.0,
        ge=0,
        le=100,
        description="Percent of closed conversations sampled for human QA review (stable per conversation).",
    )
    learning_sample_low_confidence: float = Field(
        default=20.0,
        ge=0,
        le=100,
        description="Percent of low-confidence customer messages sampled for labelling.",
    )
    learning_sample_out_of_scope: float = Field(
        default=20.0,
        ge=0,
        le=100,
        description="Percent of out-of-scope customer messages sampled for labelling.",
    )
    learning_sample_corrected: float = Field(
        default=100.0,
        ge=0,
        le=100,
        description='Percent of customer messages the customer then corrected ("不是这个，我是说…") sampled for labelling.',
    )
    learning_sample_handed_over: float = Field(
        default=20.0,
        ge=0,
        le=100,
        description="Percent of customers' last messages before a handover sampled for labelling.",
    )
    learning_low_confidence: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Below this intent confidence a message counts as low-confidence.",
    )
    learning_double_label_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="Percent of labelling items two annotators label independently.",
    )
    learning_gate_tolerance: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Release gate: the most a candidate's F1 on any label of the regression set may fall below the live model's (one message of a label with ~20 moves its F1 by 0.025-0.05).",
    )
    learning_reload_seconds: float = Field(
        default=5.0,
        ge=0.5,
        le=600,
        description="How often each server process checks for a newly promoted model.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("database_url must be an sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("bank_timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)  # a clear message naming the value: "unknown time zone 'Asia/Shangai': ..."
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("audit_key")
    @classmethod
    def _long_audit_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("audit_key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            for origin in value:
                if not isinstance(origin, str) or not re.fullmatch(
                    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?", origin
                ):
                    raise ValueError(
                        "cors_origins must be exact origins like https://bank.example (no wildcard, no path)"
                    )
        return value

    @model_validator(mode="after")
    def _audit_kept_longest(self) -> Settings:
        if self.retention_audit_days:
            others = {
                name: getattr(self, name)
                for name in type(self).model_fields
                if name.startswith("retention_") and name != "retention_audit_days"
            }
            longer = [f"{k}={v}" for k, v in others.items() if v == 0 or v > self.retention_audit_days]
            if longer:
                raise ValueError(
                    "retention_audit_days must be 0 (keep for ever) or at least every other retention "
                    f"period, so the audit log outlives the data it describes; longer: {', '.join(longer)}"
                )
        return self

    @model_validator(mode="after")
    def _drift_reference_period(self) -> Settings:
        start, end = self.drift_reference_start, self.drift_reference_end
        if (start is None) != (end is None):
            raise ValueError("set both drift_reference_start and drift_reference_end, or neither")
        if start is not None and end is not None and end < start:
            raise ValueError("drift_reference_end is before drift_reference_start")
        return self

    @model_validator(mode="after")
    def _sqlite_dir(self) -> Settings:
        path = self.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split(":///", 1)[-1]
        if not raw or raw == ":memory:":
            return None
        return Path(raw)
