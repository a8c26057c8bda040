"""The DMP's seeded documents (dmp.seed) and the documents control routes, over real sockets with
httpx: made on first use per tenant, deterministic, stored as an ITI-41 stores them (ebRIM
XSD-valid metadata, hash and size of the bytes, the XAdES verdict, the signs / HasMember / RPLC
associations), masked, invisible, archived and replaced documents; 404 for the unknown."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import httpx
import pytest
from lxml import etree

from dmp import documents as D
from dmp import metadata as M
from dmp import seed
from mocks.kernel import Sandbox
from mocks.pki.xades import verify_xades
from mocks.runner import Runner
from mocks.testing import make_config
from tests.dmp.support import SPECS

RIM_XSD = SPECS / "contract" / "schema" / "ebRS" / "rim.xsd"


@cache
def rim() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RIM_XSD)))


@pytest.fixture(scope="module")
def control(running_sandbox: Runner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_sandbox.url("console"), timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(control: httpx.Client) -> Iterator[str]:
    """A tenant whose seed was made by the first documents request."""
    name = "dmp-seed-a"
    control.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
    yield name
    control.delete(f"/_sandbox/tenants/{name}")


@pytest.fixture(scope="module")
def patients(control: httpx.Client, seeded: str) -> list[dict[str, object]]:
    answer = control.get("/_sandbox/dmp/documents", params={"tenant": seeded})
    assert answer.status_code == 200, answer.text
    return answer.json()["patients"]  # type: ignore[no-any-return]


def _all(control: httpx.Client, tenant: str, patients: list[dict[str, object]]) -> list[dict[str, object]]:
    rows = []
    for p in patients:
        answer = control.get("/_sandbox/dmp/documents", params={"tenant": tenant, "ins": str(p["ins"])})
        assert answer.status_code == 200, answer.text
        rows += answer.json()["documents"]
    return rows


def test_seed_patients_and_outcomes(control: httpx.Client, seeded: str, patients: list[dict[str, object]]) -> None:  # fmt: skip
    assert len(patients) == seed.PATIENTS
    assert all(p["nom"] and p["documents"] for p in patients)
    rows = _all(control, seeded, patients)
    assert len(rows) == 8  # 7 planned documents + the replacement
    by_status = sorted(str(r["status"]) for r in rows)
    assert by_status == ["Approved"] * 6 + ["Archived", "Deprecated"]
    assert sum(1 for r in rows if r["visibility"] == ["MASQUE_PS"]) == 1
    assert sum(1 for r in rows if r["visibility"] == ["INVISIBLE_PATIENT"]) == 1
    v2 = next(r for r in rows if r["replaces"])
    v1 = next(r for r in rows if r["uniqueId"] == v2["replaces"])
    assert (v1["status"], v2["status"], v1["replacedBy"]) == ("Deprecated", "Approved", v2["uniqueId"])
    for r in rows:
        sig = r["signature"]
        assert isinstance(sig, dict) and sig["valid"] and sig["failures"] == [] and sig["uniqueId"]
        assert sig["signer"]["persona"] == r["author"]["id"]  # type: ignore[index]
        assert r["findings"]["errors"] == 0, r  # type: ignore[index]
        assert r["format"]["code"] == "urn:ihe:iti:xds-sd:pdf:2008"  # type: ignore[index]
        assert str(r["links"]["cda_report"]).startswith("/_sandbox/cda/reports/")  # type: ignore[index]


def test_content_render_and_report_links(control: httpx.Client, seeded: str, patients: list[dict[str, object]]) -> None:  # fmt: skip
    row = _all(control, seeded, patients[:1])[0]
    links = row["links"]
    assert isinstance(links, dict)
    content = control.get(links["content"])
    assert content.status_code == 200 and content.headers["content-type"].startswith("text/xml")
    assert len(content.content) == row["size"]
    cda = etree.fromstring(content.content)
    assert cda.find("{urn:hl7-org:v3}id").get("root") == row["uniqueId"]  # type: ignore[union-attr]
    pdf = control.get(links["render"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and b"pdfaid" in pdf.content
    report = control.get(links["cda_report"], params={"tenant": seeded})
    assert report.status_code == 200 and report.json()["level"] == "N1"


def test_detail_versions_and_404(control: httpx.Client, seeded: str, patients: list[dict[str, object]]) -> None:  # fmt: skip
    rows = _all(control, seeded, patients)
    v2 = next(r for r in rows if r["replaces"])
    detail = control.get(f"/_sandbox/dmp/documents/{v2['uniqueId']}", params={"tenant": seeded}).json()
    assert [v["version"] for v in detail["versions"]] == [1]
    types = {a["type"] for a in detail["associations"]}
    assert {M.HAS_MEMBER, M.RPLC[0]} <= types
    rplc = next(a for a in detail["associations"] if a["type"] == M.RPLC[0])
    assert rplc["source"] == v2["entryUUID"]
    assert detail["caller"]["via"] == "seed" and detail["hash"]
    v1 = control.get(f"/_sandbox/dmp/documents/{v2['replaces']}", params={"tenant": seeded}).json()
    assert (v1["status"], v1["replacedBy"]) == ("Deprecated", v2["uniqueId"])
    for path in ("", "/content", "/render"):
        missing = control.get(f"/_sandbox/dmp/documents/1.2.3.4{path}", params={"tenant": seeded})
        assert missing.status_code == 404 and "1.2.3.4" in missing.json()["error"]
    assert control.get("/_sandbox/dmp/documents", params={"tenant": "no-such"}).status_code == 404
    assert control.get("/_sandbox/dmp/documents", params={"tenant": seeded, "ins": "12"}).status_code == 400
    empty = control.get("/_sandbox/dmp/documents", params={"tenant": seeded, "ins": "123456789012345"})
    assert empty.status_code == 200 and empty.json()["documents"] == []


def test_stored_shape(running_sandbox: Runner, seeded: str, patients: list[dict[str, object]]) -> None:
    """What the registry and repository read: ebRIM-valid metadata, bytes that match hash and size,
    the lot's XAdES that verifies over the stored CDA, the signs and HasMember associations."""
    sb = running_sandbox.sandbox
    docs = D.Documents(sb.store)
    for p in patients:
        entries = docs.by_patient(seeded, str(p["ins"]), kinds=("document", "signature"))
        for d in entries:
            assert rim().validate(etree.fromstring(d.metadata_xml.encode())), rim().error_log
            body = docs.content(seeded, d.unique_id)
            assert body is not None and hashlib.sha1(body).hexdigest() == d.hash and len(body) == d.size
            assert (
                d.via_seed
                and d.ins == p["ins"]
                and d.patient_id.startswith(f"{d.ins}^^^&1.2.250.1.213.1.4.10&")
            )
            assert d.creation_time.isdigit() and len(d.creation_time) == 14
            assert d.authors and d.authors[0].person.endswith("^D^^^IDNPS")
        for sig in (d for d in entries if d.kind == "signature"):
            assert sig.masked_ps and sig.invisible_patient
            assert sig.class_code is not None and sig.class_code.code == M.SIGNATURE_CLASS
            members = [
                a.target for a in docs.associations(seeded, source=sig.submission_set, type=M.HAS_MEMBER)
            ]
            document = next(d for d in entries if d.kind == "document" and d.entry_uuid in members)
            assert (
                docs.associations(seeded, source=sig.entry_uuid, type=M.SIGNS)[0].target == sig.submission_set
            )
            xades = docs.content(seeded, sig.unique_id)
            cda = docs.content(seeded, document.unique_id)
            assert xades is not None and cda is not None
            assert verify_xades(sb.pki, xades, {document.unique_id: cda}, seeded).valid
        sets = docs.submission_sets(seeded, str(p["ins"]))
        assert len(sets) == len([d for d in entries if d.kind == "signature"])
        for ss in sets:
            assert rim().validate(etree.fromstring(ss.metadata_xml.encode())), rim().error_log
            assert ss.source_id == seed.SOURCE_ID and ss.authors and ss.submission_time.isdigit()


def test_deterministic_and_lazy(running_sandbox: Runner, control: httpx.Client, seeded: str, patients: list[dict[str, object]]) -> None:  # fmt: skip
    """Another tenant gets the same documents (ids, CDA bytes, metadata); a reset forgets them and
    the next reader makes them again; nothing is made before a reader asks."""
    sb = running_sandbox.sandbox
    docs = D.Documents(sb.store)
    other = "dmp-seed-b"
    control.post("/_sandbox/tenants", json={"id": other}).raise_for_status()
    try:
        assert docs.patients(other) == []  # lazy: nothing before the first reader
        for path, params in (("/1.2.3.4", {}), ("", {"ins": "12"})):  # a 4xx makes nothing
            answer = control.get(f"/_sandbox/dmp/documents{path}", params={"tenant": other, **params})
            assert answer.status_code in (400, 404) and docs.patients(other) == []
        assert seed.ensure(sb, other) == 8 and seed.ensure(sb, other) == 0
        made = {
            d.unique_id
            for i in docs.patients(other)
            for d in docs.by_patient(other, i, kinds=("document", "signature"))
        }
        assert made == seed.unique_ids(sb)  # what a 404 checks before seeding
        assert docs.patients(other) == docs.patients(seeded) == sorted(str(p["ins"]) for p in patients)
        for ins in docs.patients(seeded):
            mine, theirs = docs.by_patient(seeded, ins), docs.by_patient(other, ins)
            assert [(d.unique_id, d.entry_uuid, d.hash, d.metadata_xml) for d in mine] == [
                (d.unique_id, d.entry_uuid, d.hash, d.metadata_xml) for d in theirs
            ]
        control.post(f"/_sandbox/tenants/{other}/reset").raise_for_status()
        assert docs.patients(other) == []
        again = control.get("/_sandbox/dmp/documents", params={"tenant": other}).json()["patients"]
        assert [p["ins"] for p in again] == [p["ins"] for p in patients]
    finally:
        control.delete(f"/_sandbox/tenants/{other}")


def test_plan_follows_the_seed(running_sandbox: Runner) -> None:
    sb = running_sandbox.sandbox
    first, second = seed.plan(sb), seed.plan(sb)
    assert [p.patient.id for p in first] == [p.patient.id for p in second]
    assert all(not p.patient.persona and p.patient.dmp == "open" for p in first)
    assert all(p.gp.professional.profession == "10" for p in first)


def test_seed_can_be_turned_off(tmp_path: Path) -> None:
    sandbox = Sandbox(make_config(tmp_path, dmp_seed_documents="false"))
    assert seed.ensure(sandbox, "default") == 0


def test_an_n3_is_rendered(running_sandbox: Runner, control: httpx.Client, tenant: str) -> None:
    """A structured CDA (an ANS example) fed beside the seed: /render answers its HTML reading,
    under a script-forbidding CSP, and the viewer offers the N3 rendering."""
    cda = (SPECS.parent / "cda" / "TestContenuCDA-3-0" / "ExemplesCDA" / "AVC-AUNV_2022.01.xml").read_bytes()
    uid, entry = "1.2.250.1.999.1.1.7898.3.42", "urn:uuid:0b8e6a1e-3c4f-4f55-9d0e-5a1d2f3e4b5c"
    ins = "279035121518989"
    ss = D.SubmissionSet("urn:uuid:ss-n3", "1.2.250.1.999.1.1.7898.1.42", ins, f"{ins}^^^&1.2.250.1.213.1.4.10&ISO^NH", "", "20250101000000", "<RegistryPackage/>")  # fmt: skip
    doc = D.Document(entry, uid, entry, 1, "Approved", ins, "1.2.250.1.213.1.4.10", ss.patient_id, "text/xml",
                     hashlib.sha1(cda).hexdigest(), len(cda), "<ExtrinsicObject/>", title="AVC",
                     format_code=M.Code("urn:asip:ci-sis:avc-aunv:2022", "1.3.6.1.4.1.19376.1.2.3"))  # fmt: skip
    D.Documents(running_sandbox.sandbox.store).insert_submission(tenant, D.Submission(ss, (doc,), {uid: cda}))
    render = control.get(f"/_sandbox/dmp/documents/{uid}/render", params={"tenant": tenant})
    assert render.status_code == 200 and render.headers["content-type"].startswith("text/html")
    assert render.headers["content-security-policy"].startswith("default-src 'none'")
    assert b"<html" in render.content.lower()
    page = control.get(f"/dmp/documents/{uid}", params={"tenant": tenant})
    assert page.status_code == 200 and "Ouvrir le rendu (N3)" in page.text


def test_without_a_font_the_routes_say_why_and_nothing_is_half_made(
    control: httpx.Client, running_sandbox: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No TrueType font (a machine without fonts-dejavu-core): the documents route answers 503
    with the reason, a DMP call about a seeded patient goes on without them, nothing is stored."""
    from mocks.cda import letter

    def no_font() -> str:
        raise letter.NoFont("aucune police TrueType trouvée pour le PDF/A")

    monkeypatch.setattr(letter, "font", no_font)
    name = "dmp-seed-nofont"
    control.post("/_sandbox/tenants", json={"id": name}).raise_for_status()
    try:
        r = control.get("/_sandbox/dmp/documents", params={"tenant": name})
        assert r.status_code == 503 and "police TrueType" in r.text, r.text
        sandbox = running_sandbox.sandbox
        ins = sorted(seed.seeded_ins(sandbox))[0]
        assert seed.ensure_for(sandbox, name, ins) == 0
        assert D.Documents(sandbox.store).patients(name) == []
    finally:
        control.delete(f"/_sandbox/tenants/{name}")
