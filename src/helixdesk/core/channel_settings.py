"""The settings of images, speech and the channels (phone, WeChat and WeCom, social platforms),
part of `helixdesk.core.settings.Settings` (read from `HELIXDESK_*` like the rest)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class ChannelSettings(BaseSettings):
    """Documented in docs/configuration.md with every other setting."""

    image_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="Largest image a customer may send (PNG, JPEG or WebP), in bytes.",
    )
    image_max_pixels: int = Field(
        default=16_000_000,
        ge=10_000,
        le=100_000_000,
        description="Most pixels (width x height) in an image a customer sends; larger ones are refused.",
    )
    ocr_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="ONNX Runtime threads of the OCR that reads customers' images (one read at a time).",
    )
    audio_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="Largest voice message a customer may send (WAV, MP3, Ogg/Opus, AMR, M4A), in bytes.",
    )
    audio_max_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=600.0,
        description="Longest voice message a customer may send, in seconds; longer ones are refused.",
    )
    speech_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="CPU threads of the speech recogniser (one transcription at a time).",
    )
    tts_backend: Literal["espeak", "piper"] = Field(
        default="espeak",
        description=(
            "Text-to-speech backend: espeak (espeak-ng, every language) or piper (English with Piper, "
            "the optional extra voice-piper, GPL-3.0; other languages by espeak-ng)."
        ),
    )
    tts_cache_dir: Path | None = Field(
        default=None,
        description="Where rendered speech (the voice menu's fixed prompts) is kept; unset: in memory only.",
    )
    voice_audiosocket_host: str = Field(
        default="127.0.0.1",
        description="Interface the phone channel's AudioSocket server listens on (Asterisk connects to it).",
    )
    voice_audiosocket_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="TCP port of the phone channel's AudioSocket server; unset: no phone channel.",
    )
    voice_max_calls: int = Field(
        default=20, ge=1, le=1000, description="Most phone calls at once; one more is hung up."
    )
    voice_vad_threshold_db: float = Field(
        default=-40.0,
        ge=-90.0,
        le=-5.0,
        description="Level (dB below full scale) from which a 20 ms frame of a caller's audio counts as speech.",
    )
    voice_vad_hangover_ms: int = Field(
        default=700,
        ge=200,
        le=3000,
        description="Silence after which a caller's utterance has ended, in milliseconds.",
    )
    voice_vad_min_speech_ms: int = Field(
        default=200,
        ge=40,
        le=2000,
        description="Shortest speech taken as an utterance (shorter sounds are noise), in milliseconds.",
    )
    voice_max_utterance_seconds: float = Field(
        default=15.0,
        ge=2.0,
        le=60.0,
        description="Longest utterance: a caller speaking on is cut there and recognised.",
    )
    voice_min_confidence: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="Recognition confidence below which the caller is asked to repeat instead of the bot guessing.",
    )
    voice_no_input_seconds: float = Field(
        default=6.0,
        ge=1.0,
        le=60.0,
        description="Silence after a prompt before the caller is prompted again, in seconds.",
    )
    # The WeChat channel (docs/channels.md): one official account and one WeCom app; each is off
    # until its id, token and EncodingAESKey are set.
    wechat_app_id: str | None = Field(
        default=None, description="The WeChat official account's AppID (wx...); unset: the account is off."
    )
    wechat_token: SecretStr | None = Field(
        default=None, description="The official account's callback Token (signs WeChat's requests)."
    )
    wechat_encoding_aes_key: SecretStr | None = Field(
        default=None,
        description="The official account's EncodingAESKey (43 characters): messages are encrypted (safe mode).",
    )
    wechat_app_secret: SecretStr | None = Field(
        default=None,
        description="The official account's AppSecret, for the access token of the customer-service message API.",
    )
    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com",
        description="Base URL of the official account API (access token, customer-service messages).",
    )
    wecom_corp_id: str | None = Field(
        default=None, description="The WeCom (企业微信) corp id (ww...); unset: the WeCom app is off."
    )
    wecom_agent_id: int | None = Field(
        default=None, description="The WeCom app's AgentId (sending messages)."
    )
    wecom_token: SecretStr | None = Field(default=None, description="The WeCom app's callback Token.")
    wecom_encoding_aes_key: SecretStr | None = Field(
        default=None, description="The WeCom app's callback EncodingAESKey (43 characters)."
    )
    wecom_secret: SecretStr | None = Field(
        default=None, description="The WeCom app's Secret, for the access token of the message API."
    )
    wecom_api_base: str = Field(
        default="https://qyapi.weixin.qq.com",
        description="Base URL of the WeCom API (gettoken, message/send).",
    )
    wechat_reply_budget_seconds: float = Field(
        default=4.0,
        ge=0,
        le=4.5,
        description=(
            "How long a WeChat callback waits for the bot's answer to reply in the callback itself; "
            "later answers go out through the customer-service message API (WeChat waits 5 s)."
        ),
    )
    # The social channel (docs/channels.md): off until a platforms file is given.
    social_platforms_file: Path | None = Field(
        default=None,
        description=(
            "YAML file of the social platforms whose webhooks are accepted (secret, signature, "
            "payload mapping, outbound URL); unset: the social channel is off."
        ),
    )
    wechat_picture_hosts: str = Field(
        default="mmbiz.qpic.cn",
        description=(
            "Hosts (comma-separated) a WeChat picture's PicUrl may be fetched from when it cannot be "
            "had by its MediaId through the API; a PicUrl on any other host is not fetched."
        ),
    )
    wechat_timestamp_tolerance_seconds: int = Field(
        default=300,
        ge=30,
        le=86400,
        description=(
            "Plain mode only (no EncodingAESKey): a callback whose timestamp is further than this "
            "from the server's clock is refused, and each nonce is remembered twice as long (a "
            "nonce used again with another body is refused)."
        ),
    )
