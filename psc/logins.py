"""Login requests (`psc_requests`): a browser login on the wallet (`kind` "auth") and a CIBA
request ("ciba"), from creation to the professional's decision.

    login --push--> pending --(phone, console, PIN, auto-approval)--> approved | refused
                      `--(no decision within the lifetime, tenant clock)--> expired
    approved --(code or tokens issued)--> done / consumed

Auto-approval (`psc_auto_approve`, or per tenant through the control API) stands for the
professional's phone: it applies to e-CPS pushes and CIBA requests, never to a card's PIN.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mocks.kernel import Sandbox


class Logins:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store

    def now(self, tenant: str) -> float:
        return self.sandbox.now(tenant).timestamp()

    # -- auto-approval, per tenant ------------------------------------------------------------
    def auto_approve(self, tenant: str) -> int:
        """Seconds after which a push / CIBA request approves itself (-1: never)."""
        row = self.store.one(
            "SELECT value FROM psc_settings WHERE tenant = ? AND key = 'auto_approve'", (tenant,)
        )
        return int(row["value"]) if row else int(self.sandbox.config["psc_auto_approve"])

    def set_auto_approve(self, tenant: str, seconds: int | None) -> None:
        if seconds is None:
            self.store.execute(
                "DELETE FROM psc_settings WHERE tenant = ? AND key = 'auto_approve'", (tenant,)
            )
        else:
            self.store.execute(
                "INSERT INTO psc_settings(tenant, key, value) VALUES (?, 'auto_approve', ?) "
                "ON CONFLICT(tenant, key) DO UPDATE SET value = excluded.value",
                (tenant, str(int(seconds))),
            )

    # -- requests -----------------------------------------------------------------------------
    def new(self, tenant: str, kind: str, client_id: str, params: dict[str, Any], **fields: Any) -> str:
        rid = secrets.token_urlsafe(24)
        row = {
            "id": rid,
            "tenant": tenant,
            "kind": kind,
            "client_id": client_id,
            "status": "login",
            "params": json.dumps(params),
            "created_at": self.now(tenant),
            **fields,
        }
        cols = ", ".join(row)
        self.store.execute(
            f"INSERT INTO psc_requests({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        return rid

    def get(self, rid: str) -> dict[str, Any] | None:
        """A request with its effective status (auto-approval and expiry applied on the clock)."""
        row = self.store.one("SELECT * FROM psc_requests WHERE id = ?", (rid,))
        if row is None:
            return None
        row["params"] = json.loads(row["params"])
        if row["status"] == "pending":
            now = self.now(row["tenant"])
            auto = self.auto_approve(row["tenant"])
            pushes = row["kind"] == "ciba" or row["channel"] == "MOBILE"  # a card login waits for its PIN
            if pushes and auto >= 0 and row["pushed_at"] is not None and now >= row["pushed_at"] + auto:
                self.resolve(rid, "approved", "auto-approval")
                row["status"], row["reason"] = "approved", "auto-approval"
            elif row["expires_at"] is not None and now > row["expires_at"]:
                row["status"] = "expired"
        return row

    def update(self, rid: str, **fields: Any) -> None:
        if "params" in fields and not isinstance(fields["params"], str):
            fields["params"] = json.dumps(fields["params"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.execute(f"UPDATE psc_requests SET {sets} WHERE id = ?", [*fields.values(), rid])

    def push(self, rid: str, tenant: str, national_id: str, channel: str, lifetime: int) -> None:
        """Send the e-CPS push (or wait for the card): the request is now pending."""
        now = self.now(tenant)
        self.update(
            rid,
            national_id=national_id,
            channel=channel,
            status="pending",
            pushed_at=now,
            expires_at=now + lifetime,
        )

    def resolve(self, rid: str, status: str, reason: str = "") -> bool:
        """Approve or refuse a pending request (phone page, console, PIN). False when not pending."""
        cur = self.store.execute(
            "UPDATE psc_requests SET status = ?, reason = ? WHERE id = ? AND status = 'pending'",
            (status, reason, rid),
        )
        return cur.rowcount > 0

    def pending(self, tenant: str) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT id FROM psc_requests WHERE tenant = ? AND status = 'pending' ORDER BY created_at",
            (tenant,),
        )
        found = [self.get(r["id"]) for r in rows]
        return [r for r in found if r is not None and r["status"] == "pending"]
