"""Knowledge-base errors, each with a stable code (part of the one hierarchy in helixdesk.core.errors)."""

from __future__ import annotations

from helixdesk.core.errors import NotFoundError, ValidationFailedError


class KnowledgeSourceNotFoundError(NotFoundError):
    code = "kb_source_not_found"


class UnsupportedFormatError(ValidationFailedError):
    code = "kb_unsupported_format"


class EmptyDocumentError(ValidationFailedError):
    code = "kb_empty_document"


class InvalidFaqError(ValidationFailedError):
    code = "kb_invalid_faq"


class InvalidDocumentError(ValidationFailedError):
    """A file that claims a format but cannot be read as it (a broken PDF, undecodable text)."""

    code = "kb_invalid_document"


class InvalidGraphError(ValidationFailedError):
    code = "kb_invalid_graph"
