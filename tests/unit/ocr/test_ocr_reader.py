"""Checking uploaded images before the OCR, and joining the OCR's boxes into rows."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from helixdesk.ocr.errors import ImageInvalidError, ImageTooLargeError, ImageTooManyPixelsError
from helixdesk.ocr.reader import check_image, rows


def encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_png_jpeg_and_webp_are_accepted(fmt, content_type):
    checked = check_image(encoded(fmt), max_bytes=10**6, max_pixels=10**6)
    assert (checked.content_type, checked.width, checked.height) == (content_type, 64, 48)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (encoded("GIF"), ImageInvalidError),
        (encoded("BMP"), ImageInvalidError),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, ImageInvalidError),
        (encoded("PNG")[:60], ImageInvalidError),
        (b"", ImageInvalidError),
        (encoded("PNG", (2000, 2000)), ImageTooManyPixelsError),
        (encoded("PNG", (10, 300)), ImageTooManyPixelsError),
    ],
)
def test_bad_images_are_refused_with_their_codes(data, error):
    with pytest.raises(error):
        check_image(data, max_bytes=10**6, max_pixels=1_000_000)


def test_the_byte_limit_is_checked_first():
    with pytest.raises(ImageTooLargeError) as e:
        check_image(b"x" * 2048, max_bytes=1024, max_pixels=10**6)
    assert e.value.code == "image_too_large" and e.value.http_status == 413


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_boxes_on_one_line_of_the_screen_are_one_row_left_to_right():
    boxes = [box(400, 102, 560, 130), box(20, 100, 90, 128), box(20, 160, 200, 190), box(20, 20, 300, 60)]
    texts = ["星巴克咖啡", "商户", "交易时间：2026-11-03", "交易详情"]
    assert rows(boxes, texts) == ["交易详情", "商户 星巴克咖啡", "交易时间：2026-11-03"]
