"""SOAP envelopes out: faults and bodies, written as text so that a byte-exact service keeps its
bytes. The caller chooses every prefix and namespace declaration through a `Style`.

    Fault(code, subcode, reason, detail...)           what a fault says
    Style(version, prefixes, declarations, lang...)    how the service writes envelopes
    fault_envelope(fault, style, headers="") -> bytes  the whole fault envelope
    envelope(payload, style, headers="") -> bytes      any other answer

Presets:

- `CXF12` / `CXF11`: Apache CXF (the DMP's stack, research dmp.md §1.2): no XML declaration,
  `<soap:Envelope xmlns:soap=...>`, `soap:Header` only when there are headers, the fault in the
  envelope's prefix, `soap:Sender` / `soap:Subcode` with the subcode in the SOAP namespace
  (`soap:DMPInvalidCertificate`, research §3.1), `xml:lang="en"`: CXF writes the language of
  its own message bundle (English) whatever the text's language (CXF Soap12FaultOutInterceptor,
  `getLangCode`). SOAP 1.1 faults carry `faultcode` (`soap:Client` / `soap:Server`) and
  `faultstring` without `xml:lang`; a subcode has no place in them and is not written.
- `INSI_LIVE` / `INSI_2022`: the INSi platform's two fault serialisations (research insi.md
  §3.1): `<?xml ...?>\\n<soap:Envelope><env:Body xmlns:env><soap:Fault>`, `xml:lang="fr"`; and
  `<env:Body xmlns:S xmlns:env><S:Fault xmlns:ns4=SOAP 1.1>`, `xml:lang="en"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr

from mocks.soap.ns import ENVELOPE_NS, SOAP11, SOAP12, SoapVersion

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# SOAP 1.2 fault codes and their SOAP 1.1 names
SOAP11_CODE = {
    "Sender": "Client",
    "Receiver": "Server",
    "VersionMismatch": "VersionMismatch",
    "MustUnderstand": "MustUnderstand",
    "DataEncodingUnknown": "Server",
}
SOAP12_CODE = {"Client": "Sender", "Server": "Receiver"}

Declarations = Sequence[tuple[str, str]]  # (prefix, namespace) in the order they are written


@dataclass(frozen=True)
class Fault:
    """What a fault says. `code` is a SOAP 1.2 name (Sender, Receiver, VersionMismatch,
    MustUnderstand, DataEncodingUnknown; Client/Server are accepted); `subcode` a local name in
    the SOAP namespace unless `subcode_namespace` is given; `detail` is XML markup written as is
    inside Detail (the caller escapes it), `detail_text` plain text."""

    reason: str
    code: str = "Receiver"
    subcode: str | None = None
    subcode_namespace: str | None = None  # declared on the Subcode's Value (CXF: prefix ns1)
    subcode_prefix: str = "ns1"
    lang: str | None = None  # None: the style's
    detail: str | None = None
    detail_text: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Style:
    """How a service writes its envelopes. `None` prefixes follow the envelope's."""

    version: SoapVersion = "1.2"
    xml_declaration: str = ""
    envelope_prefix: str = "soap"
    envelope_declarations: Declarations | None = None  # None: ((envelope_prefix, SOAP ns),)
    body_prefix: str | None = None
    body_declarations: Declarations = ()
    fault_prefix: str | None = None
    fault_declarations: Declarations = ()
    header_prefix: str | None = None
    lang: str = "en"
    soap11_lang: bool = False  # write xml:lang on a SOAP 1.1 faultstring

    @property
    def namespace(self) -> str:
        return ENVELOPE_NS[self.version]

    def with_version(self, version: SoapVersion) -> Style:
        """The same style for the other SOAP version (prefixes kept, declarations rewritten)."""
        if version == self.version:
            return self
        old, new = self.namespace, ENVELOPE_NS[version]

        def swap(decls: Declarations | None) -> Declarations | None:
            return None if decls is None else tuple((p, new if ns == old else ns) for p, ns in decls)

        return replace(
            self,
            version=version,
            envelope_declarations=swap(self.envelope_declarations),
            body_declarations=swap(self.body_declarations) or (),
            fault_declarations=swap(self.fault_declarations) or (),
        )


CXF12 = Style(version="1.2")
CXF11 = Style(version="1.1")
INSI_LIVE = Style(
    version="1.2",
    xml_declaration=XML_DECLARATION,
    body_prefix="env",
    body_declarations=(("env", SOAP12),),
    fault_prefix="soap",
    lang="fr",
)
INSI_2022 = Style(
    version="1.2",
    xml_declaration=XML_DECLARATION,
    body_prefix="env",
    body_declarations=(("S", SOAP12), ("env", SOAP12)),
    fault_prefix="S",
    fault_declarations=(("ns4", SOAP11),),
    lang="en",
)


def _decls(decls: Declarations | None) -> str:
    return "".join(f" xmlns:{p}={quoteattr(ns)}" if p else f" xmlns={quoteattr(ns)}" for p, ns in decls or ())


def _open(prefix: str, local: str, decls: Declarations | None = ()) -> str:
    return f"<{prefix}:{local}{_decls(decls)}>" if prefix else f"<{local}{_decls(decls)}>"


def _close(prefix: str, local: str) -> str:
    return f"</{prefix}:{local}>" if prefix else f"</{local}>"


def envelope(payload: str | bytes, style: Style = CXF12, headers: str = "") -> bytes:
    """`payload` (XML markup, written as is) in a Body, with `headers` (markup) in a Header when
    not empty, in the style's prefixes."""
    env_p = style.envelope_prefix
    env_decls = style.envelope_declarations
    if env_decls is None:
        env_decls = ((env_p, style.namespace),)
    body_p = style.body_prefix if style.body_prefix is not None else env_p
    head_p = style.header_prefix if style.header_prefix is not None else env_p
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    parts = [style.xml_declaration, _open(env_p, "Envelope", env_decls)]
    if headers:
        parts += [_open(head_p, "Header"), headers, _close(head_p, "Header")]
    parts += [_open(body_p, "Body", style.body_declarations), text, _close(body_p, "Body")]
    parts.append(_close(env_p, "Envelope"))
    return "".join(parts).encode("utf-8")


def fault_xml(fault: Fault, style: Style = CXF12) -> str:
    """The Fault element alone (markup), in the style's version and prefixes."""
    body_p = style.body_prefix if style.body_prefix is not None else style.envelope_prefix
    p = style.fault_prefix if style.fault_prefix is not None else body_p
    q = f"{p}:" if p else ""
    if style.version == "1.1":
        code = SOAP11_CODE.get(fault.code, fault.code)
        lang = f" xml:lang={quoteattr(fault.lang or style.lang)}" if style.soap11_lang else ""
        parts = [
            _open(p, "Fault", style.fault_declarations),
            f"<faultcode>{q}{escape(code)}</faultcode>",
            f"<faultstring{lang}>{escape(fault.reason)}</faultstring>",
        ]
        if fault.role:
            parts.append(f"<faultactor>{escape(fault.role)}</faultactor>")
        if fault.detail is not None or fault.detail_text is not None:
            parts.append(f"<detail>{_detail(fault)}</detail>")
        parts.append(_close(p, "Fault"))
        return "".join(parts)
    code = SOAP12_CODE.get(fault.code, fault.code)
    parts = [_open(p, "Fault", style.fault_declarations), f"<{q}Code><{q}Value>{q}{escape(code)}</{q}Value>"]
    if fault.subcode:
        if fault.subcode_namespace:
            sp = fault.subcode_prefix
            value = f"<{q}Value xmlns:{sp}={quoteattr(fault.subcode_namespace)}>{sp}:{escape(fault.subcode)}"
        else:
            value = f"<{q}Value>{q}{escape(fault.subcode)}"
        parts.append(f"<{q}Subcode>{value}</{q}Value></{q}Subcode>")
    parts.append(f"</{q}Code>")
    lang = quoteattr(fault.lang or style.lang)
    parts.append(f"<{q}Reason><{q}Text xml:lang={lang}>{escape(fault.reason)}</{q}Text></{q}Reason>")
    if fault.role:
        parts.append(f"<{q}Role>{escape(fault.role)}</{q}Role>")
    if fault.detail is not None or fault.detail_text is not None:
        parts.append(f"<{q}Detail>{_detail(fault)}</{q}Detail>")
    parts.append(_close(p, "Fault"))
    return "".join(parts)


def _detail(fault: Fault) -> str:
    return (fault.detail or "") + (escape(fault.detail_text) if fault.detail_text else "")


def fault_envelope(fault: Fault, style: Style = CXF12, headers: str = "") -> bytes:
    """A complete fault envelope (`headers`: markup for soap:Header, e.g. WS-Addressing)."""
    return envelope(fault_xml(fault, style), style, headers)
