"""Step 4 (before anything is sent): find the correspondent's MSSanté mailbox in the Annuaire
Santé FHIR API v2 — `Practitioner?identifier=<RPPS>` with the application's `ESANTE-API-KEY`
(docs/services/annuaire.md; research mssante.md §1.6, §2.5): the `telecom` of system `email`
whose `as-ext-mailbox-mss-metadata` type is PER. The address then goes into the document's
`informationRecipient` (DOC.05) and the mail's `To`.
"""

from __future__ import annotations

import httpx

from demo.run import Failed, Run

META = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"


def _mailbox_type(telecom: dict[str, object]) -> str:
    for ext in telecom.get("extension") or []:  # type: ignore[attr-defined]
        if ext.get("url") == META:
            for sub in ext.get("extension") or []:
                if sub.get("url") == "type":
                    return str(sub["valueCodeableConcept"]["coding"][0]["code"])
    return ""


def step_annuaire(run: Run) -> None:
    """Chercher la messagerie MSSanté du correspondant dans l'Annuaire Santé (FHIR v2)

    docs/services/annuaire.md; research mssante.md §1.6, §2.5: Practitioner?identifier=<RPPS>,
    en-tête ESANTE-API-KEY, telecom email de type PER (as-ext-mailbox-mss-metadata).
    """
    created = run.sandbox.post("/annuaire/keys", json={"label": "segur-demo"})
    if created.status_code not in (200, 201):
        raise Failed(f"clé d'API Annuaire : HTTP {created.status_code} {created.text[:200]}")
    key = created.json()["key"]
    run.say(f"clé ESANTE-API-KEY de l'application : {key[:8]}…")
    base = run.sandbox.url("annuaire") + "/fhir/v2"
    with httpx.Client(verify=run.tls(), headers={"ESANTE-API-KEY": key}, timeout=30) as fhir:
        bundle = fhir.get(
            f"{base}/Practitioner", params={"identifier": run.cast.recipient_rpps, "_count": 10}
        )
    if bundle.status_code != 200:
        raise Failed(f"Annuaire : HTTP {bundle.status_code} {bundle.text[:200]}")
    entries = bundle.json().get("entry") or []
    if not entries:
        raise Failed(f"aucun Practitioner pour le RPPS {run.cast.recipient_rpps}")
    doctor = entries[0]["resource"]
    idnat = next(i["value"] for i in doctor["identifier"] if i.get("system") == "urn:oid:1.2.250.1.71.4.2.1")
    name = doctor["name"][0]
    display = f"{' '.join(name.get('given', []))} {name.get('family', '')}".strip()
    boxes = [(t["value"], _mailbox_type(t)) for t in doctor.get("telecom", []) if t.get("system") == "email"]
    personal = [address for address, kind in boxes if kind == "PER"]
    if not personal:
        raise Failed(f"{display} n'a pas de messagerie MSSanté personnelle dans l'Annuaire")
    run.say(f"Practitioner/{doctor['id']} : Dr {display} ({idnat}), messageries {boxes}")
    run.say(f"destinataire retenu : {personal[0]}")
    run.keep(recipient=(idnat, display.title(), personal[0]))
