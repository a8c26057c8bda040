"""The Annuaire Santé error catalogue: what the FHIR server and the API gateway in front of it answer.

Two layers, as in production (research mssante.md 1.6, 3.3, 6):

- the FHIR server writes an `OperationOutcome` (severity error; code `exception`, as the ANS
  server's ErrorWriter does, or `processing` for the HAPI-0302 unknown type), status 400 for
  every refused request, 404 for an unknown id, 410 for a page id it does not hold;
- the gateway (Gravitee) answers before the server: the API key (401, `{"message", "http_status_code"}`),
  the rate limit (429), and the incidents users met — 404 on every call (#286), 502 "Request
  Failed: Invalid URL format" (#396), 504 with an empty body (#415), BadGateway with no body for
  huge pages (#372), an nginx 414 page for an over-long URL.

`data["shape"]` tells `wire.AnnuaireProtocol` how to write an entry: outcome | gateway | text |
empty | html. Every entry can be named by a fault rule.
"""

from __future__ import annotations

from mocks.errors import Catalogue, HttpError

FHIR = "application/fhir+json;charset=UTF-8"
GATEWAY = "application/json"


def _outcome(name: str, status: int, description: str, code: str = "exception") -> HttpError:
    return HttpError(
        name=name,
        description=description,
        http_status=status,
        body=description,
        content_type=FHIR,
        data={"shape": "outcome", "code": code},
    )


def _gateway(name: str, status: int, description: str, message: str) -> HttpError:
    return HttpError(
        name=name, description=description, http_status=status, body=message, content_type=GATEWAY,
        data={"shape": "gateway"},
    )  # fmt: skip


URI_TOO_LONG_PAGE = (
    "<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>414 Request-URI Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

ERRORS = Catalogue(
    [
        # -- the FHIR server -------------------------------------------------------------------
        _outcome("unknown_parameter", 400, "Parameter X not found for resource Y"),
        _outcome(
            "invalid_count",
            400,
            'The _count parameter must be in the FHIR format with an integer value : "_count=30"',
        ),
        _outcome("count_too_large", 400, "The Fhir _count parameter is limited to 1000"),
        _outcome("invalid_date", 400, 'Invalid date/time format: "..." (or a prefix other than gt, ge, eq)'),
        _outcome("unknown_modifier", 400, "Modifier not supported for this parameter"),
        _outcome("repeated_parameter", 400, "A parameter given twice"),
        _outcome("invalid_parameter", 400, "A parameter value the server cannot read"),
        _outcome("body_on_get", 400, "This endpoint doens't support body"),
        _outcome("invalid_request", 400, "A request the server cannot serve (path or content type)"),
        _outcome("not_found", 404, "Resource not found with id: X"),
        _outcome(
            "unknown_resource_type",
            404,
            "HAPI-0302: Unknown resource type 'X' - Server knows how to handle: "
            "[Practitioner, PractitionerRole, Device, Organization, HealthcareService]",
            "processing",
        ),
        _outcome("page_gone", 410, "The page id is unknown or has expired: start the search again"),
        _outcome(
            "method_not_allowed",
            405,
            "HTTP method not allowed: the API is read-only (GET, POST [type]/_search)",
        ),
        _outcome("server_error", 500, "Unknown error"),
        # -- the gateway -----------------------------------------------------------------------
        _gateway("api_key_missing", 401, "no ESANTE-API-KEY header", "Unauthorized"),
        _gateway(
            "api_key_invalid",
            401,
            "an unknown or revoked API key",
            "API Key is not valid or is expired / revoked.",
        ),
        _gateway(
            "rate_limited",
            429,
            "more than the allowed requests per second for this key",
            "Rate limit exceeded ! You reach the limit of 17 requests per 1 seconds",
        ),  # fmt: skip
        _gateway(
            "gateway_no_route",
            404,
            "gateway incident: 404 on every call",
            "No context-path matches the request URI.",
        ),
        HttpError(
            name="gateway_invalid_url",
            description="gateway incident: 502 Request Failed: Invalid URL format",
            http_status=502,
            body="Request Failed: Invalid URL format",
            content_type="text/plain",
            data={"shape": "text"},
        ),
        HttpError(
            name="gateway_timeout",
            description="gateway incident: 504 Gateway Timeout, empty body",
            http_status=504,
            data={"shape": "empty"},
        ),
        HttpError(
            name="gateway_bad_gateway",
            description="gateway incident: BadGateway with no body (huge _count)",
            http_status=502,
            data={"shape": "empty"},
        ),
        HttpError(
            name="uri_too_long",
            description="request line longer than the front proxy accepts (8 kB)",
            http_status=414,
            body=URI_TOO_LONG_PAGE,
            content_type="text/html",
            data={"shape": "html"},
        ),
        _gateway("file_not_found", 404, "no such file or path", "No context-path matches the request URI."),
    ]
)

# Gateway presets (per tenant, control API): which catalogue entry every FHIR call gets.
PRESETS = {
    "none": None,
    "down": "gateway_no_route",
    "invalid-url": "gateway_invalid_url",
    "timeout": "gateway_timeout",
    "large-count": "gateway_bad_gateway",  # only when _count > 1000, instead of the server's 400
}
