"""Real mail clients against the operator, unchanged: curl (smtp:// and imap:// with
--oauth2-bearer), swaks (TLS with the APP mailbox's ORG AUTH_CLI certificate, custom headers),
openssl s_client -starttls smtp|imap (TLS 1.2 and the ECDHE suite; -tls1_3 and AES256-SHA
refused), neomutt (IMAP over XOAUTH2, folder listing and message fetch, driven in tmux)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.mssante.conftest import CDS, CDS_APP, COLLEAGUE, COLLEAGUE_BAL, DOCTOR_BAL, Mss
from tests.mssante.test_smtp import message


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it)")


@pytest.fixture
def ca(mss: Mss, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(mss.runner.sandbox.pki.trust_bundle())
    return path


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)  # type: ignore[call-overload,no-any-return]


def test_curl_smtp_and_imap_with_oauth2_bearer(mss: Mss, ca: Path, tmp_path: Path) -> None:
    need("curl")
    eml = tmp_path / "m.eml"
    msg = message(DOCTOR_BAL, [COLLEAGUE_BAL], "Envoi par curl")
    eml.write_bytes(msg.as_bytes())
    token = mss.token()
    r = run([
        "curl", "-sS", "--ssl-reqd", "--cacert", str(ca), "--oauth2-bearer", token, "--user", DOCTOR_BAL,
        "--mail-from", DOCTOR_BAL, "--mail-rcpt", COLLEAGUE_BAL, "-T", str(eml),
        f"smtp://localhost:{mss.port('mss-smtp')}",
    ])  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert [m["message_id"] for m in mss.messages(COLLEAGUE_BAL)] == [msg["Message-ID"]]
    colleague = mss.token(COLLEAGUE)
    base = f"imaps://localhost:{mss.port('mss-imaps')}"
    common = ["curl", "-sS", "--cacert", str(ca), "--oauth2-bearer", colleague, "--user", COLLEAGUE_BAL]
    listing = run([*common, base + "/"])
    assert listing.returncode == 0, listing.stderr
    assert '(\\HasNoChildren \\Sent) "/" Sent' in listing.stdout
    fetched = run([*common, base + "/INBOX;UID=1"])
    assert fetched.returncode == 0, fetched.stderr
    assert "Subject: Envoi par curl" in fetched.stdout and fetched.stdout.startswith("Return-Path: <")


def test_swaks_app_mailbox_by_client_certificate(mss: Mss, ca: Path, tmp_path: Path) -> None:
    need("swaks")
    creds = mss.runner.sandbox.pki.credentials(CDS, "org_auth_cli")
    cert, key = tmp_path / "app.pem", tmp_path / "app.key"
    cert.write_bytes(creds.cert_pem + creds.chain_pem)
    key.write_bytes(creds.key_pem)
    tag = uuid.uuid4().hex[:8]
    # the APP session's tenant is the one bound to the certificate (serial) it presents
    tenant = "mss-app-" + tag
    console = mss.psc.console
    assert (
        console.post("/_sandbox/tenants", json={"id": tenant, "bindings": [creds.serial]}).status_code == 201
    )
    r = run([
        "swaks", "--server", "localhost", "--port", str(mss.port("mss-smtp")), "--tls",
        "--tls-cert", str(cert), "--tls-key", str(key), "--tls-ca-path", str(ca), "--tls-verify",
        "--ehlo", "lgc.example", "--from", CDS_APP, "--to", COLLEAGUE_BAL,
        "--header", f"Subject: Envoi applicatif {tag}", "--header", "X-MSS-NIL: DEV935997",
    ])  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued as" in r.stdout
    assert "TLS started with cipher TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384" in r.stdout
    got = console.get(f"/_sandbox/mss/mailboxes/{COLLEAGUE_BAL}/messages", params={"tenant": tenant}).json()
    found = got["messages"]
    assert len(found) == 1, r.stdout
    assert found[0]["envelope"]["auth"] == {"kind": "certificate", "subject": CDS, "login": CDS_APP}
    raw = console.get(f"/_sandbox/mss/messages/{found[0]['id']}/eml", params={"tenant": tenant}).content
    console.delete(f"/_sandbox/tenants/{tenant}")
    assert b"X-MSS-NIL: DEV935997" in raw and tag.encode() in raw
    # without the certificate, the same sender is refused
    r = run([
        "swaks", "--server", "localhost", "--port", str(mss.port("mss-smtp")), "--tls",
        "--from", CDS_APP, "--to", COLLEAGUE_BAL, "--quit-after", "MAIL",
    ])  # fmt: skip
    assert "530 5.7.0 Authentication required" in r.stdout


@pytest.mark.parametrize(("listener", "proto"), [("mss-smtp", "smtp"), ("mss-imap", "imap")])
def test_openssl_s_client(mss: Mss, ca: Path, listener: str, proto: str) -> None:
    need("openssl")
    target = [
        "openssl",
        "s_client",
        "-connect",
        f"localhost:{mss.port(listener)}",
        "-starttls",
        proto,
        "-CAfile",
        str(ca),
    ]
    ok = run([*target, "-tls1_2", "-verify_return_error", "-brief"], input="")
    assert "Protocol version: TLSv1.2" in ok.stderr and "ECDHE-RSA-AES256-GCM-SHA384" in ok.stderr, ok.stderr
    assert "Verification: OK" in ok.stderr
    tls13 = run([*target, "-tls1_3", "-brief"], input="")
    assert tls13.returncode != 0 and "TLSv1.3" not in tls13.stderr  # asyncio closes without an alert
    weak = run([*target, "-tls1_2", "-cipher", "AES256-SHA", "-brief"], input="")
    assert weak.returncode != 0 and "Protocol version" not in weak.stderr  # no session


def test_tls_test_endpoints_report_a_client_that_goes_on(mss: Mss, ca: Path) -> None:
    need("openssl")
    port = mss.port("mss-test-smtp-expired")
    # openssl without -verify_return_error goes on after a bad certificate, as a lax LGC would
    r = run(["openssl", "s_client", "-connect", f"localhost:{port}", "-starttls", "smtp", "-CAfile", str(ca), "-quiet"],
            input="EHLO lax.example\r\nQUIT\r\n")  # fmt: skip
    assert "certificate has expired" in r.stderr, r.stderr
    deadline = time.time() + 5
    while time.time() < deadline:
        entries = mss.runner.sandbox.journal.find(
            {"service": "mss", "operation": "TLS test expired"}, 20, 0, False
        )
        rows = entries["entries"] if isinstance(entries, dict) else entries
        if any(f["rule"] == "MSS-TLS-NOT-ABORTED" for e in rows for f in e["findings"]):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no MSS-TLS-NOT-ABORTED finding journaled")
    strict = run(["openssl", "s_client", "-connect", f"localhost:{port}", "-starttls", "smtp", "-CAfile", str(ca),
                  "-verify_return_error", "-brief"], input="")  # fmt: skip
    assert strict.returncode != 0


def test_neomutt_lists_and_fetches_over_xoauth2(mss: Mss, ca: Path, tmp_path: Path) -> None:
    need("neomutt")
    need("tmux")
    doctor = mss.token()
    from tests.mssante.test_imap import send

    send(mss, doctor, COLLEAGUE_BAL, "Lettre de liaison neomutt")
    token = mss.token(COLLEAGUE)
    rc = tmp_path / "neomuttrc"
    rc.write_text(
        f'set imap_user="{COLLEAGUE_BAL}"\n'
        'set imap_authenticators="xoauth2"\n'
        f'set imap_oauth_refresh_command="echo {token}"\n'
        f'set folder="imap://localhost:{mss.port("mss-imap")}/"\n'
        'set spoolfile="+INBOX"\n'
        "set ssl_starttls=yes\nset ssl_force_tls=yes\n"
        f'set certificate_file="{tmp_path / "certs"}"\n'
        f'set ssl_ca_certificates_file="{ca}"\n'
        "set imap_check_subscribed=yes\nset mail_check=60\nset timeout=60\n"
        f'set header_cache=""\nset message_cachedir=""\nset tmpdir="{tmp_path}"\n'
    )
    session = "mss-" + uuid.uuid4().hex[:6]
    env = {"TERM": "xterm", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                    f"neomutt -n -F {rc}"], check=True, env=env)  # fmt: skip
    try:

        def screen() -> str:
            return subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout

        def wait_for(text: str) -> str:
            deadline = time.time() + 20
            while time.time() < deadline:
                shown = screen()
                if text in shown:
                    return shown
                time.sleep(0.2)
            raise AssertionError(f"{text!r} not on screen:\n{screen()}")

        wait_for("Lettre de liaison neomutt")  # the INBOX index: listing and envelopes over IMAP
        subprocess.run(["tmux", "send-keys", "-t", session, "c", "?"], check=True)
        folders = wait_for("Sent")  # folder browser: LIST
        assert "Trash" in folders and "Drafts" in folders
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape", "Escape", "Enter"], check=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        time.sleep(0.3)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
