"""INSi wire format: parse the SOAP 1.2 requests an LGC sends, serialise the answers byte for byte
as the real platform does (research insi.md 2.5 and 3.1). No business rule lives here.

Serialisation eras (setting `insi_serialisation`):

- `live`  : the platform since 2022-11 (default). `<?xml ...?>\\n<soap:Envelope><env:Body xmlns:S
            xmlns:env><RESULTAT xmlns=RESULTAT xmlns:ns0=RecVit xmlns:ns1=RecSans>`, no TIQ `Prenom`;
            faults `soap:`-prefixed, `xml:lang="fr"`, `messageID` echoed.
- `2022`  : the platform until 2022-10: `<ns2:RESULTAT xmlns:ns3 xmlns:ns2 xmlns>` with `ns2:`
            children and a TIQ `Prenom`; faults `S:`-prefixed with `xml:lang="en"`.
- `cnda`  : the CNDA response files: `<S:Body>`, `RESULTAT` default namespace with `ns3`/`ns2`,
            TIQ `Prenom`, INSHISTO dates first; faults as `2022`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from xml.sax.saxutils import escape

from lxml import etree

from mocks import soap

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
CTXBAM = "urn:siram:bam:ctxbam"
CTXLPS = "urn:siram:lps:ctxlps"
SIRAM = "urn:siram"
RECSANS = "http://www.cnamts.fr/INSiRecSans"
RECVIT = "http://www.cnamts.fr/INSiRecVit"
RESULTAT = "http://www.cnamts.fr/INSiResultat"

ACTION_PREFIX = "urn:ServiceIdentiteCertifiee:1.0.0:"
OP_TRAITS = "rechercherInsAvecTraitsIdentite"
OP_VITALE = "rechercherInsAvecCarteVitale"
# [inferred] the verification operation is not in the public WSDL (research 2.3)
OP_VERIF = "verifierInsAvecTraitsIdentite"
OPERATIONS = (OP_TRAITS, OP_VITALE, OP_VERIF)
BODY_OF = {OP_TRAITS: (RECSANS, "RECSANSVITALE"), OP_VITALE: (RECVIT, "RECVITALE")}

CONTENT_TYPE = "application/soap+xml; charset=utf-8"
Era = Literal["live", "2022", "cnda"]
ERAS: tuple[str, ...] = ("live", "2022", "cnda")
LIBELLES = {"00": "OK", "01": "Aucune identite trouvee", "02": "Plusieurs identites trouvees"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


class MalformedRequest(ValueError):
    """The request cannot be read as an INSi SOAP 1.2 message (`reason` is a short key)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "xml", "soap11", "envelope", "body"


# -- requests -----------------------------------------------------------------------------------
@dataclass
class Context:
    """ContexteBAM or ContexteLPS as sent (None fields: element absent)."""

    present: bool = False
    version: str | None = None
    nature: str | None = None
    id: str | None = None
    temps: str | None = None
    emetteur: str | None = None
    # ContexteLPS/LPS
    idam: str | None = None
    idam_r: str | None = None
    lps_version: str | None = None
    instance: str | None = None
    nom: str | None = None
    has_lps: bool = False
    # ContexteBAM/COUVERTURE
    has_couverture: bool = False
    assure_num: str | None = None
    beneficiaire_nir: str | None = None
    beneficiaire_date: str | None = None
    beneficiaire_rang: str | None = None


@dataclass
class Traits:
    nom: str | None = None
    prenoms: list[str] = field(default_factory=list)  # one entry per Prenom element
    sexe: str | None = None
    date_naissance: str | None = None
    lieu_naissance: str | None = None


@dataclass
class Matricule:
    num: str | None = None
    cle: str | None = None
    type: str | None = None


@dataclass
class CarteVitale:
    matricule_individu: Matricule | None = None
    matricule_od: Matricule | None = None
    nom: str | None = None
    date_naissance: str | None = None
    rang: str | None = None


@dataclass
class Verification:
    """[inferred] RequeteUnitaire/IndividuVerifie (research 2.3)."""

    ins: Matricule | None = None
    oid: str | None = None
    traits: Traits = field(default_factory=Traits)
    liste_prenom: str | None = None
    namespace: str = ""


@dataclass
class Request:
    operation: str  # one of OPERATIONS
    action_header: str | None  # from the Content-Type `action` parameter
    wsa_action: str | None
    message_id: str | None
    bam: Context
    lps: Context
    security: etree._Element | None  # wsse:Security
    assertion: etree._Element | None  # its saml:Assertion
    body_element: etree._Element
    header_names: list[str]  # Clark names of the soap:Header children, in order
    traits: Traits | None = None
    carte: CarteVitale | None = None
    verification: Verification | None = None


def _text(el: etree._Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    if found is None:
        return None
    return found.text or ""


def _children(el: etree._Element) -> dict[str, etree._Element]:
    """The first child of each tag (what `el.find(tag)` returns), in one walk of the children."""
    out: dict[str, etree._Element] = {}
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag not in out:  # comments and PIs have no string tag
            out[tag] = child
    return out


def _value(children: dict[str, etree._Element], tag: str) -> str | None:
    found = children.get(tag)
    return None if found is None else (found.text or "")


def _context(el: etree._Element | None, ns: str) -> Context:
    if el is None:
        return Context()
    q = f"{{{ns}}}"
    kids = _children(el)
    ctx = Context(
        present=True,
        version=el.get("Version"),
        nature=el.get("Nature"),
        id=_value(kids, q + "Id"),
        temps=_value(kids, q + "Temps"),
        emetteur=_value(kids, q + "Emetteur"),
    )
    lps = kids.get(q + "LPS")
    if lps is not None:
        ctx.has_lps = True
        of_lps = _children(lps)
        idam = of_lps.get(q + "IDAM")
        if idam is not None:
            ctx.idam, ctx.idam_r = (idam.text or "").strip(), idam.get("R")
        ctx.lps_version = _value(of_lps, q + "Version")
        ctx.instance = _value(of_lps, q + "Instance")
        ctx.nom = _value(of_lps, q + "Nom")
    couv = kids.get(q + "COUVERTURE")
    if couv is not None:
        ctx.has_couverture = True
        ctx.assure_num = _text(couv, f"{q}ASSURE/{q}Id/{q}Num")
        ctx.beneficiaire_nir = _text(couv, f"{q}BENEFICIAIRE/{q}Nir/{q}Num")
        ctx.beneficiaire_date = _text(couv, f"{q}BENEFICIAIRE/{q}DateNai")
        ctx.beneficiaire_rang = _text(couv, f"{q}BENEFICIAIRE/{q}Rang")
    return ctx


def _matricule(el: etree._Element | None, ns: str) -> Matricule | None:
    if el is None:
        return None
    q, kids = f"{{{ns}}}", _children(el)
    return Matricule(
        _value(kids, q + "NumIdentifiant"), _value(kids, q + "Cle"), _value(kids, q + "TypeMatricule")
    )


def _traits(el: etree._Element, ns: str) -> Traits:
    q = f"{{{ns}}}"
    kids = _children(el)
    prenom = q + "Prenom"
    return Traits(
        nom=_value(kids, q + "NomNaissance"),
        prenoms=[p.text or "" for p in el if p.tag == prenom],
        sexe=_value(kids, q + "Sexe"),
        date_naissance=_value(kids, q + "DateNaissance"),
        lieu_naissance=_value(kids, q + "LieuNaissance"),
    )


@lru_cache(maxsize=64)  # an LGC sends the same Content-Type on every call
def action_from_content_type(content_type: str | None) -> str | None:
    action = soap.action_of(content_type).http
    return action.strip() if action else None


def operation_of(action: str | None) -> str | None:
    if action and action.startswith(ACTION_PREFIX):
        name = action[len(ACTION_PREFIX) :]
        if name in OPERATIONS:
            return name
    return None


def parse_request(body: bytes, content_type: str | None = None) -> Request:
    """Read an INSi request; raises MalformedRequest when it is not one."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedRequest("xml", f"XML mal formé : {exc}") from None
    if root.tag == f"{{{SOAP11}}}Envelope":
        raise MalformedRequest("soap11", "enveloppe SOAP 1.1 : le service attend SOAP 1.2")
    if root.tag != f"{{{SOAP12}}}Envelope":
        raise MalformedRequest("envelope", f"l'élément racine {root.tag} n'est pas soap:Envelope (SOAP 1.2)")
    envelope = _children(root)
    header = envelope.get(f"{{{SOAP12}}}Header")
    body_el = envelope.get(f"{{{SOAP12}}}Body")
    if body_el is None or len(body_el) == 0:
        raise MalformedRequest("body", "soap:Body absent ou vide")
    payload = body_el[0]
    headers = list(header) if header is not None else []
    hmap: dict[str, etree._Element] = {}
    for h in headers:
        if isinstance(h.tag, str):
            hmap.setdefault(h.tag, h)
    security = hmap.get(f"{{{WSSE}}}Security")
    assertion = security.find(f"{{{SAML}}}Assertion") if security is not None else None
    wsa_action = _value(hmap, f"{{{WSA}}}Action")
    message_id = _value(hmap, f"{{{WSA}}}MessageID")
    ct_action = action_from_content_type(content_type)
    qname = etree.QName(payload)
    if (qname.namespace, qname.localname) == BODY_OF[OP_TRAITS]:
        operation = OP_TRAITS
    elif (qname.namespace, qname.localname) == BODY_OF[OP_VITALE]:
        operation = OP_VITALE
    elif qname.localname == "RequeteUnitaire":
        operation = OP_VERIF
    else:
        raise MalformedRequest("body", f"élément {payload.tag} inconnu dans soap:Body")
    req = Request(
        operation=operation,
        action_header=ct_action,
        wsa_action=wsa_action.strip() if wsa_action else wsa_action,
        message_id=message_id.strip() if message_id else message_id,
        bam=_context(hmap.get(f"{{{CTXBAM}}}ContexteBAM"), CTXBAM),
        lps=_context(hmap.get(f"{{{CTXLPS}}}ContexteLPS"), CTXLPS),
        security=security,
        assertion=assertion,
        body_element=payload,
        header_names=[h.tag for h in headers if isinstance(h.tag, str)],
    )
    if operation == OP_TRAITS:
        req.traits = _traits(payload, RECSANS)
    elif operation == OP_VITALE:
        q, kids = f"{{{RECVIT}}}", _children(payload)
        req.carte = CarteVitale(
            matricule_individu=_matricule(kids.get(q + "MatriculeIndividu"), RECVIT),
            matricule_od=_matricule(kids.get(q + "MatriculeOD"), RECVIT),
            nom=_value(kids, q + "NomNaissance"),
            date_naissance=_value(kids, q + "DateNaissance"),
            rang=_value(kids, q + "RangNaissance"),
        )
    else:
        ns = qname.namespace or ""
        q = f"{{{ns}}}" if ns else ""
        ind = payload.find(f"{q}IndividuVerifie")
        ind = ind if ind is not None else payload
        fourni = ind.find(f"{q}INSFourni")
        traits_el = ind.find(f"{q}TraitsIdentiteIndividu")
        req.verification = Verification(
            ins=_matricule(fourni.find(f"{q}IdIndividu") if fourni is not None else None, ns),
            oid=_text(fourni, f"{q}OID"),
            traits=_traits(traits_el, ns) if traits_el is not None else Traits(),
            liste_prenom=_text(traits_el, f"{q}ListePrenom"),
            namespace=ns,
        )
    return req


# -- answers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ins:
    """One INS (INSACTIF or INSHISTO)."""

    matricule: str  # 13 characters
    cle: str | None
    oid: str
    date_deb: str | None = None
    date_fin: str | None = None
    type_matricule: str | None = None


@dataclass(frozen=True)
class Tiq:
    nom: str
    prenoms: Sequence[str]  # birth first names, in order
    sexe: str
    date_naissance: str
    lieu_naissance: str | None


@dataclass(frozen=True)
class Resultat:
    code: str  # "00", "01", "02"
    actif: Ins | None = None
    histo: Sequence[Ins] = ()
    tiq: Tiq | None = None

    @property
    def libelle(self) -> str:
        return LIBELLES.get(self.code, "")


def _el(prefix: str, name: str, text: str | None) -> str:
    if text is None:
        return ""
    return f"<{prefix}{name}>{escape(text)}</{prefix}{name}>"


def _ins(prefix: str, tag: str, ins: Ins, dates_first: bool) -> str:
    p = prefix
    ident = (
        f"<{p}IdIndividu>{_el(p, 'NumIdentifiant', ins.matricule)}{_el(p, 'Cle', ins.cle)}"
        f"{_el(p, 'TypeMatricule', ins.type_matricule)}</{p}IdIndividu>{_el(p, 'OID', ins.oid)}"
    )
    dates = _el(p, "DateDeb", ins.date_deb) + _el(p, "DateFin", ins.date_fin)
    inner = dates + ident if dates_first else ident + dates
    return f"<{p}{tag}>{inner}</{p}{tag}>"


def resultat_xml(result: Resultat, era: str = "live") -> str:
    """The RESULTAT element as the platform of `era` writes it."""
    if era == "2022":
        p = "ns2:"
        open_tag = f'<ns2:RESULTAT xmlns:ns3="{RECVIT}" xmlns:ns2="{RESULTAT}" xmlns="{RECSANS}">'
    elif era == "cnda":
        p = ""
        open_tag = f'<RESULTAT xmlns:ns3="{RECVIT}" xmlns:ns2="{RECSANS}" xmlns="{RESULTAT}">'
    else:
        p = ""
        open_tag = f'<RESULTAT xmlns="{RESULTAT}" xmlns:ns0="{RECVIT}" xmlns:ns1="{RECSANS}">'
    parts = [open_tag, f"<{p}CR>", _el(p, "CodeCR", result.code), _el(p, "LibelleCR", result.libelle)]
    parts.append(f"</{p}CR>")
    if result.code == "00" and result.actif is not None and result.tiq is not None:
        tiq = result.tiq
        parts.append(f"<{p}INDIVIDU>")
        parts.append(_ins(p, "INSACTIF", result.actif, era == "cnda"))
        parts.extend(_ins(p, "INSHISTO", h, era == "cnda") for h in result.histo)
        parts.append(f"<{p}TIQ>")
        parts.append(_el(p, "NomNaissance", tiq.nom))
        if era != "live":
            parts.append(_el(p, "Prenom", tiq.prenoms[0] if tiq.prenoms else None))
        parts.append(_el(p, "ListePrenom", " ".join(tiq.prenoms) if tiq.prenoms else None))
        parts.append(_el(p, "Sexe", tiq.sexe))
        parts.append(_el(p, "DateNaissance", tiq.date_naissance))
        parts.append(_el(p, "LieuNaissance", tiq.lieu_naissance))
        parts.append(f"</{p}TIQ></{p}INDIVIDU>")
    parts.append(f"</{p}RESULTAT>")
    return "".join(parts)


XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
ENVELOPE_OPEN = f'<soap:Envelope xmlns:soap="{SOAP12}">'


def envelope(payload: str, era: str = "live") -> bytes:
    """A body-only SOAP 1.2 envelope around `payload`, as the platform writes it."""
    if era == "cnda":
        body = f'<S:Body xmlns:S="{SOAP12}">{payload}</S:Body>'
    else:
        body = f'<env:Body xmlns:S="{SOAP12}" xmlns:env="{SOAP12}">{payload}</env:Body>'
    return (XML_DECL + ENVELOPE_OPEN + body + "</soap:Envelope>").encode("utf-8")


def result_response(result: Resultat, era: str = "live") -> bytes:
    return envelope(resultat_xml(result, era), era)


@dataclass(frozen=True)
class FaultSpec:
    """What a fault says; the era decides how it is written."""

    role: str  # "Sender" or "Receiver" (or "VersionMismatch")
    subcode: str | None  # e.g. "siram_100"
    reason: str
    code: str  # siram:Erreur/@code, e.g. "desir_550"
    severite: str  # "erreur", "fatale" (written "fatal" by the older application faults)
    text: str
    message_id: str | None = None  # echoed in siram:Erreur/@messageID when given
    # order of siram:Erreur attributes (the live platform is not consistent between components)
    attribute_order: tuple[str, ...] = ("code", "messageID", "severite")


def fault_response(spec: FaultSpec, era: str = "live") -> bytes:
    """A SOAP 1.2 fault (HTTP 500) as the platform of `era` writes it (the SOAP kit's INSi styles:
    mocks.soap.fault INSI_LIVE / INSI_2022)."""
    attrs = {"code": spec.code, "severite": spec.severite, "messageID": spec.message_id}
    attr_text = "".join(
        f' {name}="{escape(str(attrs[name]), {chr(34): "&quot;"})}"'
        for name in spec.attribute_order
        if attrs.get(name) is not None
    )
    detail = f'<siram:Erreur{attr_text} xmlns:siram="{SIRAM}">{escape(spec.text)}</siram:Erreur>'
    fault = soap.Fault(spec.reason, code=spec.role, subcode=spec.subcode, detail=detail)
    return soap.fault_envelope(fault, soap.INSI_LIVE if era == "live" else soap.INSI_2022)


# -- verification answer [inferred: research 2.3 gives only the request and a namespace] ----------
VERIF_NS = "http://www.cnamts.fr/INSiLot2/REPUnitaire"


def verification_response(code: str, libelle: str, era: str = "live") -> bytes:
    payload = (
        f'<ReponseUnitaire xmlns="{VERIF_NS}"><CR><CodeCR>{escape(code)}</CodeCR>'
        f"<LibelleCR>{escape(libelle)}</LibelleCR></CR></ReponseUnitaire>"
    )
    return envelope(payload, era)
