"""The OpenAPI 3.1 description of /api/v1, which a test keeps in step with the routes and their answers."""
from __future__ import annotations

from copy import deepcopy
from functools import cache

from portal.api.services import READ_ONLY_FIELDS
from portal.workers.vaccines import VACCINES
from portal.workers.validation import MAX_DOSES

#: The last page number /workers accepts (portal.api.views).
MAX_PAGE = 10**6
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
#: What portal.clock.parse_date reads: yyyy-mm-dd or d/m/yyyy (also with '-' or '.'), months 1-12, days 1-31
#: (a day the month lacks, 30/02, is the one thing left to the 422).
INPUT_DATE = (r"^\s*(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
              r"|(0?[1-9]|[12]\d|3[01])[/.-](0?[1-9]|1[0-2])[/.-]\d{4})\s*$")
ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


def _json(schema: dict, description: str, example=None) -> dict:
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


_OUTPUT_DATE = {"type": "string", "format": "date", "pattern": ISO_DATE}
_IN_DATE = {"type": ["string", "null"], "pattern": INPUT_DATE,
            "description": "yyyy-mm-dd (dd/mm/yyyy is accepted too)."}
_TEXT_IN = {"type": ["string", "null"]}

WORKER_EXAMPLE = {
    "id": 42, "full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17", "sex": "M",
    "citizen_id": "079090001234", "phone": "0909123456", "home_address": "45 Lê Văn Lương",
    "home_ward": "Tân Hưng", "home_district": "Quận 7", "job_title": "Công nhân", "shift": "shift1",
    "doses": [{"number": 1, "product": "astrazeneca", "given_on": "2021-07-20"},
              {"number": 2, "product": "astrazeneca", "given_on": "2021-09-01"}],
    "recovered_on": None, "test_kind": "pcr", "tested_on": "2021-09-28", "active": True, "left_on": None,
    "created_at": "2021-09-30T02:15:00Z", "updated_at": "2021-09-30T02:15:00Z",
}
INPUT_EXAMPLE = {
    "full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17", "sex": "Nam", "citizen_id": "079090001234",
    "phone": "0909123456", "home_address": "45 Lê Văn Lương", "home_ward": "Tân Hưng", "home_district": "Quận 7",
    "job_title": "Công nhân", "shift": "Ca 1",
    "doses": [{"product": "AstraZeneca", "given_on": "2021-07-20"},
              {"product": "AstraZeneca", "given_on": "01/09/2021"}],
    "test_kind": "PCR", "tested_on": "2021-09-28",
}
ERROR_EXAMPLE = {"error": {"code": 422, "message": "Một số thông tin cần sửa.", "fields": [
    {"field": "citizen_id", "message": "Chữ số thứ tư của CCCD không khớp với ngày sinh và giới tính."}]}}


#: What a write did beyond the worker itself, e.g. a green card replaced by a new version that must be printed
#: again. Only in the answer to a write that caused it.
_NOTICES = {
    "type": "array", "description": "Only in the answer to a write with consequences for the enterprise, e.g. "
                                    "a green card replaced by a new version: print it again (the link is HR's "
                                    "list of cards to reprint).",
    "items": {"type": "object", "additionalProperties": False, "required": ["message"],
              "properties": {"message": {"type": "string"},
                             "url": {"type": "string", "description": "Where on the portal to act on it."}}},
}


def _schemas() -> dict:
    vaccine_names = ", ".join(v.name for v in VACCINES)
    dose = {
        "type": "object", "additionalProperties": False, "required": ["number", "product", "given_on"],
        "properties": {"number": {"type": "integer", "minimum": 1, "maximum": MAX_DOSES},
                       "product": {"type": ["string", "null"], "enum": [v.code for v in VACCINES] + [None]},
                       "given_on": _nullable(_OUTPUT_DATE)},
    }
    dose_input = {
        "type": "object", "additionalProperties": False,
        "properties": {"product": {**_TEXT_IN, "description": f"Vaccine name or code: {vaccine_names}."},
                       "given_on": _IN_DATE,
                       "number": {"type": "integer", "description": "Ignored: doses are numbered in list order."}},
    }
    worker_input_properties = {
        "full_name": {**_TEXT_IN, "maxLength": 200},
        "date_of_birth": _IN_DATE,
        "sex": {**_TEXT_IN, "description": "M or F (also Nam/Nữ, male/female)."},
        "citizen_id": {"type": ["string", "integer", "null"],
                       "description": "CCCD (12 digits) or CMND (9 digits); a number that lost its leading zero "
                                      "is accepted."},
        "phone": {"type": ["string", "integer", "null"], "description": "Vietnamese mobile or fixed line."},
        "home_address": {**_TEXT_IN, "maxLength": 300},
        "home_ward": {**_TEXT_IN, "maxLength": 100},
        "home_district": {**_TEXT_IN, "maxLength": 100},
        "job_title": {**_TEXT_IN, "maxLength": 200},
        "shift": {**_TEXT_IN, "description": "Shift code or name (office, shift1, Ca 1, …)."},
        "doses": {"type": ["array", "null"], "maxItems": MAX_DOSES, "items": _ref("DoseInput"),
                  "description": "All doses, in order; replaces the stored doses."},
        "recovered_on": _IN_DATE,
        "test_kind": {**_TEXT_IN, "description": "pcr or rapid."},
        "tested_on": _IN_DATE,
    }
    read_only = {key: {"readOnly": True, "description": "Sent back unchanged, ignored."}
                 for key in READ_ONLY_FIELDS}
    worker_input = {
        "type": "object", "additionalProperties": False,
        "required": ["full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward",
                     "home_district"],
        "properties": {**worker_input_properties, **read_only},
        "example": INPUT_EXAMPLE,
    }
    worker_patch = {**deepcopy(worker_input), "required": [], "example": {"phone": "0912345678"}}
    worker = {
        "type": "object", "additionalProperties": False,
        "required": list(WORKER_EXAMPLE),
        "properties": {
            "id": {"type": "integer"},
            "full_name": {"type": "string"},
            "date_of_birth": _OUTPUT_DATE,
            "sex": {"type": "string", "enum": ["M", "F"]},
            "citizen_id": {"type": "string", "pattern": r"^(\d{9}|\d{12})$"},
            "phone": {"type": "string", "pattern": r"^0\d{9,10}$"},
            "home_address": {"type": "string"},
            "home_ward": {"type": "string"},
            "home_district": {"type": "string"},
            "job_title": {"type": "string"},
            "shift": {"type": ["string", "null"]},
            "doses": {"type": "array", "maxItems": MAX_DOSES, "items": _ref("Dose")},
            "recovered_on": _nullable(_OUTPUT_DATE),
            "test_kind": {"type": ["string", "null"], "enum": ["pcr", "rapid", None]},
            "tested_on": _nullable(_OUTPUT_DATE),
            "active": {"type": "boolean"},
            "left_on": _nullable(_OUTPUT_DATE),
            "created_at": {"type": "string", "format": "date-time", "pattern": ISO_INSTANT},
            "updated_at": {"type": "string", "format": "date-time", "pattern": ISO_INSTANT},
            "notices": _NOTICES,
        },
        "example": WORKER_EXAMPLE,
    }
    field_error = {
        "type": "object", "additionalProperties": False, "required": ["field", "message"],
        "properties": {"row": {"type": "integer", "minimum": 1, "description": "Bulk calls: the worker's position "
                                                                                "in the list, from 1."},
                       "field": {"type": "string", "description": "JSON field, e.g. citizen_id or doses[1].given_on."},
                       "message": {"type": "string"}},
    }
    return {
        "Dose": dose,
        "DoseInput": dose_input,
        "Worker": worker,
        "WorkerInput": worker_input,
        "WorkerPatch": worker_patch,
        "WorkerPage": {
            "type": "object", "additionalProperties": False,
            "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {"items": {"type": "array", "items": _ref("Worker")},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1, "maximum": 500},
                           "total": {"type": "integer", "minimum": 0},
                           "pages": {"type": "integer", "minimum": 0}},
            "example": {"items": [WORKER_EXAMPLE], "page": 1, "per_page": 50, "total": 1, "pages": 1},
        },
        "DeactivateInput": {
            "type": "object", "additionalProperties": True, "required": ["reason"],
            "properties": {"left_on": {**_IN_DATE, "description": "Default: today (Ho Chi Minh City)."},
                           "reason": {"type": "string", "minLength": 1, "maxLength": 500}},
            "example": {"left_on": "2021-10-15", "reason": "Nghỉ việc"},
        },
        "BulkInput": {
            "type": "object", "required": ["workers"],
            "properties": {"workers": {"type": "array", "maxItems": 5000, "items": _ref("WorkerInput")}},
            "example": {"workers": [INPUT_EXAMPLE]},
        },
        "BulkResult": {
            "type": "object", "additionalProperties": False,
            "required": ["created", "updated", "unchanged", "rejected", "errors", "workers"],
            "properties": {
                "created": {"type": "integer", "minimum": 0},
                "updated": {"type": "integer", "minimum": 0},
                "unchanged": {"type": "integer", "minimum": 0},
                "rejected": {"type": "integer", "minimum": 0, "description": "Rows skipped (?partial=true)."},
                "errors": {"type": "array", "items": _ref("FieldError")},
                "workers": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["row", "id", "citizen_id", "result"],
                    "properties": {"row": {"type": "integer", "minimum": 1}, "id": {"type": "integer"},
                                   "citizen_id": {"type": "string"},
                                   "result": {"type": "string", "enum": ["created", "updated", "unchanged"]}}}},
                "notices": _NOTICES,
            },
            "example": {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "errors": [],
                        "workers": [{"row": 1, "id": 42, "citizen_id": "079090001234", "result": "created"}]},
        },
        "FieldError": field_error,
        "HealthRecord": {
            "type": "object", "required": ["kind", "citizen_id"],
            "description": "One row of the health registry (portal.health): a dose (vaccination), a recovery or a "
                           "test. Matched to a worker by citizen ID and, when given, date of birth; a record that "
                           "matches no worker is counted and dropped.",
            "properties": {
                "kind": {"type": "string", "enum": ["vaccination", "recovery", "test"]},
                "citizen_id": {"type": "string"}, "full_name": {"type": ["string", "null"]},
                "date_of_birth": _IN_DATE, "dose_number": {"type": ["integer", "string"]},
                "given_on": _IN_DATE, "product": _TEXT_IN, "place": _TEXT_IN,
                "positive_on": _IN_DATE, "recovered_on": _IN_DATE, "facility": _TEXT_IN,
                "test_kind": {"type": ["string", "null"], "description": "PCR or rapid."},
                "tested_on": _IN_DATE,
                "result": {"type": ["string", "null"], "description": "âm tính (negative) or dương tính (positive)."},
            },
            "example": {"kind": "vaccination", "citizen_id": "079090001234", "full_name": "Nguyễn Văn An",
                        "date_of_birth": "1990-05-17", "dose_number": 2, "given_on": "2021-09-01",
                        "product": "AstraZeneca", "place": "TYT Tân Hưng"},
        },
        "HealthRecords": {
            "type": "array", "minItems": 1, "maxItems": 10000, "items": _ref("HealthRecord"),
            "example": [{"kind": "vaccination", "citizen_id": "079090001234", "date_of_birth": "1990-05-17",
                         "dose_number": 1, "given_on": "2021-07-20", "product": "AstraZeneca"}],
        },
        "HealthRecordsResult": {
            "type": "object", "additionalProperties": False,
            "description": "Per kind of record sent: how many, how many matched a worker, how many were dropped.",
            "patternProperties": {"^(vaccination|recovery|test)$": {
                "type": "object", "additionalProperties": False, "required": ["rows", "matched", "unmatched"],
                "properties": {"rows": {"type": "integer", "minimum": 0}, "matched": {"type": "integer", "minimum": 0},
                               "unmatched": {"type": "integer", "minimum": 0}}}},
            "example": {"vaccination": {"rows": 2, "matched": 1, "unmatched": 1}},
        },
        "Error": {
            "type": "object", "additionalProperties": False, "required": ["error"],
            "properties": {"error": {
                "type": "object", "additionalProperties": False, "required": ["code", "message"],
                "properties": {"code": {"type": "integer", "description": "The HTTP status."},
                               "message": {"type": "string"},
                               "fields": {"type": "array", "items": _ref("FieldError")}}}},
            "example": ERROR_EXAMPLE,
        },
    }


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


_ERRORS = {
    "400": "The request is malformed (not JSON, a bad query parameter).",
    "401": "No token, an unknown token or a revoked one.",
    "404": "No such worker in the token's enterprise.",
    "409": "The citizen ID is registered elsewhere, or the worker has left.",
    "422": "The data needs correcting: one message per field.",
    "429": "Too many requests for this token; wait a minute.",
}


def _operation(summary: str, ok: tuple[str, dict], errors: tuple[str, ...], *, body: str | None = None,
               parameters: list | None = None) -> dict:
    operation = {"summary": summary, "responses": {ok[0]: ok[1], **{code: _error(_ERRORS[code]) for code in errors}}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_WORKER_ID = {"name": "worker_id", "in": "path", "required": True, "schema": {"type": "integer"}}


@cache
def _document() -> dict:
    worker_ok = _json(_ref("Worker"), "The worker.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HCMC green card portal — workers API",
            "version": "1.0.0",
            "description": "Lets an enterprise's HR software keep its worker list in step with the portal. "
                           "Authenticate with a bearer token created by HR on the portal's API page; a token "
                           "reaches its own enterprise's workers only. Messages are in Vietnamese, in English "
                           "with Accept-Language: en. Dates are yyyy-mm-dd.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/openapi.json": {"get": {**_operation("This document", ("200", {
                "description": "The OpenAPI document.",
                "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}),
                ()), "security": []}},
            "/workers": {
                "get": _operation("List workers", ("200", _json(_ref("WorkerPage"), "A page of workers.")),
                                  ("400", "401", "429"), parameters=[
                    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                           "Page number, from 1."),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                           "Workers per page, at most 500."),
                    _query("q", {"type": "string"}, "Name (diacritics optional) or digits of the citizen ID."),
                    _query("status", {"type": "string", "enum": ["active", "left"], "default": "active"},
                           "Working workers, or those who left."),
                ]),
                "post": _operation("Register a worker", ("201", worker_ok), ("400", "401", "409", "422", "429"),
                                   body="WorkerInput"),
            },
            "/workers/{worker_id}": {
                "parameters": [_WORKER_ID],
                "get": _operation("Get a worker", ("200", worker_ok), ("401", "404", "429")),
                "put": _operation("Replace a worker's data", ("200", worker_ok),
                                  ("400", "401", "404", "409", "422", "429"), body="WorkerInput"),
                "patch": _operation("Change some of a worker's data", ("200", worker_ok),
                                    ("400", "401", "404", "409", "422", "429"), body="WorkerPatch"),
            },
            "/workers/{worker_id}/deactivate": {
                "parameters": [_WORKER_ID],
                "post": _operation("Record that a worker left", ("200", worker_ok),
                                   ("400", "401", "404", "409", "422", "429"), body="DeactivateInput"),
            },
            "/health-records": {
                "post": {**_operation(
                    "Push health-registry records (health sector only)",
                    ("200", _json(_ref("HealthRecordsResult"), "Matched; nothing of an unmatched record is kept.")),
                    ("400", "401", "422"), body="HealthRecords"), "security": [{"healthBearer": []}]},
            },
            "/workers/bulk": {
                "post": _operation(
                    "Create or update up to 5,000 workers", ("200", _json(_ref("BulkResult"), "What was saved.")),
                    ("400", "401", "409", "422", "429"), body="BulkInput",
                    parameters=[_query("partial", {"type": "boolean", "default": False},
                                       "Save the valid rows and list the others, instead of all or nothing.")]),
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A token from the portal's API page (gct_…)."},
                                "healthBearer": {"type": "http", "scheme": "bearer",
                                                 "description": "A health-data officer's token (hlth_…)."}},
            "schemas": _schemas(),
        },
    }


def document() -> dict:
    """Return the OpenAPI document (a fresh copy, safe to change)."""
    return deepcopy(_document())
