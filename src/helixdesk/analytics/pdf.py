"""The dashboard's summary as a PDF report (reportlab): the period, every metric with the previous
period's and the change, the daily volume (bars) and containment (a line) drawn with reportlab's own
graphics, and the top handoff reasons, intents, hotspots and agents, in zh-Hans, zh-Hant or English.

`render_pdf(summary, language=...)` takes what `Analytics.summary` returns, so the report shows the
dashboard's figures and nothing else. Its words are in `report_labels.yaml` beside this module;
intents, reasons, queues and tiers are worded by the pack's labels when given.

Chinese text needs a font with its glyphs: WenQuanYi Micro Hei (Debian's fonts-wqy-microhei,
which scripts/demo.sh and scripts/test.sh install) is embedded when present, so the file reads the
same everywhere; otherwise reportlab's built-in CID fonts (STSong-Light for Simplified,
MSung-Light for Traditional), which PDF readers supply.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.languages import LANGUAGES

LABELS_FILE = Path(__file__).with_name("report_labels.yaml")
WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
KINDS = ("day", "week", "custom")
TOP = 5
_fonts = threading.Lock()
_INK = colors.HexColor("#1f2937")
_MUTED = colors.HexColor("#6b7280")
_BAR = colors.HexColor("#93c5fd")
_LINE = colors.HexColor("#b45309")
_RULE = colors.HexColor("#d1d5db")


class ValueLabels(Protocol):
    """The pack's labels (`handoff.packet.Labels`): a code's words in a language."""

    def get(self, group: str, key: str | None, language: str) -> str: ...

    def has(self, group: str, key: str | None) -> bool: ...


@cache
def _words() -> dict[str, dict[str, dict[str, str]]]:
    data = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8")) or {}
    return {str(g): {str(k): dict(v) for k, v in entries.items()} for g, entries in data.items()}


def word(group: str, key: str, language: str) -> str:
    """The report's own words: a title, a heading, a metric's name."""
    entry = _words().get(group, {}).get(key)
    if not entry:
        return key.replace("_", " ")
    return entry.get(language) or entry.get("en") or key


def font_for(language: str) -> str:
    """The name of a registered font that draws this language (and Latin text)."""
    with _fonts:
        if WQY.is_file():
            name = "WenQuanYiMicroHei"
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(WQY), subfontIndex=0))
            return name
        name = "MSung-Light" if language == "zh-Hant" else "STSong-Light"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
        return name


# ---- figures as text -------------------------------------------------------------------------


def figure(unit: str, value: float | None, language: str, currency: str = "") -> str:
    """A metric's value as the report prints it."""
    if value is None:
        return "—"
    if unit == "count":
        return f"{round(value):,}"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return f"{value:,.1f} {'s' if language == 'en' else '秒'}"
    if unit == "score":
        return f"{value:.2f}"
    if unit == "money":
        return f"{currency} {value:,.2f}".strip()
    return f"{value:,.2f}"


def change(unit: str, value: float | None, previous: float | None, language: str) -> str:
    """The change from the previous period, in the metric's unit (percentage points for ratios)."""
    if value is None or previous is None:
        return ""
    delta = value - previous
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    size = abs(delta)
    if unit == "count":
        return f"{sign}{round(size):,}"
    if unit == "ratio":
        return f"{sign}{size * 100:.1f} {'pp' if language == 'en' else '个百分点' if language == 'zh-Hans' else '個百分點'}"
    if unit == "seconds":
        return f"{sign}{size:,.1f} {'s' if language == 'en' else '秒'}"
    return f"{sign}{size:,.2f}"


# ---- the document ----------------------------------------------------------------------------


def render_pdf(
    summary: Mapping[str, Any],
    *,
    language: str,
    kind: str = "custom",
    labels: ValueLabels | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The report of this summary (`Analytics.summary`) as a PDF document."""
    if language not in LANGUAGES:
        raise ValidationFailedError(
            f"the report's language must be one of {', '.join(LANGUAGES)}", code="invalid_language"
        )
    if kind not in KINDS:
        raise ValidationFailedError(f"kind must be one of {', '.join(KINDS)}", code="invalid_period")
    font = font_for(language)
    styles = _styles(font)
    period = summary["period"]
    title = f"{word('title', kind, language)} · {period['from']}" + (
        f" – {period['to']}" if period["to"] != period["from"] else ""
    )
    story: list[Flowable] = [Paragraph(_esc(title), styles["title"])]
    facts = [
        f"{word('text', 'period', language)}: {period['from']} – {period['to']} "
        f"({period['days']} {word('text', 'days', language)})"
    ]
    chosen = {k: v for k, v in (summary.get("filters") or {}).items() if v}
    if chosen:
        facts.append(
            f"{word('text', 'filters', language)}: "
            + ", ".join(
                f"{word('filter', k, language)} = {_code(labels, k, v, language)}" for k, v in chosen.items()
            )
        )
    if generated_at is not None:
        facts.append(
            f"{word('text', 'generated', language)}: {generated_at.strftime('%Y-%m-%d %H:%M %Z').strip()}"
        )
    story += [Paragraph(_esc(line), styles["muted"]) for line in facts]
    story += [Spacer(1, 4 * mm), Paragraph(_esc(word("text", "metrics", language)), styles["h2"])]
    story.append(_metrics_table(summary["metrics"], language, font))
    story += [Spacer(1, 5 * mm), Paragraph(_esc(word("text", "daily", language)), styles["h2"])]
    story.append(_daily_chart(summary["series"], language, font))
    breakdowns = summary.get("breakdowns") or {}
    for name, group in (("handoff_reasons", "reason"), ("intents", "intent"), ("hotspots", None)):
        story += [Spacer(1, 4 * mm), Paragraph(_esc(word("text", name, language)), styles["h2"])]
        rows = [
            [
                _code(labels, group, b["key"], language) if group else str(b.get("label") or b["key"]),
                f"{b['count']:,}",
            ]
            for b in (breakdowns.get(name) or [])[:TOP]
        ]
        story.append(
            _table(
                [word("text", "name", language), word("text", "count", language)],
                rows,
                font,
                styles,
                language,
            )
        )
    story += [Spacer(1, 4 * mm), Paragraph(_esc(word("text", "agents", language)), styles["h2"])]
    agent_rows = [
        [
            str(a.get("label") or a["key"]),
            f"{a['conversations']:,}",
            figure("seconds", a.get("aht_seconds"), language),
            figure("score", a.get("csat"), language),
            figure("score", a.get("emotional_load"), language),
        ]
        for a in (breakdowns.get("agents") or [])[:TOP]
    ]
    story.append(
        _table(
            [word("text", k, language) for k in ("name", "count", "aht", "csat", "load")],
            agent_rows,
            font,
            styles,
            language,
        )
    )
    story += [Spacer(1, 6 * mm), Paragraph(_esc(word("text", "footer", language)), styles["muted"])]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="Helixdesk",
        subject=f"{period['from']} {period['to']}",
        lang=language,
        invariant=1,  # the same figures give the same bytes
    )
    doc.build(story)
    return out.getvalue()


def _styles(font: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle(
            "title", fontName=font, fontSize=17, leading=22, textColor=_INK, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2", fontName=font, fontSize=12, leading=16, textColor=_INK, spaceAfter=2, keepWithNext=1
        ),
        "muted": ParagraphStyle("muted", fontName=font, fontSize=9, leading=12, textColor=_MUTED),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9, leading=11, textColor=_INK),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(labels: ValueLabels | None, group: str | None, key: str, language: str) -> str:
    """A code in words (an intent, a reason, a queue, a tier), when the pack words it."""
    group = {"queue": "queue", "intent": "intent", "tier": "tier", "reason": "reason"}.get(group or "")
    if labels is not None and group and labels.has(group, key):
        return labels.get(group, key, language)
    return key


def _metrics_table(metrics: Sequence[Mapping[str, Any]], language: str, font: str) -> Table:
    head = [word("text", k, language) for k in ("metric", "value", "previous", "change")]
    rows = [head]
    for m in metrics:
        unit, currency = m["unit"], m.get("currency", "")
        rows.append(
            [
                word("metric", m["key"], language),
                figure(unit, m.get("value"), language, currency),
                figure(unit, m.get("previous"), language, currency),
                change(unit, m.get("value"), m.get("previous"), language),
            ]
        )
    table = Table(rows, colWidths=[62 * mm, 38 * mm, 38 * mm, 40 * mm], repeatRows=1)
    table.setStyle(_grid(font, numeric_from=1))
    return table


def _table(
    head: list[str], rows: list[list[str]], font: str, styles: Mapping[str, ParagraphStyle], language: str
) -> Flowable:
    if not rows:
        return Paragraph(_esc(word("text", "none", language)), styles["muted"])
    first = 178 * mm - 30 * mm * (len(head) - 1)
    body = [[Paragraph(_esc(r[0]), styles["cell"]), *r[1:]] for r in rows]
    table = Table([head, *body], colWidths=[first] + [30 * mm] * (len(head) - 1), repeatRows=1)
    table.setStyle(_grid(font, numeric_from=1))
    return table


def _grid(font: str, *, numeric_from: int) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("TEXTCOLOR", (0, 0), (-1, 0), _MUTED),
            ("TEXTCOLOR", (0, 1), (-1, -1), _INK),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, _INK),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
    )


def _box(x: float, y: float, width: float, height: float, fill: colors.Color) -> Rect:
    box = Rect(x, y, width, height)
    box.fillColor = fill
    box.strokeColor = None
    return box


def _daily_chart(series: Mapping[str, Sequence[Any]], language: str, font: str) -> Drawing:
    """Bars of the daily volume (left axis) and a line of containment (right axis, 0-100%)."""
    width, height = 178 * mm, 62 * mm
    left, right, bottom, top = 14 * mm, 14 * mm, 10 * mm, 8 * mm
    plot_w, plot_h = width - left - right, height - bottom - top
    d = Drawing(width, height)
    days = list(series.get("days") or [])
    volume = [float(v or 0) for v in series.get("volume") or []]
    containment = list(series.get("containment") or [])
    most = max([*volume, 1.0])
    d.add(Line(left, bottom, left + plot_w, bottom, strokeColor=_INK, strokeWidth=0.6))
    for i, label in ((0, "0"), (1, f"{round(most):,}")):
        d.add(
            String(
                left - 2,
                bottom + plot_h * i - 3,
                label,
                fontName=font,
                fontSize=7,
                fillColor=_MUTED,
                textAnchor="end",
            )
        )
    for i, label in ((0, "0%"), (1, "100%")):
        d.add(
            String(
                left + plot_w + 2, bottom + plot_h * i - 3, label, fontName=font, fontSize=7, fillColor=_LINE
            )
        )
    d.add(Line(left, bottom + plot_h, left + plot_w, bottom + plot_h, strokeColor=_RULE, strokeWidth=0.3))
    n = max(len(days), 1)
    step = plot_w / n
    points: list[float] = []
    every = max(1, round(n / 10))
    for i, day in enumerate(days):
        x = left + step * i
        h = plot_h * volume[i] / most if i < len(volume) else 0
        d.add(_box(x + step * 0.15, bottom, step * 0.7, h, _BAR))
        if i % every == 0 or i == n - 1:
            d.add(
                String(
                    x + step / 2,
                    bottom - 8,
                    day[5:],
                    fontName=font,
                    fontSize=6.5,
                    fillColor=_MUTED,
                    textAnchor="middle",
                )
            )
        c = containment[i] if i < len(containment) else None
        if c is not None:
            points += [x + step / 2, bottom + plot_h * float(c)]
    if len(points) >= 4:
        d.add(PolyLine(points, strokeColor=_LINE, strokeWidth=1.2))
    for j in range(0, len(points), 2):
        d.add(Circle(points[j], points[j + 1], 1.6, fillColor=_LINE, strokeColor=None))
    d.add(_box(left, height - 6, 6, 4, _BAR))
    d.add(
        String(
            left + 9,
            height - 6,
            word("text", "volume_axis", language),
            fontName=font,
            fontSize=7,
            fillColor=_INK,
        )
    )
    d.add(Line(left + 70 * mm, height - 4, left + 76 * mm, height - 4, strokeColor=_LINE, strokeWidth=1.2))
    d.add(
        String(
            left + 78 * mm,
            height - 6,
            word("text", "containment_axis", language),
            fontName=font,
            fontSize=7,
            fillColor=_INK,
        )
    )
    return d
