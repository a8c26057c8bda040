"""ApCV over real sockets (httpx, server TLS checked against the sandbox CAs), requests shaped
like the Pyxvital templates: the context's life on the tenant's sandbox clock (create, restore,
expire, renew by a new scan, destroy), its binding to the PS, the evidence `ins.qualified`
(via apcv, channel AV), the auth 2.0 namespace, signerVitale verified with the published key,
the NFC pending slot, the Vitale data of the personas (twins, missing century, lunar date)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from lxml import etree

from apcv.flow import signed_string
from apcv.wire import Invoice
from mocks.runner import Runner
from tests.apcv.support import (
    AUTH,
    AUTH2,
    DOCTOR,
    OTHER_DOCTOR,
    SIGN,
    SIGN_ACTION,
    assertion,
    auth_action,
    authentifier_body,
    detruire_body,
    envelope,
    fault_code,
    payload,
    restituer_body,
    signer_body,
)

A = f"{{{AUTH}}}"
# a day ahead of real time (the CPS certificates are issued now), on a whole second
START = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def freeze(console: httpx.Client, tenant: str, at: datetime) -> None:
    r = console.put(
        "/_sandbox/clock", params={"tenant": tenant}, json={"mode": "frozen", "at": at.isoformat()}
    )
    assert r.status_code == 200, r.text


def advance(console: httpx.Client, tenant: str, seconds: int) -> None:
    assert (
        console.post(
            "/_sandbox/clock/advance", params={"tenant": tenant}, json={"seconds": seconds}
        ).status_code
        == 200
    )


def authentifier(
    post: Callable[..., httpx.Response], qr: str, creds: Any, at: datetime, **kw: Any
) -> httpx.Response:
    return post(
        envelope(
            authentifier_body(qr),
            auth_action("authentifierUtilisateurProximite"),
            assertion(creds, issue_instant=at, **kw),
        )
    )


def context_id(answer: bytes) -> str:
    return str(payload(answer).findtext(f"{A}ContexteApCV/{A}Identifiant"))


def test_lifecycle_on_the_clock(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    console: httpx.Client,
    tenant: str,
    cps: Any,
) -> None:
    freeze(console, tenant, START)
    r = authentifier(post, qr_of("demo-girard-sophie"), cps, START)
    assert r.status_code == 200, r.text
    rep = payload(r.content)
    assert rep.tag == f"{A}AuthentifierUtilisateurProximiteRep" and rep.get("version") == "1.0"
    ctx = rep.find(f"{A}ContexteApCV")
    ident = ctx.findtext(f"{A}Identifiant")
    assert ident and ctx.findtext(f"{A}TokenApCV") == ident  # research A1.3: TokenApCV = Identifiant
    assert ctx.findtext(f"{A}DateFinValidite") == stamp(
        START + timedelta(seconds=1800)
    )  # 1800 s on the sandbox clock
    # WS-Addressing answer headers: RelatesTo the request's MessageID
    head = etree.fromstring(r.content).find("{http://www.w3.org/2003/05/soap-envelope}Header")
    assert head.findtext("{http://www.w3.org/2005/08/addressing}Action") == (
        "urn:ApCV_AUTH:1.0.0:authentifierUtilisateurProximiteResponse"
    )

    # restore: the current context of this PS, with the same data
    advance(console, tenant, 600)
    again = post(
        envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps, issue_instant=START))
    )
    assert again.status_code == 200, again.text
    assert context_id(again.content) == ident
    assert payload(again.content).tag == f"{A}RestituerContexteApCVRep"
    # expire
    advance(console, tenant, 1200)
    late = post(
        envelope(
            restituer_body(),
            auth_action("restituerContexteApCV"),
            assertion(cps, issue_instant=START + timedelta(seconds=1800)),
        )
    )
    assert late.status_code == 500 and fault_code(late.content) == "CONTEXTE_EXPIRE"
    # renew: a new scan gives a new context
    now = START + timedelta(seconds=1800)
    renewed = authentifier(post, qr_of("demo-girard-sophie"), cps, now)
    assert renewed.status_code == 200, renewed.text
    new_id = context_id(renewed.content)
    assert new_id != ident
    assert payload(renewed.content).findtext(f"{A}ContexteApCV/{A}DateFinValidite") == stamp(
        START + timedelta(seconds=3600)
    )
    # destroy, then it is unknown
    gone = post(
        envelope(
            detruire_body(new_id), auth_action("detruireContexteApCV"), assertion(cps, issue_instant=now)
        )
    )
    assert gone.status_code == 200, gone.text
    assert payload(gone.content).findtext(f"{A}ContexteApCV/{A}Identifiant") == new_id
    after = post(
        envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps, issue_instant=now))
    )
    assert fault_code(after.content) == "CONTEXTE_EXPIRE"  # the older one is the latest left, and expired
    twice = post(
        envelope(
            detruire_body(new_id), auth_action("detruireContexteApCV"), assertion(cps, issue_instant=now)
        )
    )
    assert fault_code(twice.content) == "CONTEXTE_INCONNU"
    states = {
        c["id"]: c["state"] for c in console.get("/_sandbox/apcv/contexts", params={"tenant": tenant}).json()
    }
    assert states == {ident: "expired", new_id: "destroyed"}


def test_context_is_bound_to_its_professional(
    post: Callable[..., httpx.Response], qr_of: Callable[..., str], tenant: str, cps: Any, other_cps: Any
) -> None:
    r = authentifier(post, qr_of("demo-girard-sophie"), cps, datetime.now(UTC))
    ident = context_id(r.content)
    stranger = assertion(other_cps, OTHER_DOCTOR)
    refused = post(envelope(detruire_body(ident), auth_action("detruireContexteApCV"), stranger))
    assert refused.status_code == 500 and fault_code(refused.content) == "PS_NON_AUTORISE"
    nothing = post(
        envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(other_cps, OTHER_DOCTOR))
    )
    assert fault_code(nothing.content) == "CONTEXTE_INCONNU"
    # the owner still has it
    mine = post(envelope(restituer_body(), auth_action("restituerContexteApCV"), assertion(cps)))
    assert context_id(mine.content) == ident


def test_same_qr_same_ps_is_a_retry_other_uses_are_replays(
    post: Callable[..., httpx.Response], qr_of: Callable[..., str], cps: Any, other_cps: Any
) -> None:
    code = qr_of("demo-girard-sophie")
    first = context_id(authentifier(post, code, cps, datetime.now(UTC)).content)
    assert context_id(authentifier(post, code, cps, datetime.now(UTC)).content) == first
    stolen = post(
        envelope(
            authentifier_body(code),
            auth_action("authentifierUtilisateurProximite"),
            assertion(other_cps, OTHER_DOCTOR),
        )
    )
    assert fault_code(stolen.content) == "QR_DEJA_UTILISE"


def test_evidence_ins_qualified_via_apcv(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    running_sandbox: Runner,
    tenant: str,
    cps: Any,
) -> None:
    r = authentifier(post, qr_of("demo-girard-sophie"), cps, datetime.now(UTC))
    assert r.status_code == 200
    facts = running_sandbox.sandbox.evidence.find(tenant, kind="ins.qualified")
    # the mother's INS comes with the card; the twins have no NIR certifié on it: no INS, no fact
    assert [f["subject"] for f in facts] == ["2840575056412"]
    data = facts[0]["data"]
    assert data["via"] == "apcv" and data["channel"] == "AV" and data["rniv_exemption"] is True
    assert data["oid"] == "1.2.250.1.213.1.4.8" and data["caller"] == DOCTOR
    assert facts[0]["service"] == "apcv" and facts[0]["journal_id"]


def test_vitale_data_of_the_personas(
    post: Callable[..., httpx.Response], qr_of: Callable[..., str], console: httpx.Client, cps: Any
) -> None:
    rep = payload(authentifier(post, qr_of("demo-moreau-lea"), cps, datetime.now(UTC)).content)
    benefs = rep.findall(f"{A}Beneficiaire")
    assert [(b.findtext(f"{A}Prenom"), b.findtext(f"{A}RangGemellaire"), b.findtext(f"{A}Qualite")) for b in benefs] == [
        ("SOPHIE", "1", "00"), ("LUCAS", "1", "06"), ("LEA", "2", "06"),
    ]  # fmt: skip
    assert benefs[1].findtext(f"{A}DateNaissance") == benefs[2].findtext(f"{A}DateNaissance") == "20191103"
    assert benefs[1].find(f"{A}NIRCertifie") is None and benefs[1].find(f"{A}INS") is None
    assert rep.findtext(f"{A}Assure/{A}NIRAssure") == "2840575056412"
    # missing century: DateEnCarte, no DateNaissance
    century = payload(authentifier(post, qr_of("demo-apcv-siecle"), cps, datetime.now(UTC)).content)
    b = century.find(f"{A}Beneficiaire")
    assert b.findtext(f"{A}DateEnCarte") == "250312" and b.find(f"{A}DateNaissance") is None
    # lunar date: the 00 kept
    cases = console.get("/_sandbox/apcv/personas").json()
    lunar = payload(authentifier(post, qr_of(cases["lunar_date"]["patient"]), cps, datetime.now(UTC)).content)
    dates = [x.findtext(f"{A}DateNaissance") for x in lunar.findall(f"{A}Beneficiaire")]
    assert any(d and d[4:6] == "00" or d and d[6:] == "00" for d in dates), dates
    # expired rights are returned as they are: the LGC must notice
    expired = payload(
        authentifier(post, qr_of(cases["expired_rights"]["patient"]), cps, datetime.now(UTC)).content
    )
    ends = [p.findtext(f"{A}DateFin") for p in expired.iter(f"{A}PeriodeDroitsAMO")]
    assert ends and min(ends) < datetime.now(UTC).strftime("%Y%m%d")


def test_opposed_card_and_app_not_activated(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    console: httpx.Client,
    tenant: str,
    cps: Any,
) -> None:
    r = authentifier(post, qr_of("demo-apcv-opposee"), cps, datetime.now(UTC))
    assert r.status_code == 500 and fault_code(r.content) == "CARTE_OPPOSEE"
    refused = console.get("/_sandbox/apcv/qr", params={"patient": "demo-benali-karim", "tenant": tenant})
    assert refused.status_code == 409 and "pas activée" in refused.json()["error"]
    assert console.get("/_sandbox/apcv/qr", params={"patient": "nobody", "tenant": tenant}).status_code == 404


def test_auth_2_0_answers_in_its_namespace(
    post: Callable[..., httpx.Response], qr_of: Callable[..., str], cps: Any
) -> None:
    body = authentifier_body(qr_of("demo-girard-sophie"), ns=AUTH2, version="2.0")
    r = post(envelope(body, auth_action("authentifierUtilisateurProximite", "2.0"), assertion(cps)))
    assert r.status_code == 200, r.text
    rep = payload(r.content)
    assert rep.tag == f"{{{AUTH2}}}AuthentifierUtilisateurProximiteRep" and rep.get("version") == "2.0"
    back = post(envelope(restituer_body(AUTH2), auth_action("restituerContexteApCV", "2.0"), assertion(cps)))
    assert payload(back.content).tag == f"{{{AUTH2}}}RestituerContexteApCVRep"


def test_signer_vitale(
    post: Callable[..., httpx.Response],
    qr_of: Callable[..., str],
    console: httpx.Client,
    cps: Any,
    other_cps: Any,
) -> None:
    ident = context_id(authentifier(post, qr_of("demo-girard-sophie"), cps, datetime.now(UTC)).content)
    r = post(
        envelope(signer_body(ident, "2840575056412", "89", "MOREAU", "LEA"), SIGN_ACTION, assertion(cps))
    )
    assert r.status_code == 200, r.text
    rep = payload(r.content)
    s = f"{{{SIGN}}}"
    sig = rep.find(f"{s}SignatureVitale")
    assert sig.get("algorithme") == "Ed25519"
    # verified with the public key the control API publishes, over the documented string
    key = load_pem_public_key(console.get("/_sandbox/apcv/").json()["signature_public_key"].encode())
    inv = Invoice(type="FSE", nir_assure="2840575056412", nir_assure_cle="89",
                  donnee_fse="3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", facturation="101000016")  # fmt: skip
    key.verify(base64.b64decode(sig.text), signed_string(ident, inv, rep.findtext(f"{s}DateSignature")))  # type: ignore[union-attr]
    # a beneficiary not on the context, another insured, another PS
    nobody = post(
        envelope(signer_body(ident, "2840575056412", "89", "DUPONT", "JEAN"), SIGN_ACTION, assertion(cps))
    )
    assert fault_code(nobody.content) == "BENEFICIAIRE_ABSENT"
    other = post(
        envelope(signer_body(ident, "1881134170052", "26", "AIMETE", "VINCENT"), SIGN_ACTION, assertion(cps))
    )
    assert fault_code(other.content) == "BENEFICIAIRE_ABSENT"
    stranger = post(
        envelope(
            signer_body(ident, "2840575056412", "89", "MOREAU", "LEA"),
            SIGN_ACTION,
            assertion(other_cps, OTHER_DOCTOR),
        )
    )
    assert fault_code(stranger.content) == "PS_NON_AUTORISE"
    without_cps = post(
        envelope(signer_body(ident, "2840575056412", "89", "MOREAU", "LEA"), SIGN_ACTION, None)
    )
    assert fault_code(without_cps.content) == "61441"


def test_nfc_slot_is_taken_by_the_chosen_professional(
    post: Callable[..., httpx.Response], console: httpx.Client, tenant: str, cps: Any, other_cps: Any
) -> None:
    pushed = console.post(
        "/_sandbox/apcv/nfc", params={"tenant": tenant}, json={"patient": "demo-girard-sophie", "ps": DOCTOR}
    )
    assert pushed.status_code == 201, pushed.text
    nfc_body = authentifier_body(None)
    # another PS's call does not take it
    other = post(
        envelope(
            nfc_body, auth_action("authentifierUtilisateurProximite"), assertion(other_cps, OTHER_DOCTOR)
        )
    )
    assert fault_code(other.content) == "QR_INVALIDE"
    r = post(envelope(nfc_body, auth_action("authentifierUtilisateurProximite"), assertion(cps)))
    assert r.status_code == 200, r.text
    assert payload(r.content).findtext(f"{A}Assure/{A}NIRAssure") == "2840575056412"
    assert console.get("/_sandbox/apcv/nfc", params={"tenant": tenant}).json() == []
    [ctx] = console.get("/_sandbox/apcv/contexts", params={"tenant": tenant}).json()
    assert ctx["mode"] == "nfc" and ctx["ps"] == DOCTOR
    # taken once
    again = post(envelope(nfc_body, auth_action("authentifierUtilisateurProximite"), assertion(cps)))
    assert fault_code(again.content) == "QR_INVALIDE"


def test_without_cps_administrative_data_only(
    post: Callable[..., httpx.Response], qr_of: Callable[..., str], console: httpx.Client, tenant: str
) -> None:
    r = post(
        envelope(
            authentifier_body(qr_of("demo-girard-sophie")),
            auth_action("authentifierUtilisateurProximite"),
            None,
        )
    )
    assert r.status_code == 200, r.text
    rep = payload(r.content)
    assert rep.findtext(f"{A}CodeRetour") == "61441"
    assert (
        rep.find(f"{A}ContexteApCV") is None
        and not list(rep.iter(f"{A}NIRCertifie"))
        and not list(rep.iter(f"{A}INS"))
    )
    assert len(rep.findall(f"{A}Beneficiaire")) == 3
    assert console.get("/_sandbox/apcv/contexts", params={"tenant": tenant}).json() == []
