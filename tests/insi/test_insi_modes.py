"""A second sandbox configured like a pinned client's CI: strict validation and the older (CNDA-file)
serialisation. Only INSi runs in it."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

import insi.service
from insi.matching import ListDirectory
from mocks.runner import Runner
from mocks.testing import make_config
from tests.insi.clients import CT, STRUCTURE, write_creds
from tests.insi.support import CNDA, GOLDEN, MAGIC, request_xml


@pytest.fixture(scope="module")
def strict_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = make_config(
        tmp_path_factory.mktemp("insi-strict"),
        services="insi",
        insi_validation="strict",
        insi_serialisation="cnda",
    )
    runner = Runner(config)
    runner.start()
    saved = insi.service.directory_for
    try:
        import mocks.population  # noqa: F401
    except ImportError:
        directory = ListDirectory(GOLDEN + MAGIC)
        insi.service.directory_for = lambda sandbox, tenant: directory  # type: ignore[assignment]
    yield runner
    insi.service.directory_for = saved
    runner.stop()


@pytest.fixture(scope="module")
def send(
    strict_runner: Runner, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[bytes], httpx.Response]]:
    folder: Path = tmp_path_factory.mktemp("insi-strict-pem")
    pki = strict_runner.sandbox.pki
    (folder / "ca.pem").write_bytes(pki.ca_bundle())
    cert = write_creds(folder, "auto", pki.credentials(STRUCTURE, "insi_auto"))
    ctx = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    ctx.load_cert_chain(*cert)
    with httpx.Client(verify=ctx, timeout=30) as client:
        yield lambda data: client.post(
            strict_runner.url("insi", "/lps"), content=data, headers={"Content-Type": CT}
        )


def test_cnda_era_answer_equals_the_cnda_file(send: Callable[[bytes], httpx.Response]) -> None:
    response = send(request_xml("HOUILLES", ("PIERRE",), "M", "1993-01-27", emetteur="10B0152872"))
    assert response.status_code == 200
    expected = (CNDA / "REP_CR01.xml").read_bytes().replace(b"?>\r\n", b"?>\n")
    assert response.content == expected


def _compact(name: str) -> bytes:
    """A CNDA file without its comments and indentation (they are hand-edited files)."""
    text = (CNDA / name).read_text(encoding="utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r">\s+<", "><", text).strip()
    head, rest = text.split("?>", 1)
    return (head + "?>\n" + rest.lstrip()).encode("utf-8")


@pytest.mark.parametrize(
    ("traits", "cnda_file"),
    [
        (("PROVISOIRE", ("MATRICULE",), "M", "2009-07-01"), "TEST_2.05.xml"),
        (("CORSE", ("ANTHONY",), "M", "1980-03-02"), "TEST_2.08_cas1.xml"),
        (("HERMANN", ("GATIEN",), "M", "1981-03-24"), "TEST_2.08_cas2.xml"),
    ],
)
def test_cnda_files_reproduced(
    send: Callable[[bytes], httpx.Response], traits: tuple, cnda_file: str
) -> None:
    response = send(request_xml(*traits, emetteur="10B0152872"))
    assert response.status_code == 200
    assert response.content == _compact(cnda_file)


def test_strict_refuses_invalid_characters_like_production(send: Callable[[bytes], httpx.Response]) -> None:
    """CNDA 2.03 cas 3: D'ÆION CŒUR must be transliterated; the platform answered insi_102."""
    response = send(request_xml("D’ÆION", ("CŒUR",), "M", "1987-01-25", emetteur="10B0152872"))
    assert response.status_code == 500
    root = etree.fromstring(response.content)
    erreur = root.find(".//{urn:siram}Erreur")
    assert erreur is not None and erreur.get("code") == "insi_102" and erreur.get("severite") == "fatal"
    # the older era writes S: prefixes and no messageID for application faults
    assert b"<S:Value>S:Receiver</S:Value>" in response.content and erreur.get("messageID") is None


def test_strict_refuses_other_error_findings_with_the_sandbox_fault(
    send: Callable[[bytes], httpx.Response],
) -> None:
    response = send(request_xml(sexe="I", emetteur="10B0152872"))
    assert response.status_code == 500
    erreur = etree.fromstring(response.content).find(".//{urn:siram}Erreur")
    assert erreur is not None and erreur.get("code") == "conformite" and "INSI-SEXE" in (erreur.text or "")


def test_strict_still_answers_warnings_only_requests(send: Callable[[bytes], httpx.Response]) -> None:
    response = send(request_xml(lps_nom="GIE", emetteur="someone@example.org"))
    assert response.status_code == 200
