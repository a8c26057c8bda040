"""The step runner: prints each step as it runs, times it, skips it when its service is disabled
or a prerequisite is missing, retries it once after a sandbox restart, and (trainer mode) pauses
after it to show the journal entries it produced.

    run = Run(sandbox, cast, workdir, out=...)
    run.execute(STEPS)            -> list[StepResult]

A step is a plain function `step(run)`; its docstring's first line is its title, the rest cites
the specification it follows. It reports with `run.say(...)` and stores what later steps need on
`run` (credentials, tokens, the patient, the documents).
"""

from __future__ import annotations

import imaplib
import json
import smtplib
import ssl
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import requests

from demo.cast import Cast
from demo.sandbox import Sandbox, tls

# what a sandbox restart looks like from the client side
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    ConnectionError,
    ssl.SSLError,
    requests.exceptions.ConnectionError,
    smtplib.SMTPServerDisconnected,
    imaplib.IMAP4.abort,
    EOFError,
    TimeoutError,
)


class Skip(Exception):
    """The step cannot run here (a prerequisite is missing): said, and the run goes on."""


class Failed(Exception):
    """The sandbox answered something an LGC must not accept."""


@dataclass(frozen=True)
class Step:
    id: str
    fn: Callable[[Run], None]
    services: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # attributes of `run` set by earlier steps

    @property
    def title(self) -> str:
        return (self.fn.__doc__ or self.fn.__name__).strip().splitlines()[0]

    @property
    def reference(self) -> str:
        lines = [line.strip() for line in (self.fn.__doc__ or "").strip().splitlines()[1:]]
        return " ".join(line for line in lines if line)


@dataclass
class StepResult:
    id: str
    title: str
    status: str  # ok, skipped, failed, expected (a preset's refusal observed)
    seconds: float
    lines: list[str] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    retried: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "lines": self.lines,
            "journal": [_entry_summary(e) for e in self.journal],
            "error": self.error,
            "retried": self.retried,
        }


class Run:
    """What the steps share: where the sandbox is, who plays, what was obtained so far."""

    def __init__(
        self,
        sandbox: Sandbox,
        cast: Cast,
        workdir: Path,
        *,
        out: IO[str] | None = None,
        pause: bool = False,
        preset: str | None = None,
        rounds: int | None = None,
        stdin: IO[str] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.cast = cast
        self.workdir = workdir
        self.out = out or sys.stdout
        self.pause = pause
        self.preset = preset
        self.rounds = rounds
        self.stdin = stdin or sys.stdin
        self.results: list[StepResult] = []
        self.expected_seen: list[str] = []  # what a --fail preset expected and observed
        self.data: dict[str, Any] = {}
        self._lines: list[str] = []

    # -- shared state, by name -------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("data", {})
        if name in data:
            return data[name]
        raise AttributeError(name)

    def keep(self, **values: Any) -> None:
        self.data.update(values)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def ready(self, service: str) -> bool:
        return self.sandbox.ready(service)

    def tls(self, credential: Any = None) -> ssl.SSLContext:
        """TLS trusting the sandbox's TEST roots, presenting `credential` (demo.pki.Credential)."""
        return tls(
            self.data["roots"],
            credential.cert if credential else None,
            credential.key if credential else None,
        )

    # -- output ----------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self._lines.append(text)
        print(f"    {text}", file=self.out, flush=True)

    def expect(self, what: str) -> None:
        """A --fail preset's expected refusal or finding was observed."""
        self.expected_seen.append(what)
        self.say(f"⚠ attendu (--fail {self.preset}) : {what}")

    # -- running ---------------------------------------------------------------------------------
    def execute(self, steps: Iterable[Step]) -> list[StepResult]:
        for step in steps:
            self.results.append(self._one(step))
        return self.results

    def _one(self, step: Step) -> StepResult:
        print(f"\n▶ {step.id} {step.title}", file=self.out)
        if step.reference:
            print(f"  ({step.reference})", file=self.out)
        self._lines = []
        started = time.monotonic()
        missing = [s for s in step.services if not self.sandbox.ready(s)]
        if missing:
            states = ", ".join(f"{s} : {self.sandbox.state(s)}" for s in missing)
            return self._done(
                step, "skipped", started, [], f"service indisponible ({states}) : étape ignorée"
            )
        absent = [n for n in step.needs if not self.has(n)]
        if absent:
            return self._done(
                step, "skipped", started, [], f"prérequis absent ({', '.join(absent)}) : étape ignorée"
            )
        mark = self._mark()
        retried = False
        try:
            try:
                step.fn(self)
            except TRANSPORT_ERRORS as exc:
                # a sandbox restart mid-run: wait for it to be ready, then try the step once more
                self.say(f"connexion perdue ({type(exc).__name__}) : nouvel essai après redémarrage")
                retried = True
                if not self.sandbox.wait_ready(60):
                    raise
                step.fn(self)
        except Skip as exc:
            return self._done(step, "skipped", started, self._since(mark), str(exc), retried)
        except (Failed, AssertionError) as exc:
            return self._done(step, "failed", started, self._since(mark), str(exc) or repr(exc), retried)
        except TRANSPORT_ERRORS as exc:
            return self._done(step, "failed", started, [], f"{type(exc).__name__}: {exc}", retried)
        except Exception as exc:  # noqa: BLE001 - a demo step's bug or an unexpected answer: reported, the run goes on
            return self._done(
                step, "failed", started, self._since(mark), f"{type(exc).__name__}: {exc}", retried
            )
        return self._done(step, "ok", started, self._since(mark), "", retried)

    def _mark(self) -> int:
        try:
            return self.sandbox.journal_mark()
        except (httpx.TransportError, ValueError):
            return 0

    def _since(self, mark: int) -> list[dict[str, Any]]:
        try:
            return self.sandbox.journal_since(mark)
        except (httpx.TransportError, ValueError):
            return []

    def _done(
        self,
        step: Step,
        status: str,
        started: float,
        journal: list[dict[str, Any]],
        error: str,
        retried: bool = False,
    ) -> StepResult:
        seconds = time.monotonic() - started
        if error:
            print(f"    {'⏭' if status == 'skipped' else '✗'} {error}", file=self.out)
        mark = {"ok": "✓", "skipped": "⏭ ignorée", "failed": "✗ ÉCHEC"}[status]
        print(f"  {mark} ({seconds:.2f} s, {len(journal)} échange(s) au journal)", file=self.out, flush=True)
        result = StepResult(step.id, step.title, status, seconds, self._lines, journal, error, retried)
        if self.pause:
            self._narrate(result)
        return result

    def _narrate(self, result: StepResult) -> None:
        """Trainer mode: what the sandbox journaled for this step, then wait for Enter."""
        print("  Journal du bac à sable pour cette étape :", file=self.out)
        for entry in result.journal:
            print(f"    {describe(entry)}", file=self.out)
        if not result.journal:
            print("    (aucun échange)", file=self.out)
        print("  [Entrée] pour continuer… ", end="", file=self.out, flush=True)
        self.stdin.readline()


def _entry_summary(entry: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "service", "operation", "status", "outcome", "caller", "persona", "trace_id")
    summary = {k: entry.get(k) for k in keep}
    summary["findings"] = [
        {"rule": f.get("rule"), "severity": f.get("severity"), "message": f.get("message")}
        for f in entry.get("findings") or []
    ]
    return summary


def describe(entry: dict[str, Any]) -> str:
    """One journal entry as the sandbox's own log line shows it."""
    findings = entry.get("findings") or []
    line = f"#{entry.get('id')} {str(entry.get('service', '')).upper()} {entry.get('operation', '')} => {entry.get('status', '')}"
    if entry.get("outcome"):
        line += f" {entry['outcome']}"
    if findings:
        line += (
            f" ({len(findings)} constat(s) : "
            + ", ".join(sorted({str(f.get("rule")) for f in findings}))
            + ")"
        )
    return line


def as_json(run: Run, extra: dict[str, Any]) -> str:
    return json.dumps(
        {
            "sandbox": run.sandbox.base_url,
            "tenant": run.sandbox.tenant,
            "preset": run.preset,
            "steps": [r.as_dict() for r in run.results],
            "expected": run.expected_seen,
            **extra,
        },
        ensure_ascii=False,
        indent=1,
    )
