"""The issue's negatives and Bad input items, over mutual TLS: each gets the DMP's fault (CXF
style, SOAP 1.2, DMP subcode and French text), is journaled, stores nothing, never crashes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dmp.errors import ERRORS
from tests.dmp.support import GP, GP_STRUCTURE, PATIENT, fault_of, rekey, vihf

TD02 = "TD0.2_-_Test_d_existence_requete.xml"
TD03 = "TD0.3_-_Mise_a_jour_de_l_autorisation_requete.xml"
TD05 = "TD0.5_-_Recherche_d_un_patient_sans_INS_requete.xml"
TD13B = "TD1.3b_-_Modification_requete.xml"


def _fault(reply: Any) -> dict[str, Any]:
    assert reply.status_code in (400, 413, 500), reply.text
    assert reply.headers["content-type"].startswith("application/soap+xml"), reply.headers
    fault = fault_of(reply.content)
    assert "sandbox trace" not in (fault["reason"] or ""), "a crash of ours"
    return fault


def test_unsigned_indirect_vihf(post: Any, now: Any, tenant: str) -> None:
    token = vihf(now, mode="INDIRECTE")
    fault = _fault(post("patients", rekey(TD02, token), tenant, cert="org"))
    assert fault["subcode"] == "soap:DMPInvalidVIHF"
    assert "doit être signé" in fault["reason"]


def test_indirect_signed_with_org_sign_is_answered(
    post: Any, now: Any, tenant: str, pki: Any, creds: Any
) -> None:
    token = vihf(now, mode="INDIRECTE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
    reply = post("patients", rekey(TD02, token), tenant, cert="org")
    assert reply.status_code == 200, reply.text
    assert b'code="NON_EXISTE"' in reply.content  # the structure holds no authorisation


def test_vihf_signed_with_the_authentication_key(
    post: Any, now: Any, tenant: str, pki: Any, creds: Any
) -> None:
    token = vihf(now, signer=creds(GP, "cps_auth"), pki=pki)
    fault = _fault(post("patients", rekey(TD02, token), tenant))
    assert fault["code"] == "soap:Sender"
    assert fault["subcode"] == "soap:DMPInvalidCertificate"
    assert (
        fault["reason"]
        == "Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate"
    )


def test_direct_vihf_signed_with_the_cps_signature_key(
    post: Any, now: Any, tenant: str, pki: Any, creds: Any
) -> None:
    token = vihf(now, signer=creds(GP, "cps_sign"), pki=pki)
    assert post("patients", rekey(TD02, token), tenant).status_code == 200


def test_no_specialty(post: Any, now: Any, tenant: str) -> None:
    fault = _fault(post("patients", rekey(TD02, vihf(now, specialty=None)), tenant))
    assert fault["reason"].startswith(
        "Aucune spécialité dans le vihf. Spécialité obligatoire pour les Médecins"
    )


def test_structure_sector_mismatch(post: Any, now: Any, tenant: str) -> None:
    fault = _fault(post("patients", rekey(TD02, vihf(now, secteur="SA05")), tenant))
    assert fault["reason"] == "Impossible d'effectuer un test d'existence : PS et Structure non liés"
    fault = _fault(post("patients", rekey(TD02, vihf(now, structure="499999999999999")), tenant))
    assert fault["reason"] == "Impossible d'effectuer un test d'existence : Structure introuvable ou Inactive"


def test_indirect_structure_differs_from_certificate(
    post: Any, now: Any, tenant: str, pki: Any, creds: Any
) -> None:
    token = vihf(
        now,
        mode="INDIRECTE",
        structure="1750000010",
        secteur="SA05",
        signer=creds(GP_STRUCTURE, "org_sign"),
        pki=pki,
    )
    fault = _fault(post("patients", rekey(TD02, token), tenant, cert="org"))
    assert fault["reason"] == "Erreur d'authentification de la personne morale"


def test_ps_certificate_in_indirect_mode(post: Any, now: Any, tenant: str, pki: Any, creds: Any) -> None:
    token = vihf(now, mode="INDIRECTE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
    fault = _fault(post("patients", rekey(TD02, token), tenant, cert="cps"))
    assert fault["subcode"] == "soap:DMPAuthenticationError"


def test_resource_id_oid_differs_from_body(post: Any, now: Any, tenant: str) -> None:
    token = vihf(now, oid="1.2.250.1.213.1.4.8")
    fault = _fault(post("patients", rekey(TD02, token), tenant))
    assert fault["reason"].startswith("L'identifiant patient du VIHF (resource-id) ne correspond pas")


def test_expired_assertion(post: Any, now: Any, tenant: str) -> None:
    fault = _fault(post("patients", rekey(TD02, vihf(now - timedelta(hours=3))), tenant))
    assert fault["reason"].startswith("VIHF expiré")


def test_indirect_mode_calling_td03(post: Any, now: Any, tenant: str, pki: Any, creds: Any) -> None:
    token = vihf(now, mode="INDIRECTE", signer=creds(GP_STRUCTURE, "org_sign"), pki=pki)
    fault = _fault(post("habilitations", rekey(TD03, token), tenant, cert="org"))
    assert fault["subcode"] == "soap:DMPAccessDenied"
    assert fault["reason"] == "Transaction TD0.3 non autorisée en authentification indirecte, accès normal"


def test_td05_outside_centre_15(post: Any, now: Any, tenant: str) -> None:
    fault = _fault(post("patientsPDQ", rekey(TD05, vihf(now, ins=None)), tenant))
    assert (
        fault["reason"] == "Transaction TD0.5 autorisée uniquement en mode centre de régulation (centre_15)"
    )


def test_td13b_on_an_ens_attached_dmp(post: Any, now: Any, tenant: str, console: Any) -> None:
    console.put(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}", json={"ens": True}).raise_for_status()
    fault = _fault(post("patients", rekey(TD13B, vihf(now)), tenant))
    assert fault["reason"] == "Transaction TD1.3b impossible : le DMP est rattaché à Mon espace santé"


def test_closing_then_existence_and_reset(post: Any, now: Any, tenant: str, console: Any) -> None:
    post("patients", rekey("TD1.4_-_Fermer_requete.xml", vihf(now)), tenant).raise_for_status()
    assert console.get(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}").json()["dmp"] == "closed"
    reply = post("patients", rekey(TD02, vihf(now)), tenant)
    assert b'<statusCode code="terminated"/>' in reply.content
    console.delete(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}")
    assert console.get(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}").json()["dmp"] == "open"


def test_blocked_and_expired_authorizations(post: Any, now: Any, tenant: str, console: Any) -> None:
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}", json={"authorizations": {f"PS:{GP}": "EXPIRE"}}
    )
    assert b'code="EXPIRE"' in post("patients", rekey(TD02, vihf(now)), tenant).content
    console.put(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}", json={"blocked": [f"PS:{GP}"]})
    assert b'code="INTERDIT"' in post("patients", rekey(TD02, vihf(now)), tenant).content


# -- Bad input --------------------------------------------------------------------------------
def _valid(now: Any) -> bytes:
    return rekey(TD02, vihf(now))


BAD = {
    "garbage": lambda now: b"\x00\xff\xfe garbage \x01",
    "not soap": lambda now: b"<foo xmlns='urn:x'/>",
    "doctype": lambda now: b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _valid(now),
    "no security": lambda now: re.sub(rb"<wsse:Security.*?</wsse:Security>", b"", _valid(now), flags=re.S),
    "not saml 2.0": lambda now: _valid(now).replace(b'Version="2.0"', b'Version="1.1"', 1),
    "unknown operation": lambda now: (
        _valid(now)
        .replace(b"PRPA_IN201307UV02 ITSVersion", b"PRPA_IN209999UV02 ITSVersion")
        .replace(b"</urn:PRPA_IN201307UV02>", b"</urn:PRPA_IN209999UV02>")
    ),
    "other operation's action": lambda now: _valid(now).replace(
        b">urn:hl7-org:v3:PRPA_IN201307UV02<", b">urn:hl7-org:v3:PRPA_IN201314UV02<"
    ),
}
EXPECTED = {
    "garbage": ("soap:Sender", None, "Error reading XMLStreamReader."),
    "not soap": (
        "soap:VersionMismatch",
        None,
        '"urn:x", the namespace on the "foo" element, is not a valid SOAP version.',
    ),
    "doctype": ("soap:Sender", None, "Error reading XMLStreamReader."),
    "no security": ("soap:Sender", "soap:DMPInvalidVIHF", None),
    "not saml 2.0": ("soap:Sender", "soap:DMPInvalidVIHF", None),
    "unknown operation": (
        "soap:Sender",
        None,
        "Message part {urn:hl7-org:v3}PRPA_IN209999UV02 was not recognized.  (Does it exist in service WSDL?)",
    ),
    "other operation's action": (
        "soap:Sender",
        None,
        "The given SOAPAction urn:hl7-org:v3:PRPA_IN201314UV02 does not match an operation.",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case: str, post: Any, now: Any, tenant: str, console: Any) -> None:
    fault = _fault(post("patients", BAD[case](now), tenant))
    code, subcode, reason = EXPECTED[case]
    assert fault["code"] == code
    if subcode:
        assert fault["subcode"] == subcode
    if reason:
        assert fault["reason"] == reason
    journal = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 1}).json()
    items = journal if isinstance(journal, list) else journal.get("entries", journal.get("items", []))
    assert items and items[0]["status"] in (400, 500)
    assert console.get(f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}").json()["last_update"] == ""


def test_wrong_interaction_for_the_endpoint(post: Any, now: Any, tenant: str) -> None:
    fault = _fault(post("habilitations", rekey(TD02, vihf(now)), tenant))
    assert fault["reason"].startswith("Message part {urn:hl7-org:v3}PRPA_IN201307UV02 was not recognized")


def test_a_50_mb_body(post: Any, tenant: str) -> None:
    reply = post("patients", b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>", tenant)
    assert reply.status_code == 413
    assert fault_of(reply.content)["code"] == "soap:Sender"


def test_unknown_path_is_cxf_404(post: Any, tenant: str) -> None:
    reply = post("nothing", b"<x/>", tenant)
    assert reply.status_code == 404 and reply.text == "<html><body>No service was found.</body></html>"


def test_every_raised_error_is_in_the_catalogue() -> None:
    root = Path(__file__).resolve().parents[2] / "dmp"
    names = set()
    for path in root.rglob("*.py"):
        names |= set(re.findall(r'(?:errors|ERRORS)\.fail\(\s*"([^"]+)"', path.read_text()))
    names |= {"refus_centre15", "refus_mt", "refus_mode"}  # dmp.rights.decide names them
    assert names and not names - set(ERRORS), names - set(ERRORS)
