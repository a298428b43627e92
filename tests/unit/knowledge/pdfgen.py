"""A tiny hand-written PDF writer for tests: real PDF syntax, a Type0 font with a ToUnicode map.

Glyph ids equal Unicode code points (Identity-H) and the ToUnicode CMap maps them back, so a PDF
text extractor recovers Chinese and English exactly. No font program is embedded: viewers may show
boxes, but the text layer is what ingestion reads.
"""

from __future__ import annotations


def make_pdf(pages: list[list[str]], *, title: str = "") -> bytes:
    chars = sorted({ord(c) for page in pages for line in page for c in line})
    bfchar = "\n".join(f"<{c:04X}> <{c:04X}>" for c in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Test-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{bfchar}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    def stream(data: str) -> bytes:
        raw = data.encode("latin-1")
        return b"<< /Length %d >>\nstream\n" % len(raw) + raw + b"\nendstream"

    catalog = add("")  # filled in below
    pages_id = add("")
    cmap_id = add(stream(cmap))
    descendant = add(
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSans "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>"
    )
    font = add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /TestSans /Encoding /Identity-H "
        f"/DescendantFonts [{descendant} 0 R] /ToUnicode {cmap_id} 0 R >>"
    )
    kids = []
    for page in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "50 780 Td"]
        for line in page:
            ops.append("<" + "".join(f"{ord(c):04X}" for c in line) + "> Tj T*")
        ops.append("ET")
        content = add(stream("\n".join(ops)))
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("latin-1")
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode(
            "latin-1"
        )
    )
    info = add(f"<< /Title ({title}) >>") if title else None
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = (
        f"<< /Size {len(objects) + 1} /Root {catalog} 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    )
    out += b"trailer\n" + trailer.encode("latin-1") + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
