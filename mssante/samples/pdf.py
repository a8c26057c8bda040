"""A small PDF of our own: the human-readable rendering of a generated document (the N1's body,
the PDF attached beside an IHE_XDM archive, the "Copie du document" of a CR-BIO).

    pdf(title, lines, *, created) -> bytes

One A4 page per 50 lines, Helvetica (a standard font, WinAnsi encoding), the document info and
an XMP packet that *declares* PDF/A-1b (`pdfaid:part` 1, `pdfaid:conformance` B), which is what
the CDA engine reads (CDA-N1-PDFA: a claim, not a validation). It is not a validated PDF/A-1:
the font is not embedded and there is no output intent (docs/services/mssante.md, differences).
"""

from __future__ import annotations

from datetime import datetime

LINES_PER_PAGE = 50


def _text(value: str) -> bytes:
    raw = value.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _xmp(title: str, created: datetime) -> bytes:
    stamp = (
        created.strftime("%Y-%m-%dT%H:%M:%S") + created.strftime("%z")[:3] + ":" + created.strftime("%z")[3:]
    )
    safe = title.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{safe}</rdf:li></rdf:Alt></dc:title></rdf:Description>\n'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:CreatorTool>Ségur Sandbox</xmp:CreatorTool></rdf:Description>\n"
        '</rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
    ).encode()


def pdf(title: str, lines: list[str], *, created: datetime) -> bytes:
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    n_pages = len(pages)
    first_page = 5
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    xmp = _xmp(title, created)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R /Lang (fr-FR) >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp + b"\nendstream"
    )
    for i, page in enumerate(pages):
        ops = [b"BT", b"/F1 16 Tf", b"56 790 Td", b"(" + _text(title) + b") Tj", b"/F1 10 Tf", b"0 -28 Td"]
        for line in page:
            ops += [b"(" + _text(line) + b") Tj", b"0 -14 Td"]
        ops += [b"ET"]
        stream = b"\n".join(ops)
        page_obj = first_page + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_obj + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    stamp = created.strftime("D:%Y%m%d%H%M%S")
    objects.append(
        b"<< /Title ("
        + _text(title)
        + b") /Producer (Segur Sandbox) /CreationDate ("
        + stamp.encode()
        + b") >>"
    )
    info = len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
