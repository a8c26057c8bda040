"""The fake IGC-Santé: the TEST hierarchy, per-persona credentials issued on demand, revocation.

`sandbox.pki` is a `Pki`. Everything lives in the store (tables `pki_*`, see mocks.pki.tables):
the nine TEST CAs are generated on first use and kept; a persona's certificate of a given kind is
issued the first time someone asks for it (RSA key generation is slow: nothing is issued for the
whole population up front) and kept as that persona's *current* certificate of that kind.

Several processes may start together: keys are generated outside any transaction, then written
under `store.tx()` only if nobody else wrote first; the loser adopts the winner's rows.

Time: issuance follows `sandbox.now()` (the default tenant's clock); every validity judgement
(`identify`, OCSP, CRL dates) follows the asking tenant's clock, `sandbox.now(tenant)`.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mocks.clock import iso, utc
from mocks.pki import profiles
from mocks.pki.model import (
    BadRequest,
    CallerCertificate,
    Credentials,
    Kind,
    Professional,
    Structure,
    UnknownCertificate,
    UnknownPersona,
    Validity,
)
from mocks.pki.names import (
    CA_NOT_BEFORE,
    CAS,
    INTERMEDIATE_NOT_AFTER,
    KINDS,
    PROFESSIONAL_KINDS,
    ROOT_NOT_AFTER,
    ROOTS,
    Urls,
    file_stem,
)
from mocks.pki.tables import MIGRATIONS

if TYPE_CHECKING:
    from mocks.kernel import Sandbox
    from mocks.service import TlsPolicy

CA_KEY_BITS = 4096  # the real IGC-Santé CAs
LEAF_KEY_BITS = 2048  # every decoded TEST end-entity certificate
LEAF_YEARS = 3
# a folder of CA keys shared by every sandbox of this machine that names it (the pytest plugin
# sets it: xdist workers and successive test runs reuse the RSA-4096 keys instead of making them)
KEY_CACHE_ENV = "SEGUR_PKI_KEY_CACHE"
ROW_CACHE = 4096  # certificate rows cached by serial (a test run presents a few hundred)
REVOCATION_REASONS = {r.name: r for r in x509.ReasonFlags if r.name not in ("remove_from_crl",)}


@dataclass(frozen=True)
class Ca:
    short: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @cached_property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _seconds(dt: datetime) -> datetime:
    return utc(dt).replace(microsecond=0)  # a naive datetime is UTC


def _plus_years(dt: datetime, years: int) -> datetime:
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February
        return dt.replace(year=dt.year + years, day=28)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ee_serial() -> int:
    """16 random bytes like the real end-entity serials (first byte 0x01-0x7f: positive, 16 bytes)."""
    return int.from_bytes(bytes([secrets.randbelow(0x7F) + 1]) + secrets.token_bytes(15), "big")


def ca_serial() -> int:
    """18 bytes starting 11 20, like the real CA serials."""
    return int.from_bytes(b"\x11\x20" + secrets.token_bytes(16), "big")


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def _new_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _new_ca_keys(shorts: list[str]) -> dict[str, rsa.RSAPrivateKey]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # OpenSSL releases the GIL
        return dict(zip(shorts, pool.map(lambda _: _new_key(CA_KEY_BITS), shorts), strict=True))


def ca_keys(shorts: list[str]) -> dict[str, rsa.RSAPrivateKey]:
    """New keys for these CAs; from the shared key folder when $SEGUR_PKI_KEY_CACHE names one
    (under a file lock: one process generates a missing key, the others wait and read it)."""
    folder = os.environ.get(KEY_CACHE_ENV)
    if not folder:
        return _new_ca_keys(shorts)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            files = {s: path / f"rsa{CA_KEY_BITS}-{s}.pem" for s in shorts}
            keys = {s: _load_key(f.read_bytes()) for s, f in files.items() if f.exists()}
            made = _new_ca_keys([s for s in shorts if s not in keys])
            for short, key in made.items():
                tmp = files[short].with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(_key_pem(key))
                tmp.replace(files[short])
            return {**keys, **made}
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(pem: bytes) -> rsa.RSAPrivateKey:
    # our own keys from our own store: the RSA consistency check costs ~0.5 s per 4096-bit key
    key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


class Pki:
    """The sandbox's IGC-Santé TEST. Thread-safe; safe to share one store between processes."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.store.migrate("pki", MIGRATIONS)
        self.folder = sandbox.config.data_dir / "pki"
        self._lock = threading.RLock()
        self._generating = threading.Lock()
        self._cas: dict[str, Ca] | None = None
        # behind the generation counter (pki_cas / pki_certs changes bump it, in every process)
        self._cas_generation: int | None = None
        self._rows: dict[str, tuple[int, dict[str, Any] | None]] = {}

    # -- URLs ----------------------------------------------------------------------------------
    @property
    def urls(self) -> Urls:
        """Where the PKI listener publishes CRLs, CA certificates and OCSP (written into the
        certificates when they are issued)."""
        base = str(self.sandbox.config.get("pki_url") or "").rstrip("/")
        if not base:
            port = self.sandbox.port("pki") if "pki" in self.sandbox.services else 4603
            base = f"http://{self.sandbox.config.host}:{port}"
        return Urls(base, self.sandbox.config.host)

    # -- hierarchy -----------------------------------------------------------------------------
    # Each CA is made the first time it is needed (with its root): a first start needs only
    # ACR-EL-TEST and ACI-EL-ORG-TEST (server certificates), the others follow in the background
    # (`warm_up`) or on first use. RSA-4096 generation costs ~1 s a key.
    def _load(self, fresh: bool = False) -> dict[str, Ca]:
        """The CAs stored so far: cached while the generation counter stays (a request reads
        it once), re-read when another thread or process has added some (`fresh`: now)."""
        generation = self.sandbox.generation.read()
        cas = self._cas
        if not fresh and cas is not None and self._cas_generation == generation:
            return cas
        count = int(self.store.one("SELECT count(*) AS n FROM pki_cas")["n"])  # type: ignore[index]
        with self._lock:
            if self._cas is None or len(self._cas) != count:
                rows = self.store.query("SELECT name, cert_der, key_pem FROM pki_cas")
                known = self._cas or {}
                self._cas = {
                    r["name"]: known.get(r["name"])
                    or Ca(r["name"], x509.load_der_x509_certificate(r["cert_der"]), _load_key(r["key_pem"]))
                    for r in rows
                }
            self._cas_generation = generation
            return self._cas

    def cert_row(self, serial: str) -> dict[str, Any] | None:
        """The issued certificate's row that identify reads on every call (kind, persona,
        revocation), cached behind the generation counter."""
        generation = self.sandbox.generation.read()
        cached = self._rows.get(serial)
        if cached is not None and cached[0] == generation:
            return cached[1]
        row = self.store.one(
            "SELECT kind, persona, revoked_at, cert_der FROM pki_certs WHERE serial = ?", (serial,)
        )
        if len(self._rows) >= ROW_CACHE:
            self._rows.clear()
        self._rows[serial] = (generation, row)
        return row

    def _changed(self) -> None:
        """This process wrote the PKI's tables: forget the cached reads now (a request that
        issued or revoked sees it, though its generation is pinned)."""
        self._cas_generation = None
        self._rows = {}

    @property
    def cas(self) -> dict[str, Ca]:
        """The nine TEST CAs by short name (every missing one is generated and stored now)."""
        return self._ensure(list(CAS))

    def existing_cas(self) -> dict[str, Ca]:
        """The CAs generated so far: enough to recognise any certificate this PKI has issued."""
        return self._load()

    def ensure(self, shorts: list[str] | None = None) -> None:
        """Make these CAs (default: all nine) now if they do not exist yet."""
        self._ensure(shorts or list(CAS))

    def ca(self, short: str) -> Ca:
        if short not in CAS:
            raise UnknownCertificate(short)
        return self._ensure([short])[short]

    def _ensure(self, shorts: list[str]) -> dict[str, Ca]:
        cas = self._load()
        while True:
            wanted = set(shorts) | {str(CAS[s].parent) for s in shorts if CAS[s].parent}
            missing = [s for s in CAS if s in wanted and s not in cas]  # roots first (CAS order)
            if not missing:
                return cas
            with self._generating:  # one generation at a time in this process
                cas = self._load(fresh=True)
                if all(s in cas for s in missing):
                    continue
                self._generate([s for s in missing if s not in cas], cas)
                self._changed()
                cas = self._load(fresh=True)

    def _generate(self, missing: list[str], existing: dict[str, Ca]) -> None:
        keys = ca_keys(missing)
        urls = self.urls
        certs: dict[str, x509.Certificate] = {}
        for short in sorted(missing, key=lambda s: not CAS[s].is_root):
            spec = CAS[short]
            key = keys[short]
            if spec.parent is None:
                issuer_key = key
            else:
                issuer_key = keys[spec.parent] if spec.parent in keys else existing[spec.parent].key
            issuer_name = CAS[spec.parent].name if spec.parent else spec.name
            builder = (
                x509.CertificateBuilder()
                .subject_name(spec.name)
                .issuer_name(issuer_name)
                .public_key(key.public_key())
                .serial_number(ca_serial())
                .not_valid_before(CA_NOT_BEFORE)
                .not_valid_after(ROOT_NOT_AFTER if spec.is_root else INTERMEDIATE_NOT_AFTER)
            )
            for ext, critical in profiles.ca_extensions(
                short, key.public_key(), issuer_key.public_key(), urls
            ):
                builder = builder.add_extension(ext, critical)
            certs[short] = builder.sign(issuer_key, hashes.SHA256())
        now = iso(datetime.now(UTC))
        with self.store.tx() as conn:
            present = {r[0] for r in conn.execute("SELECT name FROM pki_cas").fetchall()}
            if present & set(missing) or not {str(CAS[s].parent) for s in missing if CAS[s].parent} <= (
                present | set(missing)
            ):
                return  # another process got there first: ours would not chain to its roots
            for short, cert in certs.items():
                conn.execute(
                    "INSERT INTO pki_cas(name, parent, cert_der, key_pem, created_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        short,
                        CAS[short].parent,
                        cert.public_bytes(serialization.Encoding.DER),
                        _key_pem(keys[short]),
                        now,
                    ),
                )

    def warm_up(self) -> threading.Thread:
        """Make the CAs not yet made in a background thread (after start, not before `Ready.`)."""
        thread = threading.Thread(target=self.ensure, name="pki-warm-up", daemon=True)
        thread.start()
        return thread

    def chain(self, issuer_short: str) -> list[x509.Certificate]:
        """The issuing CA then its root."""
        ca = self.ca(issuer_short)
        parent = CAS[issuer_short].parent
        return [ca.cert] + ([self.ca(parent).cert] if parent else [])

    def trust_bundle(self) -> bytes:
        """PEM of the three TEST roots (what an LGC adds to its trust store)."""
        self._ensure([s.short for s in ROOTS])
        return b"".join(self.ca(s.short).pem for s in ROOTS)

    def issuing_cas(self) -> list[str]:
        """The CAs that issue certificates here (ACI-EL-ORG-TEST, ACI-FO-PP-TEST) and their roots:
        what a TLS listener needs before `Ready.` (its server certificate; every client
        certificate this PKI can issue chains to one of them). Made together, in parallel."""
        issuers = sorted(set(profiles.ISSUER_OF.values()))
        return [s for s in CAS if s in issuers or s in {CAS[i].parent for i in issuers}]

    def verify_bundle(self) -> bytes:
        """PEM of the issuing CAs and their roots (what a listener verifies client certificates
        against): every certificate this PKI issues chains to one of them."""
        cas = self._ensure(self.issuing_cas())
        return b"".join(cas[s].pem for s in self.issuing_cas())

    def ca_bundle(self) -> bytes:
        """PEM of every TEST CA, roots first (for clients that want the intermediates too)."""
        return self.trust_bundle() + b"".join(
            ca.pem for s, ca in sorted(self.cas.items()) if not CAS[s].is_root
        )

    # -- subjects of personas ------------------------------------------------------------------
    def register(self, subject: Professional | Structure) -> None:
        """Make a persona known to the PKI (when it does not come from sandbox.population)."""
        kind = "professional" if isinstance(subject, Professional) else "structure"
        self.store.execute(
            "INSERT INTO pki_subjects(persona, type, data) VALUES (?, ?, ?) "
            "ON CONFLICT(persona) DO UPDATE SET type = excluded.type, data = excluded.data",
            (subject.id_nat, kind, json.dumps(asdict(subject), ensure_ascii=False)),
        )

    def professional(self, persona: str) -> Professional:
        row = self.store.one("SELECT * FROM pki_subjects WHERE persona = ?", (persona,))
        if row is not None and row["type"] == "professional":
            return Professional(**json.loads(row["data"]))
        found = _from_population(self.sandbox, persona, "professional")
        if isinstance(found, Professional):
            return found
        raise UnknownPersona(persona, "no professional with this idNat_PS")

    def structure(self, persona: str) -> Structure:
        row = self.store.one("SELECT * FROM pki_subjects WHERE persona = ?", (persona,))
        if row is not None and row["type"] == "structure":
            return Structure(**json.loads(row["data"]))
        found = _from_population(self.sandbox, persona, "structure")
        if isinstance(found, Structure):
            return found
        raise UnknownPersona(persona, "no structure with this idNat_Struct")

    # -- issuance ------------------------------------------------------------------------------
    def credentials(self, persona: str | Professional | Structure, kind: Kind | str) -> Credentials:
        """The persona's current certificate of `kind` with its key, issued now if it has none.

        `persona` is an idNat_PS (kinds cps_auth, cps_sign), an idNat_Struct (org_auth_cli,
        org_sign, insi_auto, insi_manu), or the Professional / Structure itself (then registered).
        Raises UnknownPersona (404) or BadRequest (kind not for this persona type).

        A persona whose `certificate_state` is "expired" / "not_yet_valid" / "revoked" (magic
        personas of the population) gets its first certificate in that state.
        """
        persona_id = self._persona_id(persona, kind)
        row = self._current_row(persona_id, kind)
        if row is not None:
            return self._credentials(row)
        subject_obj = self._subject(persona_id, kind)
        state = subject_obj.certificate_state
        validity = state if state in ("expired", "not_yet_valid") else "current"
        nb, na = self._validity(validity, None, None)
        creds = self._issue(kind, persona_id, subject_obj, nb, na, if_absent=True)
        if state == "revoked" and creds.revoked_at is None:
            creds = self.revoke(creds.serial, "key_compromise")
        return creds

    def issue(
        self,
        persona: str | Professional | Structure,
        kind: Kind | str,
        validity: Validity = "current",
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Credentials:
        """Issue a new certificate and make it the persona's current one of that kind.

        `validity`: "current" (3 years from now), "expired" (ended yesterday) or "not_yet_valid"
        (starts tomorrow), on the sandbox clock; or explicit `not_before` / `not_after`.
        The previous certificate stays valid (as after a real renewal) unless revoked.
        """
        persona_id = self._persona_id(persona, kind)
        return self._issue_for(persona_id, kind, *self._validity(validity, not_before, not_after))

    def _issue_for(self, persona_id: str, kind: str, nb: datetime, na: datetime) -> Credentials:
        return self._issue(kind, persona_id, self._subject(persona_id, kind), nb, na)

    def _subject(self, persona_id: str, kind: str) -> Professional | Structure:
        if kind in PROFESSIONAL_KINDS:
            return self.professional(persona_id)
        return self.structure(persona_id)

    def renew(self, persona: str, kind: Kind | str) -> Credentials:
        """A fresh 3-year certificate for the persona (the old one is left as is)."""
        return self.issue(persona, kind, "current")

    def server_credentials(self, hostnames: list[str]) -> Credentials:
        """The SERV SSL_SERV certificate of the sandbox for exactly these host names.

        Its validity follows real time, not the sandbox clock: LGC TLS stacks judge a server
        certificate on their own clock, and a sandbox clock moved into the future must not make
        every TLS connection fail.
        """
        hosts = list(dict.fromkeys(h for h in hostnames if h)) or ["localhost"]
        persona_id = "host:" + ",".join(hosts)
        row = self._current_row(persona_id, "server")
        if row is not None and _parse(row["not_after"]) > datetime.now(UTC) + timedelta(days=1):
            return self._credentials(row)
        nb = _seconds(datetime.now(UTC) - timedelta(minutes=5))
        return self._issue(
            "server",
            persona_id,
            profiles.SANDBOX_STRUCTURE,
            nb,
            _plus_years(nb, LEAF_YEARS),
            hostnames=hosts,
            if_absent=row is None,
        )

    def _persona_id(self, persona: str | Professional | Structure, kind: str) -> str:
        if kind not in KINDS or kind == "server":
            raise BadRequest(f"unknown certificate kind: {kind} (one of {', '.join(KINDS[:-1])})")
        if isinstance(persona, Professional | Structure):
            if isinstance(persona, Professional) != (kind in PROFESSIONAL_KINDS):
                raise BadRequest(f"kind {kind} is not for a {type(persona).__name__.lower()}")
            self.register(persona)
            return persona.id_nat
        if not persona:
            raise UnknownPersona(persona, "empty persona id")
        return persona

    def _validity(
        self, validity: str, not_before: datetime | None, not_after: datetime | None
    ) -> tuple[datetime, datetime]:
        now = _seconds(self.sandbox.now())
        if not_before or not_after:
            nb = _seconds(not_before) if not_before else now
            na = _seconds(not_after) if not_after else _plus_years(nb, LEAF_YEARS)
            if na <= nb:
                raise BadRequest("not_after must be after not_before")
            return nb, na
        if validity == "current":
            return now, _plus_years(now, LEAF_YEARS)
        if validity == "expired":
            na = now - timedelta(days=1)
            return _plus_years(na, -LEAF_YEARS), na
        if validity == "not_yet_valid":
            nb = now + timedelta(days=1)
            return nb, _plus_years(nb, LEAF_YEARS)
        raise BadRequest(f"unknown validity: {validity} (current, expired or not_yet_valid)")

    def _issue(
        self,
        kind: str,
        persona_id: str,
        subject_obj: Professional | Structure,
        not_before: datetime,
        not_after: datetime,
        *,
        if_absent: bool = False,
        hostnames: list[str] | None = None,
    ) -> Credentials:
        """Sign and store a certificate as the persona's current one of `kind`. With `if_absent`
        (lazy issuance), a current certificate written meanwhile by another thread or process
        wins and is returned instead, so that everybody ends up with the same one."""
        issuer = self.ca(profiles.ISSUER_OF[kind])
        key = _new_key(LEAF_KEY_BITS)
        serial = ee_serial()
        professional = subject_obj if isinstance(subject_obj, Professional) else None
        if professional is not None:
            name = profiles.cps_subject(professional)
        else:
            assert isinstance(subject_obj, Structure)
            name = profiles.org_subject(subject_obj, profiles.subject_cn(kind, subject_obj, hostnames))
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        # "<issuer id>/<card number>" like the decoded card's 8025000001/2800636234 [inferred]
        number = (
            professional.card_serial
            if professional and professional.card_serial
            else f"{serial % 10**10:010d}"
        )
        card_serial = f"8025000001/{number}"
        for ext, critical in profiles.end_entity_extensions(
            kind,
            issuer.short,
            key.public_key(),
            issuer.key.public_key(),
            self.urls,
            not_before,
            not_after,
            professional=professional,
            hostnames=hostnames,
            card_serial=card_serial,
        ):
            builder = builder.add_extension(ext, critical)
        cert = builder.sign(issuer.key, hashes.SHA256())
        row = {
            "serial": serial_hex(serial),
            "ca": issuer.short,
            "kind": kind,
            "persona": persona_id,
            "subject": name.rfc4514_string(),
            "not_before": iso(not_before),
            "not_after": iso(not_after),
            "issued_at": iso(self.sandbox.now()),
            "cert_der": cert.public_bytes(serialization.Encoding.DER),
            "key_pem": _key_pem(key),
            "current": 1,
        }
        with self.store.tx() as conn:
            if if_absent:
                winner = conn.execute(
                    "SELECT * FROM pki_certs WHERE persona = ? AND kind = ? AND current = 1",
                    (persona_id, kind),
                ).fetchone()
                if winner is not None:
                    return self._credentials(dict(winner))
            conn.execute(
                "UPDATE pki_certs SET current = 0 WHERE persona = ? AND kind = ?", (persona_id, kind)
            )
            conn.execute(
                f"INSERT INTO pki_certs({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                tuple(row.values()),
            )
        self._changed()
        return self._credentials(row)

    # -- reading -------------------------------------------------------------------------------
    def _current_row(self, persona: str, kind: str) -> dict[str, Any] | None:
        return self.store.one(
            "SELECT * FROM pki_certs WHERE persona = ? AND kind = ? AND current = 1 ORDER BY issued_at DESC",
            (persona, kind),
        )

    def _credentials(self, row: dict[str, Any]) -> Credentials:
        cert = x509.load_der_x509_certificate(row["cert_der"])
        return Credentials(
            serial=row["serial"],
            kind=row["kind"],
            persona=row["persona"],
            subject=row["subject"],
            issuer=row["ca"],
            not_before=_parse(row["not_before"]),
            not_after=_parse(row["not_after"]),
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=bytes(row["key_pem"]),
            chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain(row["ca"])),
            file_stem=file_stem(row["kind"], _parse(row["issued_at"])),
            revoked_at=_parse(row["revoked_at"]) if row.get("revoked_at") else None,
        )

    def certificate(self, serial: str) -> Credentials:
        """An issued certificate by serial (hex, any case, colons allowed). UnknownCertificate (404)."""
        row = self.store.one("SELECT * FROM pki_certs WHERE serial = ?", (_norm_serial(serial),))
        if row is None:
            raise UnknownCertificate(serial)
        return self._credentials(row)

    def issued(self, persona: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Issued certificates (newest first), without keys."""
        sql = (
            "SELECT serial, ca, kind, persona, subject, not_before, not_after, issued_at, current, "
            "revoked_at, revocation_reason FROM pki_certs WHERE 1 = 1"
        )
        params: list[Any] = []
        if persona:
            sql += " AND persona = ?"
            params.append(persona)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return self.store.query(sql + " ORDER BY issued_at DESC, serial", params)

    # -- revocation ----------------------------------------------------------------------------
    def revoke(self, serial: str, reason: str = "unspecified", tenant: str = "default") -> Credentials:
        """Revoke an issued certificate (effective at once, for every tenant). Revoking a CA or a
        serial this PKI never issued raises BadRequest (400); an unknown reason too."""
        norm = _norm_serial(serial)
        if reason not in REVOCATION_REASONS:
            raise BadRequest(f"unknown revocation reason: {reason} (one of {', '.join(REVOCATION_REASONS)})")
        if norm in {serial_hex(ca.cert.serial_number) for ca in self.existing_cas().values()}:
            raise BadRequest(f"{serial} is a CA certificate: the TEST CAs cannot be revoked")
        with self.store.tx() as conn:
            row = conn.execute("SELECT ca, revoked_at FROM pki_certs WHERE serial = ?", (norm,)).fetchone()
            if row is None:
                raise BadRequest(f"unknown certificate serial: {serial}")
            if row["revoked_at"] is None:
                conn.execute(
                    "UPDATE pki_certs SET revoked_at = ?, revocation_reason = ? WHERE serial = ?",
                    (iso(self.sandbox.now(tenant)), reason, norm),
                )
                conn.execute("UPDATE pki_cas SET crl_der = NULL WHERE name = ?", (row["ca"],))
        self._changed()
        return self.certificate(norm)

    def unrevoke(self, serial: str) -> Credentials:
        """Take a certificate off the CRL (as after a lifted certificateHold)."""
        norm = _norm_serial(serial)
        with self.store.tx() as conn:
            row = conn.execute("SELECT ca FROM pki_certs WHERE serial = ?", (norm,)).fetchone()
            if row is None:
                raise BadRequest(f"unknown certificate serial: {serial}")
            conn.execute(
                "UPDATE pki_certs SET revoked_at = NULL, revocation_reason = NULL WHERE serial = ?", (norm,)
            )
            conn.execute("UPDATE pki_cas SET crl_der = NULL WHERE name = ?", (row["ca"],))
        self._changed()
        return self.certificate(norm)

    # -- for the services ----------------------------------------------------------------------
    def server_context(self, policy: TlsPolicy, hostnames: list[str]) -> ssl.SSLContext:
        """A server TLS context: SERV SSL_SERV certificate for `hostnames`, TLS >= 1.2, client
        certificates none / optional / required, chained to the TEST CAs.

        OpenSSL checks the chain and signatures only: time (X509_V_FLAG_NO_CHECK_TIME) and
        revocation are left to `identify`, which judges them on the tenant's sandbox clock, so an
        expired or revoked client certificate reaches the service, which answers like production.
        """
        from mocks.pki.tls import server_context

        return server_context(self, policy, hostnames)

    def client_context(
        self, persona: str | Professional | Structure | None = None, kind: Kind | str = "org_auth_cli"
    ) -> ssl.SSLContext:
        """A client TLS context trusting the TEST roots and, when `persona` is given, presenting
        its current certificate of `kind` (for tests and tools talking to the sandbox)."""
        from mocks.pki.tls import client_context

        return client_context(self, self.credentials(persona, kind) if persona is not None else None)

    def identify(self, der: bytes | None, tenant: str = "default") -> CallerCertificate:
        """Classify a caller's certificate (DER; None when none was presented) on the tenant's clock."""
        from mocks.pki.identify import identify

        return identify(self, der, tenant)

    def verify_xml_signature(self, xml: Any, tenant: str = "default", *, expect_references: int = 1) -> Any:
        """Verify an enveloped XML-DSig signature (e.g. a SAML assertion signed with a CPS signature
        or ORG SIGN certificate) with signxml; returns `XmlSignature(caller, signed)`. Raises
        `mocks.pki.xmlsig.SignatureInvalid` when the signature does not verify."""
        from mocks.pki.xmlsig import verify

        return verify(self, xml, tenant, expect_references=expect_references)

    def crl(self, short: str, tenant: str = "default") -> bytes:
        """The CRL (DER) of a CA, regenerated after a revocation change or when out of date."""
        from mocks.pki.revocation import crl

        return crl(self, short, tenant)

    def ocsp(self, request_der: bytes, tenant: str = "default") -> bytes:
        """An OCSP response (DER) to a DER OCSP request: good / revoked / unknown."""
        from mocks.pki.revocation import ocsp_response

        return ocsp_response(self, request_der, tenant)


def _norm_serial(serial: str) -> str:
    text = str(serial).strip().lower().replace(":", "").replace(" ", "")
    text = text[2:] if text.startswith("0x") else text
    return text.lstrip("0") or "0"


def _from_population(sandbox: Sandbox, persona: str, type_: str) -> Professional | Structure | None:
    """Look a persona up in sandbox.population when that component is present."""
    try:
        from mocks.pki.personas import lookup
    except ImportError:  # pragma: no cover - the adapter ships with this package
        return None
    return lookup(sandbox, persona, type_)
