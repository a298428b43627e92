"""Each reader turns its format into titled sections with a detected language."""

from __future__ import annotations

import pytest

from helixdesk.knowledge.errors import (
    EmptyDocumentError,
    InvalidDocumentError,
    InvalidFaqError,
    UnsupportedFormatError,
)
from helixdesk.knowledge.readers import kind_of, parse
from helixdesk.knowledge.text import detect_language, tokens
from tests.unit.knowledge.pdfgen import make_pdf

MARKDOWN = """# 信用卡用卡指南

开头的说明文字。

## 境外用卡

如果您的信用卡在境外被拒，请在手机银行开通境外支付。

## Lost cards

Report a lost card in the app under **Card management**, then [order a replacement](https://example.invalid).

```
# not a heading inside a code fence
```
"""

HTML = """<html><head><title>Transfer guide</title><script>var x = "ignore me";</script>
<style>p { color: red }</style></head><body><nav>Home | Products</nav>
<h1>Transfers</h1><p>Transfers to other banks arrive in one to two working days.</p>
<h2>轉帳限額</h2><ul><li>可在App內調整每日轉帳限額。</li><li>大額轉帳請到分行辦理。</li></ul>
<footer>© bank</footer></body></html>"""


def test_markdown_splits_on_headings_and_strips_markup():
    doc = parse(MARKDOWN.encode(), kind="markdown", source="guide.md", fallback_title="guide")
    assert doc.title == "信用卡用卡指南"
    assert [s.heading for s in doc.sections] == ["信用卡用卡指南", "境外用卡", "Lost cards"]
    assert doc.sections[1].language == "zh-Hans"
    lost = doc.sections[2]
    assert lost.language == "en"
    assert "**" not in lost.text and "https://" not in lost.text
    assert "order a replacement" in lost.text
    assert "# not a heading" in lost.text
    assert doc.language == "mul"


def test_html_drops_scripts_styles_and_navigation():
    doc = parse(HTML.encode(), kind="html", source="t.html", fallback_title="t")
    assert doc.title == "Transfer guide"
    assert [s.heading for s in doc.sections] == ["Transfers", "轉帳限額"]
    text = " ".join(s.text for s in doc.sections)
    assert "ignore me" not in text and "color" not in text and "Home" not in text and "©" not in text
    assert doc.sections[1].language == "zh-Hant"
    assert "大額轉帳請到分行辦理。" in doc.sections[1].text


def test_plain_text_paragraphs_and_gb18030():
    content = "网点营业时间\n\n各网点营业时间不同，\n请在APP查询。\n\n自助区通常营业更久。"
    doc = parse(content.encode("gb18030"), kind="text", source="hours.txt", fallback_title="hours")
    assert doc.title == "网点营业时间"
    assert [s.text for s in doc.sections] == ["各网点营业时间不同，请在APP查询。", "自助区通常营业更久。"]
    assert doc.language == "zh-Hans"


def test_pdf_text_layer_in_chinese_and_english():
    data = make_pdf(
        [
            ["Overseas payments", "If your card is declined abroad, switch on overseas payments in the app."],
            ["境外用卡", "如果您的卡在境外被拒，请在手机银行开通境外支付功能。"],
        ],
        title="Card guide",
    )
    doc = parse(data, kind="pdf", source="guide.pdf", fallback_title="guide")
    assert doc.title == "Card guide"
    assert [(s.heading, s.language) for s in doc.sections] == [
        ("Overseas payments", "en"),
        ("境外用卡", "zh-Hans"),
    ]
    assert doc.sections[1].text == "如果您的卡在境外被拒，请在手机银行开通境外支付功能。"


def test_broken_pdf_and_empty_documents_are_rejected():
    with pytest.raises(InvalidDocumentError):
        parse(b"%PDF-1.7 this is not a pdf", kind="pdf", source="x.pdf", fallback_title="x")
    with pytest.raises(EmptyDocumentError) as e:
        parse(b"  \n\n ", kind="text", source="empty.txt", fallback_title="x")
    assert e.value.code == "kb_empty_document"
    with pytest.raises(EmptyDocumentError):
        parse(make_pdf([[]]), kind="pdf", source="scan.pdf", fallback_title="x")


def test_unsupported_extension_has_a_stable_code(tmp_path):
    with pytest.raises(UnsupportedFormatError) as e:
        kind_of(tmp_path / "policy.docx")
    assert e.value.code == "kb_unsupported_format"
    assert ".docx" in e.value.detail


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- id: Bad Id\n  question: {en: Q}\n  answer: {en: A}\n", "entry 1 (line 1)"),
        (
            "- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n",
            "duplicate id",
        ),
        (
            "- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n\n- id: no-answer\n  question: {en: Q}\n",
            "line 5",
        ),
        ("- id: ok-1\n  question: {fr: Q}\n  answer: {en: A}\n", "unknown language 'fr'"),
        ("id: not-a-list\n", "YAML list"),
        (
            "- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n  alternatives: {en: Q2}\n",
            "`alternatives.en` must be a list",
        ),
        (
            "- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n  alternatives: {de: [Q2]}\n",
            "unknown language 'de' in `alternatives`",
        ),
        (
            "- id: ok-1\n  question: {en: Q}\n  answer: {en: A}\n  alternatives:\n    en: ["
            + ", ".join(f"q{i}" for i in range(25))
            + "]\n",
            "at most 24",
        ),
        ("- [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_faq_entries_name_file_entry_and_line(content, message):
    with pytest.raises(InvalidFaqError) as e:
        parse(content.encode(), kind="faq", source="faq.yaml", fallback_title="faq")
    assert e.value.code == "kb_invalid_faq"
    assert "faq.yaml" in e.value.detail
    assert message in e.value.detail


def test_faq_alternative_questions_are_read_per_language_without_duplicates():
    content = (
        "- id: card-lost\n  question: {zh-Hans: 卡丢了怎么办？, en: I lost my card}\n"
        "  answer: {zh-Hans: 请挂失。, en: Report it.}\n"
        "  alternatives:\n    zh-Hans: [银行卡不见了, 银行卡不见了, 钱包被偷了]\n    en: ['my card was stolen']\n"
    )
    section = parse(content.encode(), kind="faq", source="faq.yaml", fallback_title="faq").sections[0]
    assert section.alternatives == {"zh-Hans": ("银行卡不见了", "钱包被偷了"), "en": ("my card was stolen",)}
    assert section.questions == {"zh-Hans": "卡丢了怎么办？", "en": "I lost my card"}


def test_language_detection_and_tokens():
    assert detect_language("怎么查询余额") == "zh-Hans"
    assert detect_language("怎樣查詢戶口結餘") == "zh-Hant"
    assert detect_language("How do I check my APP balance") == "en"
    assert detect_language("我的card被decline了") == "zh-Hans"
    # Traditional is matched in Simplified form; English is lower-cased and lightly stemmed.
    assert set(tokens("掛失")) == set(tokens("挂失"))
    assert tokens("My card was DECLINED") == tokens("card declines") == ("card", "declin", "@decline")
    assert tokens("the card") == ("card",)
    # Bank-vocabulary concepts join words across languages and mainland / Hong Kong wording,
    # also where jieba cuts a Hong Kong word apart.
    assert "@abroad" in tokens("在泰国刷卡") and "@abroad" in tokens("declined overseas")
    assert "@swipe" in tokens("碌卡唔到") and "@swipe" in tokens("刷卡失败") and "@swipe" in tokens("swiped")
    assert "@progress" in tokens("信用卡申請批咗未") and "@progress" in tokens("application status")
