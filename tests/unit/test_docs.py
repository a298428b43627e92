"""Documentation stays true: every setting, CLI command and NLU stage is documented."""

from __future__ import annotations

from pathlib import Path

import typer
import typer.main

from helixdesk.cli import app
from helixdesk.core.settings import Settings
from helixdesk.nlu.stage import registered_stages

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"setting {name} is missing from docs/configuration.md"
        assert f"HELIXDESK_{name.upper()}" in text


def _commands(group, prefix: str = "") -> list[str]:
    # The top-level group loads each command when asked for it by name (helixdesk.cli.COMMANDS).
    ctx = typer.Context(group)
    names = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        full = f"{prefix}{name}"
        if hasattr(command, "list_commands"):
            names += _commands(command, f"{full} ")
        else:
            names.append(full)
    return names


def test_every_cli_command_is_documented():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands = _commands(group)
    assert "bank seed" in commands
    for command in commands:
        assert f"helixdesk {command}" in text, f"`helixdesk {command}` is missing from docs/cli.md"


def test_every_stage_is_documented():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for name in registered_stages():
        if name.startswith("test_"):
            continue
        assert f"| `{name}` |" in text, f"stage {name} is missing from docs/architecture.md"


def test_every_error_code_in_the_api_is_documented():
    import re

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk"
    codes: set[str] = set()
    for path in (src / "conversations").glob("*.py"):
        codes |= set(re.findall(r'code = "([a-z_]+)"', path.read_text(encoding="utf-8")))
    codes |= set(
        re.findall(
            r'"([a-z_]+)"',
            (src / "edge" / "http.py").read_text(encoding="utf-8").split("_HTTP_CODES")[1].split("}")[0],
        )
    )
    for code in sorted(codes):
        if code in (
            "bad_request",
            "unauthorized",
            "forbidden",
            "not_acceptable",
            "unsupported_media_type",
            "http_error",
        ):
            continue  # generic HTTP statuses no v1 route produces today
        assert f"`{code}`" in text, f"error code {code} is missing from docs/api.md"


def test_every_console_error_code_is_documented():
    import re

    text = (DOCS / "agents.md").read_text(encoding="utf-8") + (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk"
    codes: set[str] = set()
    for folder in ("auth", "handoff", "agents"):
        for path in (src / folder).glob("*.py"):
            source = path.read_text(encoding="utf-8")
            codes |= set(re.findall(r'code = "([a-z_]+)"', source))
            codes |= set(re.findall(r'code="([a-z_]+)"', source))
    assert {"already_claimed", "agent_at_capacity", "auth_required"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/agents.md"


def test_every_console_string_and_pack_label_has_three_languages():
    import yaml

    from helixdesk.edge.i18n import _FILE
    from helixdesk.packs.loader import load_pack

    ui = yaml.safe_load(_FILE.read_text(encoding="utf-8"))
    assert all(set(v) == {"zh-Hans", "zh-Hant", "en"} for v in ui.values()), [
        k for k, v in ui.items() if len(v) != 3
    ]
    pack = load_pack("retail_bank").path
    labels = yaml.safe_load((pack / "handoff" / "labels.yaml").read_text(encoding="utf-8"))
    for group, entries in labels.items():
        for key, entry in entries.items():
            assert set(entry) == {"zh-Hans", "zh-Hant", "en"}, (group, key)
    spec = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "intents.yaml"
    if spec.is_file():
        intents = yaml.safe_load(spec.read_text(encoding="utf-8"))["intents"]
        assert set(intents) <= set(labels["intent"])


def test_every_knowledge_error_code_is_documented():
    import re

    text = (DOCS / "knowledge.md").read_text(encoding="utf-8") + (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "knowledge"
    codes: set[str] = set()
    for path in src.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'code = "([a-z_]+)"', source))
        codes |= set(re.findall(r'"code": "([a-z_]+)"', source))
    assert {"kb_invalid_faq", "kb_entry_not_found", "kb_ingest_failed"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/knowledge.md"


def test_every_incident_error_code_is_documented():
    import re

    text = (DOCS / "incidents.md").read_text(encoding="utf-8")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "incidents"
    codes: set[str] = set()
    for path in src.glob("*.py"):
        codes |= set(re.findall(r'code = "([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert codes == {
        "invalid_incident",
        "incident_not_found",
        "incident_resolved",
        "incident_changed",
        "hotspot_not_found",
    }
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/incidents.md"
        assert f"`{code}`" in api, f"error code {code} is missing from docs/api.md"


def test_every_wechat_error_code_is_documented():
    import re

    text = (DOCS / "channels.md").read_text(encoding="utf-8")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "channels" / "wechat"
    codes: set[str] = set()
    for path in src.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'code = "([a-z_]+)"', source))
        codes |= set(re.findall(r'code="([a-z_]+)"', source))
    assert {"wechat_bad_signature", "wechat_appid_mismatch", "wechat_bad_aes_key"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/channels.md"
    for code in sorted(c for c in codes if c not in ("wechat_bad_aes_key", "wechat_config")):
        assert f"`{code}`" in api, f"error code {code} is missing from docs/api.md"


def test_every_social_error_code_is_documented():
    import re

    text = (DOCS / "channels.md").read_text(encoding="utf-8")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    config = (DOCS / "configuration.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "channels" / "social"
    codes: set[str] = set()
    for path in src.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'code = "([a-z_]+)"', source))
        codes |= set(re.findall(r'code="([a-z_]+)"', source))
        codes |= set(re.findall(r'"(social_[a-z_]+)" if', source))
    startup = {
        "social_config_invalid",
        "social_config_missing",
        "social_mapping_invalid",
        "social_secret_missing",
    }
    assert startup | {"social_bad_signature", "social_stale_timestamp", "social_payload_mismatch"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/channels.md"
        assert f"`{code}`" in (config if code in startup else api), f"error code {code} is missing"


def test_every_simulation_error_code_is_documented():
    import re

    text = (DOCS / "simulation.md").read_text(encoding="utf-8")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk"
    codes: set[str] = set()
    for path in [*(src / "simulation").glob("*.py"), src / "cli" / "simulate.py"]:
        source = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'code = "([a-z_]+)"', source))
        codes |= set(re.findall(r'code="([a-z_]+)"', source))
    assert {"simulation_config_invalid", "simulation_target_invalid", "training_session_ended"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/simulation.md"
        if "training" in code or code in ("empty_message", "message_too_long"):
            assert f"`{code}`" in api, f"error code {code} is missing from docs/api.md"


def test_every_learning_error_code_is_documented():
    import re

    text = (DOCS / "learning.md").read_text(encoding="utf-8")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    source = (Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "learning" / "errors.py").read_text(
        "utf-8"
    )
    codes = set(re.findall(r'code = "([a-z_]+)"', source))
    assert {"invalid_label", "model_gate_failed", "override_reason_required", "no_previous_model"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/learning.md"
    for code in sorted(codes - {"dataset_not_found", "model_exists"}):  # the command line's only
        assert f"`{code}`" in api, f"error code {code} is missing from docs/api.md"


def test_every_phone_error_code_is_documented():
    import re

    text = (DOCS / "telephony.md").read_text(encoding="utf-8")
    src = Path(__file__).resolve().parents[2] / "src" / "helixdesk"
    codes: set[str] = set()
    for path in (src / "channels" / "phone").glob("*.py"):
        codes |= set(re.findall(r'code = "([a-z_]+)"', path.read_text(encoding="utf-8")))
    codes |= set(re.findall(r'code="([a-z_]+)"', (src / "cli" / "voice.py").read_text(encoding="utf-8")))
    assert {"audiosocket_unknown_kind", "audiosocket_truncated", "voice_port_unset"} <= codes
    for code in sorted(codes):
        assert f"`{code}`" in text, f"error code {code} is missing from docs/telephony.md"
