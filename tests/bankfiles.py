"""Small bank files for tests: one customer per language, with known phone numbers."""

from __future__ import annotations

from helixdesk.bank.schema import BankFile


def _customer(ref: str, language: str, phone: str, email: str | None) -> dict[str, object]:
    return {
        "ref": ref,
        "name_zh": "测试客户",
        "name_en": "Test Customer",
        "gender": "F",
        "birth_date": "1985-04-02",
        "segment": "mass",
        "value_tier": "gold",
        "risk_tolerance": "balanced",
        "preferred_language": language,
        "phone": phone,
        "email": email,
        "city": "上海",
        "customer_since": "2019-05-01",
    }


def three_customers() -> BankFile:
    """C000001 zh-Hans (+86 mobile), C000002 zh-Hant (Hong Kong), C000003 en."""
    return BankFile.model_validate(
        {
            "customers": [
                _customer("C000001", "zh-Hans", "+8613812345678", "li.na1@example.com"),
                _customer("C000002", "zh-Hant", "+85291234567", None),
                _customer("C000003", "en", "+8615900001111", "sam3@example.com"),
            ]
        }
    )
