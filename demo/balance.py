"""Step 8: repeat the document workflow until the three funding thresholds of the balance are
reached — ten documents fed to the DMP with a qualified INS, ten documents sent by MSSanté to
professionals with a qualified INS, one message to the test citizen address (research
cda-segur.md §B.4; issue 20) — then print the Ségur scoreboard's balance
(`GET /_sandbox/scoreboard/balance`).
"""

from __future__ import annotations

from typing import Any

from demo import dmp, mssante
from demo.document import make_letter
from demo.run import Failed, Run, Skip

DEFAULT_THRESHOLDS = {"dmp": 10, "mss": 10, "citizen": 1}


def _balance(run: Run) -> dict[str, Any] | None:
    answer = run.sandbox.get("/scoreboard/balance")
    return answer.json() if answer.status_code == 200 else None


def thresholds(run: Run) -> dict[str, int]:
    balance = _balance(run)
    if not balance:
        return dict(DEFAULT_THRESHOLDS)
    return {c["id"]: int(c["threshold"]) for c in balance.get("counters", [])} or dict(DEFAULT_THRESHOLDS)


def step_rounds(run: Run) -> None:
    """Répéter : lettres au DMP et par MSSanté jusqu'aux trois seuils du financement

    research cda-segur.md §B.4 (paiement du solde : 10 documents au DMP, 10 documents par MSSanté
    à des PS, avec INS qualifié ; 1 message à l'adresse citoyenne de test).
    """
    goal = thresholds(run)
    fed = len(run.data.get("dmp_fed") or [])
    dmp_open = bool(run.data.get("dmp_fed"))  # the DMP took the first letter: it serves ITI-41
    sent = len(run.data.get("mss_sent") or [])
    rounds = (
        run.rounds
        if run.rounds is not None
        else max(goal["dmp"] - fed if dmp_open else 0, goal["mss"] - sent, 0)
    )
    previous = run.letter
    for n in range(rounds):
        letter = make_letter(run, previous.patient, previous.recipients)
        if dmp_open and fed < goal["dmp"]:
            _ss, answer = dmp.feed(run, letter)
            dmp._registry_ok(answer, "ITI-41")
            fed += 1
        if sent < goal["mss"] and run.ready("mss"):
            mssante.send_app(run, letter, run.recipient[2])
            sent += 1
        if (n + 1) % 3 == 0 or n + 1 == rounds:
            run.say(
                f"tour {n + 1}/{rounds} : {fed} document(s) au DMP, {sent} document(s) par MSSanté à un PS"
            )
    run.say(
        f"objectif : DMP {fed}/{goal['dmp']}, MSSanté PS {sent}/{goal['mss']}, citoyen (étape MSSanté) 1/{goal['citizen']}"
    )
    run.keep(rounds_done=rounds)


def step_scoreboard(run: Run) -> None:
    """Lire le solde du financement sur le tableau de bord Ségur du bac à sable

    issue 20: GET /_sandbox/scoreboard/balance — compteurs, seuils, éléments non comptés et pourquoi.
    """
    balance = _balance(run)
    if balance is None:
        raise Skip("tableau de bord Ségur absent de ce bac à sable (GET /_sandbox/scoreboard/balance : 404)")
    for counter in balance.get("counters", []):
        mark = "✓" if counter.get("reached") else "…"
        run.say(f"{mark} {counter['label']} : {counter['direct']['counted']}/{counter['threshold']}")
        for item in (counter.get("not_counted") or [])[:3]:
            run.say(f"    non compté : {item.get('reason')}")
    run.say(f"solde atteint : {'oui' if balance.get('reached') else 'non'}")
    run.keep(balance=balance)
    if not balance.get("reached") and run.preset is None:
        if run.rounds is not None:  # the user chose the number of rounds: a partial balance is expected
            run.say(f"{run.rounds} tour(s) demandé(s) : le solde n'est pas visé")
            return
        missing = []
        if not run.has("dmp_fed"):
            missing.append("l'alimentation du DMP (ITI-41, DMP partie 2)")
        if not mssante.part2(run):
            missing.append("l'extraction des documents IHE_XDM (MSSanté partie 2)")
        if missing:
            raise Skip(f"solde non atteignable : ce bac à sable ne sert pas encore {' ni '.join(missing)}")
        raise Failed("les trois seuils du solde ne sont pas atteints")
