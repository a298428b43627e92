"""Checking an uploaded image and reading its text with RapidOCR (ONNX Runtime, models in the wheel).

`check_image` refuses what is not a PNG, JPEG or WebP image that decodes (`image_invalid`), a file
over the byte limit (`image_too_large`) or over the pixel limit (`image_dimensions_invalid`) before
anything is decoded in full, then decodes it once: the pixels the OCR reads (EXIF rotation applied,
RGB, the longest side at most `MAX_SIDE`) travel with the checked image. `OcrReader` loads the engine once per process, on first use, with one
ONNX thread (the server shares its cores with the bot's turns); `read` is blocking: call it on a
worker thread. Its boxes are joined into rows (`rows`): a label and a value on the same line of the
screen read as one line, left to right.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from helixdesk.ocr.errors import (
    ImageInvalidError,
    ImageTooLargeError,
    ImageTooManyPixelsError,
    OcrUnavailableError,
)
from helixdesk.ocr.fields import ImageFields, extract

FORMATS: dict[str, str] = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MIN_SIDE = 16
# The longest side the OCR sees: larger screenshots are scaled down (text stays readable).
MAX_SIDE = 2000


@dataclass(frozen=True, slots=True, eq=False)
class CheckedImage:
    data: bytes  # the file as sent (what is stored, encrypted)
    content_type: str
    width: int  # of the file as sent
    height: int
    pixels: Image.Image  # decoded once: EXIF rotation applied, RGB, the longest side <= MAX_SIDE


@dataclass(frozen=True, slots=True)
class Reading:
    """What the OCR read: its rows of text, the fields in them, and how long it took."""

    lines: tuple[str, ...]
    fields: ImageFields
    seconds: float

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"the image has {len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise ImageInvalidError("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or ""
                width, height = img.size
                if fmt not in FORMATS:
                    raise ImageInvalidError(
                        f"{fmt or 'this'} is not an accepted image format; send PNG, JPEG or WebP"
                    )
                if width * height > max_pixels:
                    raise ImageTooManyPixelsError(
                        f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels"
                    )
                if min(width, height) < MIN_SIDE:
                    raise ImageTooManyPixelsError(f"the image is {width}x{height} pixels; too small to read")
                pixels = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImageInvalidError("the file is not a PNG, JPEG or WebP image that can be read") from e
    except Image.DecompressionBombWarning as e:
        raise ImageTooManyPixelsError("the image has too many pixels") from e
    if max(pixels.size) > MAX_SIDE:
        pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    return CheckedImage(data=data, content_type=FORMATS[fmt], width=width, height=height, pixels=pixels)


def rows(boxes: Sequence[Any], texts: Sequence[str]) -> list[str]:
    """OCR boxes (four corner points each) joined into lines: boxes whose vertical centres fall
    within half a box height of each other are one row, read left to right."""
    items = []
    for box, text in zip(boxes, texts, strict=True):
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text))
    items.sort(key=lambda i: (i[0], i[2]))
    out: list[list[tuple[float, float, float, str]]] = []
    for item in items:
        if out and abs(item[0] - out[-1][0][0]) <= max(item[1], out[-1][0][1]) / 2:
            out[-1].append(item)
        else:
            out.append([item])
    return [" ".join(t for *_, t in sorted(row, key=lambda i: i[2])) for row in out]


class OcrReader:
    """RapidOCR, loaded once per process on first use; `read` is thread-safe (one read at a time)."""

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()
        self.reads = 0  # images read by this process

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as e:  # pragma: no cover - a server without the OCR packages
                raise OcrUnavailableError(
                    "OCR is not installed on this server (rapidocr, onnxruntime)"
                ) from e
            params = {
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            self._engine = RapidOCR(params=params)
        return self._engine

    def read(self, image: CheckedImage) -> Reading:
        """The image's text and fields, from the pixels `check_image` decoded (not decoded again)."""
        started = time.perf_counter()
        import numpy as np

        array = np.asarray(image.pixels)[:, :, ::-1]  # BGR, as OpenCV reads
        with self._lock:
            result = self._load()(array)
            self.reads += 1
        texts = tuple(str(t) for t in (result.txts or ()))
        boxes = result.boxes if result.boxes is not None else []
        lines = tuple(rows(list(boxes), texts)) if texts else ()
        return Reading(lines=lines, fields=extract(lines), seconds=time.perf_counter() - started)
