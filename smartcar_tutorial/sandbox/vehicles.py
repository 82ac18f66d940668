"""Who owns what in the sandbox: demo vehicles and special test accounts.

Every brand on the picker owns the same two demo vehicles in every run, so
a docs build shows the same makes, models, years, odometer readings and
locations each time. The Connect mode shows in each vehicle's id, which
starts with it: ``test-tesla-…``, ``live-tesla-…`` or ``simulated-tesla-…``
(real Smartcar ids are opaque UUIDs; treat these as opaque too).

In test mode a few email addresses end Connect with an error instead of
a code, as Smartcar's test accounts do:

    vehicles = vehicles_for("TESLA", "test")
    vehicles[0].model, vehicles[0].year              # ('Model 3', 2021)
    special_account_error("smartcar@no-vehicles.com", "TESLA")["error"]
    # 'no_vehicles'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Kilometres in one mile, for ``sc-unit-system: imperial``.
KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class DemoVehicle:
    """One demo vehicle, with fixed data for every endpoint the sandbox serves."""

    vehicle_id: str
    make: str
    model: str
    year: int
    vin: str
    odometer_km: float
    latitude: float
    longitude: float

    def attributes(self) -> dict[str, object]:
        """The body of ``GET /v2.0/vehicles/{id}``."""
        return {
            "id": self.vehicle_id,
            "make": self.make,
            "model": self.model,
            "year": self.year,
        }

    def odometer(self, unit_system: str = "metric") -> dict[str, float]:
        """The body of ``GET /odometer``: kilometres, or miles for imperial."""
        distance = self.odometer_km
        if unit_system == "imperial":
            distance /= KM_PER_MILE
        return {"distance": round(distance, 1)}

    def location(self) -> dict[str, float]:
        """The body of ``GET /location``."""
        return {"latitude": self.latitude, "longitude": self.longitude}


# Per brand: two demo vehicles (model, year, odometer km, latitude, longitude),
# then the older model the vehicle-incompatible test account owns.
_CATALOG: dict[str, tuple[tuple, tuple, tuple[str, int]]] = {
    "AUDI": (
        ("Q4 e-tron", 2023, 12873.4, 48.7665, 11.4257),
        ("A6", 2020, 61204.9, 48.7651, 11.4236),
        ("A4", 2008),
    ),
    "BMW": (
        ("i4", 2023, 8456.1, 48.1772, 11.5562),
        ("X5", 2019, 74390.2, 48.1351, 11.5820),
        ("3 Series", 2009),
    ),
    "CHEVROLET": (
        ("Bolt EV", 2021, 33518.6, 42.3314, -83.0458),
        ("Silverado 1500", 2020, 58842.0, 42.3297, -83.0398),
        ("Volt", 2012),
    ),
    "FORD": (
        ("Mustang Mach-E", 2022, 21907.3, 42.3223, -83.1763),
        ("F-150", 2021, 46311.8, 42.3149, -83.2113),
        ("Focus", 2010),
    ),
    "HYUNDAI": (
        ("Ioniq 5", 2023, 14620.5, 37.5665, 126.9780),
        ("Kona Electric", 2021, 39874.1, 37.5700, 126.9830),
        ("Sonata", 2011),
    ),
    "KIA": (
        ("EV6", 2022, 24518.9, 37.5172, 127.0473),
        ("Niro", 2020, 52603.7, 37.5140, 127.0590),
        ("Soul", 2012),
    ),
    "NISSAN": (
        ("Ariya", 2023, 7012.6, 35.4660, 139.6220),
        ("Leaf", 2019, 68245.3, 35.4437, 139.6380),
        ("Altima", 2011),
    ),
    "RIVIAN": (
        ("R1T", 2022, 19876.2, 40.4842, -88.9937),
        ("R1S", 2023, 11320.8, 33.6846, -117.8265),
        ("EDV 700", 2022),
    ),
    "TESLA": (
        ("Model 3", 2021, 41286.5, 37.3948, -122.1503),
        ("Model Y", 2023, 12874.0, 30.2222, -97.6170),
        ("Roadster", 2011),
    ),
    "TOYOTA": (
        ("RAV4 Prime", 2022, 27440.1, 35.0823, 137.1563),
        ("Prius", 2018, 88120.4, 35.0833, 137.1560),
        ("Corolla", 2009),
    ),
    "VOLKSWAGEN": (
        ("ID.4", 2022, 23090.7, 52.4227, 10.7865),
        ("Golf", 2019, 71804.2, 52.4200, 10.7800),
        ("Passat", 2010),
    ),
}
# A brand sent in the URL's ``make`` that the picker does not list.
_OTHER_BRAND = (
    ("Demo Sedan", 2021, 20000.0, 37.7749, -122.4194),
    ("Demo SUV", 2022, 10000.0, 37.7750, -122.4180),
    ("Demo Classic", 2005),
)


def vehicles_for(make: str | None, mode: str) -> tuple[DemoVehicle, ...]:
    """Return the demo vehicles an owner of ``make`` shares in ``mode``.

    The same brand and mode always give the same vehicles and ids.
    """
    make = (make or "TESLA").upper()
    first, second, _ = _CATALOG.get(make, _OTHER_BRAND)
    return tuple(
        DemoVehicle(
            vehicle_id=f"{mode}-{_slug(make)}-{_digest(mode, make, model)[:12]}",
            make=make,
            model=model,
            year=year,
            vin=_vin(make, model),
            odometer_km=odometer,
            latitude=latitude,
            longitude=longitude,
        )
        for model, year, odometer, latitude, longitude in (first, second)
    )


def _slug(make: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", make.lower())[:16] or "brand"


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode("utf-8")).hexdigest()


def _vin(make: str, model: str) -> str:
    # 17 characters starting with 0SC, like the VINs of Smartcar's test vehicles.
    brand = (_slug(make).upper() + "XXXX")[:4]
    return "0SC" + brand + _digest(make, model)[:10].upper()


@dataclass(frozen=True)
class SpecialAccount:
    """An email that, in test mode, ends Connect with ``error``."""

    error: str
    description: str
    #: Whether the redirect names the owner's vehicle (vin, make, model, year).
    names_vehicle: bool = False
    extras: tuple[tuple[str, str], ...] = ()
    #: Whether Smartcar documents it; the others exist in this sandbox only.
    smartcar: bool = True


#: In test mode these accounts log in and end the flow with an error.
TEST_ACCOUNTS = {
    "smartcar@vehicle-incompatible.com": SpecialAccount(
        "vehicle_incompatible",
        "The vehicle cannot give the permissions the app asked for.",
        names_vehicle=True,
    ),
    "smartcar@invalid-subscription.com": SpecialAccount(
        "invalid_subscription",
        "The vehicle's connected-services subscription is not active.",
    ),
    "smartcar@no-vehicles.com": SpecialAccount(
        "no_vehicles",
        "The owner's car-maker account has no vehicles to share.",
        smartcar=False,
    ),
    "smartcar@server-error.com": SpecialAccount(
        "server_error",
        "Connect failed while handling the request.",
        smartcar=False,
    ),
    "smartcar@configuration-error.com": SpecialAccount(
        "configuration_error",
        "The owner saw an error page in Connect and chose to go back.",
        extras=(
            ("status_code", "400"),
            ("error_message", "The app's Connect settings are not valid."),
        ),
        smartcar=False,
    ),
}


def special_account_error(email: str, make: str | None) -> dict[str, str] | None:
    """Return the redirect parameters for a test account, or None.

    Args:
        email: What the owner typed on the login page; case is ignored.
        make: The brand picked, which the incompatible vehicle belongs to.
    """
    account = TEST_ACCOUNTS.get(email.strip().lower())
    if account is None:
        return None
    params = {"error": account.error, "error_description": account.description}
    if account.names_vehicle:
        vehicle = incompatible_vehicle(make)
        params.update(
            vin=vehicle.vin,
            make=vehicle.make,
            model=vehicle.model,
            year=str(vehicle.year),
        )
    params.update(account.extras)
    return params


def incompatible_vehicle(make: str | None) -> DemoVehicle:
    """Return the vehicle of ``smartcar@vehicle-incompatible.com``."""
    make = (make or "TESLA").upper()
    model, year = _CATALOG.get(make, _OTHER_BRAND)[2]
    return DemoVehicle(
        vehicle_id="",
        make=make,
        model=model,
        year=year,
        vin=_vin(make, model),
        odometer_km=0.0,
        latitude=0.0,
        longitude=0.0,
    )
