"""ApCV from independent clients over real sockets: a zeep client generated from the WSDL we ship
(apcv/wsdl/ApCV.wsdl, with zeep's WS-Addressing plugin and the CPS assertion in wsse:Security);
the QR code read from the rendered PNG by zxing-cpp, as a scanner would, then used in
authentifierUtilisateurProximite; and the INSi link: the Vitale data ApCV returns feeds an INSi
`rechercherInsAvecCarteVitale` (zeep from the official INSi WSDL, CPx listener, answers checked
against the official XSDs) that answers CR 00 for the chosen beneficiary (a twin: rank 2)."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from lxml import etree
from PIL import Image
from zeep import Client, Settings
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

from mocks.runner import Runner
from tests.apcv.support import DOCTOR, FACTURATION, assertion, lps
from tests.insi.clients import sign_assertion, soap_headers, zeep_client

zxingcpp = pytest.importorskip("zxingcpp")

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
BINDING = "{urn:segur-sandbox:apcv:wsdl}ApCV_AUTHBinding"
SIGN_BINDING = "{urn:segur-sandbox:apcv:wsdl}ApCV_SIGNBinding"
WSDL = str(resources.files("apcv").joinpath("wsdl/ApCV.wsdl"))


def headers(creds: Any) -> list[etree._Element]:
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(assertion(creds))
    ctx = etree.fromstring(f'<urn1:Root xmlns:urn1="urn:siram:lps:ctxlps">{lps()}</urn1:Root>')[0]
    return [security, ctx]


def client(url: str, ca: Path, tenant: str) -> Client:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    session.headers["X-Sandbox-Tenant"] = tenant
    return Client(
        WSDL,
        transport=Transport(session=session),
        settings=Settings(strict=True),
        plugins=[WsAddressingPlugin()],
    )


def scan(png: bytes) -> str:
    """What a QR scanner reads from the image."""
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    return str(code.text)


def test_zeep_from_our_wsdl_with_a_scanned_qr(
    apcv_url: str, ca_file: Path, console: httpx.Client, tenant: str, cps: Any, running_sandbox: Runner
) -> None:
    png = console.get("/_sandbox/apcv/qr.png", params={"patient": "demo-girard-sophie", "tenant": tenant})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    donnees = scan(png.content)
    assert donnees.startswith("APCV1.")
    zc = client(apcv_url, ca_file, tenant)
    auth = zc.create_service(BINDING, apcv_url)
    rep = auth.authentifierUtilisateurProximite(
        version="1.0",
        ProfessionnelSante={"IdentifiantFacturation": FACTURATION, "CodeSpecialiteAMO": "01"},
        Donnees=donnees,
        _soapheaders=headers(cps),
    )
    ctx = rep.ContexteApCV
    assert ctx.TokenApCV == ctx.Identifiant and ctx.DateFinValidite.tzinfo is not None
    assert [b.Prenom for b in rep.Beneficiaire] == ["SOPHIE", "LUCAS", "LEA"]
    assert rep.Beneficiaire[0].INS.Matricule._value_1 == "2840575056412"
    # zeep sent wsa:Action / MessageID: no finding on them
    [entry] = console.get(
        "/_sandbox/journal", params={"tenant": tenant, "service": "apcv", "limit": 1}
    ).json()
    assert not [f for f in entry["findings"] if f["rule"] in ("APCV-ACTION", "APCV-MESSAGEID")], entry[
        "findings"
    ]
    back = auth.restituerContexteApCV(version="1.0", _soapheaders=headers(cps))
    assert back.ContexteApCV.Identifiant == ctx.Identifiant
    sign = zc.create_service(SIGN_BINDING, apcv_url)
    signed = sign.signerVitale(
        version="1.0",
        ContexteApCV={"Identifiant": ctx.Identifiant},
        Facture={
            "type": "FSE",
            "NIRAssure": {"_value_1": "2840575056412", "cle": "89"},
            "DonneeFSE": "q83vEjRWeJA=",
        },
        ResumeFacture={
            "ProfessionnelSante": {"IdentifiantFacturation": FACTURATION, "IdNatPS": DOCTOR},
            "Beneficiaire": {"NomFamille": "MOREAU", "Prenom": "LUCAS"},
        },
        _soapheaders=headers(cps),
    )
    assert signed.SignatureVitale.algorithme == "Ed25519" and len(signed.SignatureVitale._value_1) == 64
    done = auth.detruireContexteApCV(
        version="1.0", ContexteApCV={"Identifiant": ctx.Identifiant}, _soapheaders=headers(cps)
    )
    assert done.ContexteApCV.Identifiant == ctx.Identifiant


def test_insi_chain_gives_cr00_for_the_chosen_beneficiary(
    apcv_url: str, ca_file: Path, console: httpx.Client, tenant: str, cps: Any, running_sandbox: Runner
) -> None:
    donnees = scan(
        console.get(
            "/_sandbox/apcv/qr.png", params={"patient": "demo-girard-sophie", "tenant": tenant}
        ).content
    )
    auth = client(apcv_url, ca_file, tenant).create_service(BINDING, apcv_url)
    rep = auth.authentifierUtilisateurProximite(
        version="1.0",
        ProfessionnelSante={"IdentifiantFacturation": FACTURATION, "CodeSpecialiteAMO": "01"},
        Donnees=donnees,
        _soapheaders=headers(cps),
    )
    insi = zeep_client(running_sandbox.url("insi-cpx", "/lps"), str(ca_file), None, tenant)
    population = running_sandbox.sandbox.population
    for chosen in rep.Beneficiaire:
        # Pyxvital's mapping (research A1.6): MatriculeIndividu only when the card has a NIR certifié
        individu = (
            {"NumIdentifiant": chosen.NIRCertifie._value_1, "Cle": chosen.NIRCertifie.cle}
            if chosen.NIRCertifie
            else None
        )
        date = chosen.DateNaissance
        result = insi.rechercherInsAvecCarteVitale(
            MatriculeIndividu=individu,
            MatriculeOD={"NumIdentifiant": rep.Assure.NIRAssure._value_1, "Cle": rep.Assure.NIRAssure.cle},
            NomNaissance=chosen.NomFamille,
            DateNaissance=f"{date[:4]}-{date[4:6]}-{date[6:]}",
            RangNaissance=chosen.RangGemellaire,
            _soapheaders=soap_headers(
                "rechercherInsAvecCarteVitale", emetteur=DOCTOR, assertion=sign_assertion(cps, name_id=DOCTOR)
            ),
        )
        assert result.CR.CodeCR == "00", chosen.Prenom
        person = next(
            p
            for p in population.patients()
            if p.nom == chosen.NomFamille and p.prenoms[0] == chosen.Prenom and p.id.startswith("demo-")
        )
        assert result.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == person.matricule
    # the twins are told apart by their rank: LEA is rank 2
    assert [b.RangGemellaire for b in rep.Beneficiaire] == ["1", "1", "2"]
