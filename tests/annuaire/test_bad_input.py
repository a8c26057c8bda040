"""Every "Bad input" of issue 17, the gateway's answers (key, rate limit, incident presets) and the
error catalogue: each refusal is an OperationOutcome (or the gateway's own body), never a 500,
and loses nothing already stored (a next link handed out before keeps working)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

import annuaire.errors
from annuaire.checks import RULES
from annuaire.errors import ERRORS
from tests.annuaire.conftest import DOCTOR, Api, next_link

PACKAGE = Path(annuaire.errors.__file__).parent


def _outcome(r: httpx.Response, status: int, diagnostics: str = "") -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/fhir+json;charset=UTF-8"
    data = r.json()
    assert data["resourceType"] == "OperationOutcome" and data["issue"][0]["severity"] == "error"
    text = str(data["issue"][0]["diagnostics"])
    assert diagnostics in text, text
    return text


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", ""])
def test_malformed_count(api: Api, value: str) -> None:
    _outcome(
        api.get(f"/fhir/v2/Practitioner?_count={value}"),
        400,
        "The _count parameter must be in the FHIR format",
    )


def test_count_above_1000_is_400_or_the_bad_gateway_preset(api: Api) -> None:
    _outcome(api.get("/fhir/v2/Practitioner?_count=1001"), 400, "limited to 1000")
    assert api.bundle("/fhir/v2/Practitioner?_count=1000")["type"] == "searchset"
    api.options(gateway="large-count")
    r = api.get("/fhir/v2/Practitioner?_count=20000")
    assert (r.status_code, r.content) == (502, b"")
    assert api.get("/fhir/v2/Practitioner?_count=10").status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [("lt2025-01-01", "Prefix not supported: lt"), ("xx2025-01-01", "Invalid date/time format"),
     ("ge2025-13-45", "Invalid date/time format"), ("ge20250101", "Invalid date/time format")],
)  # fmt: skip
def test_bad_last_updated(api: Api, value: str, message: str) -> None:
    _outcome(api.get(f"/fhir/v2/Organization?_lastUpdated={value}"), 400, message)


@pytest.mark.parametrize(
    "param", ["name:foo=x", "identifier:contains=1", "active:exact=true", "_lastUpdated:missing=true"]
)
def test_unknown_modifier(api: Api, param: str) -> None:
    _outcome(api.get(f"/fhir/v2/Practitioner?{param}"), 400, "Modifier")


@pytest.mark.parametrize(
    "query", ["name=a&name=b", "_count=5&_count=6", "mailbox-mss:exact=a&mailbox-mss:exact=b"]
)
def test_repeated_parameter(api: Api, query: str) -> None:
    _outcome(api.get(f"/fhir/v2/Practitioner?{query}"), 400, "is repeated")


@pytest.mark.parametrize("param", ["mailbox-mss-type", "_summary", "_type", "_sort", "type-smartcard"])
def test_unknown_parameters(api: Api, param: str) -> None:
    _outcome(
        api.get(f"/fhir/v2/Practitioner?{param}=x"),
        400,
        f"Parameter {param} not found for resource Practitioner",
    )


def test_unknown_include_and_type(api: Api) -> None:
    _outcome(
        api.get("/fhir/v2/Practitioner?_include=Practitioner:organization"),
        400,
        "not found for resource Practitioner",
    )
    text = _outcome(api.get("/fhir/v2/PractitiXXXner"), 404)
    assert text == (
        "HAPI-0302: Unknown resource type 'PractitiXXXner' - Server knows how to handle: "
        "[Practitioner, PractitionerRole, Device, Organization, HealthcareService]"
    )
    assert api.get("/fhir/v2/PractitiXXXner").json()["issue"][0]["code"] == "processing"
    _outcome(
        api.get("/fhir/v2/Practitioner/003-0000000-0000000"),
        404,
        "Resource not found with id: 003-0000000-0000000",
    )


def test_forged_and_expired_page_ids_are_gone(api: Api) -> None:
    first = api.bundle("/fhir/v2/Practitioner?_count=10")
    link = next_link(first)
    assert link is not None
    _outcome(api.get("/fhir/v2/_page?id=forged-id"), 410, "unknown or has expired")
    _outcome(api.get(link.replace("id=", "id=x")), 410)
    _outcome(
        api.get("/fhir/v1?_getpages=00000000-0000-0000-0000-000000000000&_pageId=abc"),
        410,
        "does not exist and may have expired",
    )
    # the refusals lost nothing: the real link still works, then expires on the tenant's clock
    assert api.get(link).status_code == 200
    api.console.post(
        "/_sandbox/clock/advance", params={"tenant": api.tenant}, json={"seconds": 3601}
    ).raise_for_status()
    _outcome(api.get(link), 410)
    other = httpx.Client(
        verify=str(api.ca), headers={"ESANTE-API-KEY": api.key, "X-Sandbox-Tenant": "default"}
    )
    assert other.get(link).status_code == 401  # a key of this tenant is unknown elsewhere


def test_body_on_get(api: Api) -> None:
    r = api.https.request(
        "GET", "/fhir/v2/Practitioner", content=b"identifier=1", headers={"Content-Type": "text/plain"}
    )
    assert _outcome(r, 400) == "This endpoint doens't support body"  # sic, the ANS server's message


def test_ten_kilobyte_query_string(api: Api) -> None:
    r = api.get("/fhir/v2/Practitioner?name=" + "A" * 10240)
    assert r.status_code == 414 and "414 Request-URI Too Large" in r.text
    assert api.get("/fhir/v2/Practitioner?name=" + "A" * 7000).status_code == 200


def test_api_key_required(api: Api) -> None:
    bare = httpx.Client(verify=str(api.ca))
    missing = bare.get(api.base + "/Practitioner")
    assert (missing.status_code, missing.json()) == (
        401,
        {"message": "Unauthorized", "http_status_code": 401},
    )
    wrong = bare.get(api.base + "/Practitioner", headers={"ESANTE-API-KEY": "nope"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["message"]
    api.control("DELETE", f"/keys/{api.key}").raise_for_status()
    assert api.get("/fhir/v2/metadata").status_code == 401
    assert bare.get(api.url("/listeblanchemssante.xml")).status_code == 200  # files need no key


def test_rate_limit_429_with_retry_after(api: Api) -> None:
    api.options(rate_limit=3)
    statuses = []
    deadline = time.monotonic() + 5
    while 429 not in statuses and time.monotonic() < deadline:
        r = api.get("/fhir/v2/metadata")
        statuses.append(r.status_code)
    assert 429 in statuses and statuses.count(200) >= 3
    assert r.headers["retry-after"] == "1" and r.headers["x-rate-limit-limit"] == "3"
    assert r.json() == {
        "message": "Rate limit exceeded ! You reach the limit of 3 requests per 1 seconds",
        "http_status_code": 429,
    }
    api.options(rate_limit=0)
    assert all(api.get("/fhir/v2/metadata").status_code == 200 for _ in range(10))


def test_gateway_incident_presets(api: Api) -> None:
    api.options(gateway="down")
    r = api.get(f"/fhir/v2/Practitioner?identifier={DOCTOR}")
    assert r.status_code == 404 and r.json()["message"] == "No context-path matches the request URI."
    api.options(gateway="invalid-url")
    r = api.get("/fhir/v2/Practitioner")
    assert (r.status_code, r.text) == (502, "Request Failed: Invalid URL format")
    api.options(gateway="timeout")
    r = api.get("/fhir/v2/Practitioner")
    assert (r.status_code, r.content, r.headers["content-length"]) == (504, b"", "0")
    assert api.control("PUT", "/options", json={"gateway": "nope"}).status_code == 400
    api.options(gateway="none")
    assert api.get(f"/fhir/v2/Practitioner?identifier={DOCTOR}").status_code == 200


def test_fault_rules_name_catalogue_entries(api: Api) -> None:
    rule = {
        "service": "annuaire",
        "operation": "search Practitioner",
        "persona": DOCTOR,
        "error": "gateway_timeout",
    }
    api.console.post("/_sandbox/faults", params={"tenant": api.tenant}, json=rule).raise_for_status()
    assert api.get(f"/fhir/v2/Practitioner?identifier={DOCTOR}").status_code == 504
    assert api.get("/fhir/v2/Practitioner?identifier=10100000024").status_code == 200


def test_every_raised_error_and_finding_is_catalogued() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py"))
    raised = set(re.findall(r'ERRORS\.fail\(\s*"([a-z_]+)"', source)) | set(
        re.findall(r'QueryError\(\s*"([a-z_]+)"', source)
    )
    raised |= set(re.findall(r'"(gateway_[a-z_]+)"', source))
    assert raised and raised <= set(ERRORS), raised - set(ERRORS)
    rules = set(re.findall(r'findings\.add\(\s*"([A-Z0-9-]+)"', source)) | set(
        re.findall(r'rule = "([A-Z0-9-]+)"', source)
    )
    rules |= set(re.findall(r'"(ANN-[A-Z0-9-]+)" if', source))
    assert rules and rules <= set(RULES), rules - set(RULES)
