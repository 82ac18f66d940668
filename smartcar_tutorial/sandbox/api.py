"""The vehicle API: the vehicles a grant shares, and what it lets an app read.

    GET /v2.0/vehicles?limit=&offset=    the grant's vehicle ids, paged
    GET /v2.0/vehicles/{id}              id, make, model, year     read_vehicle_info
    GET /v2.0/vehicles/{id}/odometer     distance                  read_odometer
    GET /v2.0/vehicles/{id}/location     latitude, longitude       read_location
    GET /v2.0/vehicles/{id}/vin          vin                       read_vin
    GET /v2.0/vehicles/{id}/permissions  what the owner granted    (any token)

Any path may end with ``/``. Each request needs ``Authorization: Bearer
<access token>`` (RFC 6750 §2.1). Errors come in Smartcar's v2 shape
(``type``, ``code``, ``description``, ``docURL``, ``statusCode``,
``requestId``, ``resolution``), so Smartcar's SDK raises its
``SmartcarException`` with the sandbox's type and description. Every reply
carries ``sc-request-id``; odometer and location replies also carry
``sc-data-age`` and ``sc-unit-system``.

    status, body, headers = answer_api_request(
        store, "/v2.0/vehicles", "", "Bearer <access token>", None)
    body["vehicles"]                 # ['test-tesla-…', 'test-tesla-…']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from ..randomness import random_uuid
from .grants import Grant, TokenRejectedError
from .store import SandboxStore
from .token import JsonReply
from .vehicles import DemoVehicle

logger = logging.getLogger(__name__)

API_VERSION = "2.0"
DEFAULT_LIMIT, MAX_LIMIT = 10, 50
UNIT_SYSTEMS = ("metric", "imperial")
REALM = "smartcar-tutorial sandbox"
#: Smartcar's page about each error type, for ``docURL``.
_DOCS = "https://smartcar.com/docs/"
DOC_URLS = {
    "AUTHENTICATION": _DOCS + "errors/api-errors/authentication-errors",
    "PERMISSION": _DOCS + "errors/api-errors/permission-errors",
    "RESOURCE_NOT_FOUND": _DOCS + "api-reference/api-errors",
    "VALIDATION": _DOCS + "errors/api-errors/validation-errors",
}

_API_PATH = re.compile(r"/v\d+(\.\d+)?(/.*)?")
_VEHICLES_PATH = re.compile(
    r"/v(?P<version>[^/]+)/vehicles"
    r"(?:/(?P<vehicle_id>[^/]+)(?:/(?P<resource>[^/]+))?)?/?"
)


class ApiError(Exception):
    """Raised inside the API for an error reply in Smartcar's v2 shape."""

    def __init__(
        self,
        status: int,
        error_type: str,
        description: str,
        code: str | None = None,
        resolution: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error_type = error_type
        self.description = description
        self.code = code
        self.resolution = resolution

    def as_body(self, request_id: str) -> dict[str, object]:
        anchor = (self.code or "null").lower().replace("_", "-")
        if self.error_type == "RESOURCE_NOT_FOUND":
            anchor = f"resource-errors-{anchor}"
        return {
            "type": self.error_type,
            "code": self.code,
            "description": self.description,
            "docURL": f"{DOC_URLS[self.error_type]}#{anchor}",
            "statusCode": self.status,
            "requestId": request_id,
            "resolution": {"type": self.resolution},
        }


@dataclass(frozen=True)
class _Resource:
    permission: str | None
    read: Callable[[DemoVehicle, Grant, dict[str, str], str], dict[str, object]]
    is_data: bool = False


def _granted_permissions(
    vehicle: DemoVehicle, grant: Grant, params: dict[str, str], units: str
) -> dict[str, object]:
    names, paging = _page(sorted(grant.scope), params)
    return {"permissions": names, "paging": paging}


RESOURCES = {
    "": _Resource("read_vehicle_info", lambda v, g, q, u: v.attributes()),
    "odometer": _Resource("read_odometer", lambda v, g, q, u: v.odometer(u), True),
    "location": _Resource("read_location", lambda v, g, q, u: v.location(), True),
    "vin": _Resource("read_vin", lambda v, g, q, u: {"vin": v.vin}),
    "permissions": _Resource(None, _granted_permissions),
}
SERVED = "GET /v2.0/vehicles, /v2.0/vehicles/{id}/ and {id}/" + ", {id}/".join(
    name for name in RESOURCES if name
)


def is_api_path(path: str) -> bool:
    """Return True for a path the vehicle API answers, such as ``/v2.0/…``."""
    return _API_PATH.fullmatch(path) is not None


def answer_api_request(
    store: SandboxStore,
    path: str,
    query: str,
    authorization: str | None,
    unit_system: str | None,
) -> JsonReply:
    """Answer one ``GET`` to the vehicle API.

    Args:
        store: The sandbox's memory, whose grant book knows the tokens.
        path: The request path, such as ``/v2.0/vehicles/{id}/odometer``.
        query: The raw query string (``limit``, ``offset``).
        authorization: The ``Authorization`` header, if any.
        unit_system: The ``sc-unit-system`` header; metric when absent.

    Returns:
        Status, JSON body and headers, ``sc-request-id`` always among them.
    """
    request_id = random_uuid("request-id")
    try:
        body, headers = _answer(store, path, query, authorization, unit_system)
    except ApiError as exc:
        logger.warning("Vehicle API refused GET %s: %s", path, exc.description)
        headers = {"sc-request-id": request_id}
        headers.update(_challenge(exc, authorization))
        return exc.status, exc.as_body(request_id), headers
    return 200, body, {"sc-request-id": request_id, **headers}


def _answer(
    store: SandboxStore,
    path: str,
    query: str,
    authorization: str | None,
    unit_system: str | None,
) -> tuple[dict[str, object], dict[str, str]]:
    match = _VEHICLES_PATH.fullmatch(path)
    if match is None or (match["resource"] or "") not in RESOURCES:
        raise ApiError(
            404,
            "RESOURCE_NOT_FOUND",
            f"The sandbox has no endpoint {path!r}. It serves {SERVED}.",
            code="PATH",
        )
    if match["version"] != API_VERSION:
        raise ApiError(
            404,
            "RESOURCE_NOT_FOUND",
            f"API version {match['version']!r} does not exist here; the sandbox "
            f"speaks {API_VERSION}. Call smartcar.set_api_version('2.0').",
            code="VERSION",
        )
    units = _check_unit_system(unit_system)
    params = dict(parse_qsl(query))
    grant = _authenticate(store, authorization)
    if match["vehicle_id"] is None:
        ids, paging = _page([v.vehicle_id for v in grant.vehicles], params)
        logger.debug("Vehicle API lists %d vehicle(s)", len(ids))
        return {"vehicles": ids, "paging": paging}, {}

    vehicle = _find_vehicle(grant, match["vehicle_id"])
    resource = RESOURCES[match["resource"] or ""]
    if resource.permission and not grant.allows(resource.permission):
        raise _permission_error(resource.permission, match["resource"] or "", grant)
    body = resource.read(vehicle, grant, params, units)
    headers = {}
    if resource.is_data:
        headers = {"sc-data-age": _timestamp(store.clock()), "sc-unit-system": units}
    logger.debug("Vehicle API answers %s for %s", path, grant.client_id)
    return body, headers


def _authenticate(store: SandboxStore, authorization: str | None) -> Grant:
    """Return the grant behind the Bearer token (RFC 6750 §2.1)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if not authorization:
        problem = "The request has no Authorization header."
    elif scheme.lower() == "basic":
        problem = (
            "The Authorization header holds Basic credentials, which only the "
            "token endpoint takes."
        )
    elif scheme.lower() != "bearer" or not token.strip():
        problem = "The Authorization header holds no Bearer token."
    else:
        try:
            return store.grants.check_access_token(token.strip())
        except TokenRejectedError as exc:
            raise ApiError(401, "AUTHENTICATION", str(exc)) from exc
    raise ApiError(
        401,
        "AUTHENTICATION",
        f"{problem} Send 'Authorization: Bearer <access token>'; "
        "smartcar.Vehicle(vehicle_id, access_token) does.",
    )


def _find_vehicle(grant: Grant, vehicle_id: str) -> DemoVehicle:
    vehicle = grant.find_vehicle(vehicle_id)
    if vehicle is None:
        shared = ", ".join(repr(v.vehicle_id) for v in grant.vehicles) or "none"
        raise ApiError(
            403,
            "PERMISSION",
            f"The owner did not share vehicle {vehicle_id!r} with this app; this "
            f"access token reaches {shared}. Use an id from "
            "smartcar.get_vehicles(access_token).",
            resolution="REAUTHENTICATE",
        )
    return vehicle


def _permission_error(permission: str, resource: str, grant: Grant) -> ApiError:
    granted = ", ".join(sorted(grant.scope)) or "none"
    return ApiError(
        403,
        "PERMISSION",
        f"GET /v{API_VERSION}/vehicles/{{id}}/{resource} needs the permission "
        f"{permission!r}, which the owner did not grant (granted: {granted}). "
        f"Add {permission!r} to the scope of the authorization URL and send "
        "the owner through Connect again.",
        resolution="REAUTHENTICATE",
    )


def _check_unit_system(value: str | None) -> str:
    units = (value or "metric").strip().lower()
    if units not in UNIT_SYSTEMS:
        raise ApiError(
            400,
            "VALIDATION",
            f"The sc-unit-system header is {value!r}; use 'metric' or 'imperial'.",
            code="PARAMETER",
        )
    return units


def _page(
    items: Sequence[str], params: dict[str, str]
) -> tuple[list[str], dict[str, int]]:
    """Return one page of ``items`` and Smartcar's ``paging`` object."""
    limit = _int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(params, "offset", 0, 0, None)
    return list(items[offset : offset + limit]), {"count": len(items), "offset": offset}


def _int_param(
    params: dict[str, str], name: str, default: int, low: int, high: int | None
) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.isdigit() and int(raw) >= low and (high is None or int(raw) <= high):
        return int(raw)
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    raise ApiError(
        400,
        "VALIDATION",
        f"{name}={raw!r} is not valid; give a whole number {bounds}.",
        code="PARAMETER",
    )


def _challenge(exc: ApiError, authorization: str | None) -> dict[str, str]:
    """The ``WWW-Authenticate`` header RFC 6750 §3 asks for, if any."""
    if exc.status == 401:
        error = ', error="invalid_token"' if authorization else ""
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"{error}'}
    if exc.status == 403:
        return {
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'
        }
    return {}


def _timestamp(seconds: float) -> str:
    """Format a clock reading as Smartcar's ``sc-data-age`` does."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
