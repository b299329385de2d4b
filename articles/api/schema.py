"""How the OpenAPI schema states what the server enforces.

Two pieces, both named in ``SPECTACULAR_SETTINGS``:

* ``ApiSchema``, the schema class of every view: a request field with a ``schema_pattern``
  attribute gets that ``pattern``, and a request field or serializer with a ``request_schema``
  attribute gets those keywords (``minProperties``, ``additionalProperties``, ``anyOf``...). Each rule is
  stated beside the field or serializer that reads the input.
* ``document_common_responses``, a postprocessing hook: the answers that every operation can give
  for the same reasons (credentials, roles, content negotiation, media types, rate limits), added
  once here instead of on each view, and ``allowEmptyValue`` on query parameters, which all read
  an empty value as no value.
"""

from functools import cache

from drf_spectacular.openapi import AutoSchema

# The characters ``str.strip()`` removes (DRF trims CharField input with it, and so does the
# action layer for notes).
WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())


def char_class(chars: str, *, negate: bool = False) -> str:
    """A regular-expression class of ``chars`` with every character escaped as ``\\uXXXX``: the same
    pattern for Python (the server, Hypothesis) and ECMA 262 (JSON Schema validators)."""
    body = "".join(f"\\u{ord(char):04x}" for char in dict.fromkeys(chars))
    return f"[{'^' if negate else ''}{body}]"


def chars_between(first: int, last: int) -> str:
    return "".join(chr(code) for code in range(first, last + 1))


@cache  # serializer fields are built for every answer, and ask for the same few patterns
def text_pattern(forbidden: str) -> str:
    """Any string without the ``forbidden`` characters (the empty string included)."""
    return f"^{char_class(forbidden, negate=True)}*$"


@cache
def trimmed_text_pattern(forbidden: str) -> str:
    """A string that still holds a character once trimmed of whitespace, without ``forbidden``
    characters between its first and last non-whitespace character."""
    space = char_class(WHITESPACE)
    allowed = char_class(forbidden, negate=True)
    visible = char_class(forbidden + WHITESPACE, negate=True)
    return f"^{space}*{visible}(?:{allowed}*{visible})?{space}*$"


# A real calendar date written YYYY-MM-DD (years 0001-9999, February 29 in leap years only), as
# datetime.date.fromisoformat reads it: JSON Schema 2020-12 treats "format" as a note, not a rule.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
ISO_DATE_PATTERN = (
    f"^(?:{_YEAR}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    f"|(?:0[13578]|1[02])-31)|{_LEAP_YEAR}-02-29)$"
)


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, reading ``schema_pattern`` on fields and ``request_schema`` on
    serializers (requests only: answers are described by what the server writes)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(schema, dict) and "$ref" not in schema:
            if pattern := getattr(field, "schema_pattern", None):
                schema["pattern"] = pattern
            schema.update(getattr(field, "request_schema", None) or {})
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf")
        if (
            getattr(field, "schema_pattern", None)
            and branches
            and branches[-1] == {"type": "string", "maxLength": 0}
        ):
            # drf-spectacular offers "" beside the pattern for allow_blank fields; the pattern
            # already says whether "" is accepted.
            del schema["oneOf"]
            schema.update(branches[0])

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # A body is required when the server refuses its absence: a non-empty text, an object that
        # needs a property.
        stated = serializer if isinstance(serializer, dict) else getattr(serializer, "request_schema", None)
        if stated and (stated.get("minLength", 0) > 0 or stated.get("minProperties", 0) > 0):
            required = True
        return schema, required

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        extra = getattr(serializer, "request_schema", None)
        if direction == "request" and extra:
            required = sorted({*schema.get("required", []), *extra.get("required", [])})
            schema = {**schema, **extra}
            if required:
                schema["required"] = required
        return schema


def _error(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
    }
    if headers:
        response["headers"] = headers
    return response


UNAUTHORIZED = _error(
    "Credentials are missing, wrong or revoked (a token of an inactive user included). Operations "
    "open to everyone answer 401 only to credentials that do not work.",
    {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Token"}},
)
FORBIDDEN = _error("Signed in, but your role may not do this (or a session request lacks its CSRF token).")
NOT_ACCEPTABLE = _error("The Accept header names no media type this operation answers with.")
UNSUPPORTED_MEDIA_TYPE = _error("The request body's Content-Type is not one this operation reads.")
THROTTLED = _error(
    "Too many requests from this client (API_THROTTLE_ANON, API_THROTTLE_USER): wait as long as "
    "Retry-After says.",
    {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "description": "Seconds until the next request is accepted.",
            "required": True,
        }
    },
)


# A 400 naming each refused parameter, as the list's filters and config/null_guard.py (a NUL in the
# path, the query or the credentials, before any view) answer.
PARAMETER_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Each refused parameter (or 'detail') with its messages.",
}
PARAMETER_ERRORS_REF = {"$ref": "#/components/schemas/ParameterErrors"}


def _with_parameter_errors(responses: dict) -> None:
    """Any operation can answer a NUL in its path or query with ParameterErrors."""
    response = responses.get("400")
    if response is None:
        responses["400"] = {
            "description": "The path or the query holds a null character.",
            "content": {"application/json": {"schema": PARAMETER_ERRORS_REF}},
        }
        return
    content = response.setdefault("content", {}).setdefault("application/json", {})
    schema = content.get("schema")
    if schema is None or schema == PARAMETER_ERRORS_REF:
        content["schema"] = PARAMETER_ERRORS_REF
    elif {key: value for key, value in schema.items() if key not in ("example", "description")} == {
        key: value for key, value in PARAMETER_ERRORS.items() if key != "description"
    }:
        content["schema"] = PARAMETER_ERRORS_REF
    else:
        content["schema"] = {"anyOf": [schema, PARAMETER_ERRORS_REF]}
        response["description"] = (
            response.get("description", "").rstrip(".") + "; or a null character in the path or query."
        ).lstrip("; ")


def _refuse_nul(schema: dict) -> None:
    """A parameter's text never holds NUL (config/null_guard.py answers 400 first)."""
    if schema.get("type") == "array":
        _refuse_nul(schema.get("items", {}))
    elif schema.get("type") == "string" and "enum" not in schema and "pattern" not in schema:
        schema["pattern"] = text_pattern("\x00")


def document_common_responses(result: dict, generator, request, public) -> dict:
    """Add the answers every operation can give, and mark empty query values as allowed."""
    result.setdefault("components", {}).setdefault("schemas", {})["ParameterErrors"] = PARAMETER_ERRORS
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            security = operation.get("security", [])
            if security:
                responses.setdefault("401", UNAUTHORIZED)
            if security and {} not in security:
                responses.setdefault("403", FORBIDDEN)
            _with_parameter_errors(responses)
            responses.setdefault("406", NOT_ACCEPTABLE)
            if "requestBody" in operation:
                responses.setdefault("415", UNSUPPORTED_MEDIA_TYPE)
            responses.setdefault("429", THROTTLED)
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    # Every query parameter reads an empty value (``?ordering=``) as no value.
                    parameter["allowEmptyValue"] = True
                if parameter.get("in") in ("query", "path"):
                    _refuse_nul(parameter.get("schema", {}))
            operation["responses"] = dict(sorted(responses.items()))
    return result
