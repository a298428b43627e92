"""The learning loop's errors, each with its stable code (docs/learning.md, docs/api.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, ConflictError, NotFoundError, ValidationFailedError


class LabelError(ValidationFailedError):
    code = "invalid_label"


class ItemNotFoundError(NotFoundError):
    code = "label_item_not_found"


class MessageNotFoundError(NotFoundError):
    code = "message_not_found"


class NotACustomerMessageError(ValidationFailedError):
    code = "not_a_customer_message"


class AlreadyLabelledError(ConflictError):
    code = "already_labelled"


class ItemResolvedError(ConflictError):
    code = "item_resolved"


class NeedsSupervisorError(AppError):
    code = "needs_supervisor"
    http_status = 403


class DatasetNotFoundError(NotFoundError):
    code = "dataset_not_found"


class NoLabelsError(ConflictError):
    code = "no_labels"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"


class AmbiguousVersionError(ValidationFailedError):
    code = "model_version_ambiguous"


class ModelExistsError(ConflictError):
    code = "model_exists"


class ModelAlreadyLiveError(ConflictError):
    code = "model_already_live"


class GateFailedError(ConflictError):
    """The candidate is worse than the live model on the regression set: promotion needs an override."""

    code = "model_gate_failed"


class OverrideReasonError(ValidationFailedError):
    code = "override_reason_required"


class NoPreviousModelError(ConflictError):
    code = "no_previous_model"


class NoShadowError(ConflictError):
    code = "no_shadow"
