"""The platforms file: the shipped examples load; every mistake stops the start with a stable code
naming the platform and the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from helixdesk.channels.social.config import load_platforms
from helixdesk.channels.social.errors import SocialConfigError
from tests.social_sim import EXAMPLE, environ

ENV = environ("http://127.0.0.1:9/weibo", "http://127.0.0.1:9/messenger")


def _platform(**changes: object) -> dict:
    base = {
        "secret": "s" * 16,
        "signature": {"header": "X-Sig"},
        "default_kind": "direct_message",
        "fields": {"id": "id", "text": "text", "author_id": "from"},
        "outbound": {"url": "https://example.test/send", "body": {"to": "{author_id}", "text": "{text}"}},
    }
    base.update(changes)
    return base


def _load(tmp_path: Path, data: object, env: dict[str, str] | None = None):
    file = tmp_path / "platforms.yaml"
    file.write_text(
        data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    return load_platforms(file, ENV if env is None else env)


def test_the_shipped_examples_load_with_their_environment():
    platforms = load_platforms(EXAMPLE, ENV)
    assert set(platforms) == {"weibo", "messenger"}
    weibo, messenger = platforms["weibo"], platforms["messenger"]
    assert weibo.secret == ENV["HELIXDESK_SOCIAL_WEIBO_SECRET"].encode()
    assert weibo.scheme.timestamp_header == "X-Weibo-Timestamp" and weibo.scheme.encoding == "base64"
    assert weibo.outbound is not None and weibo.outbound.url == "http://127.0.0.1:9/weibo"
    assert weibo.outbound.scheme == weibo.scheme and weibo.outbound.secret == weibo.secret
    assert messenger.scheme.prefix == "sha256=" and messenger.mapping.default_kind == "direct_message"
    assert messenger.outbound is not None and messenger.outbound.body["messaging_type"] == "RESPONSE"


def test_a_minimal_platform_with_its_own_outbound_secret(tmp_path):
    out = {"url": "https://x.test/s", "secret": "${OUT_SECRET}", "body": {"m": "{text}"}}
    platforms = _load(tmp_path, {"platforms": {"forum-1": _platform(outbound=out)}}, {"OUT_SECRET": "o" * 20})
    p = platforms["forum-1"]
    assert p.outbound is not None and p.outbound.secret == b"o" * 20 and p.secret == b"s" * 16
    assert p.mapping.events is None and p.scheme.signed == "{body}"


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ("platforms: [", "social_config_invalid", "not valid UTF-8 YAML"),
        ("- a list", "social_config_invalid", "must hold a mapping"),
        ({"platforms": {}}, "social_config_invalid", "platforms"),
        ({"platforms": {"Weibo!": _platform()}}, "social_config_invalid", "platforms.Weibo!"),
        ({"platforms": {"x": _platform(colour="red")}}, "social_config_invalid", "platforms.x.colour"),
        (
            {"platforms": {"x": _platform(fields={"id": "id", "text": "t"})}},
            "social_config_invalid",
            "author_id",
        ),
        ({"platforms": {"x": _platform(default_kind=None)}}, "social_config_invalid", "default_kind"),
        (
            {
                "platforms": {
                    "x": _platform(fields={"id": "id", "text": "t", "author_id": "a", "kind": "type"})
                }
            },
            "social_config_invalid",
            "needs kinds",
        ),
        ({"platforms": {"x": _platform(kinds={"dm": "private"})}}, "social_config_invalid", "kinds.dm"),
        ({"platforms": {"x": _platform(created_at_format="%Y-%m-%d")}}, "social_config_invalid", "%z"),
        (
            {"platforms": {"x": _platform(signature={"header": "X-Sig", "encoding": "hex32"})}},
            "social_config_invalid",
            "signature.encoding",
        ),
        (
            {"platforms": {"x": _platform(signature={"header": "X-Sig", "signed": "{timestamp}.{body}"})}},
            "social_config_invalid",
            "timestamp_header",
        ),
        (
            {"platforms": {"x": _platform(signature={"header": "X-Sig", "signed": "{nonce}{body}"})}},
            "social_config_invalid",
            "only {body} and {timestamp}",
        ),
        (
            {"platforms": {"x": _platform(outbound={"url": "ftp://x", "body": {"t": "{text}"}})}},
            "social_config_invalid",
            "outbound.url",
        ),
        (
            {"platforms": {"x": _platform(events="entry..messaging")}},
            "social_mapping_invalid",
            "platforms.x.events",
        ),
        (
            {"platforms": {"x": _platform(fields={"id": "a.*.b", "text": "t", "author_id": "a"})}},
            "social_mapping_invalid",
            "fields.id",
        ),
        ({"platforms": {"x": _platform(skip_if=["/a/~9"])}}, "social_mapping_invalid", "skip_if"),
        (
            {"platforms": {"x": _platform(outbound={"url": "https://x.test", "body": {"t": "{txt}"}})}},
            "social_mapping_invalid",
            "unknown: txt",
        ),
        (
            {
                "platforms": {
                    "x": _platform(outbound={"url": "https://x.test", "body": {"to": "{author_id}"}})
                }
            },
            "social_mapping_invalid",
            "must use {text}",
        ),
        ({"platforms": {"x": _platform(secret="short")}}, "social_secret_missing", "platforms.x.secret"),
        (
            {"platforms": {"x": _platform(secret="${NOT_SET_ANYWHERE}")}},
            "social_secret_missing",
            "NOT_SET_ANYWHERE",
        ),
        (
            {"platforms": {"x": _platform(outbound={"url": "${NO_URL}", "body": {"t": "{text}"}})}},
            "social_config_invalid",
            "outbound.url names the environment variable NO_URL",
        ),
    ],
)
def test_mistakes_stop_the_start_with_a_stable_code(tmp_path, data, code, message):
    with pytest.raises(SocialConfigError) as e:
        _load(tmp_path, textwrap.dedent(data) if isinstance(data, str) else data)
    assert e.value.code == code, e.value.detail
    assert message in e.value.detail
    assert e.value.http_status == 500


def test_a_missing_file(tmp_path):
    with pytest.raises(SocialConfigError) as e:
        load_platforms(tmp_path / "nowhere.yaml", {})
    assert e.value.code == "social_config_missing"


def test_the_app_refuses_to_start_with_a_bad_file(tmp_path, sqlite_url):
    from helixdesk.core.settings import Settings
    from helixdesk.edge.container import Container

    file = tmp_path / "bad.yaml"
    file.write_text(
        yaml.safe_dump({"platforms": {"x": _platform(secret="${NOT_SET_ANYWHERE}")}}), encoding="utf-8"
    )
    with pytest.raises(SocialConfigError) as e:
        Container.build(
            Settings(  # type: ignore[call-arg]
                _env_file=None,
                database_url=sqlite_url,
                model_dir=tmp_path / "models",
                nlu_process=False,
                secret_key="t" * 32,
                social_platforms_file=file,
            )
        )
    assert e.value.code == "social_secret_missing"
