"""Errors of the phone channel (stable codes; documented in docs/telephony.md).

A call's connection that breaks the AudioSocket protocol is ended with one of these codes in the
log: the call's stored messages stay as they are."""

from __future__ import annotations

from helixdesk.core.errors import AppError


class AudioSocketError(AppError):
    """The peer sent something that is not the AudioSocket protocol."""

    code = "audiosocket_protocol"
    http_status = 400


class UnknownFrameError(AudioSocketError):
    """A frame of a kind the protocol does not have."""

    code = "audiosocket_unknown_kind"


class BadFrameError(AudioSocketError):
    """A frame whose payload does not fit its kind (a call id that is not 16 bytes, odd audio, ...)."""

    code = "audiosocket_bad_frame"


class TruncatedFrameError(AudioSocketError):
    """The connection ended in the middle of a frame."""

    code = "audiosocket_truncated"


class NoCallIdError(AudioSocketError):
    """The first frame of a call was not its id (kind 0x01)."""

    code = "audiosocket_no_call_id"


class PeerError(AudioSocketError):
    """Asterisk reported an error on the call (kind 0xff)."""

    code = "audiosocket_peer_error"


class MenuConfigError(AppError):
    """The pack's voice menu (`phone/menu.yaml`) is not valid."""

    code = "phone_menu_invalid"
    http_status = 500
