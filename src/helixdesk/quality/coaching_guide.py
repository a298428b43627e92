"""The pack's coaching texts (`quality/coaching.yaml`): per QA rule its name, the coaching
suggestion's title and detail in each language, and how many findings in a period call for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.languages import LANGUAGES


@dataclass(frozen=True, slots=True)
class RuleGuide:
    name: dict[str, str]
    title: dict[str, str]
    detail: dict[str, str]
    min_findings: int


@dataclass(frozen=True, slots=True)
class CoachingGuide:
    """Per rule: its name, the suggestion's title and detail (zh-Hans, zh-Hant, en), and how many
    findings in the period call for it."""

    rules: dict[str, RuleGuide] = field(default_factory=dict)
    min_findings: int = 2

    @classmethod
    def load(cls, path: Path) -> CoachingGuide:
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        default_min = int(data.get("min_findings", 2))
        rules: dict[str, RuleGuide] = {}
        for rule, entry in (data.get("rules") or {}).items():
            texts: dict[str, dict[str, str]] = {}
            for part in ("name", "title", "detail"):
                words = entry.get(part) or {}
                if set(words) != set(LANGUAGES):
                    raise ConfigurationError(
                        f"{path}: rule {rule!r} needs its {part} in {', '.join(LANGUAGES)}",
                        code="invalid_coaching_guide",
                    )
                texts[part] = {k: str(v).strip() for k, v in words.items()}
            minimum = int(entry.get("min_findings", default_min))
            if minimum < 1:
                raise ConfigurationError(
                    f"{path}: rule {rule!r}: min_findings is at least 1", code="invalid_coaching_guide"
                )
            rules[str(rule)] = RuleGuide(
                name=texts["name"], title=texts["title"], detail=texts["detail"], min_findings=minimum
            )
        return cls(rules=rules, min_findings=default_min)

    @classmethod
    def for_pack(cls, pack_path: Path) -> CoachingGuide:
        return cls.load(pack_path / "quality" / "coaching.yaml")

    def name(self, rule: str, language: str) -> str:
        guide = self.rules.get(rule)
        return guide.name.get(language, rule) if guide else rule

    def names(self, language: str) -> dict[str, str]:
        return {rule: g.name.get(language, rule) for rule, g in self.rules.items()}
