"""Adapter from the synthetic population (sandbox.population, mocks.population) to the subjects
the certificates name. Kept apart so that the PKI works before / without the population."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mocks.pki.model import Professional, Structure

if TYPE_CHECKING:
    from mocks.kernel import Sandbox


def lookup(sandbox: Sandbox, persona: str, type_: str) -> Professional | Structure | None:
    """The professional (idNat_PS) or structure (idNat_Struct) `persona` of the population, or None."""
    try:
        population: Any = sandbox.population
    except ImportError:
        return None
    finder = getattr(population, type_, None)
    if finder is None:
        return None
    try:
        found = finder(persona)
    except LookupError:
        return None
    if found is None:
        return None
    return professional_of(found) if type_ == "professional" else structure_of(found)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


def professional_of(p: Any) -> Professional:
    return Professional(
        id_nat=str(_get(p, "id_nat", "idnat", "id_nat_ps", "idNat_PS")),
        first_name=str(_get(p, "first_name", "given_name", "prenom", default="")),
        last_name=str(_get(p, "last_name", "family_name", "nom", default="")),
        profession_code=str(_get(p, "profession_code", "profession", default="10")),
        card_type=int(_get(p, "card_type", default=0)),
        card_serial=str(_get(p, "card_serial", "cps_card", default="")),
        certificate_state=str(_get(p, "certificate_state", default="valid")),
    )


def _locality(address: Any) -> str:
    """`Ville (DD)` from an address, as the certificates' ST= spells a place; Paris by default."""
    city, department = _get(address, "ville", "city", default=""), _get(address, "departement", default="")
    if address is None or not city or not department:
        return "Paris (75)"
    return f"{str(city).title()} ({department})"


def structure_of(s: Any) -> Structure:
    return Structure(
        id_nat=str(_get(s, "id_nat", "idnat", "id_nat_struct", "idNat_Struct")),
        name=str(_get(s, "name", "raison_sociale", default="")),
        locality=str(_get(s, "locality", "state", "st", default="") or _locality(_get(s, "address"))),
        application=str(_get(s, "application", default="LGC SEGUR SANDBOX")),
        certificate_state=str(_get(s, "certificate_state", default="valid")),
    )
