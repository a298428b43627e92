"""Errors of image messages (stable codes; documented in docs/api.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, PayloadTooLargeError, ValidationFailedError


class ImageInvalidError(ValidationFailedError):
    """The bytes are not a PNG, JPEG or WebP image that can be decoded."""

    code = "image_invalid"


class ImageTooLargeError(PayloadTooLargeError):
    """The image file is over `image_max_bytes`."""

    code = "image_too_large"


class ImageTooManyPixelsError(ValidationFailedError):
    """The image is over `image_max_pixels` (width x height), or under 16 pixels a side."""

    code = "image_dimensions_invalid"


class OcrUnavailableError(AppError):
    """The OCR engine could not be loaded on this server (rapidocr and onnxruntime not installed)."""

    code = "ocr_unavailable"
    http_status = 503
