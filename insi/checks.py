"""Conformance checks of what an LGC sends to INSi: findings, apart from the answer it gets.

Each rule has a stable id (`INSI-...`), a severity, a French message and a reference. In strict
mode, error findings make the service refuse the request with `refusal(findings)`: the real fault
where production's answer is known (invalid characters: `insi_102`, as the platform answered for
D'AEION COEUR; missing birth name: `insi_19`), the sandbox's `conformite` fault otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from insi.wire import ACTION_PREFIX, CONTENT_TYPE, OP_TRAITS, OP_VERIF, OP_VITALE, Request, Traits
from mocks.findings import Finding, Rule, Rules, Severity

R_LEX = "research insi.md 2.9 (SEL-MP-043, EF_INS01_03, EF_INS10_01, EF_INS10_02)"
R_WSDL = "DESIR_ICIR_EXP_1.5.0.wsdl / XSD"
R_HDR = "research insi.md 1.5"

NOM_RE = re.compile(r"^[A-Z]+(?:(?:-{1,2}|[' ])[A-Z]+)*$")
PRENOM_RE = re.compile(r"^[A-Z]+(?:(?:-|[' ])[A-Z]+)*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COG_RE = re.compile(r"^[A-Za-z0-9]{5}$")
NIR_RE = re.compile(r"^\d{6}[AB0-9]\d{6}$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
LPS_NOM_RE = re.compile(r"^urn:lps:[^:]+:[^:]+$")

R_AUTH = "research insi.md 1.4"

_RULES: list[tuple[str, Severity, str, str]] = [
    ("INSI-MESSAGE", "error", "Le message est une enveloppe SOAP 1.2 INSi lisible", "SOAP 1.2 / WSDL"),
    (
        "INSI-CONTENT-TYPE",
        "error",
        "Content-Type application/soap+xml (SOAP 1.2)",
        "SOAP 1.2 HTTP binding",
    ),
    ("INSI-ACTION", "error", "L'action (Content-Type, wsa:Action) correspond au corps", R_WSDL),
    ("INSI-WSA-ACTION-ABSENT", "warning", "wsa:Action présent", R_HDR),
    ("INSI-MESSAGEID-ABSENT", "error", "wsa:MessageID présent", R_WSDL),
    ("INSI-MESSAGEID", "warning", "wsa:MessageID de la forme uuid:<UUID>", R_HDR),
    ("INSI-BAM-ABSENT", "error", "ctxbam:ContexteBAM présent", R_WSDL),
    (
        "INSI-BAM",
        "error",
        "ContexteBAM conforme (Version, Nature, COUVERTURE)",
        "ROOT_ctxbam_CTXBAM_V01_02.xsd",
    ),
    ("INSI-BAM-VERSION", "info", "ContexteBAM en version 01_02", R_HDR),
    ("INSI-BAM-COUVERTURE", "info", "COUVERTURE vide pour une recherche par traits", R_HDR),
    ("INSI-LPS-ABSENT", "error", "ctxlps:ContexteLPS présent", R_WSDL),
    ("INSI-LPS", "error", "ContexteLPS conforme (Nature, LPS, Version)", "ROOT_ctxlps_CTXLPS_V01_00.xsd"),
    ("INSI-IDAM-ABSENT", "error", "LPS/IDAM présent (numéro d'autorisation CNDA)", R_HDR),
    ("INSI-IDAM-R", "warning", "LPS/IDAM/@R vaut 4", R_HDR),
    ("INSI-LPS-NOM", "warning", "LPS/Nom de la forme urn:lps:<nom>:<version>", R_HDR),
    ("INSI-LPS-INSTANCE", "warning", "LPS/Instance est un UUID stable par installation", R_HDR),
    (
        "INSI-EMETTEUR",
        "warning",
        "Emetteur égal à l'OU du certificat ou au NameID de l'assertion",
        R_AUTH,
    ),
    ("INSI-CTX", "error", "Id et Temps des contextes présents", R_HDR),
    ("INSI-CTX-ID", "warning", "Id des contextes est un UUID", R_HDR),
    ("INSI-CTX-TEMPS", "warning", "Temps des contextes est un xs:dateTime", R_HDR),
    ("INSI-TRAITS-LEXIQUE", "error", "Traits en majuscules A-Z sans accent ni ligature", R_LEX),
    ("INSI-NOM-ABSENT", "error", "NomNaissance présent", R_WSDL),
    ("INSI-PRENOM-ABSENT", "error", "Au moins un Prenom", R_WSDL),
    ("INSI-PRENOM-STRATEGIE", "info", "Stratégie d'envoi des prénoms", "research insi.md 2.1 / 6"),
    ("INSI-SEXE-ABSENT", "error", "Sexe présent", R_WSDL),
    ("INSI-SEXE", "error", "Sexe M ou F", R_LEX),
    ("INSI-DATE-ABSENTE", "error", "DateNaissance présente", R_WSDL),
    ("INSI-DATE", "error", "DateNaissance au format AAAA-MM-JJ", "INSi_RECSANS_INS.xsd DateLunaire"),
    ("INSI-COG", "error", "LieuNaissance est un code COG à 5 caractères", "INSi_RESULTAT_INS.xsd COG"),
    ("INSI-NIR-ABSENT", "error", "NumIdentifiant présent", R_WSDL),
    ("INSI-NIR", "error", "NumIdentifiant de la forme d'un NIR à 13 caractères", R_WSDL),
    ("INSI-NIR-CLE", "warning", "Clé du NIR correcte", "research insi.md 2.6"),
    ("INSI-RANG-ABSENT", "warning", "RangNaissance présent (lecture carte Vitale)", R_WSDL),
    (
        "INSI-VERIFICATION",
        "info",
        "Opération de vérification (contrat non public)",
        "research insi.md 2.3",
    ),
    ("INSI-ASSERTION-ABSENTE", "error", "saml:Assertion présente en mode CPx", R_AUTH),
    ("INSI-ASSERTION", "error", "Assertion SAML 2.0", "SAML 2.0"),
    ("INSI-ASSERTION-SIGNATURE", "error", "Signature de l'assertion valide", R_AUTH),
    ("INSI-ASSERTION-C14N", "warning", "Canonicalisation exc-c14n", R_AUTH),
    ("INSI-ASSERTION-ALGO", "warning", "Signature rsa-sha256", R_AUTH),
    (
        "INSI-ASSERTION-CERTIFICAT",
        "error",
        "Assertion signée avec le certificat de signature de la CPS",
        R_AUTH,
    ),
    ("INSI-ASSERTION-DATE", "error", "IssueInstant présent et lisible", R_AUTH),
    ("INSI-ASSERTION-EXPIREE", "error", "Assertion dans sa durée de validité", R_AUTH),
    (
        "INSI-ASSERTION-ISSUER",
        "warning",
        "Issuer au format X509SubjectName (DN du certificat CPS)",
        R_AUTH,
    ),
    ("INSI-ASSERTION-NAMEID", "error", "NameID : identifiant national du PS signataire", R_AUTH),
    ("INSI-ASSERTION-ATTRIBUT", "warning", "Attributs attendus de l'assertion PS", R_AUTH),
]
RULES = Rules(Rule(*r) for r in _RULES)

# strict-mode refusal by rule (others: "conformite")
REFUSAL = {"INSI-TRAITS-LEXIQUE": "insi_102", "INSI-NOM-ABSENT": "insi_19"}


class Sink(Protocol):
    def add(
        self, rule: str, severity: Severity, message: str, reference: str = "", location: str = ""
    ) -> None: ...


def nir_key(nir13: str) -> str:
    """The NIR / NIA key: 97 - (N mod 97), Corsica 2A/2B as 19/18 (research 2.6)."""
    digits = nir13.upper()
    if digits[5:7] == "2A":
        digits = digits[:5] + "19" + digits[7:]
    elif digits[5:7] == "2B":
        digits = digits[:5] + "18" + digits[7:]
    return f"{97 - int(digits) % 97:02d}"


def _lexical(sink: Sink, value: str, what: str, pattern: re.Pattern[str], location: str) -> None:
    if pattern.match(value):
        return
    if any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", value)) or re.search(
        "[ÆŒæœ’‘]", value
    ):
        detail = "contient des accents, ligatures (Æ, Œ) ou apostrophes typographiques : translittérer"
    elif value != value.upper():
        detail = "contient des minuscules : le service attend des majuscules A-Z"
    elif value != value.strip() or "  " in value or "''" in value:
        detail = "contient des espaces en tête/fin ou doublés, ou une apostrophe doublée"
    else:
        detail = "contient des caractères ou séparateurs non admis (A-Z, espace, apostrophe, tiret"
        detail += ", double tiret dans le nom)" if what == "nom" else ")"
    sink.add("INSI-TRAITS-LEXIQUE", "error", f"{what} « {value} » {detail}", R_LEX, location)


def check_traits(sink: Sink, traits: Traits, base: str = "/soap:Body/RECSANSVITALE") -> None:
    if not traits.nom:
        sink.add("INSI-NOM-ABSENT", "error", "NomNaissance absent ou vide", R_WSDL, f"{base}/NomNaissance")
    else:
        _lexical(sink, traits.nom, "nom de naissance", NOM_RE, f"{base}/NomNaissance")
    if not traits.prenoms or not any(p.strip() for p in traits.prenoms):
        sink.add("INSI-PRENOM-ABSENT", "error", "aucun Prenom transmis", R_WSDL, f"{base}/Prenom")
    for i, prenom in enumerate(traits.prenoms, 1):
        for token in prenom.split(" ") if prenom.strip() == prenom and "  " not in prenom else [prenom]:
            _lexical(sink, token, "prénom", PRENOM_RE, f"{base}/Prenom[{i}]")
    if len(traits.prenoms) > 1:
        sink.add(
            "INSI-PRENOM-STRATEGIE",
            "info",
            "plusieurs éléments Prenom : la stratégie documentée est d'envoyer le premier prénom de "
            "naissance, puis chaque prénom, puis la liste complète séparée par des espaces dans un seul Prenom",
            "research insi.md 2.1 / 6",
            f"{base}/Prenom",
        )
    if not traits.sexe:
        sink.add("INSI-SEXE-ABSENT", "error", "Sexe absent", R_WSDL, f"{base}/Sexe")
    elif traits.sexe not in ("M", "F"):
        sink.add(
            "INSI-SEXE",
            "error",
            f"Sexe « {traits.sexe} » : seules les valeurs M et F existent",
            R_LEX,
            f"{base}/Sexe",
        )
    if not traits.date_naissance:
        sink.add("INSI-DATE-ABSENTE", "error", "DateNaissance absente", R_WSDL, f"{base}/DateNaissance")
    elif not DATE_RE.match(traits.date_naissance):
        sink.add(
            "INSI-DATE",
            "error",
            f"DateNaissance « {traits.date_naissance} » n'est pas au format AAAA-MM-JJ",
            "INSi_RECSANS_INS.xsd DateLunaire",
            f"{base}/DateNaissance",
        )
    if traits.lieu_naissance is not None and not COG_RE.match(traits.lieu_naissance):
        sink.add(
            "INSI-COG",
            "error",
            f"LieuNaissance « {traits.lieu_naissance} » n'est pas un code COG à 5 caractères",
            "INSi_RESULTAT_INS.xsd COG",
            f"{base}/LieuNaissance",
        )


def _check_nir(sink: Sink, num: str | None, cle: str | None, location: str, required: bool) -> None:
    if not num:
        if required:
            sink.add("INSI-NIR-ABSENT", "error", "NumIdentifiant absent", R_WSDL, location)
        return
    if not NIR_RE.match(num):
        sink.add(
            "INSI-NIR",
            "error",
            f"NumIdentifiant « {num} » n'a pas la forme d'un NIR à 13 caractères",
            R_WSDL,
            location,
        )
    elif cle and cle != nir_key(num):
        sink.add(
            "INSI-NIR-CLE",
            "warning",
            f"la clé {cle} ne correspond pas au NIR {num} (clé attendue {nir_key(num)})",
            "research insi.md 2.6",
            location,
        )


def check_request(sink: Sink, req: Request, content_type: str | None, emitter: str | None = None) -> None:
    """Headers, contexts and body of an INSi request."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype != "application/soap+xml":
        sink.add(
            "INSI-CONTENT-TYPE",
            "error",
            f"Content-Type « {content_type} » : SOAP 1.2 attend {CONTENT_TYPE}",
            "SOAP 1.2 HTTP binding",
            "HTTP Content-Type",
        )
    expected = ACTION_PREFIX + req.operation
    if req.action_header and req.action_header != expected:
        sink.add(
            "INSI-ACTION",
            "error",
            f"action « {req.action_header} » du Content-Type ne correspond pas au corps ({expected})",
            R_WSDL,
            "HTTP Content-Type action",
        )
    if req.wsa_action is None:
        sink.add(
            "INSI-WSA-ACTION-ABSENT",
            "warning",
            "wsa:Action absent (les clients de référence l'envoient)",
            R_HDR,
            "/soap:Header/wsa:Action",
        )
    elif req.wsa_action != expected:
        sink.add(
            "INSI-ACTION",
            "error",
            f"wsa:Action « {req.wsa_action} » ne correspond pas au corps ({expected})",
            R_WSDL,
            "/soap:Header/wsa:Action",
        )
    if not req.message_id:
        sink.add(
            "INSI-MESSAGEID-ABSENT", "error", "wsa:MessageID absent", R_WSDL, "/soap:Header/wsa:MessageID"
        )
    elif not (req.message_id.startswith("uuid:") and UUID_RE.match(req.message_id[5:])):
        sink.add(
            "INSI-MESSAGEID",
            "warning",
            f"wsa:MessageID « {req.message_id} » : forme attendue uuid:<UUID>",
            R_HDR,
            "/soap:Header/wsa:MessageID",
        )
    bam, lps = req.bam, req.lps
    if not bam.present:
        sink.add(
            "INSI-BAM-ABSENT", "error", "ctxbam:ContexteBAM absent", R_WSDL, "/soap:Header/ctxbam:ContexteBAM"
        )
    else:
        loc = "/soap:Header/ctxbam:ContexteBAM"
        if not bam.version:
            sink.add(
                "INSI-BAM",
                "error",
                "ContexteBAM/@Version absent (01_02)",
                "ROOT_ctxbam_CTXBAM_V01_02.xsd",
                loc,
            )
        elif bam.version != "01_02":
            sink.add(
                "INSI-BAM-VERSION",
                "info",
                f"ContexteBAM/@Version « {bam.version} » (01_02 attendu ; la plateforme de test l'accepte)",
                R_HDR,
                loc,
            )
        if bam.nature not in (None, "CTXBAM"):
            sink.add(
                "INSI-BAM",
                "error",
                f"ContexteBAM/@Nature « {bam.nature} » : CTXBAM attendu",
                "ROOT_ctxbam_CTXBAM_V01_02.xsd",
                loc,
            )
        _check_ctx_common(sink, bam.id, bam.temps, loc)
        if not bam.has_couverture:
            sink.add(
                "INSI-BAM",
                "error",
                "ContexteBAM/COUVERTURE absent (obligatoire, éventuellement vide)",
                "ROOT_ctxbam_CTXBAM_V01_02.xsd",
                loc,
            )
    if not lps.present:
        sink.add(
            "INSI-LPS-ABSENT", "error", "ctxlps:ContexteLPS absent", R_WSDL, "/soap:Header/ctxlps:ContexteLPS"
        )
    else:
        loc = "/soap:Header/ctxlps:ContexteLPS"
        if lps.nature not in (None, "CTXLPS"):
            sink.add(
                "INSI-LPS",
                "error",
                f"ContexteLPS/@Nature « {lps.nature} » : CTXLPS attendu",
                "ROOT_ctxlps_CTXLPS_V01_00.xsd",
                loc,
            )
        _check_ctx_common(sink, lps.id, lps.temps, loc)
        if not lps.has_lps:
            sink.add(
                "INSI-LPS", "error", "ContexteLPS/LPS absent", "ROOT_ctxlps_CTXLPS_V01_00.xsd", loc + "/LPS"
            )
        else:
            if not lps.idam:
                sink.add(
                    "INSI-IDAM-ABSENT",
                    "error",
                    "LPS/IDAM absent : numéro d'autorisation CNDA",
                    R_HDR,
                    loc + "/LPS/IDAM",
                )
            elif lps.idam_r != "4":
                sink.add(
                    "INSI-IDAM-R",
                    "warning",
                    f"LPS/IDAM/@R « {lps.idam_r} » : 4 attendu (numéro d'autorisation)",
                    R_HDR,
                    loc + "/LPS/IDAM",
                )
            if not lps.nom or not LPS_NOM_RE.match(lps.nom):
                sink.add(
                    "INSI-LPS-NOM",
                    "warning",
                    f"LPS/Nom « {lps.nom} » : forme attendue urn:lps:<nom>:<version>",
                    R_HDR,
                    loc + "/LPS/Nom",
                )
            if not lps.instance or not UUID_RE.match(lps.instance):
                sink.add(
                    "INSI-LPS-INSTANCE",
                    "warning",
                    f"LPS/Instance « {lps.instance} » : un UUID stable par installation est attendu",
                    R_HDR,
                    loc + "/LPS/Instance",
                )
            if not lps.lps_version:
                sink.add(
                    "INSI-LPS",
                    "error",
                    "LPS/Version absent",
                    "ROOT_ctxlps_CTXLPS_V01_00.xsd",
                    loc + "/LPS/Version",
                )
    if emitter:
        for ctx, name in ((bam, "ContexteBAM"), (lps, "ContexteLPS")):
            if ctx.present and ctx.emetteur is not None and ctx.emetteur != emitter:
                sink.add(
                    "INSI-EMETTEUR",
                    "warning",
                    f"{name}/Emetteur « {ctx.emetteur} » diffère de l'identifiant de l'appelant ({emitter} : "
                    "OU du certificat ou NameID de l'assertion)",
                    "research insi.md 1.4",
                    f"/soap:Header/{name}/Emetteur",
                )
    if req.operation == OP_TRAITS and req.traits is not None:
        check_traits(sink, req.traits)
        if bam.present and (bam.assure_num or bam.beneficiaire_nir):
            sink.add(
                "INSI-BAM-COUVERTURE",
                "info",
                "COUVERTURE renseignée pour une recherche par traits (vide attendu)",
                R_HDR,
                "/soap:Header/ctxbam:ContexteBAM/COUVERTURE",
            )
    elif req.operation == OP_VITALE and req.carte is not None:
        base = "/soap:Body/RECVITALE"
        carte = req.carte
        od = carte.matricule_od
        _check_nir(sink, od.num if od else None, od.cle if od else None, base + "/MatriculeOD", required=True)
        if carte.matricule_individu is not None:
            mi = carte.matricule_individu
            _check_nir(sink, mi.num, mi.cle, base + "/MatriculeIndividu", required=False)
        if not carte.date_naissance:
            sink.add("INSI-DATE-ABSENTE", "error", "DateNaissance absente", R_WSDL, base + "/DateNaissance")
        elif not DATE_RE.match(carte.date_naissance):
            sink.add(
                "INSI-DATE",
                "error",
                f"DateNaissance « {carte.date_naissance} » n'est pas au format AAAA-MM-JJ",
                R_WSDL,
                base + "/DateNaissance",
            )
        if not carte.rang:
            sink.add(
                "INSI-RANG-ABSENT",
                "warning",
                "RangNaissance absent (rang gémellaire lu sur la carte)",
                R_WSDL,
                base + "/RangNaissance",
            )
    elif req.operation == OP_VERIF:
        sink.add(
            "INSI-VERIFICATION",
            "info",
            "opération de vérification : contrat non public, forme déduite (partielle)",
            "research insi.md 2.3",
            "/soap:Body",
        )


def _check_ctx_common(sink: Sink, ident: str | None, temps: str | None, loc: str) -> None:
    if not ident:
        sink.add("INSI-CTX", "error", "Id absent", R_HDR, loc + "/Id")
    elif not UUID_RE.match(ident):
        sink.add("INSI-CTX-ID", "warning", f"Id « {ident} » n'est pas un UUID", R_HDR, loc + "/Id")
    if not temps:
        sink.add("INSI-CTX", "error", "Temps absent", R_HDR, loc + "/Temps")
    elif not DATETIME_RE.match(temps):
        sink.add(
            "INSI-CTX-TEMPS", "warning", f"Temps « {temps} » n'est pas un xs:dateTime", R_HDR, loc + "/Temps"
        )


def refusal(findings: Sequence[Finding]) -> tuple[str, str]:
    """(error name, text) with which strict mode refuses a request with error findings."""
    errors = [f for f in findings if f.severity == "error"]
    for f in errors:
        if f.rule in REFUSAL:
            return REFUSAL[f.rule], ""
    first = errors[0]
    return "conformite", f"{first.rule} : {first.message}"
