"""INSi over real sockets: a zeep client generated from the official WSDL, over mutual TLS with an
INSI-AUTO certificate of the sandbox PKI and over CPx with a signed assertion PS. Answers are
compared byte for byte with the live platform's and validated against the official XSDs."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mocks.faults import FaultRule
from mocks.pki import Structure
from mocks.runner import Runner
from tests.insi.clients import (
    STRUCTURE,
    VALIDATED,
    sign_assertion,
    soap_headers,
    write_creds,
    zeep_client,
)
from tests.insi.support import (
    FAKE_IDAM_MESSAGE_ID,
    LIVE_ADRTROIS_TOUSSAINT,
    LIVE_CR02,
    LIVE_ECETINSI_PIERRE_ALAIN,
    LIVE_FAKE_IDAM,
    LIVE_TCHITCHI_CATARINA,
    request_xml,
    validate_answer,
)

RESULTAT = "{http://www.cnamts.fr/INSiResultat}"


@pytest.fixture(scope="module")
def mtls(insi_runner: Runner, pem_dir: Path, insi_auto: tuple[str, str], mtls_url: str) -> Any:
    return zeep_client(mtls_url, str(pem_dir / "ca.pem"), insi_auto)


@pytest.fixture
def fresh_tenant(insi_runner: Runner) -> str:
    name = "insi-" + uuid.uuid4().hex[:10]
    insi_runner.sandbox.tenants.create(name)
    return name


def traits_call(
    service: Any, nom: str, prenoms: list[str], sexe: str, date: str, lieu: str | None = None, **hdr: Any
) -> Any:
    return service.rechercherInsAvecTraitsIdentite(
        NomNaissance=nom,
        Prenom=prenoms,
        Sexe=sexe,
        DateNaissance=date,
        LieuNaissance=lieu,
        _soapheaders=soap_headers(**hdr),
    )


def raw_call(client_service: Any, *args: Any, **kwargs: Any) -> Any:
    """The same call, returning the HTTP response (zeep's raw_response setting)."""
    client = client_service._client
    with client.settings(raw_response=True):
        return traits_call(client_service, *args, **kwargs)


# -- mTLS, zeep, byte-exact --------------------------------------------------------------------
def test_zeep_mtls_adrtrois_toussaint(mtls: Any) -> None:
    before = len(VALIDATED)
    result = traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01")
    assert len(VALIDATED) == before + 1  # every zeep answer is validated against the XSDs
    assert result.CR.CodeCR == "00"
    assert result.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == "160012B020777"
    assert result.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.8"
    assert result.INDIVIDU.TIQ.LieuNaissance == "2B020"


@pytest.mark.parametrize(
    ("call", "live"),
    [
        (("ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01"), LIVE_ADRTROIS_TOUSSAINT),
        (("ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", "2B020"), LIVE_ADRTROIS_TOUSSAINT),
        (("DE VINCI", ["LEONARDO"], "M", "2014-02-01"), LIVE_CR02),
        (("TCHITCHI", ["CATARINA"], "F", "1936-06-21"), LIVE_TCHITCHI_CATARINA),
        (("ECETINSI", ["PIERRE-ALAIN"], "M", "2009-07-14"), LIVE_ECETINSI_PIERRE_ALAIN),
    ],
    ids=["adrtrois", "adrtrois-cog", "de-vinci-cr02", "tchitchi-catarina", "ecetinsi"],
)
def test_wire_bytes_equal_the_live_platform(mtls: Any, call: tuple, live: str) -> None:
    response = raw_call(mtls, *call)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    assert response.content == live.encode("utf-8")
    validate_answer(response.content)


def test_cnda_scenarios(mtls: Any) -> None:
    # 2.06: DE VINCI LEONARDO is 02 without birthplace, 00 with 63220
    assert traits_call(mtls, "DE VINCI", ["LEONARDO"], "M", "2014-02-01").CR.CodeCR == "02"
    with_cog = traits_call(mtls, "DE VINCI", ["LEONARDO"], "M", "2014-02-01", "63220")
    assert with_cog.CR.CodeCR == "00" and with_cog.INDIVIDU.TIQ.ListePrenom == "LEONARDO PIERO"
    # 2.07: OLA is not TCHITCHI's first birth first name; the full list in order works
    assert traits_call(mtls, "TCHITCHI", ["OLA"], "F", "1936-06-21").CR.CodeCR == "01"
    assert traits_call(mtls, "TCHITCHI", ["CATARINA BELLA"], "F", "1936-06-21").CR.CodeCR == "00"
    assert traits_call(mtls, "TCHITCHI", ["BELLA"], "F", "1936-06-21").CR.CodeCR == "01"
    # HOUILLES: no such person
    for prenoms in (["PIERRE"], ["PAUL"], ["JACQUES"], ["PIERRE", "PAUL", "JACQUES"]):
        assert traits_call(mtls, "HOUILLES", prenoms, "M", "1993-01-27").CR.CodeCR == "01"
    # 2.03: apostrophes and spaces in the birth name
    dartagnan = traits_call(mtls, "D'ARTAGNAN DE L'HERAULT", ["PIERRE-ALAIN"], "M", "2001-06-17")
    assert dartagnan.INDIVIDU.INSACTIF.IdIndividu.Cle == "60"
    # 2.05: NIA -> OID .9
    nia = traits_call(mtls, "PROVISOIRE", ["MATRICULE"], "M", "2009-07-01")
    assert nia.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.9"


def test_unknown_idam_fault_is_byte_identical(mtls: Any) -> None:
    response = raw_call(
        mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", idam="FAKE-IDAM", message_id=FAKE_IDAM_MESSAGE_ID
    )
    assert response.status_code == 500
    assert response.content == LIVE_FAKE_IDAM.encode("utf-8")
    validate_answer(response.content)


def test_zeep_sees_the_fault_codes(mtls: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as exc:
        traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", idam="FAKE-IDAM")
    assert exc.value.code == "soap:Sender"
    assert exc.value.subcodes and exc.value.subcodes[0].localname == "siram_100"
    erreur = exc.value.detail[0]
    assert erreur.get("code") == "desir_550" and erreur.get("messageID", "").startswith("uuid:")


def test_configured_idam_list(mtls: Any, insi_runner: Runner) -> None:
    values = insi_runner.sandbox.config.values
    saved = values["insi_idam"]
    values["insi_idam"] = "PDP17NF21DD0"
    try:
        with pytest.raises(zeep.exceptions.Fault):
            traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", idam="TESTSGIE0000")
        assert (
            traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", idam="PDP17NF21DD0").CR.CodeCR
            == "00"
        )
    finally:
        values["insi_idam"] = saved


def test_oid_family_setting(mtls: Any, insi_runner: Runner) -> None:
    values = insi_runner.sandbox.config.values
    saved = values["insi_oid_family"]
    values["insi_oid_family"] = "test"
    try:
        result = traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01")
        assert result.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.10"
    finally:
        values["insi_oid_family"] = saved
    assert (
        traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01").INDIVIDU.INSACTIF.OID
        == "1.2.250.1.213.1.4.8"
    )


# -- certificates ------------------------------------------------------------------------------
def _client_for(insi_runner: Runner, pem_dir: Path, mtls_url: str, creds: Any, name: str) -> Any:
    return zeep_client(mtls_url, str(pem_dir / "ca.pem"), write_creds(pem_dir, name, creds))


def test_wrong_cn_gets_desir_560(insi_runner: Runner, pem_dir: Path, mtls_url: str) -> None:
    creds = insi_runner.sandbox.pki.credentials(STRUCTURE, "org_auth_cli")  # CN = the software's name
    service = _client_for(insi_runner, pem_dir, mtls_url, creds, "auth-cli")
    with pytest.raises(zeep.exceptions.Fault) as exc:
        traits_call(service, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01")
    assert exc.value.detail[0].get("code") == "DESIR_560"
    assert "droits suffisants" in exc.value.detail[0].text


def test_insi_manu_is_accepted(insi_runner: Runner, pem_dir: Path, mtls_url: str) -> None:
    creds = insi_runner.sandbox.pki.credentials(STRUCTURE, "insi_manu")
    service = _client_for(insi_runner, pem_dir, mtls_url, creds, "manu")
    assert traits_call(service, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01").CR.CodeCR == "00"


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_or_revoked_certificate_is_refused(
    insi_runner: Runner, pem_dir: Path, mtls_url: str, state: str
) -> None:
    pki = insi_runner.sandbox.pki
    structure = Structure(f"10B{uuid.uuid4().int % 10**7:07d}", f"CABINET {state.upper()}", "Paris (75)")
    if state == "expired":
        creds = pki.issue(structure, "insi_auto", "expired")
    else:
        creds = pki.credentials(structure, "insi_auto")
        pki.revoke(creds.serial)
    service = _client_for(insi_runner, pem_dir, mtls_url, creds, state)
    with pytest.raises(zeep.exceptions.Fault) as exc:
        traits_call(service, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", emetteur=structure.id_nat)
    assert exc.value.detail[0].get("code") == "DESIR_500"
    assert exc.value.detail[0].text.startswith("Client SOAP certificat inconnu (")


def test_unknown_issuer_is_refused_at_the_handshake(pem_dir: Path, mtls_url: str, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "INSI-AUTO"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "10B0152872"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.create_default_context(cafile=str(pem_dir / "ca.pem"))
    ctx.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(
            mtls_url, content=request_xml(), headers={"Content-Type": "application/soap+xml"}, verify=ctx
        )


def test_no_client_certificate_is_refused_at_the_handshake(pem_dir: Path, mtls_url: str) -> None:
    ctx = ssl.create_default_context(cafile=str(pem_dir / "ca.pem"))
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(
            mtls_url, content=request_xml(), headers={"Content-Type": "application/soap+xml"}, verify=ctx
        )


# -- CPx ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cpx(pem_dir: Path, cpx_url: str) -> Any:
    return zeep_client(cpx_url, str(pem_dir / "ca.pem"), None)


def test_zeep_cpx_with_signed_assertion(
    cpx: Any, cps_sign: Any, insi_runner: Runner, fresh_tenant: str
) -> None:
    service = zeep_client(
        cpx._binding_options["address"], cpx._client.transport.session.verify, None, fresh_tenant
    )
    response = raw_call(
        service,
        "ADRTROIS",
        ["TOUSSAINT"],
        "M",
        "1960-01-01",
        emetteur="00B6087510",
        assertion=sign_assertion(cps_sign),
    )
    assert response.status_code == 200
    assert response.content == LIVE_ADRTROIS_TOUSSAINT.encode("utf-8")
    [entry] = insi_runner.sandbox.journal.find({"tenant": fresh_tenant})
    assert entry["caller"] == "00B6087510" and entry["outcome"] == "CR=00"
    assert not [f for f in entry["findings"] if f["severity"] != "info"], entry["findings"]
    # the qualified INS is a durable fact the DMP, MSSanté and the scoreboard rely on
    [fact] = insi_runner.sandbox.evidence.find(fresh_tenant, kind="ins.qualified")
    assert fact["subject"] == "160012B020777" and fact["journal_id"] == entry["id"]
    assert entry["details"]["evidence"] == [fact["id"]]  # written in the entry's transaction
    assert fact["data"]["oid"] == "1.2.250.1.213.1.4.8" and fact["data"]["auth_mode"] == "cpx"
    assert fact["data"]["caller"] == "00B6087510" and len(fact["data"]["traits_hash"]) == 64


def test_no_evidence_without_a_cr00(mtls: Any, insi_runner: Runner) -> None:
    before = insi_runner.sandbox.evidence.count("default", kind="ins.qualified")
    assert traits_call(mtls, "DE VINCI", ["LEONARDO"], "M", "2014-02-01").CR.CodeCR == "02"
    assert insi_runner.sandbox.evidence.count("default", kind="ins.qualified") == before


def test_every_error_insi_raises_is_in_its_catalogue() -> None:
    import re

    import insi

    names = set()
    for path in Path(insi.__file__).parent.glob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r'ERRORS\.fail\(\s*"(\w+)"', text)) | set(
            re.findall(r'_fault\("(\w+)"\)', text)
        )
    from insi.errors import ERRORS

    assert names and names <= set(ERRORS)


def _cpx_fault(cpx: Any, **hdr: Any) -> Any:
    with pytest.raises(zeep.exceptions.Fault) as exc:
        traits_call(cpx, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", **hdr)
    return exc.value.detail[0]


def test_cpx_without_assertion_is_refused(cpx: Any) -> None:
    assert _cpx_fault(cpx).get("code") == "DESIR_560"


def test_cpx_tampered_assertion_is_refused(cpx: Any, cps_sign: Any) -> None:
    assertion = sign_assertion(cps_sign)
    assertion.find(
        "{urn:oasis:names:tc:SAML:2.0:assertion}Subject/{urn:oasis:names:tc:SAML:2.0:assertion}NameID"
    ).text = "00B9999999"
    assert _cpx_fault(cpx, assertion=assertion).get("code") == "DESIR_560"


def test_cpx_assertion_older_than_its_lifetime_is_refused(
    cpx: Any, cps_sign: Any, insi_runner: Runner
) -> None:
    old = insi_runner.sandbox.now() - timedelta(hours=2)
    assert _cpx_fault(cpx, assertion=sign_assertion(cps_sign, issue_instant=old)).get("code") == "DESIR_560"


def test_cpx_assertion_signed_by_an_organisation_is_refused(cpx: Any, insi_runner: Runner) -> None:
    org = insi_runner.sandbox.pki.credentials(STRUCTURE, "org_sign")
    assert _cpx_fault(cpx, assertion=sign_assertion(org)).get("code") == "DESIR_560"


def test_cpx_name_id_of_another_professional_is_a_finding(
    cpx: Any, cps_sign: Any, insi_runner: Runner, fresh_tenant: str
) -> None:
    service = zeep_client(
        cpx._binding_options["address"], cpx._client.transport.session.verify, None, fresh_tenant
    )
    result = traits_call(
        service,
        "ADRTROIS",
        ["TOUSSAINT"],
        "M",
        "1960-01-01",
        assertion=sign_assertion(cps_sign, name_id="00B0000001"),
    )
    assert result.CR.CodeCR == "00"  # report mode: answered like production, noted
    [entry] = insi_runner.sandbox.journal.find({"tenant": fresh_tenant, "rule": "INSI-ASSERTION-NAMEID"})
    assert entry["outcome"] == "CR=00"


# -- findings, faults, tenants -------------------------------------------------------------------
def test_findings_on_what_the_lgc_sent(
    post: Callable[..., httpx.Response], insi_runner: Runner, fresh_tenant: str
) -> None:
    data = request_xml(
        "adrtrois", ("TOUSSAINT",), message_id="0dfb8f66-de74-4f30-ba83-bebde1239ebf", lps_nom="GIE"
    )
    response = post(data, fresh_tenant)
    assert response.status_code == 200  # report mode: the real platform's lenience
    [entry] = insi_runner.sandbox.journal.find({"tenant": fresh_tenant})
    rules = {f["rule"] for f in entry["findings"]}
    assert {"INSI-TRAITS-LEXIQUE", "INSI-MESSAGEID", "INSI-LPS-NOM", "INSI-EMETTEUR"} <= rules
    assert entry["details"]["idam"] == "TESTSGIE0000"
    assert entry["details"]["caller"]["certificate"]["kind"] == "insi_auto"


def test_fault_rule_triggers_insi_102_for_a_cr01_persona(
    post: Callable[..., httpx.Response], insi_runner: Runner, fresh_tenant: str
) -> None:
    sandbox = insi_runner.sandbox
    sandbox.faults.add(
        fresh_tenant,
        FaultRule.model_validate(
            {
                "service": "insi",
                "operation": "rechercherInsAvecTraitsIdentite",
                "persona": "HOUILLES",
                "error": "insi_102",
            }
        ),
    )
    mid = f"uuid:{uuid.uuid4()}"
    response = post(request_xml("HOUILLES", ("PIERRE",), "M", "1993-01-27", message_id=mid), fresh_tenant)
    assert response.status_code == 500
    erreur = validate_answer(response.content)
    assert (
        erreur.get("code") == "insi_102"
        and erreur.get("severite") == "fatale"
        and erreur.get("messageID") == mid
    )
    assert b"<soap:Value>soap:siram_40</soap:Value>" in response.content
    # other people are not affected
    assert post(request_xml(), fresh_tenant).status_code == 200


def test_fault_rule_on_a_matricule(
    post: Callable[..., httpx.Response], insi_runner: Runner, fresh_tenant: str
) -> None:
    insi_runner.sandbox.faults.add(
        fresh_tenant,
        FaultRule.model_validate(
            {"service": "insi", "persona": "160012B020777", "error": "desir_1020", "times": 1}
        ),
    )
    first = post(request_xml(), fresh_tenant)
    assert first.status_code == 500 and b'code="desir_1020"' in first.content
    assert post(request_xml(), fresh_tenant).status_code == 200


def test_unknown_explicit_tenant_is_404(post: Callable[..., httpx.Response]) -> None:
    assert post(request_xml(), "no-such-tenant").status_code == 404


def test_soap11_gets_a_version_mismatch(post: Callable[..., httpx.Response]) -> None:
    response = post(
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
        content_type="text/xml",
    )
    assert response.status_code == 500 and b"soap:VersionMismatch" in response.content


def _card_case(runner: Runner) -> tuple[str, str, Any]:
    """(NIR of the ouvrant droit, its key, a beneficiary who is not the ouvrant droit if possible)."""
    from insi.service import directory_for

    directory = directory_for(runner.sandbox, "default")
    population = getattr(directory, "population", None)
    if population is None:  # the public identities: ADRTROIS TOUSSAINT's own card
        return "160012B020777", "13", directory.by_matricule("160012B020777")
    for card in population.cards():
        for ident in directory.by_card(card.nir_od):
            if ident.matricule != card.nir_od:  # an ayant droit: matricule INS != NIR on the card
                return str(card.nir_od), str(card.cle_od), ident
    raise AssertionError("no Carte Vitale with an ayant droit in the population")


def test_recvitale_with_zeep(mtls: Any, insi_runner: Runner) -> None:
    nir_od, cle, who = _card_case(insi_runner)
    result = mtls.rechercherInsAvecCarteVitale(
        MatriculeOD={"NumIdentifiant": nir_od, "Cle": cle},
        DateNaissance=who.date_naissance,
        RangNaissance=who.rang,
        _soapheaders=soap_headers("rechercherInsAvecCarteVitale"),
    )
    assert result.CR.CodeCR == "00"
    assert result.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == who.matricule
    assert result.INDIVIDU.TIQ.ListePrenom == " ".join(who.prenoms)
    other = mtls.rechercherInsAvecCarteVitale(
        MatriculeOD={"NumIdentifiant": nir_od, "Cle": cle},
        DateNaissance="1899-01-01",
        RangNaissance="1",
        _soapheaders=soap_headers("rechercherInsAvecCarteVitale"),
    )
    assert other.CR.CodeCR == "01"


def test_verification_inferred_shape(
    post: Callable[..., httpx.Response], insi_runner: Runner, fresh_tenant: str
) -> None:
    def verif(prenom: str) -> httpx.Response:
        data = request_xml().decode()
        start, end = data.index("<insi_recsans_ins:RECSANSVITALE"), data.index("</soap:Body>")
        body = (
            '<RequeteUnitaire xmlns="http://www.cnamts.fr/INSiLot2/REQUnitaire"><IndividuVerifie><INSFourni>'
            "<IdIndividu><NumIdentifiant>160012B020777</NumIdentifiant><Cle>13</Cle></IdIndividu>"
            "<OID>1.2.250.1.213.1.4.8</OID></INSFourni><TraitsIdentiteIndividu><NomNaissance>ADRTROIS</NomNaissance>"
            f"<Prenom>{prenom}</Prenom><Sexe>M</Sexe><DateNaissance>1960-01-01</DateNaissance>"
            "</TraitsIdentiteIndividu></IndividuVerifie></RequeteUnitaire>"
        )
        data = data[:start] + body + data[end:]
        data = data.replace("rechercherInsAvecTraitsIdentite", "verifierInsAvecTraitsIdentite")
        return post(data.encode(), fresh_tenant)

    ok, ko = verif("TOUSSAINT"), verif("DOMINIQUE")
    assert ok.status_code == ko.status_code == 200
    assert b"<CodeCR>00</CodeCR>" in ok.content and b"<CodeCR>02</CodeCR>" in ko.content
    entries = insi_runner.sandbox.journal.find(
        {"tenant": fresh_tenant, "operation": "verifierInsAvecTraitsIdentite"}
    )
    assert len(entries) == 2 and all(e["persona"] == "160012B020777" for e in entries)


def test_certificate_bound_to_a_tenant_selects_it(insi_runner: Runner, pem_dir: Path, mtls_url: str) -> None:
    """An LGC that cannot add headers is routed to its tenant by its certificate (subject binding)."""
    sandbox = insi_runner.sandbox
    structure = Structure(f"10B{uuid.uuid4().int % 10**7:07d}", "CABINET LIE", "Paris (75)")
    creds = sandbox.pki.credentials(structure, "insi_auto")
    subject = x509.load_pem_x509_certificate(creds.cert_pem).subject.rfc4514_string()
    name = "bound-" + uuid.uuid4().hex[:8]
    sandbox.tenants.create(name, bindings=[subject])
    service = _client_for(insi_runner, pem_dir, mtls_url, creds, name)
    assert (
        traits_call(
            service, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01", emetteur=structure.id_nat
        ).CR.CodeCR
        == "00"
    )
    assert sandbox.journal.find({"tenant": name})[0]["caller"] == subject


def test_oversized_body_is_refused(post: Callable[..., httpx.Response]) -> None:
    assert post(b"<" + b"x" * (5 * 1024 * 1024)).status_code == 413


def test_magic_persona_answers_its_error(
    post: Callable[..., httpx.Response], insi_runner: Runner, fresh_tenant: str
) -> None:
    from insi.service import directory_for

    magic = [i for i in directory_for(insi_runner.sandbox, fresh_tenant).identities if i.outcome]
    assert magic, "the référentiel has magic personas"
    who = magic[0]
    mid = f"uuid:{uuid.uuid4()}"
    response = post(
        request_xml(who.nom, (who.prenoms[0],), who.sexe, who.date_naissance, message_id=mid), fresh_tenant
    )
    assert response.status_code == 500
    erreur = validate_answer(response.content)
    from insi.errors import ERRORS

    assert who.outcome is not None
    assert erreur.get("code") == ERRORS[who.outcome].siram_code and erreur.get("messageID") == mid
    [entry] = insi_runner.sandbox.journal.find({"tenant": fresh_tenant})
    assert entry["persona"] == who.matricule


def test_a_bug_of_ours_answers_a_soap_fault(
    post: Callable[..., httpx.Response],
    insi_runner: Runner,
    fresh_tenant: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("insi.matching.search_traits", broken)
    response = post(request_xml(), fresh_tenant)
    assert response.status_code == 500
    assert validate_answer(response.content).get("code") == "desir_1020"
    [entry] = insi_runner.sandbox.journal.find({"tenant": fresh_tenant})
    assert entry["outcome"] == "internal error: RuntimeError"


@pytest.mark.parametrize(
    ("traits", "expected"),
    [
        (("HOMONYME", ["CLAUDE"], "M", "1966-06-06"), "02"),
        (("HOMONYME", ["CLAUDE"], "M", "1966-06-06", "13055"), "00"),
        (("ATTENTE", ["AMINATA"], "F", "1999-04-04"), "00"),
        (("INDISPONIBLE", ["SERVICE"], "F", "1950-01-01"), "desir_1020"),
        (("ERREUR", ["TECHNIQUE"], "M", "1950-01-01"), "insi_102"),
    ],
)
def test_magic_personas_of_the_population(
    mtls: Any, insi_runner: Runner, traits: tuple, expected: str
) -> None:
    from insi.service import directory_for

    if getattr(directory_for(insi_runner.sandbox, "default"), "population", None) is None:
        pytest.skip("no synthetic population in this build")
    if expected.startswith(("insi_", "desir_")):
        with pytest.raises(zeep.exceptions.Fault) as exc:
            traits_call(mtls, *traits)
        assert exc.value.detail[0].get("code") == expected
        return
    result = traits_call(mtls, *traits)
    assert result.CR.CodeCR == expected
    if traits[0] == "ATTENTE":
        assert result.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.9"


def test_documented_setup_pkcs12_download_then_search(
    console: httpx.Client, mtls_url: str, pem_dir: Path, tmp_path: Path
) -> None:
    """docs/services/insi.md: download the cabinet's INSI-AUTO PKCS#12 from the control plane, use it."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    response = console.get(
        "/_sandbox/pki/personas/410100000016001/insi_auto", params={"format": "p12", "password": "test"}
    )
    if response.status_code == 404:
        pytest.skip("the demo cabinet is not in this build's population")
    response.raise_for_status()
    key, cert, _ = pkcs12.load_key_and_certificates(response.content, b"test")
    assert key is not None and cert is not None
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    service = zeep_client(
        mtls_url, str(pem_dir / "ca.pem"), (str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    )
    result = traits_call(service, "TCHITCHI", ["CATARINA"], "F", "1936-06-21", emetteur="410100000016001")
    assert result.INDIVIDU.TIQ.ListePrenom == "CATARINA BELLA"


def test_sandbox_clock_expires_the_certificate_for_one_tenant_only(
    mtls: Any,
    insi_runner: Runner,
    pem_dir: Path,
    insi_auto: tuple[str, str],
    mtls_url: str,
    fresh_tenant: str,
) -> None:
    """Four years later on this tenant's clock, the 3-year INSI-AUTO certificate is expired."""
    insi_runner.sandbox.clock.advance(fresh_tenant, 4 * 365 * 86400)
    later = zeep_client(mtls_url, str(pem_dir / "ca.pem"), insi_auto, fresh_tenant)
    with pytest.raises(zeep.exceptions.Fault) as exc:
        traits_call(later, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01")
    assert exc.value.detail[0].get("code") == "DESIR_500"
    # the default tenant's clock is untouched
    assert traits_call(mtls, "ADRTROIS", ["TOUSSAINT"], "M", "1960-01-01").CR.CodeCR == "00"
