"""Every official request of TD0.2-TD1.6 (../shared/specs/dmp/examples), re-keyed to our personas
and a VIHF of ours, sent over mutual TLS: the answer has the official response's WS-Addressing
action, namespace declarations, element paths, attribute names and order, and validates against
the contract's schemas (except where the official answers themselves do not)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from tests.dmp import schemas
from tests.dmp.support import EXAMPLES, GP, PATIENT, S12, declarations, fault_of, rekey, structure, vihf

WSA = "http://www.w3.org/2005/08/addressing"

# (request, answer, service, VIHF purpose, replacements, schema of the answer's payload)
CASES = {
    "TD0.2": (
        "TD0.2_-_Test_d_existence_requete.xml",
        "TD0.2_-_Test_d_existence_reponse.xml",
        "patients",
        "normal",
        {},
        ("hl7", "PRPA_IN201308UV02"),
    ),
    "TD1.3a": (
        "TD1.3a_-_Consultation_requete.xml",
        "TD1.3a_-_Consultation_reponse.xml",
        "patients",
        "normal",
        {},
        ("hl7", "PRPA_IN201308UV02"),
    ),
    "TD1.3b": (
        "TD1.3b_-_Modification_requete.xml",
        "TD1.3b_-_Modification_reponse.xml",
        "patients",
        "normal",
        {},
        None,
    ),
    "TD1.4": ("TD1.4_-_Fermer_requete.xml", "TD1.4_-_Fermer_reponse.xml", "patients", "normal", {}, None),
    "TD0.3": (
        "TD0.3_-_Mise_a_jour_de_l_autorisation_requete.xml",
        "TD0.3_-_Mise_a_jour_de_l_autorisation_reponse.xml",
        "habilitations",
        "normal",
        {},
        ("wsdl", "Habilitations.wsdl"),
    ),
    "TD1.6": (
        "TD1.6_-_Liste_des_PS_autorises_ou_bloques_requete.xml",
        "TD1.6_-_Liste_des_PS_autorises_ou_bloques_reponse.xml",
        "habilitations",
        "normal",
        {},
        ("wsdl", "Habilitations.wsdl"),
    ),
    "TD0.4": (
        "TD0.4_-_Liste_des_DMP_autorises_requete.xml",
        "TD0.4_-_Liste_des_DMP_autorises_reponse.xml",
        "patientsSpecific",
        "normal",
        {},
        ("wsdl", "PatientsSpecific.wsdl"),
    ),
    "TD0.5": (
        "TD0.5_-_Recherche_d_un_patient_sans_INS_requete.xml",
        "TD0.5_-_Recherche_d_un_patient_sans_INS_reponse.xml",
        "patientsPDQ",
        "centre_15",
        {"DECHAINE": "GIRARD"},
        None,
    ),
}


def _action(xml: bytes) -> str:
    return etree.fromstring(xml).findtext(f"{{{S12}}}Header/{{{WSA}}}Action") or ""


def _payload(xml: bytes) -> etree._Element:
    return etree.fromstring(xml).find(f"{{{S12}}}Body")[0]  # type: ignore[index]


def _collapse(items: list[Any]) -> list[Any]:
    return [x for i, x in enumerate(items) if i == 0 or items[i - 1] != x]


def _unique(items: list[Any]) -> list[Any]:
    """First occurrences in order (repeated candidates, telecoms... once)."""
    seen: set[Any] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def _subsequence(ours: list[Any], official: list[Any]) -> list[Any]:
    """Our elements not found, in order, in the official sequence (empty: ours fits in it)."""
    it = iter(official)
    return [x for x in ours if not any(x == y for y in it)]


@pytest.mark.parametrize("td", list(CASES))
def test_official_request_answered_in_the_official_shape(
    td: str, post: Any, now: Any, console: Any, tenant: str
) -> None:
    request, answer, service, purpose, replacements, schema = CASES[td]
    # Sophie GIRARD with the contact data the official patient has, so that the shapes compare
    console.put(
        f"/_sandbox/dmp/patients/{PATIENT}?tenant={tenant}",
        json={
            "telecoms": [["", "mailto:sophie.girard@example.org"], ["MC", "tel:0102030405"]],
            "adresse": ["1 rue de la Paix", "75002", "Paris"],
            "representative": {"nom": "GIRARD", "prenom": "JEAN", "lien": "FTH"},
        },
    ).raise_for_status()
    token = vihf(now, purpose=purpose, ins=None if td == "TD0.5" else PATIENT)
    reply = post(service, rekey(request, token, replacements), tenant)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/soap+xml")
    official = (EXAMPLES / answer).read_bytes()
    ours = reply.content
    assert _action(ours) == _action(official)
    assert declarations(ours) == declarations(official)
    mine, theirs = structure(_payload(ours)), structure(_payload(official))
    if td in ("TD0.3", "TD1.6", "TD1.4", "TD1.3b"):
        assert _collapse(mine) == _collapse(theirs)
    else:
        assert not _subsequence(_unique(mine), _unique(theirs)), (
            "elements the official answer does not have there"
        )
        assert len(set(mine)) >= 0.8 * len(set(theirs)), "most of the official elements are written"
    if schema is not None:
        kind, name = schema
        validator = schemas.hl7(name) if kind == "hl7" else schemas.wsdl(name)
        schemas.validate(validator, _payload(ours))


@pytest.mark.parametrize(
    "example",
    [
        "TD1.5a_-_Creation_du_compte_internet_patient_requete.xml",
        "TD1.5b_-_Ajout_d_un_canal_OTP_requete.xml",
        "TD1.5d_-_Maj_des_information_du_compte_internet_requete.xml",
    ],
)
def test_retired_td15_answer_the_cxf_fault(
    example: str, post: Any, now: Any, tenant: str, console: Any
) -> None:
    reply = post("patientsSpecific", rekey(example, vihf(now)), tenant)
    assert reply.status_code == 500
    fault = fault_of(reply.content)
    assert fault["code"] == "soap:Sender"
    assert fault["reason"].startswith("Message part {urn:si-dmp-patients}")
    assert fault["reason"].endswith("was not recognized.  (Does it exist in service WSDL?)")
    entry = console.get("/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 1}).json()
    items = entry if isinstance(entry, list) else entry.get("entries", entry.get("items", []))
    assert items[0]["operation"].startswith("TD1.5")


def test_td02_journal_line_and_td01(post: Any, now: Any, tenant: str, console: Any) -> None:
    post("patients", rekey("TD0.2_-_Test_d_existence_requete.xml", vihf(now)), tenant).raise_for_status()
    entries = console.get(
        "/_sandbox/journal", params={"service": "dmp", "tenant": tenant, "limit": 10}
    ).json()
    items = entries if isinstance(entries, list) else entries.get("entries", entries.get("items", []))
    ops = {e["operation"]: e for e in items}
    assert ops["TD0.2"]["outcome"] == "VALIDE/OK"
    assert ops["TD0.2"]["caller"] == f"DIRECTE {GP}"
    assert "TD0.1" in ops
