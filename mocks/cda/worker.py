"""The worker process: the one process that owns the Saxon processor.

    python -m mocks.cda.worker --store DB --data DIR --cache DIR [--max-profiles 4]
                               [--precompile auto|none|V1,V2] [--parent PID]

Started by the engine (`sandbox.cda.start()`, after the runner is up: `Ready.` is never delayed);
in compose, by the console container. Loop: claim the next queued job of the store, run XSD +
StrucMin + the volet, store the verdict in the result cache, mark the jobs of that document
done, attach the findings to the journal entries waiting for them; when idle, compile the next
profile of the precompile list (StrucMin first). Profiles are kept in an LRU of `max_profiles`
(StrucMin is never evicted: every document needs it). A crash on one document is an engine
finding on that document, never the end of the worker. It exits when its parent process is gone.

Why a process and not a thread: saxonche holds the GIL during a compile (a measured 10 s freeze
of every thread) and during each transform (see mocks/cda/schematron.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import traceback
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from lxml import etree

from mocks.cda.data import DataError, DataSet
from mocks.cda.parse import ParseError, parse
from mocks.cda.profiles import STRUCMIN_NAME, choose, path_of
from mocks.cda.queue import Queue
from mocks.cda.report import ENGINE, CdaFinding, kernel_dicts
from mocks.cda.schematron import Compiled, EngineError, Saxon
from mocks.cda.svrl import findings as svrl_findings
from mocks.cda.xsd import Xsd
from mocks.journal import Journal
from mocks.store import Store

log = logging.getLogger("segur.cda")
IDLE_POLL, BUSY_POLL = 0.2, 0.01


def engine_finding(message: str, severity: str = "warning", profile: str = ENGINE) -> CdaFinding:
    return CdaFinding(profile, "CDA-ENGINE", severity, message)  # type: ignore[arg-type]


class Worker:
    def __init__(self, store: Store, data: DataSet, cache: Path, max_profiles: int, precompile: str,
                 max_findings: int = 200, parent: int | None = None):  # fmt: skip
        self.queue = Queue(store)
        self.journal = Journal(store, max_entries=10**9, max_bytes=10**12, keep_bodies=False)
        self.data = data
        self.cache = cache
        self.max_profiles = max(1, max_profiles)
        self.precompile = precompile
        self.max_findings = max_findings
        self.parent = parent
        self.id = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.loaded: OrderedDict[str, Compiled] = OrderedDict()
        self.failed: dict[str, str] = {}  # profile -> why it cannot be compiled
        self.timings: dict[str, dict[str, float]] = {}
        self.saxon: Saxon | None = None
        self.saxon_error = ""
        self.xsd: Xsd | None = None
        self.state, self.detail = "starting", ""
        self.jobs_done = 0
        self._beat = 0.0

    # -- life ---------------------------------------------------------------------------------
    def boot(self) -> None:
        self.beat("starting", force=True)
        try:
            self.data.require()
            self.xsd = Xsd(self.data.path("infrastructure/cda/CDA_extended.xsd"), self.data.version)
        except (DataError, OSError, etree.XMLSchemaParseError) as exc:
            path = getattr(exc, "path", "") or str(self.data.root)
            self.beat("failed", f"{exc}", {"path": path}, force=True)
            raise SystemExit(3) from None
        try:
            self.saxon = Saxon(self.cache)
        except ImportError:
            self.saxon_error = (
                "saxonche n'est pas installé (extra segur-sandbox[cda]) : schématrons non exécutés"
            )
        self.queue.requeue_orphans()
        self.beat("ready", force=True)

    def info(self) -> dict[str, Any]:
        return {
            "data": str(self.data.root),
            "version": self.data.version,
            "saxon": self.saxon.version if self.saxon else "",
            "saxon_error": self.saxon_error,
            "compiled": list(self.loaded),
            "failed": self.failed,
            "timings": self.timings,
            "max_profiles": self.max_profiles,
            "jobs_done": self.jobs_done,
        }

    def beat(self, state: str | None = None, detail: str | None = None, extra: dict[str, Any] | None = None,
             force: bool = False) -> None:  # fmt: skip
        if state is not None:
            self.state = state
        if detail is not None:
            self.detail = detail
        now = time.monotonic()
        if force or now - self._beat > 1.0:
            self._beat = now
            self.queue.heartbeat(self.id, self.state, self.detail, {**self.info(), **(extra or {})})

    def parent_alive(self) -> bool:
        return self.parent is None or os.getppid() == self.parent

    def run_forever(self) -> None:
        self.boot()
        pending = self.precompile_list()
        idle_since = time.monotonic()
        try:
            while self.parent_alive():
                job = self.queue.claim(self.id)
                if job is not None:
                    self.handle(job)
                    idle_since = time.monotonic()
                self.attach_pending()
                if job is None and pending:
                    self.load(pending.pop(0))
                    continue
                self.beat("ready", "")
                if job is None:
                    time.sleep(BUSY_POLL if time.monotonic() - idle_since < 5 else IDLE_POLL)
        finally:
            self.queue.forget_worker(self.id)

    def precompile_list(self) -> list[str]:
        if self.saxon is None or self.precompile == "none":
            return []
        if self.precompile == "auto":
            volets = self.queue.recent_volets()
        else:
            volets = [v.strip() for v in self.precompile.split(",") if v.strip()]
        wanted = [STRUCMIN_NAME, *[v for v in volets if v != STRUCMIN_NAME]]
        return wanted[: self.max_profiles]

    # -- profiles -----------------------------------------------------------------------------
    def load(self, profile: str) -> Compiled | None:
        """A compiled profile (LRU), None when it cannot be (reason in self.failed)."""
        if profile in self.loaded:
            self.loaded.move_to_end(profile)
            return self.loaded[profile]
        if profile in self.failed or self.saxon is None:
            return None
        entry = self.data.path(path_of(profile))
        if not entry.is_file():
            self.failed[profile] = f"schématron absent : {entry}"
            return None
        self.beat("compiling", profile, force=True)
        started = time.perf_counter()
        try:
            compiled = self.saxon.compile(profile, entry)
        except (DataError, EngineError, OSError, etree.XMLSyntaxError) as exc:
            self.failed[profile] = str(exc)
            log.warning("cda: %s unavailable: %s", profile, exc)
            self.beat("ready", "", force=True)
            return None
        self.timings[profile] = {
            "stages_s": round(compiled.stage_seconds, 2),
            "compile_s": round(compiled.compile_seconds, 2),
            "total_s": round(time.perf_counter() - started, 2),
        }
        self.loaded[profile] = compiled
        while len(self.loaded) > self.max_profiles:
            victim = next((p for p in self.loaded if p != STRUCMIN_NAME), None)
            if victim is None:
                break
            del self.loaded[victim]
        self.beat("ready", "", force=True)
        return compiled

    # -- jobs ---------------------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> None:
        try:
            self._handle(job)
        except Exception as exc:  # noqa: BLE001 - a bug of ours on one document: said on it, the worker lives on
            log.exception("cda: job %s", job["id"])
            item = engine_finding(f"erreur interne du moteur sur ce document : {type(exc).__name__}: {exc}")
            key = f"{job['result_key']}:job{job['id']}"
            self.queue.store_result(key, job["sha256"], [], [item], {}, 0.0)
            self.queue.rekey(job["id"], key)
            self.queue.finish([job["id"]])

    def _handle(self, job: dict[str, Any]) -> None:
        started = time.perf_counter()
        self.beat("validating", f"job {job['id']}")
        key = job["result_key"]
        if self.queue.result(key) is None:
            body = self.queue.document(job["sha256"])
            items, profiles, svrl = self.verdict(body, job["meta"].get("forced_volet"))
            cacheable = not any(f.rule == "CDA-ENGINE" and f.severity != "info" for f in items)
            ms = (time.perf_counter() - started) * 1000
            self.queue.store_result(key if cacheable else f"{key}:job{job['id']}", job["sha256"], profiles,
                                    items, svrl, ms)  # fmt: skip
            if not cacheable:
                self.queue.rekey(job["id"], f"{key}:job{job['id']}")
        self.queue.finish([job["id"], *self.queue.waiting_for(key)])
        self.jobs_done += 1

    def verdict(
        self, body: bytes | None, forced: str | None
    ) -> tuple[list[CdaFinding], list[str], dict[str, str]]:
        """XSD + StrucMin + volet findings of one document, the profiles run and their SVRL."""
        if body is None:
            return [engine_finding("document introuvable dans le magasin (purgé ?)")], [], {}
        try:
            parsed = parse(body, len(body) + 1)
        except ParseError as exc:  # refused at submission already; kept for safety
            return [CdaFinding("parse", "CDA-PARSE", "error", str(exc))], [], {}
        items: list[CdaFinding] = []
        if self.xsd is not None:
            items += self.xsd.check(parsed.doc)
        if self.saxon is None:
            return [*items, engine_finding(self.saxon_error, "info")], [], {}
        dispatch = choose(parsed.doc)
        volet = forced or dispatch.volet
        profiles = [STRUCMIN_NAME, *([volet] if volet else [])]
        svrl: dict[str, str] = {}
        ran: list[str] = []
        node = None
        for profile in profiles:
            compiled = self.load(profile)
            rule = "CDA-STRUCMIN" if profile == STRUCMIN_NAME else "CDA-VOLET"
            if compiled is None:
                why = self.failed.get(profile, "schématron indisponible")
                severity = "warning" if profile == STRUCMIN_NAME else "info"
                items.append(engine_finding(f"volet {profile} indisponible : {why}", severity, profile))
                continue
            try:
                if node is None:
                    node = self.saxon.document(etree.tostring(parsed.doc, encoding="unicode"))
                report = self.saxon.run(compiled, node)
            except EngineError as exc:
                items.append(
                    engine_finding(f"le schématron a échoué sur ce document : {exc}", "warning", profile)
                )
                continue
            svrl[profile] = report
            ran.append(profile)
            reference = compiled.entry.name
            items += svrl_findings(report, profile, rule, reference, self.data.version)
        return items, ran, svrl

    def attach_pending(self) -> None:
        """Completed verdicts of report-mode submissions → their journal entries (once recorded)."""
        for job in self.queue.to_attach():
            entries = self.journal.find({"trace_id": job["trace_id"], "service": job["service"]}, limit=1)
            if not entries:
                continue  # the exchange is still open: next turn
            result = self.queue.result(job["result_key"])
            items = result["findings"] if result else [engine_finding("verdict introuvable")]
            if job["mode"] != "off":
                dicts = kernel_dicts(items, self.max_findings, job["id"])
                self.journal.attach_findings(entries[0]["id"], dicts, {"cda_report": job["id"]})
            self.queue.mark_attached(job["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocks.cda.worker", description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--max-profiles", type=int, default=4)
    parser.add_argument("--precompile", default="auto")
    parser.add_argument("--max-findings", type=int, default=200)
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s cda-worker %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leave through `finally`: heartbeat removed
    worker = Worker(Store(args.store), DataSet(Path(args.data)), Path(args.cache), args.max_profiles,
                    args.precompile, args.max_findings, args.parent)  # fmt: skip
    try:
        worker.run_forever()
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception:  # noqa: BLE001 - said in the heartbeat, then the engine's health shows it
        worker.beat("failed", traceback.format_exc(limit=3).splitlines()[-1], force=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
