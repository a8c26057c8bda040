"""SOAP kit and XAdES figures (printed, not asserted), each with a bare limit measured in the
same run:

- MTOM: `read_request` + `binaries()` of an ITI-41 package of 1 MiB with 2 attachments (a 1 MiB
  CDA and its XAdES), against a bare `bytes.split` on the boundary and the standard library's
  email parser; `cxf_package` writing the same package;
- XAdES: `verify_xades` of a submission whose document is 1 MiB: a CDA N1 (a PDF as base64, the
  DMP's commonest document) digested after C14N with comments as the official example does, the
  same without the transform, and a structured CDA N3 of 1 MiB; against the bare cost of the
  document's parse + C14N + SHA-1.

    .venv/bin/python benchmarks/bench_soap.py
"""

from __future__ import annotations

import base64
import email
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from lxml import etree

from mocks import soap
from mocks.kernel import Sandbox
from mocks.pki import Professional
from mocks.pki.xades import sign_xades, verify_xades
from mocks.testing import make_config

MIB = 1024 * 1024


def rate(fn: Callable[[], object], seconds: float = 3.0) -> float:
    fn()
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - started)


def cda_n1(size: int) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><title>CR</title><component><nonXMLBody><text mediaType="application/pdf" representation="B64">'
    tail = b"</text></nonXMLBody></component></ClinicalDocument>\n"
    pdf = os.urandom((size - len(head) - len(tail)) * 3 // 4 * 76 // 77)
    return head + base64.encodebytes(pdf) + tail


def cda_n3(size: int) -> bytes:
    entry = b'<entry><observation classCode="OBS" moodCode="EVN"><code code="%d" codeSystem="2.16.840.1.113883.6.1"/><value xsi:type="ST">valeur %d</value></observation></entry>\n'
    body = b""
    i = 0
    while len(body) < size - 200:
        body += entry % (i, i)
        i += 1
    return (
        b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + body
        + b"</ClinicalDocument>"
    )


def mtom() -> None:
    cda = cda_n1(MIB)
    xades = (
        Path(__file__).resolve().parents[1].parent / "shared/specs/dmp/examples/TD2.1-SignatureXades.xml"
    ).read_bytes()
    ids = soap.CxfIds()
    atts = [soap.Attachment(ids.next(), cda, "text/xml"), soap.Attachment(ids.next(), xades, "text/xml")]
    env = (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header><Action xmlns="http://www.w3.org/2005/08/addressing">'
        'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</Action></soap:Header><soap:Body><ns4:ProvideAndRegisterDocumentSetRequest xmlns:ns4="urn:ihe:iti:xds-b:2007">'
        + "".join(
            f'<ns4:Document id="d{n}"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="{a.href}"/></ns4:Document>'
            for n, a in enumerate(atts)
        )
        + "</ns4:ProvideAndRegisterDocumentSetRequest></soap:Body></soap:Envelope>"
    ).encode()
    ctype, body = soap.cxf_package(env, atts, action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b")
    delimiter = b"--" + soap.parse_content_type(ctype).params["boundary"].encode()

    def kit() -> None:
        req = soap.read_request(body, ctype)
        assert len(req.binaries()) == 2

    def stdlib() -> None:
        message = email.message_from_bytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body, policy=policy.HTTP
        )
        [p.get_payload(decode=True) for p in message.iter_parts()]

    ours = rate(kit)
    bare = rate(lambda: body.split(delimiter))
    std = rate(stdlib, 2.0)
    write = rate(lambda: soap.cxf_package(env, atts))
    print(f"MTOM package of {len(body) / MIB:.2f} MiB, 2 attachments (goal >= 400/s):")
    print(
        f"  read_request + binaries: {ours:,.0f}/s; bare bytes.split on the boundary: {bare:,.0f}/s (ratio {ours / bare:.2f})"
    )
    print(
        f"  standard library email parser (policy.HTTP): {std:,.0f}/s; cxf_package (writing): {write:,.0f}/s"
    )


def xades() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(make_config(Path(tmp)))
        from mocks.pki.service import create

        sandbox.store.migrate("pki", list(create(sandbox).migrations()))
        pki = sandbox.pki
        pro = Professional("810000000001", "Max", "Libre")
        pki.register(pro)
        creds = pki.credentials(pro, "cps_sign")
        print("XAdES verification, one 1 MiB document (goal >= 150/s):")
        for label, doc, transform in (
            ("CDA N1 (base64 PDF), C14N-with-comments transform", cda_n1(MIB), True),
            ("CDA N1, no transform (raw bytes digested)", cda_n1(MIB), False),
            ("CDA N3 (7,000 entries), C14N-with-comments transform", cda_n3(MIB), True),
        ):
            docs = {"1.2.3.4": doc}
            signed = sign_xades(creds, docs, "1.2.3.1", transform_xml=transform)
            assert verify_xades(pki, signed.xml, docs).valid

            def floor(doc: bytes = doc, transform: bool = transform) -> None:
                data = doc
                if transform:
                    data = etree.tostring(
                        etree.fromstring(doc).getroottree(), method="c14n", with_comments=True
                    )
                hashlib.sha1(data).digest()

            ours = rate(lambda docs=docs, signed=signed: verify_xades(pki, signed.xml, docs))
            bare = rate(floor)
            floor_label = "parse + C14N + SHA-1" if transform else "SHA-1"
            print(
                f"  {label}: {ours:,.0f}/s; bare document digest ({floor_label}): {bare:,.0f}/s (ratio {ours / bare:.2f})"
            )


if __name__ == "__main__":
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    mtom()
    xades()
