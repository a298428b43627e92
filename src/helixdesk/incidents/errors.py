"""The register's errors, each with its stable code."""

from __future__ import annotations

from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError


class InvalidIncidentError(ValidationFailedError):
    """A field is missing, unknown or out of range, or the times are out of order (the message says which)."""

    code = "invalid_incident"


class IncidentNotFoundError(NotFoundError):
    code = "incident_not_found"


class IncidentResolvedError(ConflictError):
    """A resolved incident is history: it is not changed or resolved again (open a new one)."""

    code = "incident_resolved"


class IncidentChangedError(ConflictError):
    """Someone changed the incident since the caller read it (its `version` moved on)."""

    code = "incident_changed"


class HotspotNotFoundError(NotFoundError):
    """No insight hotspot has this id (an incident opened from it, a spike judged not an incident)."""

    code = "hotspot_not_found"
