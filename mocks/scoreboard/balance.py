"""The funding balance ("paiement du solde", Médecins de ville vague 1): what the ANS webinar on the
DSR/AF Médecins de ville asks an LGC to have done, counted from the evidence ledger
(research cda-segur.md §B.4; thresholds: settings scoreboard_*_threshold).

    dmp      documents accepted by the DMP with a qualified INS        (dmp.document.accepted)
    mss      documents sent by MSSanté to professionals, qualified INS (mss.message.accepted)
    citizen  messages delivered to the citizen test address            (mss.delivered.citizen)

Each is counted per mode (direct, or "via logiciel tiers": the facts' `via_third_party` flag),
per RPPS, per structure, over a period (all, a month, a year, or custom dates on the tenant's
clock). Every counted item links to its document or message; every item not counted is listed
with its reason (INS absent or not qualified, no professional recipient, refused by the
service, not delivered to the test address).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from mocks.scoreboard.conditions import MISSING, compile_where, get
from mocks.scoreboard.observe import Observation, Snapshot, gc_paused

if TYPE_CHECKING:
    from mocks.scoreboard.board import Scoreboard

PROFESSIONAL_KINDS = ("PER", "ORG", "APP", "CAB")
PERIODS = ("all", "month", "year", "custom")
COUNTERS = {
    "dmp": ("Documents alimentés au DMP avec un INS qualifié", "scoreboard_dmp_threshold"),
    "mss": (
        "Documents envoyés par MSSanté à des professionnels avec un INS qualifié",
        "scoreboard_mss_threshold",
    ),
    "citizen": ("Messages envoyés par MSSanté à l'adresse citoyenne de test", "scoreboard_citizen_threshold"),
}


class PeriodError(ValueError):
    """A period the balance cannot read (400 on the API)."""


@dataclass(frozen=True)
class Period:
    kind: str
    start: float | None  # epoch seconds, inclusive
    end: float | None  # exclusive
    label: str

    def holds(self, ts: float) -> bool:
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)

    def as_dict(self) -> dict[str, Any]:
        def when(ts: float | None) -> str | None:
            return (
                datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z") if ts is not None else None
            )

        return {"kind": self.kind, "from": when(self.start), "to": when(self.end), "label": self.label}


def period(kind: str | None, at: str | None, start: str | None, end: str | None, now: datetime) -> Period:
    """all; month (at=YYYY-MM, default the tenant's current month); year (at=YYYY); custom
    (from, to: dates or instants, `to` exclusive)."""
    kind = kind or "all"
    if kind not in PERIODS:
        raise PeriodError(f"period must be one of {', '.join(PERIODS)}")
    try:
        if kind == "all":
            return Period("all", None, None, "toute la période")
        if kind == "month":
            year, month = (int(x) for x in (at or now.strftime("%Y-%m")).split("-"))
            first = datetime(year, month, 1, tzinfo=UTC)
            nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
            return Period("month", first.timestamp(), nxt.timestamp(), first.strftime("%m/%Y"))
        if kind == "year":
            year = int(at or now.year)
            return Period("year", datetime(year, 1, 1, tzinfo=UTC).timestamp(),
                          datetime(year + 1, 1, 1, tzinfo=UTC).timestamp(), str(year))  # fmt: skip
        lo, hi = _instant(start, "from"), _instant(end, "to")
    except (ValueError, TypeError) as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(
            f"unreadable period ({exc}): month at=YYYY-MM, year at=YYYY, custom from=/to= dates"
        ) from None
    if lo is not None and hi is not None and hi <= lo:
        raise PeriodError("period: 'to' must be after 'from'")
    return Period("custom", lo, hi, f"du {start or '…'} au {end or '…'}")


def _instant(text: str | None, name: str) -> float | None:
    if not text:
        return None
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp()
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def compute(board: Scoreboard, snap: Snapshot, span: Period) -> dict[str, Any]:
    with gc_paused():
        return _compute(board, snap, span)


def _compute(board: Scoreboard, snap: Snapshot, span: Period) -> dict[str, Any]:
    config = board.sandbox.config
    thresholds = {cid: int(config.get(setting, 0) or 0) for cid, (_, setting) in COUNTERS.items()}
    items: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
        "dmp": _dmp(board, snap, span),
        "mss": _mss(board, snap, span),
        "citizen": _citizen(board, snap, span),
    }
    for counter, extra in _rejected(board, snap, span).items():
        items[counter][1].extend(extra)
    counters = []
    for cid, (label, setting) in COUNTERS.items():
        counted, not_counted = items[cid]
        threshold = thresholds[cid]
        modes = {mode: sum(1 for i in counted if i["via_third_party"] == (mode == "third_party"))
                 for mode in ("direct", "third_party")}  # fmt: skip
        counters.append({
            "id": cid,
            "label": label,
            "threshold": threshold,
            "threshold_setting": setting,
            "direct": {"counted": modes["direct"], "reached": modes["direct"] >= threshold},
            "third_party": {"counted": modes["third_party"], "reached": modes["third_party"] >= threshold},
            "reached": max(modes.values()) >= threshold,
            "by_rpps": _groups(counted, "rpps", threshold),
            "by_structure": _groups(counted, "structure", threshold),
            "counted": counted,
            "not_counted": not_counted,
        })  # fmt: skip
    return {
        "period": span.as_dict(),
        "source": board.catalogue.model.balance.source,
        "reached": all(c["reached"] for c in counters),
        "counters": counters,
    }


def _groups(counted: list[dict[str, Any]], key: str, threshold: int) -> list[dict[str, Any]]:
    by: dict[str, dict[str, int]] = defaultdict(lambda: {"direct": 0, "third_party": 0})
    for item in counted:
        by[item[key] or "(inconnu)"]["third_party" if item["via_third_party"] else "direct"] += 1
    return [{key: k, **v, "reached": max(v.values()) >= threshold} for k, v in sorted(by.items())]


def _item(
    board: Scoreboard, snap: Snapshot, obs: Observation, rpps_field: str, **extra: Any
) -> dict[str, Any]:
    f = obs.fields
    return {
        "subject": f.get("subject", ""),
        "at": obs.at,
        "rpps": str(f.get(rpps_field) or ""),
        "structure": str(f.get("structure") or ""),
        "via_third_party": bool(f.get("via_third_party")),
        **extra,
        "links": board.links(obs, snap.tenant),
    }


def _in(obs: Observation, span: Period) -> bool:
    return span.holds(obs.ts)


def _dmp(
    board: Scoreboard, snap: Snapshot, span: Period
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    counted, not_counted = [], []
    for obs in snap.evidence.get("dmp.document.accepted", []):
        if not _in(obs, span):
            continue
        f = obs.fields
        item = _item(
            board, snap, obs, "author_rpps", document=f.get("subject", ""), type_code=f.get("type_code", "")
        )
        if not f.get("ins"):
            not_counted.append({**item, "reason": "document sans INS"})
        elif f.get("ins_qualified") is not True:
            not_counted.append({**item, "reason": "INS non qualifié (identité non qualifiée par l'INSi)"})
        else:
            counted.append(item)
    return counted, not_counted


def _mss(
    board: Scoreboard, snap: Snapshot, span: Period
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    counted, not_counted = [], []
    for obs in snap.evidence.get("mss.message.accepted", []):
        if not _in(obs, span):
            continue
        f = obs.fields
        if any(not isinstance(r, dict) for r in f.get("recipients") or []):
            # a fact without the contract's typed recipients and documents (MSSanté part 1)
            not_counted.append({**_item(board, snap, obs, "sender_rpps", message=f.get("subject", ""), document=""),
                                "reason": "preuve sans les destinataires typés ni les documents du contrat "
                                          "(mocks/evidence.py) : non jugeable"})  # fmt: skip
            continue
        recipients = [r for r in f.get("recipients") or [] if isinstance(r, dict)]
        professional = [r for r in recipients if r.get("kind") in PROFESSIONAL_KINDS]
        documents = [d for d in f.get("documents") or [] if isinstance(d, dict)]
        base = {"message": f.get("subject", ""), "recipients": [r.get("address", "") for r in professional]}
        if not documents:
            not_counted.append({**_item(board, snap, obs, "sender_rpps", **base, document=""),
                                "reason": "message sans document"})  # fmt: skip
            continue
        for doc in documents:
            item = _item(board, snap, obs, "sender_rpps", **base, document=doc.get("uniqueId", ""),
                         type_code=doc.get("type_code", ""))  # fmt: skip
            if not professional:
                kinds = ", ".join(sorted({str(r.get("kind")) for r in recipients})) or "aucun"
                not_counted.append(
                    {**item, "reason": f"envoyé à un non-professionnel (destinataires : {kinds})"}
                )
            elif not doc.get("ins"):
                not_counted.append({**item, "reason": "document sans INS"})
            elif doc.get("ins_qualified") is not True:
                not_counted.append({**item, "reason": "INS non qualifié (identité non qualifiée par l'INSi)"})
            else:
                counted.append(item)
    return counted, not_counted


def _citizen(
    board: Scoreboard, snap: Snapshot, span: Period
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    counted = []
    delivered = set()
    for obs in snap.evidence.get("mss.delivered.citizen", []):
        delivered.add(obs.fields.get("subject"))
        delivered.add(obs.fields.get("message_id"))  # MSSanté part 1 keys the fact by the address
        if _in(obs, span):
            counted.append(_item(board, snap, obs, "sender_rpps", message=obs.fields.get("subject", ""),
                                 address=obs.fields.get("address", "")))  # fmt: skip
    not_counted = []
    for obs in snap.evidence.get("mss.message.accepted", []):
        f = obs.fields
        if not _in(obs, span) or f.get("subject") in delivered:
            continue
        kinds = {r.get("kind") for r in f.get("recipients") or [] if isinstance(r, dict)}
        if "citizen_test" in kinds:
            reason = "adressé à l'adresse citoyenne de test mais non délivré"
        elif "patient" in kinds:
            reason = "adressé à une messagerie patient, pas à l'adresse citoyenne de test"
        else:
            continue
        not_counted.append(
            {**_item(board, snap, obs, "sender_rpps", message=f.get("subject", "")), "reason": reason}
        )
    return counted, not_counted


def _rejected(board: Scoreboard, snap: Snapshot, span: Period) -> dict[str, list[dict[str, Any]]]:
    """Submissions the service refused (journal), for services whose journal is wired."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in board.catalogue.model.balance.rejected:
        if rule.provisional or rule.service not in board.built:
            continue
        wanted = compile_where({"operation": rule.operation})
        refused_outcome = compile_where({"outcome": rule.outcome}) if rule.outcome is not None else None
        for obs in snap.journal.get(rule.service, []):
            f = obs.fields
            if not wanted(f) or not _in(obs, span):
                continue
            if int(f.get("status") or 0) < 400 and not (refused_outcome and refused_outcome(f)):
                continue
            if get(f, "details.fault_rule") is not MISSING:
                continue
            out[rule.counter].append({
                "subject": f.get("persona", ""), "at": obs.at, "rpps": "", "structure": "", "via_third_party": False,
                "reason": f"{rule.reason} ({f.get('outcome') or f.get('status')})",
                "links": board.links(obs, snap.tenant),
            })  # fmt: skip
    return out
