"""A Python client of the control plane, for LGC test suites (used by the pytest plugin).

sandbox = SandboxClient("http://localhost:4600")
tenant = sandbox.new_tenant()
with tenant.fault(service="insi", error="siram_40"):
    ...                                          # the LGC calls INSi, gets the real fault
entry = tenant.wait_for(service="insi", operation="rechercherInsAvecTraitsIdentite")
tenant.clock.freeze("2027-01-01T00:00:00Z")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HEADER = "X-Sandbox-Tenant"


class SandboxError(AssertionError):
    """A control-plane call failed, or a journal expectation was not met."""


class SandboxClient:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url + "/_sandbox", timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.http.request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise SandboxError(f"{method} /_sandbox{path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def info(self) -> dict[str, Any]:
        return dict(self.call("GET", "/info"))

    def urls(self) -> dict[str, str]:
        """Every listener's URL, e.g. urls()["insi"]."""
        out: dict[str, str] = {}
        for service in self.info()["services"].values():
            out.update(service.get("urls") or {})
        return out

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    def new_tenant(self, prefix: str = "test", bindings: list[str] | None = None) -> Tenant:
        tenant_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.call("POST", "/tenants", json={"id": tenant_id, "bindings": bindings or []})
        return Tenant(self, tenant_id)

    def tenant(self, tenant_id: str) -> Tenant:
        return Tenant(self, tenant_id)


class Clock:
    def __init__(self, tenant: Tenant):
        self.tenant = tenant

    def now(self) -> str:
        return str(self.tenant.call("GET", "/clock")["now"])

    def freeze(self, at: str | None = None) -> str:
        body = {"mode": "frozen", **({"at": at} if at else {})}
        return str(self.tenant.call("PUT", "/clock", json=body)["now"])

    def offset(self, seconds: float) -> str:
        return str(
            self.tenant.call("PUT", "/clock", json={"mode": "offset", "offset_seconds": seconds})["now"]
        )

    def advance(self, seconds: float) -> str:
        return str(self.tenant.call("POST", "/clock/advance", json={"seconds": seconds})["now"])

    def real(self) -> str:
        return str(self.tenant.call("PUT", "/clock", json={"mode": "real"})["now"])


class Tenant:
    """One tenant: what the LGC under test must send (`headers`, or `path_prefix`) and the
    calls that look into or steer its state."""

    def __init__(self, client: SandboxClient, tenant_id: str):
        self.client = client
        self.id = tenant_id
        self.clock = Clock(self)

    @property
    def headers(self) -> dict[str, str]:
        return {HEADER: self.id}

    @property
    def path_prefix(self) -> str:
        return f"/_t/{self.id}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        params = {"tenant": self.id, **(kwargs.pop("params", None) or {})}
        return self.client.call(method, path, params=params, **kwargs)

    def delete(self) -> None:
        self.client.call("DELETE", f"/tenants/{self.id}")

    def reset(self) -> None:
        self.client.call("POST", f"/tenants/{self.id}/reset")

    # -- faults ----------------------------------------------------------------------------------
    @contextmanager
    def fault(self, **rule: Any) -> Iterator[dict[str, Any]]:
        """A fault rule for the duration of the block (removed on exit, even on failure)."""
        created = self.call("POST", "/faults", json=rule)
        try:
            yield created
        finally:
            self.client.http.delete(f"/faults/{created['id']}", params={"tenant": self.id})

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    # -- journal ---------------------------------------------------------------------------------
    def journal(self, limit: int = 100, bodies: bool = False, **flt: Any) -> list[dict[str, Any]]:
        params = {**flt, "limit": limit, "bodies": str(bodies).lower()}
        return list(self.call("GET", "/journal", params=params))

    def count(self, **flt: Any) -> int:
        return int(self.call("GET", "/journal/count", params=flt)["count"])

    def wait_for(self, timeout: float = 10.0, count: int = 1, **flt: Any) -> dict[str, Any]:
        """Block (on the server) until `count` exchanges match; return the last one with bodies.
        On time-out, the SandboxError shows what the tenant's journal did receive."""
        params = {**flt, "timeout": timeout, "count": count, "tenant": self.id}
        resp = self.client.http.get("/journal/wait", params=params, timeout=timeout + 30)
        if resp.status_code == 408:
            matched = resp.json().get("matched", 0)
            raise SandboxError(
                f"no {count} exchange(s) matching {flt} within {timeout} s ({matched} matched)\n"
                + self.journal_summary()
            )
        if resp.status_code >= 400:
            raise SandboxError(f"journal wait -> {resp.status_code}: {resp.text}")
        return dict(self.client.call("GET", f"/journal/{resp.json()[-1]['id']}"))

    def journal_summary(self, limit: int = 10) -> str:
        """The tenant's last exchanges, one line each with outcome and findings (for failure reports)."""
        try:
            entries = self.journal(limit=limit)
        except (SandboxError, httpx.HTTPError) as exc:
            return f"(the journal of tenant {self.id} could not be read: {exc})"
        if not entries:
            return f"the journal of tenant {self.id} is empty: the sandbox received nothing for it"
        lines = [f"last {len(entries)} exchange(s) of tenant {self.id}, newest first:"]
        for e in entries:
            lines.append(
                f"  #{e['id']} {e['at']} {e['service']} {e['operation']} -> {e['status']}"
                + (f" {e['outcome']}" if e.get("outcome") else "")
                + (f"  caller {e['caller']}" if e.get("caller") else "")
            )
            for f in e.get("findings") or []:
                lines.append(f"      {f['severity']} {f['rule']}: {f['message']}")
        return "\n".join(lines)

    def assert_called(self, times: int | None = None, **flt: Any) -> None:
        n = self.count(**flt)
        if (times is None and n == 0) or (times is not None and n != times):
            raise SandboxError(
                f"expected {'some' if times is None else times} exchange(s) matching {flt}, got {n}\n"
                + self.journal_summary()
            )

    def assert_not_called(self, **flt: Any) -> None:
        self.assert_called(times=0, **flt)

    def findings(self, **flt: Any) -> list[dict[str, Any]]:
        return list(self.call("GET", "/findings", params=flt))

    # -- credentials -----------------------------------------------------------------------------
    def credentials(self, persona: str, kind: str, folder: Path, password: str = "test") -> dict[str, Path]:
        """Download a persona's certificate, key, chain (PEM) and PKCS#12 into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path] = {}
        for fmt in ("cert", "key", "chain", "p12"):
            resp = self.client.http.get(
                f"/pki/personas/{persona}/{kind}", params={"format": fmt, "password": password}
            )
            if resp.status_code >= 400:
                raise SandboxError(f"credentials {persona}/{kind} ({fmt}) -> {resp.status_code}: {resp.text}")
            path = folder / f"{persona}-{kind}.{'p12' if fmt == 'p12' else fmt + '.pem'}"
            path.write_bytes(resp.content)
            out[fmt] = path
        return out
