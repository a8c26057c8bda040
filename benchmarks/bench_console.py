"""Console figures (printed, not asserted): server time of every console page, the journal page
holding 10,000 entries (server time, and time to interactive in headless Chromium), and how
long a new exchange takes to show on the live journal page.

    .venv/bin/python benchmarks/bench_console.py

Goals (issue 19): journal page with 10,000 entries interactive < 1 s; a live entry visible
< 500 ms after the exchange; console pages < 100 ms server time. Each figure is printed beside
a bare limit measured in the same run: `GET /_sandbox/livez` on the same listener (the HTTP
stack's floor) and the kernel's own long-poll wake-up (`/_sandbox/journal/wait`).
"""

from __future__ import annotations

import shutil
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mocks.runner import Runner  # noqa: E402
from mocks.testing import make_config  # noqa: E402
from tests.insi.support import request_xml  # noqa: E402

TENANT = "bench"
PAGES = ["/", "/personas", "/personas?q=TOUSSAINT", "/personas/patients/insi-adrtrois-toussaint",
         "/personas/professionals/810100000016", "/personas/structures/1750000010", "/journal",
         "/journal?page=200", "/defauts", "/horloge", "/tenants", "/pki", "/insi", "/psc"]  # fmt: skip


def timings(client: httpx.Client, path: str, n: int = 30) -> tuple[float, float]:
    client.get(path)  # warm (templates compiled, caches filled)
    seen = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.get(path)
        seen.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    seen.sort()
    return statistics.median(seen), seen[int(len(seen) * 0.95) - 1]


def fill(runner: Runner, n: int = 10_000) -> None:
    body = request_xml().decode()
    for i in range(n):
        runner.sandbox.journal.append(
            {"at": "2026-01-01T00:00:00Z", "tenant": TENANT, "service": "insi",
             "operation": "rechercherInsAvecTraitsIdentite", "status": 200, "outcome": "CR=00",
             "persona": f"{i:013d}", "request_body": body, "response_body": body,
             "findings": [{"rule": "INSI-EMETTEUR", "severity": "warning", "message": "m", "reference": "r"}]}
        )  # fmt: skip


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    runner = Runner(make_config(folder, journal_max_entries=50_000))
    runner.start()
    try:
        base = runner.url("console")
        with httpx.Client(base_url=base, timeout=60, cookies={"segur_tenant": TENANT}) as web:
            web.post("/_sandbox/tenants", json={"id": TENANT}).raise_for_status()
            started = time.perf_counter()
            fill(runner)
            print(f"journal filled with 10,000 entries in {time.perf_counter() - started:.1f} s")
            floor = timings(web, "/_sandbox/livez")
            print(f"\nbare limit GET /_sandbox/livez: p50 {floor[0]:.1f} ms, p95 {floor[1]:.1f} ms")
            print("console pages, server time seen by an HTTP client (goal < 100 ms):")
            for path in PAGES:
                p50, p95 = timings(web, path)
                print(f"  {path:48} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
            browser_figures(runner, base)
    finally:
        runner.stop()
        shutil.rmtree(folder, ignore_errors=True)


def browser_figures(runner: Runner, base: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium: browser figures skipped")
        return
    pki = runner.sandbox.pki
    folder = Path(tempfile.mkdtemp())
    creds = pki.credentials("1750000010", "insi_auto")
    (folder / "c.pem").write_bytes(creds.cert_pem)
    (folder / "k.pem").write_bytes(creds.key_pem)
    (folder / "ca.pem").write_bytes(pki.ca_bundle())
    tls = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    tls.load_cert_chain(str(folder / "c.pem"), str(folder / "k.pem"))
    insi = httpx.Client(verify=tls, timeout=30)
    url, body = runner.url("insi", "/lps"), request_xml()
    headers = {"Content-Type": "application/soap+xml; charset=utf-8", "X-Sandbox-Tenant": TENANT}
    insi.post(url, content=body, headers=headers)  # warm the référentiel and the TLS session

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
        ctx = browser.new_context(base_url=base)
        ctx.add_cookies([{"name": "segur_tenant", "value": TENANT, "url": base}])
        page = ctx.new_page()
        loads = []
        for _ in range(10):
            page.goto("/journal")
            nav = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
            import json

            entry = json.loads(nav)
            loads.append((entry["domInteractive"], entry["loadEventEnd"]))
        interactive = statistics.median(x for x, _ in loads)
        loaded = statistics.median(y for _, y in loads)
        print(f"\njournal page, 10,000 entries (50 shown per page), Chromium (goal interactive < 1 s): "
              f"interactive {interactive:.0f} ms, load event {loaded:.0f} ms (median of 10)")  # fmt: skip

        # live: from the INSi answer received to the row drawn on the open journal page
        page.goto("/journal")
        page.wait_for_selector("#live-status.on")
        delays = []
        for i in range(20):
            insi.post(url, content=body, headers=headers)
            answered = time.perf_counter()
            page.wait_for_function(f"document.querySelectorAll('#journal-rows tr.new').length >= {i + 1}",
                                   polling="raf")  # fmt: skip
            delays.append((time.perf_counter() - answered) * 1000)
            time.sleep(0.05)
        delays.sort()
        browser.close()

    # the kernel's long-poll floor: an append in this process wakes a waiting /journal/wait
    last = runner.sandbox.journal.find({"tenant": TENANT}, limit=1)[0]["id"]
    woke: list[float] = []
    wait = threading.Thread(target=lambda: (httpx.get(base + "/_sandbox/journal/wait", params={
        "tenant": TENANT, "after_id": last, "timeout": 10}, timeout=20), woke.append(time.perf_counter())))  # fmt: skip
    wait.start()
    time.sleep(0.5)
    appended = time.perf_counter()
    runner.sandbox.journal.append({"at": "2026-01-01T00:00:00Z", "tenant": TENANT, "service": "insi",
                                   "operation": "x", "status": 200})  # fmt: skip
    wait.join()
    print(f"live entry on the journal page after the exchange (goal < 500 ms): p50 {statistics.median(delays):.0f} ms, "
          f"p95 {delays[18]:.0f} ms, max {delays[-1]:.0f} ms (20 INSi calls); "
          f"bare limit /_sandbox/journal/wait wake-up {(woke[0] - appended) * 1000:.1f} ms")  # fmt: skip
    insi.close()


if __name__ == "__main__":
    main()
