"""Step 1: the cabinet's credentials, downloaded from the sandbox's fake IGC-Santé TEST as an
LGC installs the real ones (docs/pki.md "Getting credentials"): the TEST roots, the professional's
CPS authentication and signature PKCS#12, the structure's ORG AUTH_CLI, ORG SIGN and INSI-AUTO.
PKCS#12 files are opened with `cryptography` (PBES2 / AES-256, as OpenSSL 3 reads them) and kept
as PEM files for the TLS stacks (ssl, smtplib, imaplib) that want files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from demo.run import Failed, Run

PASSWORD = "segur-demo"


@dataclass(frozen=True)
class Credential:
    kind: str
    cert: Path  # PEM: the certificate then its chain
    key: Path  # PEM, unencrypted (the demo's working folder only)
    subject: str
    serial: str  # lowercase hex, as tenant bindings name certificates

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert.read_bytes())

    def cert_pem(self) -> bytes:
        return self.certificate().public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.read_bytes()


def download(run: Run, persona: str, kind: str) -> Credential:
    answer = run.sandbox.control.get(
        f"/pki/personas/{persona}/{kind}", params={"format": "p12", "password": PASSWORD}
    )
    if answer.status_code != 200:
        raise Failed(f"{kind} de {persona} : HTTP {answer.status_code} {answer.text[:200]}")
    key, cert, chain = pkcs12.load_key_and_certificates(answer.content, PASSWORD.encode())
    if key is None or cert is None:
        raise Failed(f"le PKCS#12 {kind} de {persona} ne contient pas de clé et de certificat")
    pem = serialization.Encoding.PEM
    cert_path = run.workdir / f"{persona}-{kind}.pem"
    key_path = run.workdir / f"{persona}-{kind}.key"
    cert_path.write_bytes(cert.public_bytes(pem) + b"".join(c.public_bytes(pem) for c in chain or []))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return Credential(kind, cert_path, key_path, cert.subject.rfc4514_string(), f"{cert.serial_number:x}")


def step_credentials(run: Run) -> None:
    """Télécharger les certificats du cabinet (IGC-Santé TEST du bac à sable)

    docs/pki.md; research apcv-sesam-vitale-igc-sante.md part B: CPS authentification et signature
    (carte CPS), ORG AUTH_CLI, ORG SIGN et INSI-AUTO de la structure, PKCS#12 PBES2.
    """
    roots = run.workdir / "roots.pem"
    answer = run.sandbox.control.get("/pki/bundle", params={"all": 1})
    answer.raise_for_status()
    roots.write_bytes(answer.content)
    count = answer.text.count("BEGIN CERTIFICATE")
    run.say(f"ancres de confiance : {count} AC de l'IGC-Santé TEST du bac à sable → {roots.name}")
    cast = run.cast
    if run.sandbox.tenant != "default":
        # a tenant is bound to what mail clients present: its own APP certificate (a fresh
        # serial; the previous certificate stays valid for the tenants bound to it)
        run.sandbox.control.post(f"/pki/personas/{cast.structure}/org_auth_cli/renew").raise_for_status()
    creds = {}
    for persona, kind in (
        (cast.professional, "cps_auth"),
        (cast.professional, "cps_sign"),
        (cast.structure, "org_auth_cli"),
        (cast.structure, "org_sign"),
        (cast.structure, "insi_auto"),
    ):
        cred = download(run, persona, kind)
        creds[kind] = cred
        run.say(f"{kind:<12} {cred.subject}  (série {cred.serial[:12]}…)")
    run.keep(roots=roots, creds=creds)
    if run.sandbox.tenant != "default":
        # mail sessions carry no tenant header: bind the PSC client id and the APP certificate
        run.sandbox.ensure_tenant([cast.psc_client, creds["org_auth_cli"].serial])
        run.say(
            f"tenant {run.sandbox.tenant} (liaisons : client PSC {cast.psc_client}, certificat ORG AUTH_CLI)"
        )
