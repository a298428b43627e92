"""The LLM's settings: off by default, and a clear message for each wrong value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from helixdesk.core.settings import Settings


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg,arg-type]


def test_off_by_default_with_every_use_listed() -> None:
    s = settings()
    assert s.llm_enabled is False and s.llm_api_key is None
    assert s.llm_uses == ["reword", "compose", "summary", "qa_second_opinion"]
    assert (s.llm_cost_per_1k_input_tokens, s.llm_cost_per_1k_output_tokens) == (0.0, 0.0)


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELIXDESK_LLM_ENABLED", "true")
    monkeypatch.setenv("HELIXDESK_LLM_MODEL", "qwen2.5:0.5b")
    monkeypatch.setenv("HELIXDESK_LLM_BASE_URL", "http://10.0.0.5:11434/v1/")
    monkeypatch.setenv("HELIXDESK_LLM_USES", "reword, summary")
    monkeypatch.setenv("HELIXDESK_LLM_API_KEY", "sk-local")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.llm_base_url == "http://10.0.0.5:11434"  # the client adds /v1/chat/completions
    assert s.llm_uses == ["reword", "summary"]
    assert s.llm_api_key is not None and s.llm_api_key.get_secret_value() == "sk-local"
    assert "sk-local" not in repr(s)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_enabled": "true"}, "llm_enabled needs llm_model"),
        ({"llm_base_url": "ftp://models.local"}, "llm_base_url must be an http:// or https:// URL"),
        ({"llm_uses": "reword,translate"}, "llm_uses"),
        ({"llm_timeout_seconds": "0"}, "llm_timeout_seconds"),
        ({"llm_max_tokens": "4"}, "llm_max_tokens"),
        ({"llm_cost_per_1k_output_tokens": "-1"}, "llm_cost_per_1k_output_tokens"),
    ],
)
def test_a_wrong_value_is_refused_with_its_name(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as e:
        settings(**values)
    assert message in str(e.value)
