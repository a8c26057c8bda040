"""Step 3: identify the patient and keep a qualified INS.

- ApCV (docs/services/apcv.md; research apcv-sesam-vitale-igc-sante.md A1): the patient's phone
  shows a QR code (`GET /_sandbox/apcv/qr?patient=`, what the LGC's scanner reads); the LGC calls
  `authentifierUtilisateurProximite` with the CPS assertion — a zeep client from the WSDL the
  service serves (`?wsdl`) — and the professional picks the beneficiary.
- INSi (docs/services/insi.md; research insi.md §2): `rechercherInsAvecCarteVitale` with the
  ApCV data, over mutual TLS with the structure's INSI-AUTO certificate (the centre de santé's
  organisation certificate, INS.53), then `rechercherInsAvecTraitsIdentite` to check the traits.
  CR 00 with the same INS: the identity is qualified (RNIV).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import requests
from lxml import etree
from zeep import Client
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

from demo.run import Failed, Run, Skip
from demo.saml import assertion_ps, security

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
CTXLPS = "urn:siram:lps:ctxlps"
CTXBAM = "urn:siram:bam:ctxbam"
RECSANS = "http://www.cnamts.fr/INSiRecSans"
RECVIT = "http://www.cnamts.fr/INSiRecVit"
RESULT = "http://www.cnamts.fr/INSiResultat"
ACTION_TRAITS = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
ACTION_VITALE = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"
APCV_AUTH = "{http://www.sesam-vitale.fr/apcv/auth/1/0}"


@dataclass(frozen=True)
class Patient:
    """A patient as the LGC holds them once INSi answered CR 00: a qualified identity."""

    matricule: str  # 13 characters
    cle: str
    oid: str
    nom: str  # birth name
    prenoms: str  # ListePrenom (birth first names)
    sexe: str
    naissance: str  # YYYY-MM-DD
    lieu: str  # COG
    qualified: bool = True

    @property
    def ins(self) -> str:
        return self.matricule + self.cle

    @property
    def first_name(self) -> str:
        return self.prenoms.split(" ")[0]


def _lps_context() -> etree._Element:
    lps = etree.Element(
        f"{{{CTXLPS}}}ContexteLPS", nsmap={"ctxlps": CTXLPS}, Nature="CTXLPS", Version="01_00"
    )
    return lps


def _fill_lps(run: Run, lps: etree._Element, emetteur: str) -> etree._Element:
    def sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{CTXLPS}}}{name}", **attrs)
        el.text = text
        return el

    sub(lps, "Id", str(uuid.uuid4()))
    sub(lps, "Temps", datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    sub(lps, "Emetteur", emetteur)
    soft = sub(lps, "LPS")
    sub(soft, "IDAM", run.cast.idam, R="4")
    sub(soft, "Version", run.cast.lps_version)
    sub(soft, "Instance", "6f1c2f7e-8d0e-4a8e-9d1b-3f4a5b6c7d8e")
    sub(soft, "Nom", f"urn:lps:{run.cast.lps_name}:{run.cast.lps_version}")
    return lps


# -- ApCV --------------------------------------------------------------------------------------------
def _apcv_client(run: Run) -> tuple[Client, HistoryPlugin]:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
    session.verify = str(run.roots)
    session.headers["X-Sandbox-Tenant"] = run.sandbox.tenant
    history = HistoryPlugin()
    url = run.sandbox.url("apcv") + "/apcv"
    client = Client(
        url + "?wsdl",
        transport=Transport(session=session, timeout=30),
        plugins=[WsAddressingPlugin(), history],
    )
    return client, history


def _apcv_service(run: Run, client: Client) -> Any:
    """The AUTH port at the URL /_sandbox/health gives (the WSDL's address names the default port)."""
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if "auth" in port.binding.name.namespace.lower() or "AUTH" in port.name.upper():
                return client.create_service(port.binding.name, run.sandbox.url("apcv") + "/apcv")
    raise Failed("pas de port ApCV_AUTH dans le WSDL")


def step_apcv(run: Run) -> None:
    """Lire l'application carte Vitale (QR code) et choisir le bénéficiaire

    docs/services/apcv.md; research apcv-sesam-vitale-igc-sante.md A1: ApCV_AUTH
    authentifierUtilisateurProximite avec l'assertion CPS, client zeep du WSDL servi.
    """
    qr = run.sandbox.get("/apcv/qr", patient=run.cast.patient)
    if qr.status_code != 200:
        raise Failed(f"QR code ApCV : HTTP {qr.status_code} {qr.text[:200]}")
    run.say(f"QR code lu sur le téléphone du patient : {qr.text[:32]}…")
    client, _ = _apcv_client(run)
    lps = _fill_lps(run, _lps_context(), run.cast.professional)
    header = [security(assertion_ps(run.cast, run.creds["cps_sign"])), lps]
    answer = _apcv_service(run, client).authentifierUtilisateurProximite(
        ProfessionnelSante={"IdentifiantFacturation": run.cast.billing_id, "CodeSpecialiteAMO": "01"},
        Donnees=qr.text.strip(),
        version="1.0",
        _soapheaders=header,
    )
    context = answer.ContexteApCV
    run.say(f"contexte ApCV {context.Identifiant[:12]}… valable jusqu'à {context.DateFinValidite}")
    beneficiaries = list(answer.Beneficiaire or [])
    for b in beneficiaries:
        rank = f" rang {b.RangGemellaire}" if b.RangGemellaire else ""
        run.say(
            f"  bénéficiaire {b.numero} : {b.Prenom} {b.NomFamille} né(e) {b.DateNaissance}{rank}, qualité {b.Qualite}"
        )
    chosen = next(
        (b for b in beneficiaries if b.Qualite == "00"), beneficiaries[0] if beneficiaries else None
    )
    if chosen is None:
        raise Failed("aucun bénéficiaire dans la réponse ApCV")
    run.say(f"bénéficiaire choisi : {chosen.Prenom} {chosen.NomFamille}")
    run.keep(vitale={"od": answer.Assure.NIRAssure, "beneficiary": chosen, "context": context.Identifiant})


# -- INSi ---------------------------------------------------------------------------------------------
def _insi_envelope(run: Run, action: str, body: etree._Element, emetteur: str) -> bytes:
    env = etree.Element(
        f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "ctxbam": CTXBAM, "ctxlps": CTXLPS, "wsa": WSA}
    )
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    bam = etree.SubElement(header, f"{{{CTXBAM}}}ContexteBAM", Version="01_02")
    etree.SubElement(bam, f"{{{CTXBAM}}}Id").text = str(uuid.uuid4())
    etree.SubElement(bam, f"{{{CTXBAM}}}Temps").text = (
        datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    etree.SubElement(bam, f"{{{CTXBAM}}}Emetteur").text = emetteur
    etree.SubElement(bam, f"{{{CTXBAM}}}COUVERTURE")
    header.append(_fill_lps(run, _lps_context(), emetteur))
    etree.SubElement(header, f"{{{WSA}}}Action").text = action
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = f"uuid:{uuid.uuid4()}"
    etree.SubElement(env, f"{{{SOAP12}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _insi_call(run: Run, action: str, body: etree._Element) -> etree._Element:
    """One INSi call over mutual TLS (INSI-AUTO): the answer's RESULTAT, or Failed with the fault."""
    cred = run.creds["insi_auto"]
    emetteur = run.cast.structure  # the certificate's OU (INSI-EMETTEUR)
    envelope = _insi_envelope(run, action, body, emetteur)
    with httpx.Client(verify=run.tls(cred), timeout=30) as client:
        answer = client.post(
            run.sandbox.url("insi") + "/lps",
            content=envelope,
            headers={
                "Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"',
                "X-Sandbox-Tenant": run.sandbox.tenant,
            },
        )
    root = etree.fromstring(answer.content)
    result = root.find(f".//{{{RESULT}}}RESULTAT")
    if result is None:
        reason = root.findtext(f".//{{{SOAP12}}}Text") or answer.text[:200]
        raise Failed(f"INSi : faute SOAP HTTP {answer.status_code} : {reason}")
    return result


def _patient(result: etree._Element) -> tuple[str, Patient | None]:
    q = f"{{{RESULT}}}"
    code = result.findtext(f"{q}CR/{q}CodeCR") or ""
    ins = result.find(f"{q}INDIVIDU/{q}INSACTIF")
    tiq = result.find(f"{q}INDIVIDU/{q}TIQ")
    if code != "00" or ins is None or tiq is None:
        return code, None
    return code, Patient(
        matricule=ins.findtext(f"{q}IdIndividu/{q}NumIdentifiant") or "",
        cle=ins.findtext(f"{q}IdIndividu/{q}Cle") or "",
        oid=ins.findtext(f"{q}OID") or "",
        nom=tiq.findtext(f"{q}NomNaissance") or "",
        prenoms=tiq.findtext(f"{q}ListePrenom") or "",
        sexe=tiq.findtext(f"{q}Sexe") or "",
        naissance=tiq.findtext(f"{q}DateNaissance") or "",
        lieu=tiq.findtext(f"{q}LieuNaissance") or "",
    )


def _e(ns: str, name: str, text: str | None = None, *children: etree._Element) -> etree._Element:
    el = etree.Element(f"{{{ns}}}{name}", nsmap={None: ns})
    el.text = text
    el.extend(children)
    return el


def _vitale_body(od: Any, b: Any) -> etree._Element:
    q = RECVIT
    children = []
    if getattr(b, "NIRCertifie", None) is not None:
        nir = b.NIRCertifie
        children.append(
            _e(q, "MatriculeIndividu", None, _e(q, "NumIdentifiant", nir._value_1), _e(q, "Cle", nir.cle))
        )
    children.append(_e(q, "MatriculeOD", None, _e(q, "NumIdentifiant", od._value_1), _e(q, "Cle", od.cle)))
    children.append(_e(q, "NomNaissance", b.NomFamille))
    date = b.DateNaissance or ""
    children.append(_e(q, "DateNaissance", f"{date[:4]}-{date[4:6]}-{date[6:8]}"))
    if b.RangGemellaire:
        children.append(_e(q, "RangNaissance", b.RangGemellaire))
    return _e(q, "RECVITALE", None, *children)


def traits_body(nom: str, prenom: str, sexe: str, naissance: str, lieu: str | None = None) -> etree._Element:
    q = RECSANS
    children = [
        _e(q, "NomNaissance", nom),
        _e(q, "Prenom", prenom),
        _e(q, "Sexe", sexe),
        _e(q, "DateNaissance", naissance),
    ]
    if lieu:
        children.append(_e(q, "LieuNaissance", lieu))
    return _e(q, "RECSANSVITALE", None, *children)


def step_insi(run: Run) -> None:
    """Récupérer l'INS du bénéficiaire par INSi (carte Vitale, puis traits) : identité qualifiée

    docs/services/insi.md; research insi.md §2.1–2.6: RECVITALE puis RECSANSVITALE en TLS mutuel
    INSI-AUTO, CR 00, INSACTIF + TIQ; référentiel INS (RNIV) : identité qualifiée.
    """
    if not run.has("vitale"):
        # no ApCV: the Vitale data come from the persona's card (what a card reader gives)
        person = run.sandbox.control.get(f"/personas/patients/{run.cast.patient}").json()
        body = traits_body(person["nom"], person["prenoms"][0], person["sexe"], person["date_naissance"])
        code, patient = _patient(_insi_call(run, ACTION_TRAITS, body))
        run.say(f"rechercherInsAvecTraitsIdentite {person['nom']} {person['prenoms'][0]} => CR {code}")
    else:
        od, b = run.vitale["od"], run.vitale["beneficiary"]
        code, patient = _patient(_insi_call(run, ACTION_VITALE, _vitale_body(od, b)))
        run.say(f"rechercherInsAvecCarteVitale (OD {od._value_1}, {b.Prenom}) => CR {code}")
        if patient is not None:
            body = traits_body(patient.nom, patient.first_name, patient.sexe, patient.naissance)
            code2, again = _patient(_insi_call(run, ACTION_TRAITS, body))
            run.say(f"rechercherInsAvecTraitsIdentite {patient.nom} {patient.first_name} => CR {code2}")
            if again is None or again.ins != patient.ins:
                raise Failed(f"les traits ne redonnent pas le même INS (CR {code2})")
    if patient is None:
        raise Failed(f"INSi n'a pas trouvé le patient (CR {code})")
    run.say(
        f"INS qualifié : {patient.matricule} {patient.cle} (OID {patient.oid}) — {patient.nom} "
        f"{patient.prenoms}, {patient.sexe}, {patient.naissance}, né(e) à {patient.lieu}"
    )
    facts = run.sandbox.get("/evidence", kind="ins.qualified", subject=patient.matricule).json()
    run.say(f"preuve au registre du bac à sable : {len(facts)} fait(s) ins.qualified pour ce matricule")
    run.keep(patient=patient)


def unqualified_patient(run: Run) -> Patient:
    """--fail ins-non-qualifie: a patient of the world whose INS this LGC never asked INSi for."""
    found = run.sandbox.control.get("/personas/search", params={"q": "ADRUN"}).json()
    people = [p for p in found.get("patients", []) if p.get("matricule")] if isinstance(found, dict) else []
    if not people:
        raise Skip("aucun patient non qualifié trouvé dans le monde synthétique")
    p = run.sandbox.control.get(f"/personas/patients/{people[0]['id']}").json()
    return Patient(
        matricule=p["matricule"],
        cle=p["cle"],
        oid="1.2.250.1.213.1.4.8",
        nom=p["nom"],
        prenoms=" ".join(p["prenoms"]),
        sexe=p["sexe"],
        naissance=p["date_naissance"],
        lieu=p.get("lieu_naissance") or "",
        qualified=False,
    )
