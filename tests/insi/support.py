"""Test material for INSi: the real platform's answers (research insi.md 2.5 / 3.1, captured live by
padoa/tlsi-ins), the public test identities (research section 4), request builders, XSD validation.

The live answers below are the real service's bytes: our output is compared with them, never with
itself.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import xmlschema
from lxml import etree

from insi.matching import HistoricIns, Identity

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
CONTRACT = SPECS / "insi" / "contract"
WSDL = CONTRACT / "DESIR_ICIR_EXP_1.5.0.wsdl"
CNDA = SPECS / "insi" / "cnda-response-files"

_ENV = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    '<env:Body xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
    '<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat" xmlns:ns0="http://www.cnamts.fr/INSiRecVit" '
    'xmlns:ns1="http://www.cnamts.fr/INSiRecSans">'
)
_END = "</RESULTAT></env:Body></soap:Envelope>"

# padoa/tlsi-ins src/ins/fixtures/persons/adrtrois-toussaint.fixture.ts (live, 2026)
LIVE_ADRTROIS_TOUSSAINT = (
    _ENV + "<CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR><INDIVIDU><INSACTIF><IdIndividu>"
    "<NumIdentifiant>160012B020777</NumIdentifiant><Cle>13</Cle></IdIndividu><OID>1.2.250.1.213.1.4.8</OID>"
    "</INSACTIF><TIQ><NomNaissance>ADRTROIS</NomNaissance><ListePrenom>TOUSSAINT</ListePrenom><Sexe>M</Sexe>"
    "<DateNaissance>1960-01-01</DateNaissance><LieuNaissance>2B020</LieuNaissance></TIQ></INDIVIDU>" + _END
)
# padoa/tlsi-ins src/ins/fixtures/insi-client.fixture.ts getCR02XmlResponse (DE VINCI LEONARDO)
LIVE_CR02 = _ENV + "<CR><CodeCR>02</CodeCR><LibelleCR>Plusieurs identites trouvees</LibelleCR></CR>" + _END
# padoa/tlsi-ins src/ins/fixtures/persons/tchitchi-ola-catarina.fixture.ts (live)
LIVE_TCHITCHI_CATARINA = (
    _ENV + "<CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR><INDIVIDU><INSACTIF><IdIndividu>"
    "<NumIdentifiant>2360663220836</NumIdentifiant><Cle>56</Cle></IdIndividu><OID>1.2.250.1.213.1.4.8</OID>"
    "</INSACTIF><TIQ><NomNaissance>TCHITCHI</NomNaissance><ListePrenom>CATARINA BELLA</ListePrenom>"
    "<Sexe>F</Sexe><DateNaissance>1936-06-21</DateNaissance><LieuNaissance>63220</LieuNaissance></TIQ>"
    "</INDIVIDU>" + _END
)
# padoa/tlsi-ins src/ins/fixtures/persons/pierre-alain.fixture.ts getPierreAlainLiveXmlResponse
LIVE_ECETINSI_PIERRE_ALAIN = (
    _ENV + "<CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR><INDIVIDU><INSACTIF><IdIndividu>"
    "<NumIdentifiant>1090763220834</NumIdentifiant><Cle>89</Cle></IdIndividu><OID>1.2.250.1.213.1.4.8</OID>"
    "</INSACTIF><INSHISTO><IdIndividu><NumIdentifiant>2090763220834</NumIdentifiant><Cle>39</Cle></IdIndividu>"
    "<OID>1.2.250.1.213.1.4.8</OID><DateDeb>2019-03-01</DateDeb><DateFin>2019-02-28</DateFin></INSHISTO>"
    "<TIQ><NomNaissance>ECETINSI</NomNaissance><ListePrenom>PIERRE-ALAIN MURIEL FLORIANT</ListePrenom>"
    "<Sexe>M</Sexe><DateNaissance>2009-07-14</DateNaissance><LieuNaissance>63220</LieuNaissance></TIQ>"
    "</INDIVIDU>" + _END
)
FAKE_IDAM_MESSAGE_ID = "uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f"
# padoa/tlsi-ins src/ins/fixtures/service-errors/siram_100-desir_500-fake-idam.fixtures.ts (live, 2026)
LIVE_FAKE_IDAM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    '<env:Body xmlns:env="http://www.w3.org/2003/05/soap-envelope"><soap:Fault><soap:Code><soap:Value>soap:Sender'
    "</soap:Value><soap:Subcode><soap:Value>soap:siram_100</soap:Value></soap:Subcode></soap:Code><soap:Reason>"
    "<soap:Text xml:lang=\"fr\">L'accès par ce progiciel au service n'est pas autorisé. Contactez l'éditeur du "
    "progiciel ou votre responsable informatique.</soap:Text></soap:Reason><soap:Detail><siram:Erreur "
    'code="desir_550" messageID="uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f" severite="erreur" '
    'xmlns:siram="urn:siram">Numéro d\'autorisation du logiciel inconnu.</siram:Erreur></soap:Detail>'
    "</soap:Fault></env:Body></soap:Envelope>"
)
# padoa/tlsi-ins history (commit 2b2d41e, 2023): the application fault of the older era
LEGACY_INSI_102 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    '<env:Body xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
    '<S:Fault xmlns:ns4="http://schemas.xmlsoap.org/soap/envelope/"><S:Code><S:Value>S:Receiver</S:Value>'
    '<S:Subcode><S:Value>S:siram_40</S:Value></S:Subcode></S:Code><S:Reason><S:Text xml:lang="en">Le service '
    "est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement. Si le problème persiste, "
    "contactez l'éditeur du progiciel ou votre responsable informatique.</S:Text></S:Reason><S:Detail>"
    '<siram:Erreur severite="fatal" code="insi_102" xmlns:siram="urn:siram">L\'appel au service de recherche '
    "avec les traits d'identité renvoie une erreur technique.</siram:Erreur></S:Detail></S:Fault></env:Body>"
    "</soap:Envelope>"
)
# padoa/tlsi-ins commit 2b2d41e (2023-10): the gateway fault, live format
LIVE_DESIR_1020 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
    '<env:Body xmlns:env="http://www.w3.org/2003/05/soap-envelope"><soap:Fault><soap:Code><soap:Value>soap:Sender'
    "</soap:Value><soap:Subcode><soap:Value>soap:siram_40</soap:Value></soap:Subcode></soap:Code><soap:Reason>"
    '<soap:Text xml:lang="fr">Le service est temporairement inaccessible. Veuillez renouveler votre demande '
    "ultérieurement. Si le problème persiste, contactez l'éditeur du progiciel ou votre responsable "
    'informatique.</soap:Text></soap:Reason><soap:Detail><siram:Erreur code="desir_1020" severite="fatale" '
    'messageID="uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f" xmlns:siram="urn:siram">Le service appelé est '
    "temporairement indisponible</siram:Erreur></soap:Detail></soap:Fault></env:Body></soap:Envelope>"
)


def _i(
    matricule: str, cle: str, nom: str, prenoms: str, sexe: str, dob: str, cog: str | None, **kw: object
) -> Identity:
    return Identity(matricule, cle, nom, tuple(prenoms.split(" ")), sexe, dob, cog, **kw)  # type: ignore[arg-type]


# research insi.md section 4 (public traces of the real test platform); DE VINCI LEONARDO's second
# identity (the other half of the live CR02) is not public: any other birthplace reproduces it.
GOLDEN = [
    _i("160012B020777", "13", "ADRTROIS", "TOUSSAINT", "M", "1960-01-01", "2B020", cards=("160012B020777",)),
    _i("297022A020778", "78", "ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A020"),
    _i("2751263220749", "74", "ADRUN", "ZOE", "F", "1975-12-31", "63220"),
    _i("2360663220836", "56", "TCHITCHI", "CATARINA BELLA", "F", "1936-06-21", "63220"),
    _i("1140263220833", "56", "DE VINCI", "LEONARDO PIERO", "M", "2014-02-01", "63220"),
    _i("1140299134001", "71", "DE VINCI", "LEONARDO", "M", "2014-02-01", "99134"),
    _i("1010663220754", "60", "D'ARTAGNAN DE L'HERAULT", "PIERRE-ALAIN GUNTHER", "M", "2001-06-17", "63220"),
    _i(
        "1090763220834",
        "89",
        "ECETINSI",
        "PIERRE-ALAIN MURIEL FLORIANT",
        "M",
        "2009-07-14",
        "63220",
        histo=(HistoricIns("2090763220834", "39", "NIR", "2019-03-01", "2019-02-28"),),
    ),
    _i("1090763220888", "35", "PROVISOIRE", "MATRICULE", "M", "2009-07-01", "63220", kind="NIA"),
]

# a magic persona as the population defines them (an identity that always answers an error)
MAGIC = [_i("1850575056999", "21", "PANNE", "TECHNIQUE", "M", "1985-05-01", "75056", outcome="insi_102")]


def request_xml(
    nom: str | None = "ADRTROIS",
    prenoms: tuple[str, ...] = ("TOUSSAINT",),
    sexe: str | None = "M",
    date: str | None = "1960-01-01",
    lieu: str | None = None,
    *,
    idam: str = "TESTSGIE0000",
    message_id: str | None = None,
    emetteur: str = "medecin@yopmail.com",
    lps_nom: str = "urn:lps:SEGURTEST:1.0.0",
    security: str = "",
) -> bytes:
    """A RECSANSVITALE request shaped like padoa's getCNDAValidationXmlRequest (node-soap)."""
    mid = message_id if message_id is not None else f"uuid:{uuid.uuid4()}"
    body = "".join(
        [
            f"<insi_recsans_ins:NomNaissance>{nom}</insi_recsans_ins:NomNaissance>"
            if nom is not None
            else "",
            *[f"<insi_recsans_ins:Prenom>{p}</insi_recsans_ins:Prenom>" for p in prenoms],
            f"<insi_recsans_ins:Sexe>{sexe}</insi_recsans_ins:Sexe>" if sexe is not None else "",
            f"<insi_recsans_ins:DateNaissance>{date}</insi_recsans_ins:DateNaissance>"
            if date is not None
            else "",
            f"<insi_recsans_ins:LieuNaissance>{lieu}</insi_recsans_ins:LieuNaissance>"
            if lieu is not None
            else "",
        ]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:ctxbam="urn:siram:bam:ctxbam" xmlns:ctxlps="urn:siram:lps:ctxlps"><soap:Header>'
        f'<ctxbam:ContexteBAM Version="01_02"><ctxbam:Id>{uuid.uuid4()}</ctxbam:Id>'
        f"<ctxbam:Temps>2026-01-01T10:00:00.000Z</ctxbam:Temps><ctxbam:Emetteur>{emetteur}</ctxbam:Emetteur>"
        '<ctxbam:COUVERTURE></ctxbam:COUVERTURE></ctxbam:ContexteBAM> <ctxlps:ContexteLPS Nature="CTXLPS" '
        f'Version="01_00"><ctxlps:Id>{uuid.uuid4()}</ctxlps:Id><ctxlps:Temps>2026-01-01T10:00:00.000Z</ctxlps:Temps>'
        f'<ctxlps:Emetteur>{emetteur}</ctxlps:Emetteur><ctxlps:LPS><ctxlps:IDAM R="4">{idam}</ctxlps:IDAM>'
        "<ctxlps:Version>1.0.0</ctxlps:Version><ctxlps:Instance>b3549edd-4ae9-472a-b26f-fd2fb4ef397f</ctxlps:Instance>"
        f"<ctxlps:Nom>{lps_nom}</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS> "
        '<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite</wsa:Action> "
        f'<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">{mid}</wsa:MessageID>'
        f"{security}</soap:Header><soap:Body>"
        '<insi_recsans_ins:RECSANSVITALE xmlns:insi_recsans_ins="http://www.cnamts.fr/INSiRecSans">'
        f"{body}</insi_recsans_ins:RECSANSVITALE></soap:Body></soap:Envelope>"
    ).encode()


_SCHEMAS: dict[str, xmlschema.XMLSchema] = {}


def schema(name: str) -> xmlschema.XMLSchema:
    if name not in _SCHEMAS:
        path = {
            "resultat": CONTRACT / "xsd" / "ServiceIdentiteCertifiee" / "INSi_RESULTAT_INS.xsd",
            "fault": CONTRACT / "xsd" / "schema_faultSOAP_V01_01.xsd",
        }[name]
        _SCHEMAS[name] = xmlschema.XMLSchema(str(path))
    return _SCHEMAS[name]


SOAP = "http://www.w3.org/2003/05/soap-envelope"


def validate_answer(data: bytes) -> etree._Element:
    """Validate a SOAP answer's payload against the official XSDs; return the payload element."""
    root = etree.fromstring(data)
    assert root.tag == f"{{{SOAP}}}Envelope"
    body = root.find(f"{{{SOAP}}}Body")
    assert body is not None and len(body) == 1
    payload = body[0]
    if payload.tag == f"{{{SOAP}}}Fault":
        erreur = payload.find(f"{{{SOAP}}}Detail/{{urn:siram}}Erreur")
        assert erreur is not None
        schema("fault").validate(etree.tostring(erreur).decode())
        return erreur
    schema("resultat").validate(etree.tostring(payload).decode())
    return payload
