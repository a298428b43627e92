"""Reading images offline: OCR of screenshots, bills and app error screens, and the key fields in them.

- `fields` turns OCR text lines into `ImageFields` (transaction id, amount and currency, date and
  time, merchant, card tail, error code): pure functions, no OCR.
- `reader` checks an uploaded image (format, size, pixels) and runs RapidOCR on it (loaded once per
  process, on first use).
"""
