"""The settings of the optional LLM backend (docs/llm.md), part of `helixdesk.core.settings.Settings`."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

LlmUse = Literal["reword", "compose", "summary", "qa_second_opinion"]
LLM_USES: tuple[LlmUse, ...] = ("reword", "compose", "summary", "qa_second_opinion")


class LlmSettings(BaseSettings):
    """Documented in docs/configuration.md with every other setting."""

    # The optional LLM backend (docs/llm.md): off unless llm_enabled; the product is complete without it.
    llm_enabled: bool = Field(
        default=False,
        description="Use an LLM (an OpenAI-compatible chat-completions server) for the uses in llm_uses.",
    )
    llm_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the chat-completions server (POST {base}/v1/chat/completions).",
    )
    llm_model: str = Field(default="", max_length=200, description="The model name the server knows.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer token for the server, if any.")
    llm_timeout_seconds: float = Field(
        default=8.0, gt=0, le=120, description="How long one call may take before the template is used."
    )
    llm_max_tokens: int = Field(default=512, ge=16, le=8192, description="Most tokens one answer may have.")
    llm_stream: bool = Field(default=False, description="Ask for streamed answers (server-sent events).")
    llm_cost_per_1k_input_tokens: float = Field(
        default=0.0, ge=0, le=1000, description="Cost of 1,000 prompt tokens, in cost_currency (metering)."
    )
    llm_cost_per_1k_output_tokens: float = Field(
        default=0.0, ge=0, le=1000, description="Cost of 1,000 answer tokens, in cost_currency (metering)."
    )
    llm_uses: Annotated[list[LlmUse], NoDecode] = Field(
        default_factory=lambda: list(LLM_USES),
        description="What the LLM is used for when enabled (comma-separated).",
    )

    @field_validator("llm_uses", mode="before")
    @classmethod
    def _split_uses(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _llm_base(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("llm_base_url must be an http:// or https:// URL such as http://127.0.0.1:8000")
        return value.rstrip("/").removesuffix("/v1")

    @model_validator(mode="after")
    def _llm_model_named(self) -> Self:
        if self.llm_enabled and not self.llm_model.strip():
            raise ValueError("llm_enabled needs llm_model: the model name the server knows")
        return self
