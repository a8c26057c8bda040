"""`sandbox.cda`: the engine the services call (API documented in mocks/cda/__init__.py).

In the caller's process: parse (size cap, no DTD), our own rules (mocks/cda/rules.py), the result
cache lookup, and the job written to the store-backed queue. In the worker process (spawned by
`start()` when this process owns it, see the `cda_worker` setting): XSD + StrucMin + volet.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mocks.cda import render
from mocks.cda.data import DataError, DataSet
from mocks.cda.parse import Parsed, ParseError, parse
from mocks.cda.pdf import extract
from mocks.cda.profiles import STRUCMIN_NAME, TEMPLATES, choose
from mocks.cda.queue import Queue, result_key
from mocks.cda.report import ENGINE, PARSE, CdaFinding, Report
from mocks.cda.rules import Context, check
from mocks.cda.schematron import PIPELINE
from mocks.clock import iso
from mocks.findings import Severity

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

log = logging.getLogger("segur")
VOLETS = sorted(set(TEMPLATES.values()) | {"TLM-CR_2022.01"})
POLL = 0.01
RESTARTS = 5  # worker restarts tolerated (a native crash), then health says failed


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CdaEngine:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        config = sandbox.config
        folder = str(config.get("cda_data") or "")
        self.data = DataSet(Path(folder) if folder else config.data_dir / "cda" / "TestContenuCDA-3-0")
        self.home = config.data_dir / "cda"
        self.queue = Queue(sandbox.store)
        self.max_bytes = int(config.get("cda_max_bytes", 20 * 1024 * 1024))
        self.timeout = float(config.get("cda_timeout", 60))
        self.max_findings = int(config.get("cda_max_findings", 200))
        self.family = str(config.get("cda_ins_oids", "test"))
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._restarts = 0
        self._data_state: tuple[float, str, str, str] | None = None  # (checked at, state, detail, path)

    # -- the API -----------------------------------------------------------------------------
    def submit(
        self, document: bytes, context: Context | None = None, exchange: Exchange | None = None
    ) -> Report:
        """Never waits. With an exchange: the findings known now (our rules, a parse error, a cached
        verdict) go on it; the official verdict is attached to its journal entry when it arrives."""
        ctx = self._context(context, exchange)
        report = self._submit(document, ctx, exchange, attach=exchange is not None)
        if exchange is not None:
            report.add_to(exchange.findings, self.max_findings)
        return report

    def validate(
        self,
        document: bytes,
        context: Context | None = None,
        timeout: float | None = None,
        exchange: Exchange | None = None,
    ) -> Report:
        """Waits for the verdict (strict mode, the control API), at most `timeout` seconds
        (default: the cda_timeout setting). On a time-out the report says so, and with an exchange
        the verdict is still attached to its journal entry when it arrives."""
        ctx = self._context(context, exchange)
        report = self._submit(document, ctx, exchange, attach=False)
        if report.state == "pending" and report.id is not None:
            report = self.wait(report.id, self.timeout if timeout is None else timeout)
            if report.state == "pending":
                report.state = "timeout"
                self.queue.set_attach(report.id or 0, exchange is not None)
                report.findings.append(
                    CdaFinding(
                        ENGINE,
                        "CDA-ENGINE",
                        "warning",
                        f"verdict officiel non rendu en {timeout or self.timeout:g} s",
                    )
                )
        if exchange is not None:
            report.add_to(exchange.findings, self.max_findings)
        return report

    def report(self, report_id: int) -> Report | None:
        job = self.queue.job(report_id)
        if job is None:
            return None
        meta = job["meta"]
        result = (
            self.queue.result(job["result_key"]) if job["state"] == "done" and job["result_key"] else None
        )
        official = result["findings"] if result else []
        if job["state"] == "failed":
            official = [
                CdaFinding(
                    ENGINE, "CDA-ENGINE", "warning", "le moteur s'est arrêté deux fois sur ce document"
                )
            ]
        return Report(
            id=job["id"],
            sha256=job["sha256"],
            name=job["name"],
            state="pending" if job["state"] in ("queued", "running") else "done",
            level=meta.get("level", ""),
            volet=meta.get("volet"),
            profiles=result["profiles"] if result else [],
            version=meta.get("version", ""),
            findings=[*official, *job["own"]],
            cached=bool(meta.get("cached")),
            duration_ms=float(result["duration_ms"]) if result else 0.0,
            tenant=job["tenant"],
            submitted_at=job["submitted_at"],
        )

    def wait(self, report_id: int, timeout: float) -> Report:
        deadline = time.monotonic() + timeout
        while True:
            report = self.report(report_id)
            assert report is not None, f"report {report_id} vanished"
            if report.state != "pending" or time.monotonic() >= deadline:
                return report
            time.sleep(POLL)

    def svrl(self, report_id: int) -> dict[str, str]:
        job = self.queue.job(report_id)
        return self.queue.svrl(job["result_key"]) if job and job["result_key"] else {}

    def document(self, report_id: int) -> bytes | None:
        job = self.queue.job(report_id)
        return self.queue.document(job["sha256"]) if job else None

    def extract_pdf(self, document: bytes) -> tuple[bytes, str]:
        """(body, mediaType) of an N1; ParseError / ValueError (French) otherwise."""
        return extract(parse(document, self.max_bytes).doc)

    def render_html(self, document: bytes) -> str:
        """An N3 as HTML (the ANS display stylesheet when installed); ParseError / ValueError."""
        parsed = parse(document, self.max_bytes)
        if choose(parsed.doc).level == "N1":
            raise ValueError("document non structuré (N1) : son contenu est le PDF encapsulé")
        return render.html(parsed.doc, self.data.root if self.data.installed else None)

    # -- submission --------------------------------------------------------------------------
    def _context(self, context: Context | None, exchange: Exchange | None) -> Context:
        ctx = context or Context()
        if exchange is not None:
            if context is None or ctx.tenant == "default":
                ctx.tenant = exchange.tenant
            ctx.service = ctx.service or exchange.service
        return ctx

    def _submit(self, document: bytes, ctx: Context, exchange: Exchange | None, attach: bool) -> Report:
        started = time.perf_counter()
        digest = sha256(document)
        job: dict[str, Any] = {
            "tenant": ctx.tenant,
            "sha256": digest,
            "name": ctx.name,
            "service": ctx.service,
            "trace_id": exchange.trace_id if exchange is not None else "",
            "mode": exchange.findings.mode if exchange is not None else "report",
            "submitted_at": iso(self.sandbox.now(ctx.tenant)),
            "result_key": "",
        }
        try:
            parsed = parse(document, self.max_bytes)
        except ParseError as exc:
            own = [CdaFinding(PARSE, "CDA-PARSE", "error", str(exc))]
            return self._store(job, {"state": "done", "own": own, "meta": {"version": ""}}, started)
        own, meta = self._own(parsed, ctx)
        state, detail = self.data_state()
        if state != "installed":
            severity: Severity = "info" if state == "not installed" else "warning"
            own.append(
                CdaFinding(ENGINE, "CDA-ENGINE", severity, f"vérification officielle non faite : {detail}")
            )
            return self._store(job, {"state": "done", "own": own, "meta": meta}, started)
        key = result_key(digest, self.data.digest, PIPELINE, ctx.volet)
        job["result_key"] = key
        if self.queue.result(key) is not None:
            meta["cached"] = True
            return self._store(job, {"state": "done", "own": own, "meta": meta}, started)
        if not self.queue.alive() and not self.owns_worker():
            own.append(
                CdaFinding(
                    ENGINE,
                    "CDA-ENGINE",
                    "info",
                    "aucun moteur actif pour l'instant : verdict officiel en attente",
                )
            )
        with self.queue.store.tx():
            self.queue.put_document(digest, document)
            report = self._store(
                job, {"state": "queued", "own": own, "meta": meta, "attach": int(attach)}, started
            )
        return report

    def _own(self, parsed: Parsed, ctx: Context) -> tuple[list[CdaFinding], dict[str, Any]]:
        family = ctx.ins_family or self.family
        evidence = self.sandbox.evidence
        # INSi records the 13-character matricule; a CDA carries the 15-character INS (+ key)
        own = check(parsed, ctx, family, lambda ins: ctx.ins_qualified
                    or evidence.exists(ctx.tenant, "ins.qualified", ins)
                    or (len(ins) == 15 and evidence.exists(ctx.tenant, "ins.qualified", ins[:13])))  # fmt: skip
        dispatch = choose(parsed.doc)
        volet = ctx.volet or dispatch.volet
        meta = {"level": dispatch.level, "volet": volet, "why": dispatch.why, "wrapper": parsed.wrapper,
                "forced_volet": ctx.volet, "version": self.data.version if self.data.installed else ""}  # fmt: skip
        if ctx.volet:
            meta["why"] = f"volet imposé par l'appelant : {ctx.volet}"
        elif dispatch.level == "N3" and dispatch.volet is None:
            own.append(CdaFinding(ENGINE, "CDA-VOLET", "info", dispatch.why, "/ClinicalDocument/templateId"))
        elif dispatch.volet == "BIO-CR-BIO_2021.01" and "2021.01" not in dispatch.why:
            own.append(CdaFinding(ENGINE, "CDA-VOLET", "info",
                       "templateId 1.2.250.1.213.1.1.1.55 sans extension : volet BIO-CR-BIO_2021.01 (table ANS) ; "
                       "un CR-BIO 2023.01 ou 2024.01 porte extension=\"2023.01\" ou \"2024.01\"",
                       "/ClinicalDocument/templateId"))  # fmt: skip
        return own, meta

    def _store(self, job: dict[str, Any], extra: dict[str, Any], started: float) -> Report:
        row = {**job, **extra}
        job_id = self.queue.add_job(row)
        report = self.report(job_id)
        assert report is not None
        report.duration_ms = (
            time.perf_counter() - started
        ) * 1000  # the submission (a cached verdict's full time)
        return report

    # -- health and the worker process ---------------------------------------------------------
    def data_state(self) -> tuple[str, str]:
        """("installed" | "not installed" | "failed", detail), re-checked every 30 s."""
        now = time.monotonic()
        if self._data_state is None or now - self._data_state[0] > 30:
            path = ""
            if not self.data.installed:
                state, detail = (
                    "not installed",
                    f"données ANS absentes ({self.data.root}) : segur-sandbox cda install",
                )
            else:
                try:
                    self.data.require()
                    state, detail = "installed", ""
                except DataError as exc:
                    state, detail, path = "failed", str(exc), exc.path
            self._data_state = (now, state, detail, path)
        return self._data_state[1], self._data_state[2]

    def owns_worker(self) -> bool:
        mode = str(self.sandbox.config.get("cda_worker", "auto"))
        if mode in ("on", "off"):
            return mode == "on"
        return str(self.sandbox.config["services"]).strip() in ("", "all", "none")

    def health(self) -> dict[str, Any]:
        state, detail = self.data_state()
        out: dict[str, Any] = {"state": state, "detail": detail, "data": str(self.data.root)}
        if state == "failed" and self._data_state is not None:
            out["path"] = self._data_state[3]
        if state != "installed":
            return out
        out["version"] = self.data.version
        workers = [w for w in self.queue.workers() if w["alive"] or w["state"] == "failed"]
        worker = workers[0] if workers else None
        if worker is None:
            out["state"] = "failed" if self._restarts > RESTARTS else "no worker"
            out["detail"] = "moteur arrêté trop souvent (voir cda/worker.log)" if self._restarts > RESTARTS else (
                "aucun processus moteur actif" + ("" if self.owns_worker() else " (cda_worker: le conteneur console le porte)"))  # fmt: skip
        else:
            info = worker["info"]
            out["state"] = {"validating": "ready"}.get(worker["state"], worker["state"])
            out["detail"] = worker["detail"] or info.get("saxon_error", "")
            if worker["state"] == "failed" and info.get("path"):
                out["path"] = info["path"]
            out.update(
                {
                    k: info.get(k)
                    for k in ("saxon", "compiled", "failed", "timings", "max_profiles", "jobs_done")
                }
            )
            out["worker_pid"] = worker["pid"]
        out["queue"] = self.queue.depth()
        return out

    def start(self) -> None:
        """Spawn the worker process when this process owns it and the data is installed (returns
        at once: the worker compiles StrucMin, then the volets in use, in the background)."""
        if not self.owns_worker() or self.data_state()[0] != "installed" or self._process is not None:
            return
        self._stopping.clear()
        self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name="cda-supervisor", daemon=True)
        self._supervisor.start()

    def _spawn(self) -> None:
        config = self.sandbox.config
        self.home.mkdir(parents=True, exist_ok=True)
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
        }
        args = [
            sys.executable, "-m", "mocks.cda.worker",
            "--store", str(self.sandbox.store.path), "--data", str(self.data.root),
            "--cache", str(self.home / "stages"), "--max-profiles", str(config.get("cda_max_profiles", 4)),
            "--precompile", str(config.get("cda_precompile", "auto")), "--max-findings", str(self.max_findings),
            "--parent", str(os.getpid()),
        ]  # fmt: skip
        with open(self.home / "worker.log", "ab") as logfile:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile, env=env
            )

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            process = self._process
            if process is None or process.poll() is None:
                continue
            if process.returncode == 3:  # the data is broken: health says so, no restart
                return
            self._restarts += 1
            log.warning("cda: worker exited (%s), restart %d", process.returncode, self._restarts)
            if self._restarts > RESTARTS:
                return
            self.queue.forget_pid(process.pid)
            self.queue.requeue_orphans()
            self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        self.queue.forget_pid(process.pid)

    def volets(self) -> list[dict[str, Any]]:
        """The dispatch table's volets and whether their schematron is present."""
        rows = [{"name": STRUCMIN_NAME, "templates": [], "present": self.data.installed}]
        for volet in VOLETS:
            keys = [f"{r}{'@' + e if e else ''}" for (r, e), v in TEMPLATES.items() if v == volet]
            present = (self.data.root / f"schematrons/CI-SIS_{volet}.sch").is_file()
            rows.append({"name": volet, "templates": keys, "present": present})
        return rows
