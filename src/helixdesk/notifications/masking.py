"""Masking phone numbers and e-mail addresses for display ("138****5678", "+852 ****1234")."""

from __future__ import annotations

import re

# Calling codes we show separately; others fall back to "****1234".
_CALLING_CODES = ("852", "853", "886", "86", "65", "44", "61", "81", "82", "1")


def mask_phone(phone: str) -> str:
    """Mainland mobiles as "138****5678"; other international numbers as "+852 ****1234"."""
    digits = re.sub(r"\D", "", phone)
    international = phone.strip().startswith("+") or phone.strip().startswith("00")
    if phone.strip().startswith("00"):
        digits = digits[2:]
    if len(digits) < 5:
        return "****"
    if international:
        for code in _CALLING_CODES:
            if digits.startswith(code) and len(digits) - len(code) >= 5:
                local = digits[len(code) :]
                if code == "86" and len(local) == 11:
                    return f"{local[:3]}****{local[-4:]}"
                return f"+{code} ****{local[-4:]}"
        return f"+****{digits[-4:]}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-4:]}"


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain: "z***@example.com"."""
    local, _, domain = email.strip().partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_destination(channel: str, destination: str) -> str:
    return mask_email(destination) if channel == "email" else mask_phone(destination)
