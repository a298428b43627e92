"""The pack's reply templates: one key, three languages, optional variants per style.

A template file (`nlg/templates.yaml` in the pack) maps a key to its text per language::

    balance.result:
      zh-Hans: "您的{{ account }}可用余额为 {{ amount | money(currency) }}。"
      zh-Hant: ...
      en:
        warm: "..."
        concise: "..."

A language's value is either one string or a mapping of style -> string (`warm` is the fallback
style). Templates are Jinja2, rendered in a sandbox with `StrictUndefined`, so a template that
names a value the dialogue did not provide fails loudly in tests instead of showing a blank.
Filters format money, dates and rates in the reply language (`helixdesk.nlg.format`); every time
is shown in the bank's time zone (`moment`, `zone()` names it). Text from the bank's data
(merchants, products, banks, failure reasons) goes through `named()`, which shows it in the reply's
language and script (`helixdesk.nlg.names`), and codes through `label(group, code)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.languages import LANGUAGES
from helixdesk.nlg import format as fmt
from helixdesk.nlg.names import name_in

DEFAULT_STYLE = "warm"


class TemplateMissingError(ConfigurationError):
    code = "template_missing"


class Templates:
    """Loaded, compiled templates of one pack."""

    def __init__(self, *, sources: Mapping[str, Mapping[str, Any]], tz: tzinfo | None = None) -> None:
        # The bank's local time: every time a template shows is converted to it (`moment`).
        self.tz = tz
        self._env = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self._compiled: dict[tuple[str, str, str], Any] = {}
        for key, by_language in sources.items():
            if not isinstance(by_language, Mapping):
                raise ConfigurationError(
                    f"template {key!r} must map languages to text", code="invalid_template"
                )
            for language in LANGUAGES:
                if language not in by_language:
                    raise ConfigurationError(
                        f"template {key!r} has no {language} text", code="invalid_template"
                    )
                value = by_language[language]
                variants = value if isinstance(value, Mapping) else {DEFAULT_STYLE: value}
                if DEFAULT_STYLE not in variants:
                    raise ConfigurationError(
                        f"template {key!r} ({language}) needs a {DEFAULT_STYLE!r} variant",
                        code="invalid_template",
                    )
                for style, text in variants.items():
                    try:
                        self._compiled[(key, language, str(style))] = self._env.from_string(str(text))
                    except TemplateError as e:
                        raise ConfigurationError(
                            f"template {key!r} ({language}, {style}): {e}", code="invalid_template"
                        ) from e
        self.keys = frozenset(k for k, _, _ in self._compiled)

    @classmethod
    def load(cls, directory: Path) -> Templates:
        sources: dict[str, Mapping[str, Any]] = {}
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise ConfigurationError(f"no templates in {directory}", code="invalid_template")
        for path in files:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ConfigurationError(f"{path} must hold a mapping of templates", code="invalid_template")
            clash = sources.keys() & data.keys()
            if clash:
                raise ConfigurationError(
                    f"{path}: templates defined twice: {sorted(clash)}", code="invalid_template"
                )
            sources.update(data)
        return cls(sources=sources)

    def has(self, key: str) -> bool:
        return key in self.keys

    def render(self, key: str, *, language: str, style: str = DEFAULT_STYLE, **values: Any) -> str:
        language = language if language in LANGUAGES else "zh-Hans"
        template = self._compiled.get((key, language, style)) or self._compiled.get(
            (key, language, DEFAULT_STYLE)
        )
        if template is None:
            raise TemplateMissingError(f"no template {key!r}")
        helpers = _filters(language, self.tz)
        helpers["label"] = lambda group, code: self._label(group, code, language)
        helpers["named"] = lambda text: self.name(text, language)
        return str(template.render(helpers, **values)).strip()

    def _label(self, group: str, code: Any, language: str) -> str:
        """`label.GROUP.CODE` in the reply language, or the code itself when the pack has no label."""
        template = self._compiled.get((f"label.{group}.{code}", language, DEFAULT_STYLE))
        return str(code) if template is None else str(template.render()).strip()

    def name(self, text: Any, language: str) -> str:
        """A name from the bank's data (merchant, product, bank, failure reason) in the reply
        language: the pack's glossary entry `label.name.TEXT`, else the part of a bilingual name in
        that language and script (`helixdesk.nlg.names`); a proper name is shown as it is."""
        if text is None:
            return ""
        template = self._compiled.get((f"label.name.{text}", language, DEFAULT_STYLE))
        if template is not None:
            return str(template.render()).strip()
        return name_in(str(text), language)


def _filters(language: str, tz: tzinfo | None) -> dict[str, Any]:
    """Formatting helpers bound to the reply language (and the bank's time zone), passed to every
    template as functions."""
    return {
        "money": lambda amount, currency="CNY": fmt.money(amount, currency, language),
        "day": lambda value: fmt.day(value, language),
        "moment": lambda value: fmt.moment(value, language, tz),
        "percent": lambda value: fmt.percent(value, language),
        "currency_name": lambda code: fmt.currency_name(code, language),
        "zone": lambda: fmt.zone_name(tz, language),
        "number": fmt.number,
        "lang": language,
    }
