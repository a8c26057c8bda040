"""Who sees and who may change a document of the registry (TD3.1, TD3.3), from PDT-INF-526 v1.8
(dmp.rights) and research dmp.md §3.2, as pure decisions the registry endpoint applies:

    visible(doc, who)                     is a document in this caller's TD3.1 answers?
    update_row(change)                    the rights row of a TD3.3 change ("TD3.3a:masquer" ...)
    transition(current, original, new)    the action name of an availability change, or the
                                          XDSMetadataUpdateError raised
    require_updater(doc, who, decision)   the author rule of TD3.3 (refus_auteur_maj)

- A document `MASQUE_PS` is shown to the patient's médecin traitant and to its author only
  ("other PS see only their own masked documents"); `INVISIBLE_PATIENT` and
  `INVISIBLE_REPRESENTANTS_LEGAUX` hide a document from the patient (and the legal
  representatives), never from professionals. The lot's XAdES (MASQUE_PS + INVISIBLE_PATIENT,
  class urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1) is hidden from everyone's searches [inferred].
- TD3.3: the document's author (direct mode: the VIHF NameID is the authorPerson id), its
  structure (indirect / CPE: Identifiant_Structure in an authorInstitution, and note (9) of
  TD3.3c), the médecin traitant where the matrix grants the MT the row without a condition; a
  document deposited by the patient (classCode 90) only by the MT.
- Availability: Approved -> Archived (archive), Archived -> Approved (unarchive), Approved or
  Archived -> Deleted (delete); OriginalStatus must be the document's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from dmp import errors
from dmp.queries import APPROVED, ARCHIVED, DELETED
from dmp.rights import Decision

MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_REPRESENTANTS = "INVISIBLE_REPRESENTANTS_LEGAUX"
SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"
PATIENT_CLASS = "90"  # "Autres documents déposés par le patient" (EX_3.1-1040)


@dataclass(frozen=True)
class Doc:
    """What these decisions need of a document's current metadata version."""

    confidentiality: tuple[str, ...]  # codes
    class_code: str
    author_ids: tuple[str, ...]  # authorPerson XCN.1 (and legalAuthenticator)
    author_structures: tuple[str, ...]  # authorInstitution XON.10
    status: str = APPROVED


@dataclass(frozen=True)
class Who:
    ps: str  # VIHF NameID
    structure: str  # Identifiant_Structure
    mode: str  # DIRECTE | INDIRECTE | INDIRECTE_RENFORCEE
    is_mt: bool
    cpe: bool = False


def _author(doc: Doc, who: Who) -> bool:
    if who.mode == "DIRECTE" and not who.cpe:
        return who.ps in doc.author_ids
    return who.structure in doc.author_structures


def visible(doc: Doc, who: Who) -> bool:
    if doc.class_code == SIGNATURE_CLASS:
        return False
    if MASQUE_PS in doc.confidentiality:
        return who.is_mt or _author(doc, who)
    return True


def transition(current: str, original: str, new: str) -> str:
    """The evidence action of an UpdateAvailabilityStatus (archive, unarchive, delete)."""
    if original != current:
        errors.fail(
            "XDSMetadataUpdateError",
            what=f"OriginalStatus {original} : le document est {current.rsplit(':', 1)[-1]}",
        )
    allowed = {(APPROVED, ARCHIVED): "archive", (ARCHIVED, APPROVED): "unarchive"}
    allowed |= {(APPROVED, DELETED): "delete", (ARCHIVED, DELETED): "delete"}
    action = allowed.get((current, new))
    if action is None:
        errors.fail("XDSMetadataUpdateError", what=f"transition {current} -> {new} interdite")
    return action


ROWS = {
    "archive": "TD3.3d:archiver",
    "unarchive": "TD3.3d:desarchiver",
    "delete": "TD3.3c",
    "mask": "TD3.3a:masquer",
    "unmask": "TD3.3a:demasquer",
    "invisible_patient": "TD3.3b",
    "visible_patient": "TD3.3b",
}


def confidentiality_action(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """The evidence action of a new metadata version: what changed in the visibility codes."""
    added, removed = set(after) - set(before), set(before) - set(after)
    if MASQUE_PS in added:
        return "mask"
    if MASQUE_PS in removed:
        return "unmask"
    if added & {INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS}:
        return "invisible_patient"
    if removed & {INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS}:
        return "visible_patient"
    errors.fail("XDSMetadataUpdateError", what="la nouvelle version ne change pas la visibilité du document")


def require_updater(doc: Doc, who: Who, decision: Decision) -> None:
    """The author rule of TD3.3, after the matrix allowed the row."""
    td = decision.row.split(":")[0]
    if doc.class_code == PATIENT_CLASS:
        if not who.is_mt:
            errors.fail("refus_auteur_maj", td=td)
        return
    if who.is_mt and decision.note is None:
        return
    if not _author(doc, who):
        errors.fail("refus_auteur_maj", td=td)
