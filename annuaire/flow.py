"""The Annuaire request pipeline, behind the kernel harness (tenant, body cap, journal):

    request line too long (414, the front proxy's page)
    files       /listeblanchemssante.xml, /checksum, /AC/Chaine_de_certification-IGC-Sante.p7b,
                the extraction ZIP — free access, no key (research mssante.md 1.2, 1.7)
    FHIR        /fhir/v2 (API v2), /fhir/v1 and bare /fhir (API v1 aliases):
        API key -> key's tenant -> gateway preset (down, invalid-url, timeout) -> key check (401)
        -> rate limit (429) -> method (405) -> body on GET (400) -> route:
        metadata | _page?id= (v2) / ?_getpages=&_pageId= (v1) | [type] and [type]/_search (GET, POST
        form) | [type]/[id]  -> findings (annuaire.checks) -> fault rules -> the answer (annuaire.wire)

Operation names (journal, fault rules): `OPERATIONS` in annuaire.service.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from annuaire import checks, extraction, listeblanche, wire
from annuaire.auth import Caller, Keys, RateLimit
from annuaire.capability import capability_statement
from annuaire.directory import Directory, Record, directory_for, encode, strip_mailboxes
from annuaire.errors import ERRORS
from annuaire.paging import Gone, Pages
from annuaire.params import KNOWN_ORDER, PARAMS
from annuaire.query import Query, QueryError, parse
from annuaire.rules import Options, Page, Results, page, wants_total
from mocks.clock import iso
from mocks.harness import Refused, Reply, request_body

if TYPE_CHECKING:
    from mocks.kernel import Exchange, Sandbox

MAX_URI = 8192  # [inferred] nginx's default large_client_header_buffers (8 kB)
CA_CHAIN_PATH = "/AC/Chaine_de_certification-IGC-Sante.p7b"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Call:
    """One FHIR call once routed: its API version and where its links point."""

    version: str  # v1 | v2
    public: str  # scheme://host:port + tenant prefix
    environ: dict[str, Any]
    options: dict[str, Any]

    @property
    def base(self) -> str:
        return f"{self.public}/fhir/{self.version}"


class Flow:
    def __init__(self, sandbox: Sandbox, pages: Pages, keys: Keys, options: Options):
        self.sandbox = sandbox
        self.pages = pages
        self.keys = keys
        self.options = options
        self.rate = RateLimit()
        self.results = Results()
        self.extraction = extraction.Cache()
        self._files: dict[tuple[str, ...], bytes] = {}
        self._lock = threading.Lock()

    # -- entry ------------------------------------------------------------------------------------
    def handle(self, ex: Exchange, environ: dict[str, Any]) -> Reply:
        path = environ.get("PATH_INFO") or "/"
        query_string = environ.get("QUERY_STRING") or ""
        if len(path) + len(query_string) + 1 > MAX_URI:
            ex.operation = "refused"
            ERRORS.fail("uri_too_long")
        if path == "/fhir" or path.startswith("/fhir/"):
            return self.fhir(ex, environ, path, query_string)
        return self.file(ex, environ, path)

    def directory(self) -> Directory:
        return directory_for(self.sandbox)

    def public(self, environ: dict[str, Any]) -> str:
        return self.sandbox.url("annuaire") + (environ.get("SCRIPT_NAME") or "")

    # -- files (no API key) -----------------------------------------------------------------------
    def file(self, ex: Exchange, environ: dict[str, Any], path: str) -> Reply:
        names = {
            listeblanche.PATH: "listeblanche",
            listeblanche.CHECKSUM_PATH: "checksum",
            CA_CHAIN_PATH: "ca-chain",
            extraction.PATH: "extraction",
        }
        if path not in names:
            ex.operation = "unknown path"
            ERRORS.fail("file_not_found")
        ex.operation = names[path]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            raise Refused(405, "Method Not Allowed", [("Allow", "GET")])
        ex.fault()
        reference = date.fromisoformat(str(self.sandbox.config["reference_date"]))
        population = self.sandbox.population
        if ex.operation == "extraction":
            data = self.extraction.get(population.key, population, reference)
            name = "Extraction_Correspondance_MSSante.zip"
            headers = [("Content-Disposition", f'attachment; filename="{name}"')]
            ex.response_body = f"<ZIP {len(data)} bytes: {extraction.file_name(reference)}>"
            return Reply(200, data, "application/zip", headers)
        if ex.operation == "ca-chain":
            chain = self._ca_chain()
            ex.response_body = f"<PKCS#7 {len(chain)} bytes>"
            return Reply(200, chain, "application/x-pkcs7-certificates")
        document = self._liste_blanche(reference)
        if ex.operation == "checksum":
            return Reply(200, listeblanche.checksum(document), "text/plain")
        return Reply(200, document, "application/xml")

    def _liste_blanche(self, reference: date) -> bytes:
        real = str(self.sandbox.config.get("annuaire_listeblanche_real") or "")
        key = ("lb", self.sandbox.population.key, real)
        with self._lock:
            if key not in self._files:
                server = self.sandbox.pki.server_credentials(self.sandbox.config.hostnames)
                dn = server.subject
                domains = listeblanche.sandbox_domains(self.sandbox.population)
                extra = listeblanche.real_domains(real) if real else []
                self._files[key] = listeblanche.document(domains, dn, reference, extra)
            return self._files[key]

    def _ca_chain(self) -> bytes:
        from mocks.pki.export import p7b
        from mocks.pki.names import CAS

        pki = self.sandbox.pki
        return p7b([pki.ca(short).cert for short in CAS])

    # -- FHIR -------------------------------------------------------------------------------------
    def fhir(self, ex: Exchange, environ: dict[str, Any], path: str, query_string: str) -> Reply:
        rest = path[len("/fhir") :]
        version = "v1"
        for prefix in ("/v2", "/v1"):
            if rest == prefix or rest.startswith(prefix + "/"):
                version, rest = prefix[1:], rest[len(prefix) :]
                break
        ex.details["api"] = version
        ex.operation = "fhir"
        caller: Caller | str | None = self.keys.identify(environ)
        hint = environ.get("segur.tenant_hint")
        if isinstance(caller, Caller) and caller.tenant is not None:
            owner: str = caller.tenant
            if hint and hint != owner:
                caller = "invalid"  # the key belongs to another tenant
            else:
                ex.tenant = owner
        options = self.options.get(ex.tenant)
        preset = options.get("gateway")
        if preset in ("down", "invalid-url", "timeout"):
            ERRORS.fail(
                {
                    "down": "gateway_no_route",
                    "invalid-url": "gateway_invalid_url",
                    "timeout": "gateway_timeout",
                }[preset]
            )
        if not isinstance(caller, Caller):
            ex.findings.add(
                "ANN-API-KEY",
                "error",
                "en-tête ESANTE-API-KEY absent" if caller is None else "clé d'API inconnue",
                location="ESANTE-API-KEY",
            )
            ERRORS.fail("api_key_missing" if caller is None else "api_key_invalid")
        ex.caller = caller.label or caller.key
        limit = self.options.rate_limit(ex.tenant, options)
        if limit > 0:
            allowed, remaining, reset = self.rate.hit(caller.key, limit)
            if not allowed:
                ex.findings.add(
                    "ANN-RATE",
                    "warning",
                    f"plus de {limit} requêtes par seconde avec cette clé",
                    location="ESANTE-API-KEY",
                )
                headers = [
                    ("Retry-After", str(max(1, math.ceil(reset)))),
                    ("X-Rate-Limit-Limit", str(limit)),
                    ("X-Rate-Limit-Remaining", "0"),
                    ("X-Rate-Limit-Reset", str(int((time.time() + reset) * 1000))),
                ]
                message = f"Rate limit exceeded ! You reach the limit of {limit} requests per 1 seconds"
                ERRORS.fail("rate_limited", message, headers=headers)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            ex.operation = f"{method.lower()} refused"
            ex.findings.add(
                "ANN-METHOD",
                "error",
                f"{method} : l'API n'accepte que GET et POST [type]/_search",
                location="method",
            )
            ERRORS.fail(
                "method_not_allowed",
                f"HTTP method {method} not allowed: the API is read-only",
                headers=[("Allow", "GET, POST")],
            )
        body = request_body(environ)
        if method == "GET" and body:
            ex.findings.add("ANN-BODY", "error", f"corps de {len(body)} octets sur un GET", location="body")
            ERRORS.fail("body_on_get")
        return self.route(ex, Call(version, self.public(environ), environ, options), rest, body)

    def route(self, ex: Exchange, call: Call, rest: str, body: bytes = b"") -> Reply:
        """A FHIR call past the gateway (key, rate limit, method, body checked): `rest` is the
        path after /fhir/<version>. Also what the control API's preview answers (annuaire.control)."""
        environ, version = call.environ, call.version
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        query_string = environ.get("QUERY_STRING") or ""
        parts = [p for p in rest.split("/") if p]
        pairs = wire.parse_pairs(query_string)
        if not parts:
            names = dict(pairs)
            if version == "v1" and "_getpages" in names:
                return self.next_page(ex, call, names.get("_pageId", ""), names["_getpages"])
            return self._unknown_type(ex, "")
        if parts == ["metadata"]:
            ex.operation = "metadata"
            if version == "v1":
                checks.check_version(ex.findings, version)
            return wire.fhir_reply(200, capability_statement())
        if parts == ["_page"] and version == "v2":
            return self.next_page(ex, call, dict(pairs).get("id", ""), None)
        kind = parts[0]
        if kind not in PARAMS:
            return self._unknown_type(ex, kind)
        if len(parts) == 1 or parts[1] == "_search":
            if len(parts) > 2:
                ERRORS.fail("invalid_request", f"Unsupported path: {path}")
            if method == "POST":
                if len(parts) == 1:
                    ex.operation = "create refused"
                    ERRORS.fail(
                        "method_not_allowed",
                        "HTTP method POST not allowed on [type]: the API is read-only",
                        headers=[("Allow", "GET")],
                    )
                if FORM not in (environ.get("CONTENT_TYPE") or ""):
                    ERRORS.fail("invalid_request", f"POST [type]/_search expects a body of type {FORM}")
                pairs = pairs + wire.parse_pairs(body.decode("utf-8", "replace"))
            return self.search(ex, call, kind, pairs, query_string)
        if len(parts) == 2:
            if method == "POST":
                ERRORS.fail(
                    "method_not_allowed",
                    "HTTP method POST not allowed on a resource",
                    headers=[("Allow", "GET")],
                )
            return self.read(ex, call, kind, parts[1])
        ERRORS.fail("invalid_request", f"Unsupported path: {path}")

    def _unknown_type(self, ex: Exchange, kind: str) -> Reply:
        ex.operation = "unknown type"
        known = ", ".join(KNOWN_ORDER)
        ERRORS.fail(
            "unknown_resource_type",
            f"HAPI-0302: Unknown resource type '{kind}' - Server knows how to handle: [{known}]",
        )

    # -- operations -------------------------------------------------------------------------------
    def read(self, ex: Exchange, call: Call, kind: str, rid: str) -> Reply:
        ex.operation = f"read {kind}"
        if call.version == "v1":
            checks.check_version(ex.findings, call.version)
        checks.check_read(ex.findings)
        directory = self.directory()
        record = directory.read(kind, rid, v1=call.version == "v1")
        ex.persona = record.built.persona if record else rid
        ex.fault(ex.persona)
        if record is None:
            ex.outcome = "not found"
            ERRORS.fail("not_found", f"Resource not found with id: {rid}")
        ex.outcome = "found"
        return wire.fhir_reply(200, self._json(directory, record, call, []))

    def search(
        self, ex: Exchange, call: Call, kind: str, pairs: list[tuple[str, str]], query_string: str
    ) -> Reply:
        ex.operation = f"search {kind}"
        query = self._parse(ex, call, kind, pairs)
        checks.check_search(ex.findings, query, call.version)
        ex.persona = query.persona()
        ex.fault(ex.persona)
        directory = self.directory()
        found = page(directory, self.results, query, "", self._hidden(directory, call), wants_total(query))
        next_url = None
        if found.more:
            search_id, page_id = self.pages.start(
                ex.tenant, call.version, kind, pairs, directory.key, query.count, found.total, found.last_id
            )
            next_url = self._next_url(call, search_id, page_id, query)
        path = call.environ.get("PATH_INFO") or ""
        self_url = (
            call.public
            + (path if call.version == "v2" else f"/fhir/v1/{kind}")
            + (f"?{query_string}" if query_string else "")
        )
        return self._bundle(ex, call, directory, query, found, next_url, self_url)

    def next_page(self, ex: Exchange, call: Call, page_id: str, search_id: str | None) -> Reply:
        ex.operation = "page"
        directory = self.directory()
        try:
            search, after = self.pages.find(ex.tenant, page_id, directory.key, search_id)
            if search.version != call.version:
                raise Gone(f"a {search.version} page asked through the {call.version} API")
        except Gone as gone:
            ex.details["gone"] = gone.reason
            ex.findings.add(
                "ANN-PAGE-GONE",
                "warning",
                f"lien de page refusé ({gone.reason}) : relancer la recherche",
                location="_page",
            )
            ex.fault()
            if call.version == "v1":
                ERRORS.fail("page_gone", f'Search ID "{search_id}" does not exist and may have expired')
            ERRORS.fail("page_gone")
        ex.details["search"] = search.id
        query = parse(search.resource, search.params)
        ex.persona = query.persona()
        ex.fault(ex.persona)
        found = page(directory, self.results, query, after, self._hidden(directory, call), False)
        found.total = search.total
        next_url = None
        if found.more:
            next_url = self._next_url(
                call, search.id, self.pages.next(ex.tenant, search.id, found.last_id), query
            )
        qs = call.environ.get("QUERY_STRING") or ""
        self_url = call.public + (call.environ.get("PATH_INFO") or "") + (f"?{qs}" if qs else "")
        return self._bundle(ex, call, directory, query, found, next_url, self_url)

    def _parse(self, ex: Exchange, call: Call, kind: str, pairs: list[tuple[str, str]]) -> Query:
        try:
            return parse(kind, pairs)
        except QueryError as err:
            rule = "ANN-PARAM-UNKNOWN" if err.error == "unknown_parameter" else "ANN-PARAM-INVALID"
            ex.findings.add(rule, "error", err.text, location=err.parameter)
            if err.error == "count_too_large" and call.options.get("gateway") == "large-count":
                ERRORS.fail("gateway_bad_gateway")
            ERRORS.fail(err.error, err.text)

    def _hidden(self, directory: Directory, call: Call) -> set[str]:
        return directory.inconsistent if call.options.get("inconsistency") else set()

    def _next_url(self, call: Call, search_id: str, page_id: str, query: Query) -> str:
        if call.version == "v2":
            return f"{call.base}/_page?id={page_id}"
        extra = ""
        if query.format:
            extra += f"&_format={query.format}"
        if query.pretty:
            extra += "&_pretty=true"
        return f"{call.public}/fhir/v1?_getpages={search_id}&_pageId={page_id}{extra}&_bundletype=searchset"

    # -- serialisation ----------------------------------------------------------------------------
    def _json(self, directory: Directory, record: Record, call: Call, elements: list[str]) -> bytes:
        data = record.json if call.version == "v2" else self._v1_json(directory, record)
        if record.hidden and call.options.get("inconsistency"):
            data = strip_mailboxes(data, record.hidden)
        if elements:
            data = wire.subset(data, elements)
        return data

    def _v1_json(self, directory: Directory, record: Record) -> bytes:
        if record.type not in ("Practitioner", "PractitionerRole"):
            return record.json
        if record.v1_json is None:
            resource = json.loads(record.json)
            resource["id"] = record.built.v1_id
            ref = resource.get("practitioner", {}).get("reference")
            target = directory.record(ref) if ref else None
            if target is not None:
                resource["practitioner"] = {"reference": f"Practitioner/{target.built.v1_id}"}
            record.v1_json = encode(resource)
        return record.v1_json

    def _bundle(
        self,
        ex: Exchange,
        call: Call,
        directory: Directory,
        query: Query,
        found: Page,
        next_url: str | None,
        self_url: str,
    ) -> Reply:
        ex.outcome = f"{len(found.matches)} entries" + ("" if found.total is None else f" of {found.total}")
        ex.details.update(
            {"returned": len(found.matches), "included": len(found.included), "total": found.total}
        )
        bundle_id = wire.new_id()
        if call.version == "v2":
            entries = [
                (f"{call.base}/{r.type}/{r.id}", self._json(directory, r, call, query.elements))
                for r in found.matches
            ]
            entries += [
                (f"{call.base}/{r.type}/{r.id}", self._json(directory, r, call, [])) for r in found.included
            ]
            return wire.fhir_reply(200, wire.bundle_v2(bundle_id, found.total, entries, next_url, self_url))
        v1 = [
            (f"{call.base}/{r.type}/{r.built.v1_id}", self._json(directory, r, call, query.elements), "match")
            for r in found.matches
        ]
        v1 += [
            (f"{call.base}/{r.type}/{r.built.v1_id}", self._json(directory, r, call, []), "include")
            for r in found.included
        ]
        updated = iso(self.sandbox.now(ex.tenant))
        return wire.fhir_reply(
            200, wire.bundle_v1(bundle_id, updated, found.total, v1, next_url, self_url, query.pretty)
        )
