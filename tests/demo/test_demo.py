"""The reference LGC client (`segur-sandbox demo`) against an embedded sandbox, over real sockets.

One sandbox for the module (every service, the ANS CDA data from ../shared/specs, fixed free
ports so that it can be restarted mid-run on the same URLs); each test runs in its own tenant.
What is checked is what a user relies on: every step that this sandbox serves succeeds, the
documents are what they claim (PDF/A-1 XMP, the DataMatrix read from the PDF's image, the XAdES
accepted by the sandbox's own verifier and by signxml), each `--fail` preset produces its finding
or refusal, a disabled service skips its steps, a restart makes the next step retry once, a wrong
URL exits with 2 naming it.
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
import zxingcpp

from demo import cli, pki
from demo.cast import Cast
from demo.run import Run, Step
from demo.sandbox import Sandbox
from demo.workflow import PRESETS, STEPS
from mocks.config import all_settings
from mocks.registry import service_settings
from mocks.runner import Runner
from mocks.testing import make_config
from tests.conftest import SPECS

pytestmark = pytest.mark.slow
CDA_DATA = SPECS / "cda" / "TestContenuCDA-3-0"


def _free_ports() -> dict[str, int]:
    table = all_settings(service_settings())
    ports = {}
    for name, setting in table.items():
        # the MSSanté TLS test endpoints are port ranges: left ephemeral (the demo does not use them)
        if setting.kind == "port" and not name.startswith("mss_test_"):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports[name] = s.getsockname()[1]
    return ports


def _config(tmp: Path, ports: dict[str, int], **settings: object):  # type: ignore[no-untyped-def]
    extra = {"cda_data": str(CDA_DATA)} if CDA_DATA.is_dir() else {}
    return make_config(tmp, **ports, **extra, **settings)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("demo-sandbox")
    ports = _free_ports()
    runner = Runner(_config(tmp, ports))
    runner.start()
    # the CDA engine compiles StrucMin once after Ready (about 15 s, minutes on a loaded machine):
    # waited for here, so that the run's figure is the demo's own
    deadline = time.monotonic() + 600
    while (
        "StrucMin" not in (runner.sandbox.cda.health().get("compiled") or []) and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    state: dict[str, object] = {"runner": runner, "tmp": tmp, "ports": ports, "url": runner.url("console")}
    yield state
    current = state["runner"]
    assert isinstance(current, Runner)
    current.stop()


def _run(url: str, tmp: Path, *args: str, **kw: object) -> tuple[int, dict[str, object], str]:
    out = io.StringIO()
    tenant = f"demo-{uuid.uuid4().hex[:8]}"
    code = cli.demo(url, tenant=tenant, workdir=tmp, out=out, as_json_log=False, **kw)  # type: ignore[arg-type]
    return code, {"tenant": tenant}, out.getvalue()


def test_whole_workflow(
    sandbox: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    tenant = f"demo-{uuid.uuid4().hex[:8]}"
    code = cli.demo(str(sandbox["url"]), tenant=tenant, workdir=tmp_path, as_json_log=True, out=io.StringIO())
    elapsed = time.monotonic() - started
    log = json.loads(capsys.readouterr().out)
    by_id = {s["id"]: s for s in log["steps"]}
    print(
        f"demo run: {elapsed:.1f} s;",
        ", ".join(f"{s['id']} {s['status']} {s['seconds']:.2f}s" for s in log["steps"]),
    )
    assert code == 0, log
    assert [s["id"] for s in log["steps"]] == [s.id for s in STEPS]
    for step in by_id.values():
        assert step["status"] == "ok", step
    assert elapsed < 90
    # what the sandbox saw, from its own journal: the exchanges of each service, no error finding
    journal = [e for s in log["steps"] for e in s["journal"]]
    services = {e["service"] for e in journal}
    assert {"psc", "apcv", "insi", "annuaire", "dmp", "mss"} <= services
    errors = [f for e in journal for f in e["findings"] if f["severity"] == "error"]
    assert not errors, errors
    # the qualified INS, the letters to a professional (10 for the balance) and the citizen message
    assert "INS qualifié : 2840575056412 89" in " ".join(by_id["3.2"]["lines"])
    assert "0 erreur" not in " ".join(by_id["5"]["lines"]) and "'error': 0" in " ".join(by_id["5"]["lines"])
    with _ctx(str(sandbox["url"]), tenant) as sb:
        facts = sb.get("/evidence", kind="mss.message.accepted").json()
        assert len(facts) >= 11  # 10 to Dr FONTAINE (step 7.1 and the rounds) + 1 to the patients
        messages = sb.get("/mss/mailboxes/hugo.fontaine@ch-tours-sandbox.mssante.fr/messages").json()[
            "messages"
        ]
        assert len(messages) >= 10
    # MSSanté part 2: the citizen's read receipt, and the scoreboard's MSSanté counters reached
    assert "1 accusé(s) de lecture (MDN)" in " ".join(by_id["7.3"]["lines"])
    with _ctx(str(sandbox["url"]), tenant) as sb:
        counters = {c["id"]: c for c in sb.get("/scoreboard/balance").json()["counters"]}
    assert counters["mss"]["reached"] and counters["citizen"]["reached"], counters
    assert counters["dmp"]["direct"]["counted"] >= 10 and counters["dmp"]["reached"], counters
    # one more letter, for a patient whose INS this LGC never qualified: the DMP accepts it, the
    # balance lists it as not counted, with its reason (issue 20)
    out = io.StringIO()
    assert (
        cli.demo(
            str(sandbox["url"]), tenant=tenant, preset="ins-non-qualifie", workdir=tmp_path / "adrun", out=out
        )
        == 0
    )
    assert "accepté par le DMP, mais son INS n'a jamais été qualifié" in out.getvalue(), out.getvalue()
    with _ctx(str(sandbox["url"]), tenant) as sb:
        after = {c["id"]: c for c in sb.get("/scoreboard/balance").json()["counters"]}["dmp"]
    assert after["direct"]["counted"] == counters["dmp"]["direct"]["counted"] and after["reached"]
    reasons = [i["reason"] for i in after["not_counted"]]
    assert reasons == ["INS non qualifié (identité non qualifiée par l'INSi)"], after["not_counted"]
    # the files the LGC produced
    _check_pdf(tmp_path / "lettre.pdf")


class _ctx:
    def __init__(self, url: str, tenant: str) -> None:
        self.sb = Sandbox(url, tenant)

    def __enter__(self) -> Sandbox:
        return self.sb

    def __exit__(self, *exc: object) -> None:
        self.sb.close()


def _check_pdf(path: Path) -> None:
    """PDF/A-1b claimed in the XMP (pikepdf), and the DataMatrix read from the page's image."""
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "1B"
        assert pdf.pdf_version == "1.4"
        assert "/OutputIntents" in pdf.Root
        images = [im for page in pdf.pages for im in page.get_images().values()]
        assert images, "no image in the letter"
        image = pikepdf.PdfImage(images[0]).as_pil_image()
    found = zxingcpp.read_barcodes(image)
    assert found and found[0].format == zxingcpp.BarcodeFormat.DataMatrix
    payload = bytes(found[0].bytes).decode("latin-1")
    assert payload.startswith(
        "IS01" + "0" * 22 + "S1284057505641289S21.2.250.1.213.1.4.10S3SOPHIE MARIE\x1dS4GIRARD\x1d"
    )
    assert payload.endswith("S5FS617-05-1984S775056")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_fail_presets(sandbox: dict[str, object], tmp_path: Path, preset: str) -> None:
    """Each preset shows the sandbox's answer; the ones of services not on main yet say so."""
    out = io.StringIO()
    code = cli.demo(
        str(sandbox["url"]), tenant=f"demo-{uuid.uuid4().hex[:8]}", preset=preset, workdir=tmp_path, out=out
    )
    text = out.getvalue()
    assert code == 0, text
    expected = {
        "vihf-cle-auth": "DMPInvalidCertificate",
        "ins-non-qualifie": "CDA-INS-NOT-QUALIFIED",
        "ecps-refusee": "error=access_denied",
        "xdm-casse": "MSS-XDM-HASH",
        "xades-absente": "lot non signé refusé",
    }[preset]
    assert f"attendu (--fail {preset})" in text and expected in text, text


def test_xades_accepted_by_the_sandbox_verifier(sandbox: dict[str, object], tmp_path: Path) -> None:
    """The lot's XAdES, checked by the kernel's verifier (what DMP part 2 calls) and by signxml."""
    from demo import document, identity, xades
    from mocks.pki.xades import verify_xades

    sb = Sandbox(str(sandbox["url"]))
    sb.discover()
    run = Run(sb, Cast(), tmp_path, out=io.StringIO())
    run.execute(
        [Step("1", pki.step_credentials), Step("3.2", identity.step_insi), Step("5", document.step_document)]
    )
    assert all(r.status == "ok" for r in run.results), [r.error for r in run.results]
    letter = run.letter
    signature = xades.sign_lot(run.creds["cps_sign"], "2.25.42", {letter.unique_id: letter.cda})
    xades.verify(signature, run.creds["cps_sign"])
    runner = sandbox["runner"]
    assert isinstance(runner, Runner)
    verdict = verify_xades(
        runner.sandbox.pki, signature, {letter.unique_id: letter.cda}, submission_set="2.25.42"
    )
    assert verdict.valid, verdict.failures
    assert verdict.signer is not None and verdict.signer.kind == "cps_sign" and verdict.dummy_submission_set
    sb.close()


def test_wrong_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    assert cli.demo(url, out=io.StringIO()) == 2
    assert f"{url}/_sandbox/health" in capsys.readouterr().err


def test_trainer_mode_pauses_and_shows_the_journal(sandbox: dict[str, object], tmp_path: Path) -> None:
    out = io.StringIO()
    code = cli.demo(
        str(sandbox["url"]),
        tenant=f"demo-{uuid.uuid4().hex[:8]}",
        preset="vihf-cle-auth",
        pause=True,
        workdir=tmp_path,
        out=out,
        stdin=io.StringIO("\n" * 20),
    )
    text = out.getvalue()
    assert code == 0, text
    assert text.count("[Entrée] pour continuer") == 7  # steps 1 … 6.1 of the preset
    assert "Journal du bac à sable pour cette étape" in text
    assert re.search(r"#\d+ DMP \S+ => 500 .*DMPInvalidCertificate|#\d+ DMP \S+ => 500", text), text


def test_disabled_service_and_restart(tmp_path: Path) -> None:
    """A sandbox without ApCV: the patient is identified by INSi's traits search, the run goes on.
    Then the sandbox stops after step 3.2 and comes back 1.5 s later on the same ports: step 4
    loses its connection, waits for readiness and is run once more."""
    ports = _free_ports()
    config = make_config(tmp_path / "data", **ports, services="pki,psc,insi,annuaire,dmp,mss")
    box: dict[str, Runner] = {"runner": Runner(config)}
    box["runner"].start()
    url = box["runner"].url("console")
    try:
        out = io.StringIO()
        code = cli.demo(url, rounds=1, workdir=tmp_path / "w", out=out)
        text = out.getvalue()
        assert "service indisponible (apcv : disabled) : étape ignorée" in text
        assert "rechercherInsAvecTraitsIdentite GIRARD SOPHIE => CR 00" in text
        assert code == 0, text

        def restart(run: Run) -> None:
            """Redémarrage du bac à sable (test)"""
            box["runner"].stop()

            def later() -> None:
                time.sleep(1.5)
                box["runner"] = Runner(config)
                box["runner"].start()

            threading.Thread(target=later, daemon=True).start()

        by_id = {s.id: s for s in STEPS}
        sb = Sandbox(url)
        sb.discover()
        run = Run(sb, Cast(), tmp_path / "r", out=io.StringIO())
        (tmp_path / "r").mkdir()
        results = run.execute([by_id["1"], by_id["3.2"], Step("x", restart), by_id["4"], by_id["5"]])
        sb.close()
        assert [r.status for r in results] == ["ok"] * 5, [r.error for r in results]
        assert results[3].retried and not results[4].retried
    finally:
        box["runner"].stop()


def test_docs_examples(sandbox: dict[str, object], tmp_path: Path) -> None:
    """docs/demo.md's examples, as a reader pastes them (default ports rewritten to this sandbox's)."""
    from tests.doc_examples import ROOT, blocks, run

    runner = sandbox["runner"]
    assert isinstance(runner, Runner)
    found = blocks(ROOT / "docs" / "demo.md")
    assert len(found) == 2
    for block in found:
        result = run(block, runner, tmp_path, timeout=120)
        assert result.returncode == 0, f"{block.id}: {result.stdout[-3000:]}{result.stderr[-3000:]}"


def test_iti41_request_read_by_the_soap_kit(sandbox: dict[str, object], tmp_path: Path) -> None:
    """The demo's ITI-41 as the DMP part 2 will read it (the kernel's SOAP kit): SOAP 1.2 in
    MTOM, its action, the two xop:Include parts byte-identical to the CDA and the XAdES, the
    VIHF signed with the CPS signature key; the XAdES valid for the sandbox's verifier."""
    import httpx

    from demo import dmp, document, identity
    from mocks import soap
    from mocks.pki.xades import verify_xades

    sb = Sandbox(str(sandbox["url"]))
    sb.discover()
    run = Run(sb, Cast(), tmp_path, out=io.StringIO())
    run.execute(
        [Step("1", pki.step_credentials), Step("3.2", identity.step_insi), Step("5", document.step_document)]
    )
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(500, content=b"")

    real = httpx.Client
    dmp.httpx.Client = lambda **kw: real(transport=httpx.MockTransport(handler), **kw)  # type: ignore[attr-defined]
    try:
        dmp.feed(run, run.letter)
    finally:
        dmp.httpx.Client = real  # type: ignore[attr-defined]
    sb.close()
    request = captured[0]
    req = soap.read_request(request.content, request.headers["content-type"])
    assert req.action.value == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    assert req.multipart is not None
    datas = [bytes(b.data) for b in req.binaries()]
    assert run.letter.cda in datas and len(datas) == 2
    signature = next(d for d in datas if d != run.letter.cda)
    runner = sandbox["runner"]
    assert isinstance(runner, Runner)
    security = soap.read_security(req.envelope, pki=runner.sandbox.pki, tenant="default")
    assert security.assertion is not None
    ss_uid = req.envelope.root.xpath(
        "//r:ExternalIdentifier[@identificationScheme='urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8']/@value",
        namespaces={"r": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"},
    )[0]
    verdict = verify_xades(
        runner.sandbox.pki, signature, {run.letter.unique_id: run.letter.cda}, submission_set=ss_uid
    )
    assert verdict.valid, verdict.failures


def test_replacement_is_a_valid_cda(sandbox: dict[str, object], tmp_path: Path) -> None:
    """Version 2 of the letter (relatedDocument RPLC, same setId) passes the CDA engine too."""
    from demo import document, identity

    sb = Sandbox(str(sandbox["url"]))
    sb.discover()
    run = Run(sb, Cast(), tmp_path, out=io.StringIO())
    run.execute(
        [Step("1", pki.step_credentials), Step("3.2", identity.step_insi), Step("5", document.step_document)]
    )
    second = document.make_letter(run, run.letter.patient, run.letter.recipients, previous=run.letter)
    assert second.set_id == run.letter.set_id and second.version == 2
    report = document.validate(run, second.cda, "v2.xml")
    sb.close()
    assert report is not None and report["counts"]["error"] == 0, report
