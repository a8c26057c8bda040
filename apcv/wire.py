"""ApCV wire format: read the SOAP 1.2 requests (through the SOAP kit, mocks.soap) into a typed
`Request`, write the answers. No rule, no state here.

Requests [seen: research A1.3, the Pyxvital templates]: header children `wsa:MessageID`,
`wsa:Action`, `wsse:Security` (CPS assertion), `ctxlps:ContexteLPS Version="01_00"` (Id, Temps,
Emetteur, LPS/IDAM R="4", Version, Instance, Nom); bodies in the default namespace
`http://www.sesam-vitale.fr/apcv/auth/1/0` (or `/2/0`, research A1.3) and `.../apcv/sign/1/0`:

    AuthentifierUtilisateurProximiteReq version  ProfessionnelSante/{IdentifiantFacturation,
                                                 CodeSpecialiteAMO}, Donnees (the QR code)
    RestituerContexteApCVReq version             (empty)
    DetruireContexteApCVReq version              ContexteApCV/Identifiant
    SignerVitaleReq version                      ContexteApCV/Identifiant, Facture[@type]/{NIRAssure
                                                 [@cle], DonneeFSE?, DonneeDRE?}, ResumeFacture/
                                                 {ProfessionnelSante/{IdentifiantFacturation, IdNatPS,
                                                 Nom?}, Beneficiaire/{NomUsage, NomFamille, Prenom,
                                                 NIRCertifie[@cle], ...}, ...}

Answers [inferred: no public WSDL; `ContexteApCV{Identifiant, TokenApCV, DateFinValidite}` is the
server's ContexteApCVRepType, A1.3; the field names are those of the ApCV sign request and of the
Vitale data model, A2]: `<op>Rep version` in the request's namespace, see docs/services/apcv.md
and apcv/wsdl/ApCV.wsdl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from apcv.vitale import Beneficiaire, DonneesVitale
from mocks import soap

AUTH_NS = {
    "1.0": "http://www.sesam-vitale.fr/apcv/auth/1/0",
    "2.0": "http://www.sesam-vitale.fr/apcv/auth/2/0",
}
SIGN_NS = "http://www.sesam-vitale.fr/apcv/sign/1/0"
CTXLPS = "urn:siram:lps:ctxlps"
SIRAM = "urn:siram"

OP_AUTH = "authentifierUtilisateurProximite"
OP_RESTITUER = "restituerContexteApCV"
OP_DETRUIRE = "detruireContexteApCV"
OP_SIGNER = "signerVitale"
SOAP_OPERATIONS = (OP_AUTH, OP_RESTITUER, OP_DETRUIRE, OP_SIGNER)
ROOTS = {
    "AuthentifierUtilisateurProximiteReq": OP_AUTH,
    "RestituerContexteApCVReq": OP_RESTITUER,
    "DetruireContexteApCVReq": OP_DETRUIRE,
}
RESPONSE_ROOT = {
    OP_AUTH: "AuthentifierUtilisateurProximiteRep",
    OP_RESTITUER: "RestituerContexteApCVRep",
    OP_DETRUIRE: "DetruireContexteApCVRep",
    OP_SIGNER: "SignerVitaleRep",
}


def action(operation: str, version: str = "1.0") -> str:
    """The wsa:Action of an operation (`urn:ApCV_AUTH:1.0.0:...`, research A1.3)."""
    if operation == OP_SIGNER:
        return f"urn:ApCV_SIGN:1.0.0:{operation}"
    return f"urn:ApCV_AUTH:{version}.0:{operation}"


class Malformed(ValueError):
    """Not an ApCV request (unknown body, missing element)."""


@dataclass
class Lps:
    """ctxlps:ContexteLPS as sent (None: element absent)."""

    present: bool = False
    version: str | None = None
    nature: str | None = None
    id: str | None = None
    temps: str | None = None
    emetteur: str | None = None
    has_lps: bool = False
    idam: str | None = None
    idam_r: str | None = None
    lps_version: str | None = None
    instance: str | None = None
    nom: str | None = None


@dataclass
class Invoice:
    """signerVitale's Facture and ResumeFacture."""

    type: str | None = None
    nir_assure: str | None = None
    nir_assure_cle: str | None = None
    donnee_fse: str | None = None
    donnee_dre: str | None = None
    facturation: str | None = None
    id_nat_ps: str | None = None
    nom_ps: str | None = None
    nom_usage: str | None = None
    nom_famille: str | None = None
    prenom: str | None = None
    nir_certifie: str | None = None
    nir_certifie_cle: str | None = None


@dataclass
class Request:
    operation: str
    version: str  # "1.0" or "2.0": the body namespace's
    namespace: str
    version_attr: str | None  # @version of the body root
    action: str | None  # Content-Type action or wsa:Action
    wsa_action: str | None
    message_id: str | None
    lps: Lps
    header_names: list[str]
    facturation: str | None = None
    specialite: str | None = None
    donnees: str | None = None  # None: element absent
    identifiant: str | None = None
    invoice: Invoice = field(default_factory=Invoice)


def _text(el: etree._Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    return None if found is None else (found.text or "").strip()


def _lps(el: etree._Element | None) -> Lps:
    if el is None:
        return Lps()
    q = f"{{{CTXLPS}}}"
    out = Lps(
        True,
        el.get("Version"),
        el.get("Nature"),
        _text(el, q + "Id"),
        _text(el, q + "Temps"),
        _text(el, q + "Emetteur"),
    )
    lps = el.find(q + "LPS")
    if lps is not None:
        out.has_lps = True
        idam = lps.find(q + "IDAM")
        if idam is not None:
            out.idam, out.idam_r = (idam.text or "").strip(), idam.get("R")
        out.lps_version, out.instance, out.nom = (
            _text(lps, q + "Version"),
            _text(lps, q + "Instance"),
            _text(lps, q + "Nom"),
        )
    return out


def parse(req: soap.SoapRequest) -> Request:
    """An ApCV request from a SOAP 1.2 request the kit read (raises Malformed)."""
    payload = req.envelope.payload
    if payload is None:
        raise Malformed("soap:Body vide")
    qname = etree.QName(payload)
    ns, local = qname.namespace or "", qname.localname
    version = next((v for v, n in AUTH_NS.items() if n == ns), None)
    if version is not None and local in ROOTS:
        operation = ROOTS[local]
    elif ns == SIGN_NS and local == "SignerVitaleReq":
        operation, version = OP_SIGNER, "1.0"
    else:
        raise Malformed(f"élément {payload.tag} inconnu dans soap:Body (opérations ApCV_AUTH / ApCV_SIGN)")
    q = f"{{{ns}}}"
    out = Request(
        operation=operation,
        version=version,
        namespace=ns,
        version_attr=payload.get("version"),
        action=req.action.value,
        wsa_action=req.addressing.action,
        message_id=req.addressing.message_id,
        lps=_lps(req.envelope.header_element(CTXLPS, "ContexteLPS")),
        header_names=[h.tag for h in req.envelope.headers],
    )
    if operation == OP_AUTH:
        out.facturation = _text(payload, f"{q}ProfessionnelSante/{q}IdentifiantFacturation")
        out.specialite = _text(payload, f"{q}ProfessionnelSante/{q}CodeSpecialiteAMO")
        out.donnees = _text(payload, q + "Donnees")
    elif operation in (OP_DETRUIRE, OP_SIGNER):
        out.identifiant = _text(payload, f"{q}ContexteApCV/{q}Identifiant")
        if out.identifiant is None:
            raise Malformed("ContexteApCV/Identifiant absent")
    if operation == OP_SIGNER:
        out.invoice = _invoice(payload, q)
    return out


def _invoice(payload: etree._Element, q: str) -> Invoice:
    facture = payload.find(q + "Facture")
    resume = payload.find(q + "ResumeFacture")
    ps = resume.find(q + "ProfessionnelSante") if resume is not None else None
    benef = resume.find(q + "Beneficiaire") if resume is not None else None
    nir = facture.find(q + "NIRAssure") if facture is not None else None
    certifie = benef.find(q + "NIRCertifie") if benef is not None else None
    return Invoice(
        type=facture.get("type") if facture is not None else None,
        nir_assure=(nir.text or "").strip() if nir is not None else None,
        nir_assure_cle=nir.get("cle") if nir is not None else None,
        donnee_fse=_text(facture, q + "DonneeFSE"),
        donnee_dre=_text(facture, q + "DonneeDRE"),
        facturation=_text(ps, q + "IdentifiantFacturation"),
        id_nat_ps=_text(ps, q + "IdNatPS"),
        nom_ps=_text(ps, q + "Nom"),
        nom_usage=_text(benef, q + "NomUsage"),
        nom_famille=_text(benef, q + "NomFamille"),
        prenom=_text(benef, q + "Prenom"),
        nir_certifie=(certifie.text or "").strip() if certifie is not None else None,
        nir_certifie_cle=certifie.get("cle") if certifie is not None else None,
    )


# -- answers ----------------------------------------------------------------------------------------
def instant(value: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as JAXB writes an XMLGregorianCalendar."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _el(name: str, text: str | None, attrs: str = "") -> str:
    return "" if text is None else f"<{name}{attrs}>{escape(text)}</{name}>"


@dataclass(frozen=True)
class Contexte:
    identifiant: str
    fin: datetime


def contexte_xml(ctx: Contexte) -> str:
    return (
        f"<ContexteApCV>{_el('Identifiant', ctx.identifiant)}{_el('TokenApCV', ctx.identifiant)}"
        f"{_el('DateFinValidite', instant(ctx.fin))}</ContexteApCV>"
    )


def _beneficiaire(b: Beneficiaire, administrative_only: bool) -> str:
    parts = [f'<Beneficiaire numero="{b.numero}">']
    if b.nom_usage:
        parts.append(_el("NomUsage", b.nom_usage))
    parts += [_el("NomFamille", b.nom_famille), _el("Prenom", b.prenom)]
    parts += [_el("DateNaissance", b.date_naissance), _el("DateEnCarte", b.date_en_carte)]
    parts += [_el("RangGemellaire", b.rang), _el("Qualite", b.qualite)]
    if b.nir and not administrative_only:
        attrs = f" cle={quoteattr(b.cle)} dateCertification={quoteattr(b.date_certification)}"
        parts.append(_el("NIRCertifie", b.nir, attrs))
    for start, end in b.droits:
        parts.append(f"<PeriodeDroitsAMO>{_el('DateDebut', start)}{_el('DateFin', end)}</PeriodeDroitsAMO>")
    if b.ins is not None and not administrative_only:
        ins = b.ins
        parts.append(
            f"<INS>{_el('Matricule', ins.matricule, f' cle={quoteattr(ins.cle)}')}{_el('OID', ins.oid)}"
            f"{_el('NomNaissance', ins.nom)}{_el('ListePrenom', ' '.join(ins.prenoms))}{_el('Sexe', ins.sexe)}"
            f"{_el('DateNaissance', ins.date_naissance)}{_el('LieuNaissance', ins.lieu_naissance)}</INS>"
        )
    parts.append("</Beneficiaire>")
    return "".join(parts)


def donnees_rep(
    operation: str,
    version: str,
    data: DonneesVitale,
    ctx: Contexte | None,
    code_retour: tuple[str, str] | None = None,
) -> str:
    """AuthentifierUtilisateurProximiteRep / RestituerContexteApCVRep: the context and the Vitale
    data; `code_retour` (61441, text) for the administrative data alone, without context."""
    root = RESPONSE_ROOT[operation]
    parts = [f"<{root} version={quoteattr(version)} xmlns={quoteattr(AUTH_NS[version])}>"]
    if code_retour is not None:
        parts.append(_el("CodeRetour", code_retour[0]) + _el("LibelleRetour", code_retour[1]))
    if ctx is not None:
        parts.append(contexte_xml(ctx))
    parts.append(
        f"<Assure>{_el('NIRAssure', data.nir_od, f' cle={quoteattr(data.cle_od)}')}{_el('CodeRegime', data.regime)}"
        f"{_el('CaisseGestionnaire', data.caisse)}{_el('CentreGestionnaire', data.centre)}</Assure>"
    )
    parts.extend(_beneficiaire(b, code_retour is not None) for b in data.beneficiaires)
    parts.append(f"</{root}>")
    return "".join(parts)


def detruire_rep(version: str, identifiant: str) -> str:
    return (
        f"<DetruireContexteApCVRep version={quoteattr(version)} xmlns={quoteattr(AUTH_NS[version])}>"
        f"<ContexteApCV>{_el('Identifiant', identifiant)}</ContexteApCV></DetruireContexteApCVRep>"
    )


def signer_rep(identifiant: str, signature_b64: str, at: datetime) -> str:
    return (
        f'<SignerVitaleRep version="1.0" xmlns="{SIGN_NS}"><ContexteApCV>{_el("Identifiant", identifiant)}'
        f'</ContexteApCV><SignatureVitale algorithme="Ed25519">{signature_b64}</SignatureVitale>'
        f"{_el('DateSignature', instant(at))}</SignerVitaleRep>"
    )


def erreur_detail(code: str, severite: str, message_id: str | None, text: str) -> str:
    """The siram:Erreur detail of a fault, as INSi writes it (research insi.md 3.1)."""
    mid = f" messageID={quoteattr(message_id)}" if message_id else ""
    return (
        f'<siram:Erreur code={quoteattr(code)}{mid} severite={quoteattr(severite)} xmlns:siram="{SIRAM}">'
        f"{escape(text)}</siram:Erreur>"
    )


UPGRADE = (
    '<soap:Upgrade><soap:SupportedEnvelope qname="ns1:Envelope" '
    'xmlns:ns1="http://www.w3.org/2003/05/soap-envelope"/></soap:Upgrade>'
)
