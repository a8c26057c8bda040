"""Bad input in an IHE_XDM.ZIP and in headers, over real SMTP: each gives its finding, never a
crash, and the message is still delivered in report mode (research: the issue's Bad input list)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.mssante.conftest import CDS_APP, HOSPITAL_BAL, App
from tests.mssante.xdm_messages import XdmMessage


def zipped(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def layout(app: App, **extra: bytes) -> dict[str, bytes]:
    doc = app.document("ldl")
    meta = XdmMessage(doc, CDS_APP, [HOSPITAL_BAL]).metadata_xml()
    return {"INDEX.HTM": b"<html/>", "README.TXT": b"x", "IHE_XDM/SUBSET01/METADATA.XML": meta,
            "IHE_XDM/SUBSET01/DOC0001.XML": doc.cda, **extra}  # fmt: skip


def bomb() -> bytes:
    return zipped(
        {"INDEX.HTM": b"<html/>", "README.TXT": b"x", "IHE_XDM/SUBSET01/DOC0001.XML": b"\0" * (30 * 2**20)}
    )


def slip(app: App) -> bytes:
    return zipped(layout(app, **{"../../etc/cron.d/evil": b"* * * * * root sh", "/abs/path.txt": b"x"}))


def corrupt(app: App) -> bytes:
    good = zipped(layout(app))
    return good[:200] + b"\xff" * 64 + good[264:]


def many() -> bytes:
    return zipped({f"IHE_XDM/SUBSET01/F{i:04d}.XML": b"<a/>" for i in range(2000)}, zipfile.ZIP_STORED)


CASES: dict[str, tuple[Any, str]] = {
    "zip bomb": (lambda app: bomb(), "MSS-XDM-BOMB"),
    "zip slip": (slip, "MSS-XDM-PATH"),
    "corrupt zip": (corrupt, "MSS-XDM-ZIP"),
    "not a zip": (lambda app: b"PK\x03\x04 this is no archive", "MSS-XDM-ZIP"),
    "no METADATA.XML": (lambda app: zipped({k: v for k, v in layout(app).items() if "METADATA" not in k}), "MSS-XDM-METADATA-MISSING"),
    "METADATA.XML not XML": (lambda app: zipped(layout(app, **{"IHE_XDM/SUBSET01/METADATA.XML": b"<not xml"})), "MSS-XDM-METADATA-XML"),
    "METADATA.XML not ebRIM": (lambda app: zipped(layout(app, **{"IHE_XDM/SUBSET01/METADATA.XML": b"<html/>"})), "MSS-XDM-METADATA-XML"),
    "2,000 files": (lambda app: many(), "MSS-XDM-TOO-MANY"),
    "encrypted entry": (lambda app: _encrypted(zipped(layout(app))), "MSS-XDM-ZIP"),
}  # fmt: skip


def _encrypted(data: bytes) -> bytes:
    """Set the "encrypted" bit of every entry (local header and central directory)."""
    buf = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (i := buf.find(sig, start)) >= 0:
            buf[i + offset] |= 1
            start = i + 4
    return bytes(buf)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_archive_gives_a_finding_and_is_delivered(app: App, name: str) -> None:
    build, rule = CASES[name]
    msg = XdmMessage(app.document("ldl"), CDS_APP, [HOSPITAL_BAL], zip_bytes=build(app))
    assert app.send(msg.bytes(), msg.to) == {}
    found = app.findings(HOSPITAL_BAL, msg.message_id)
    assert rule in {f["rule"] for f in found}, found
    # the control API shows the archive without failing
    stored = app.stored(HOSPITAL_BAL, msg.message_id)
    r = app.control("GET", f"/messages/{stored['id']}/xdm")
    assert r.status_code == 200 and r.json()["present"] is True
    assert app.control("GET", f"/messages/{stored['id']}/parts").status_code == 200


def test_zip_slip_entries_are_never_read(app: App) -> None:
    from mssante import xdm

    archive = xdm.read(slip(app))
    assert "../../etc/cron.d/evil" in archive.names and "../../etc/cron.d/evil" not in archive.files
    assert "/abs/path.txt" not in archive.files


def test_non_utf8_headers(app: App) -> None:
    doc = app.document("ldl")
    encoded = XdmMessage(doc, CDS_APP, [HOSPITAL_BAL], sender_name="Centre de santé des Lilas")
    raw = encoded.bytes()
    assert b"=?utf-8?" in raw.lower()  # RFC 2047 encoded words: decoded, no finding
    assert app.send(raw, encoded.to) == {}
    assert "MSS-HEADER-8BIT" not in {f["rule"] for f in app.findings(HOSPITAL_BAL, encoded.message_id)}
    stored = app.stored(HOSPITAL_BAL, encoded.message_id)
    assert app.control("GET", f"/messages/{stored['id']}/parts").json()["subject"].startswith("XDM/1.0/DDM+")
    # raw Latin-1 bytes in a header (8BITMIME declared): delivered, one finding
    latin = XdmMessage(doc, CDS_APP, [HOSPITAL_BAL])
    raw = latin.bytes().replace(b"Subject: ", b"Subject: Compte rendu r\xe9sultats ", 1)
    assert app.send(raw, latin.to, mail_options=["BODY=8BITMIME"]) == {}
    found = app.findings(HOSPITAL_BAL, latin.message_id)
    assert "MSS-HEADER-8BIT" in {f["rule"] for f in found}
    stored = app.stored(HOSPITAL_BAL, latin.message_id)
    assert app.control("GET", f"/messages/{stored['id']}/parts").status_code == 200
