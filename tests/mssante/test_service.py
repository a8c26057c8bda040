"""The catalogue and the control plane: every error name the code raises is in ERRORS, every
finding rule in RULES; the mailboxes come from the population; the control API and the
Thunderbird autoconfig document; the docs' examples run against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from lxml import etree

from mssante.checks import RULES
from mssante.errors import ERRORS
from tests import doc_examples
from tests.mssante.conftest import CDS, CDS_APP, CDS_ORG, DOCTOR, DOCTOR_BAL, DOCTOR_CDS_BAL, Mss

PACKAGE = Path(__file__).resolve().parents[2] / "mssante"


def test_every_raised_name_is_in_the_catalogues() -> None:
    source = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    raised = set(re.findall(r'(?:ERRORS\.(?:fail|error)|Refused)\(\s*"([a-z0-9_]+)"', source))
    assert raised and raised <= set(ERRORS), raised - set(ERRORS)
    rules = set(re.findall(r'findings\.add\(\s*"([A-Z0-9-]+)"', source))
    rules |= set(re.findall(r'Problem\(\s*"([A-Z0-9-]+)"', source))  # the archive reader's
    assert rules and rules <= set(RULES), rules - set(RULES)
    assert {"MSS-XDM-BOMB", "MSS-XDM-PATH", "MSS-XDM-ZIP", "MSS-XDM-TOO-MANY"} <= rules


def test_mailboxes_from_the_population(mss: Mss) -> None:
    r = mss.control("GET", "/mailboxes", params={"q": "lilas"})
    boxes = {m["address"]: m for m in r.json()["mailboxes"]}
    assert boxes[CDS_APP]["type"] == "APP" and boxes[CDS_APP]["owners"] == [CDS]
    assert boxes[CDS_ORG]["type"] == "ORG" and DOCTOR in boxes[CDS_ORG]["owners"]
    assert boxes[DOCTOR_CDS_BAL]["type"] == "PER"
    one = mss.control("GET", f"/mailboxes/{DOCTOR_BAL}").json()
    assert one["type"] == "PER" and [f["name"] for f in one["folders"]] == [
        "INBOX",
        "Sent",
        "Drafts",
        "Trash",
    ]
    patient = mss.runner.sandbox.population.patients()[0]
    assert mss.control("GET", f"/mailboxes/{patient.ins}@patient.mssante.fr").json()["type"] == "CIT"
    assert mss.control("GET", "/mailboxes/nobody@medecin.mssante.fr").status_code == 404
    index = mss.control("GET", "/").json()
    assert (
        "patient.mssante.fr" in index["liste_blanche"] and "medimail.mssante.fr" in index["outbound_domains"]
    )
    assert mss.control("POST", "/reset").status_code == 200


def test_thunderbird_autoconfig(mss: Mss) -> None:
    url = mss.runner.url("mss-autoconfig", "/.well-known/autoconfig/mail/config-v1.1.xml")
    r = httpx.get(url, params={"emailaddress": DOCTOR_BAL})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    doc = etree.fromstring(r.content)
    imap = doc.find("emailProvider/incomingServer")
    assert imap is not None and imap.get("type") == "imap"
    assert imap.findtext("port") == str(mss.port("mss-imap")) and imap.findtext("socketType") == "STARTTLS"
    assert imap.findtext("authentication") == "OAuth2"
    smtp = doc.find("emailProvider/outgoingServer")
    assert smtp is not None and smtp.findtext("port") == str(mss.port("mss-smtp"))
    assert doc.findtext("oAuth2/issuer", "").endswith("/auth/realms/esante-wallet")
    assert "medecin.mssante.fr" in [d.text for d in doc.findall("emailProvider/domain")]
    assert httpx.get(mss.runner.url("mss-autoconfig", "/nope")).status_code == 404


DOC = Path(__file__).resolve().parents[2] / "docs" / "services" / "mssante.md"


def test_docs_examples(running_sandbox: object, tmp_path: Path) -> None:
    """The blocks in order, in one sandbox: a later block reads what an earlier one sent."""
    blocks = doc_examples.blocks(DOC)
    assert len(blocks) >= 4
    for block in blocks:
        result = doc_examples.run(block, running_sandbox, tmp_path)  # type: ignore[arg-type]
        assert result.returncode == 0, f"{block.id}: {result.stdout}{result.stderr}"
