"""The CDA engine's findings catalogue (merged by the kernel into every service's, see
COMPONENT_RULES in mocks/kernel.py: a DMP or MSSanté journal entry carries these findings).

Schematron asserts are too many to be entries: every failed assert of the structuration minimale
is a CDA-STRUCMIN finding, every one of a volet a CDA-VOLET finding, with the pattern and assert
id in the message and the assert's @role giving the severity. Our own rules (pipeline step 5,
research/cda-segur.md §A.7) each have their id.
"""

from __future__ import annotations

from mocks.findings import Rule, Rules

IG_CORE = "ANS IG-document-core, ressourcesCDA-struc-gen (corps non structuré)"
XDS_FR = "CI-SIS, volet partage de documents de santé (métadonnées XDS issues de l'en-tête CDA)"

RULES = Rules(
    [
        Rule("CDA-PARSE", "error", "Document illisible : XML mal formé, racine inattendue, DOCTYPE, taille", "CDA R2"),
        Rule("CDA-XSD", "error", "Conformité au schéma CDA étendu (CDA_extended.xsd)", "HL7 CDA R2, infrastructure/cda/CDA_extended.xsd"),
        Rule("CDA-STRUCMIN", "error", "Structuration minimale des documents de santé (schématron ANS)", "ASIP-STRUCT-MIN-StrucMin.sch"),
        Rule("CDA-VOLET", "error", "Conformité au volet du CI-SIS du document (schématron ANS)", "schematrons/CI-SIS_<volet>.sch"),
        Rule("CDA-ENGINE", "info", "État du moteur de vérification CDA (données absentes, volet indisponible, erreur)", "mocks/cda"),
        Rule("CDA-INS-OID", "error", "Famille d'OID de l'INS cohérente avec l'environnement (test .10/.11, production .8/.9)", "Référentiel INS, OID 1.2.250.1.213.1.4.8 à .11"),
        Rule("CDA-INS-NOT-QUALIFIED", "error", "INS transmis sans identité qualifiée par l'INSi (règle 28)", "Référentiel INS, exigence INS.37 (règle 28)"),
        Rule("CDA-N1-MEDIATYPE", "error", "Corps non structuré : mediaType application/pdf ou text/plain", IG_CORE),
        Rule("CDA-N1-REPRESENTATION", "error", "Corps non structuré : representation B64", IG_CORE),
        Rule("CDA-N1-BASE64", "error", "Corps non structuré : contenu base64 décodable", IG_CORE),
        Rule("CDA-N1-PDF", "error", "Corps non structuré : le contenu déclaré PDF est un PDF", IG_CORE),
        Rule("CDA-N1-PDFA", "warning", "Corps non structuré : PDF déclaré PDF/A-1 (XMP pdfaid)", "DSR LGC vague 1, exigence DOC.01"),
        Rule("CDA-N1-TWIN-PDF", "error", "PDF joint identique au PDF encapsulé dans le CDA N1", "FAQ ANS industriels : PDF joint et CDA R2 N1"),
        Rule("CDA-RECIPIENT", "warning", "Chaque destinataire figure dans informationRecipient", "DSR LGC vague 1, exigence DOC.05"),
        Rule("CDA-XDS-TYPECODE", "error", "typeCode XDS = code du document CDA", XDS_FR),
        Rule("CDA-XDS-FORMATCODE", "error", "formatCode XDS cohérent avec le corps du document", XDS_FR),
        Rule("CDA-XDS-PRACTICESETTING", "error", "practiceSettingCode XDS = standardIndustryClassCode du CDA", XDS_FR),
        Rule("CDA-XDS-FACILITY", "error", "healthcareFacilityTypeCode XDS = healthCareFacility/code du CDA", XDS_FR),
        Rule("CDA-XDS-CONFIDENTIALITY", "error", "confidentialityCode XDS contient celui du CDA", XDS_FR),
        Rule("CDA-XDS-LANGUAGE", "error", "languageCode XDS = languageCode du CDA", XDS_FR),
        Rule("CDA-XDS-CREATIONTIME", "error", "creationTime XDS = effectiveTime du CDA", XDS_FR),
        Rule("CDA-XDS-SERVICETIME", "error", "serviceStartTime/serviceStopTime XDS = serviceEvent/effectiveTime du CDA", XDS_FR),
        Rule("CDA-XDS-UNIQUEID", "error", "uniqueId XDS = id du document CDA", XDS_FR),
        Rule("CDA-XDS-PATIENTID", "error", "patientId XDS = INS du patient dans le CDA", XDS_FR),
        Rule("CDA-XDS-HASH", "error", "hash et size XDS = SHA-1 et taille du document", "IHE ITI TF-3 4.2.3.2 (hash, size)"),
    ]
)  # fmt: skip
