"""Smartcar permission names and what each one lets an app do.

>>> describe_permission("read_odometer")
'Read the odometer'
"""

from __future__ import annotations

PERMISSIONS = {
    "read_vehicle_info": "Know the make, model and year",
    "read_vin": "Read the VIN",
    "read_extended_vehicle_info": "Read the vehicle's configuration",
    "read_odometer": "Read the odometer",
    "read_location": "Access the location",
    "read_fuel": "Read the fuel tank level",
    "read_battery": "Read the EV battery's capacity and state of charge",
    "read_charge": "Know whether the vehicle is charging",
    "control_charge": "Start or stop charging",
    "read_charge_locations": "See previous charging locations",
    "read_charge_records": "Read charging records",
    "read_charge_events": "Receive charging events",
    "read_security": "Know whether the vehicle is locked",
    "control_security": "Lock or unlock the vehicle",
    "read_tires": "Read the tire pressure",
    "read_engine_oil": "Read the engine oil life",
    "read_thermometer": "Read temperatures inside and outside",
    "read_speedometer": "Read the speed",
    "read_compass": "Read the heading",
    "read_climate": "Read the climate settings",
    "control_climate": "Change the climate settings",
    "control_navigation": "Send destinations to the navigation",
    "control_trunk": "Open the trunk or frunk",
    "control_pin": "Set a PIN to drive",
    "read_alerts": "Read vehicle alerts",
    "read_diagnostics": "Read diagnostic trouble codes",
    "read_service_history": "Read the service history",
    "read_user_profile": "Read the owner's profile",
}

REQUIRED_PREFIX = "required:"


def split_required(name: str) -> tuple[str, bool]:
    """Return the bare permission name and whether it was marked required."""
    if name.startswith(REQUIRED_PREFIX):
        return name[len(REQUIRED_PREFIX) :], True
    return name, False


def describe_permission(name: str) -> str:
    """Return the plain-words description of a permission name."""
    bare, _ = split_required(name)
    return PERMISSIONS.get(bare, bare.replace("_", " ").capitalize())
