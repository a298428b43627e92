"""The default retail-bank domain pack (zh-Hans, zh-Hant, en)."""
