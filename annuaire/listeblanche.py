"""The MSSanté liste blanche (`/listeblanchemssante.xml`) and its SHA-256 `checksum` (research
mssante.md 1.2; ansforge/MSS-liste-blanche).

    <?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">
        <DateDeGeneration>…Z</DateDeGeneration>
        <ListeDomaines>
            <Domaine>
                <Nom/> <Description/> <DNCertificatOperateur/> <ResponsableContact/> <SupportContact/> <DateMAJ/>
            </Domaine> …

Layout as the published file (declaration and root on one line, 4-space indent), but well formed
(the GitHub copy lacks its closing root tag). The domains are the world's: every structure's
MSSanté domain, the domains of the professionals' personal mailboxes, and the citizen domain
`patient.mssante.fr` that the sandbox's MSSanté serves ([inferred]: the public snapshot does not
list it). The operator DN is the sandbox server certificate's. Real public domains are added
when `annuaire_listeblanche_real` names a real list (for instance a copy of the published file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from mocks.population import Population

PATH = "/listeblanchemssante.xml"
CHECKSUM_PATH = "/checksum"
NS = "https://listeblanche.mssante.fr/schema"
CONTACT = "01 00 00 00 00, support@segur-sandbox.invalid"
CITIZEN = ("patient.mssante.fr", "Messagerie citoyenne Mon espace santé (bac à sable)")


def sandbox_domains(population: Population) -> list[tuple[str, str]]:
    """(domain, description) of the world, in a stable order."""
    found: dict[str, str] = {}
    for s in population.structures():
        if s.mss_domain:
            found.setdefault(s.mss_domain, f"Domaine de messagerie MSSanté de {s.name}")
    for p in population.professionals():
        if "@" in p.mss_address:
            domain = p.mss_address.rpartition("@")[2]
            found.setdefault(domain, "Domaine de messagerie MSSanté national (bac à sable)")
    found.setdefault(*CITIZEN)
    return sorted(found.items())


def real_domains(path: str) -> list[etree._Element]:
    """The Domaine elements of a real list (the GitHub copy is not well formed: recover)."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(Path(path).read_bytes(), parser)
    if root is None:
        return []
    return list(root.iter(f"{{{NS}}}Domaine"))


def _domain(name: str, description: str, dn: str, updated: str) -> str:
    return (
        "        <Domaine>\n"
        f"            <Nom>{escape(name)}</Nom>\n"
        f"            <Description>{escape(description)}</Description>\n"
        f"            <DNCertificatOperateur>{escape(dn)}</DNCertificatOperateur>\n"
        f"            <ResponsableContact>{escape(CONTACT)}</ResponsableContact>\n"
        f"            <SupportContact>{escape(CONTACT)}</SupportContact>\n"
        f"            <DateMAJ>{updated}</DateMAJ>\n"
        "        </Domaine>\n"
    )


def _copy(element: etree._Element) -> str:
    def child(tag: str) -> str:
        return (element.findtext(f"{{{NS}}}{tag}") or "").strip()

    lines = ["        <Domaine>\n"]
    for tag in (
        "Nom",
        "Description",
        "DNCertificatOperateur",
        "ResponsableContact",
        "SupportContact",
        "DateMAJ",
    ):
        lines.append(f"            <{tag}>{escape(child(tag))}</{tag}>\n")
    lines.append("        </Domaine>\n")
    return "".join(lines)


def document(
    domains: Iterable[tuple[str, str]], dn: str, reference: date, real: Iterable[etree._Element] = ()
) -> bytes:
    stamp = f"{reference.isoformat()}T00:00:00Z"
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="{NS}">\n',
        f"    <DateDeGeneration>{stamp}</DateDeGeneration>\n",
        "    <ListeDomaines>\n",
    ]
    parts += [_domain(name, description, dn, stamp) for name, description in domains]
    parts += [_copy(e) for e in real]
    parts += ["    </ListeDomaines>\n", "</ListeBlancheMSSante>\n"]
    return "".join(parts).encode("utf-8")


def checksum(data: bytes) -> bytes:
    """The `checksum` file: the SHA-256 hex digest, no newline (as the ANS workflow writes it)."""
    return hashlib.sha256(data).hexdigest().encode()
