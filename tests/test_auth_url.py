"""AuthClient builds the same Connect URL as Smartcar's own Python SDK."""

from __future__ import annotations

import warnings

import pytest
import smartcar
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcar_tutorial import PERMISSIONS, AuthClient, ConfigurationError, new_state

SANDBOX_ORIGIN = "http://localhost:8081"


def sdk_url(client: dict, scope, options) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return smartcar.AuthClient(**client).get_auth_url(scope, options)


def test_get_auth_url_matches_every_recorded_sdk_vector(auth_url_vectors):
    assert len(auth_url_vectors) >= 8
    for vector in auth_url_vectors:
        client = AuthClient(**vector["client"])
        url = client.get_auth_url(vector["scope"], vector["options"])
        assert url == vector["url"], vector["label"]


def test_get_auth_url_against_sandbox_differs_only_in_origin(auth_url_vectors):
    for vector in auth_url_vectors:
        client = AuthClient(**vector["client"], connect_origin=SANDBOX_ORIGIN)
        url = client.get_auth_url(vector["scope"], vector["options"])
        assert url == vector["url"].replace(
            "https://connect.smartcar.com", SANDBOX_ORIGIN
        )


def test_auth_client_reads_the_sdk_environment_variables(monkeypatch):
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "env-id")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SMARTCAR_REDIRECT_URI", "http://localhost:8080/callback")
    ours = AuthClient(mode="test").get_auth_url(["read_odometer"])
    assert ours == sdk_url({"mode": "test"}, ["read_odometer"], None)
    assert "client_id=env-id" in ours


def test_auth_client_repr_hides_the_secret():
    client = AuthClient("the-id", "very-secret-value", mode="test")
    assert "very-secret-value" not in repr(client)
    assert "the-id" in repr(client)


NO_ID = (
    "No client_id was given: the argument client_id= was empty and the "
    "environment variable SMARTCAR_CLIENT_ID is not set. Pass client_id= or set "
    "SMARTCAR_CLIENT_ID; offline, use the sandbox's demo credentials "
    "(start_sandbox())."
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"client_secret": "s"}, NO_ID),
        ({"client_id": "", "client_secret": "s"}, NO_ID),
        (
            {"client_id": "i"},
            "No client_secret was given: the argument client_secret= was empty "
            "and the environment variable SMARTCAR_CLIENT_SECRET is not set. "
            "Pass client_secret= or set SMARTCAR_CLIENT_SECRET; offline, use the "
            "sandbox's demo credentials (start_sandbox()).",
        ),
        (
            {"client_id": "i", "client_secret": "s", "mode": "sandbox"},
            "mode='sandbox' is not a Connect mode. Use one of 'live', 'test', "
            "'simulated'; 'test' needs no real vehicle.",
        ),
        (
            {"cliend_id": "i", "client_secret": "s"},
            "AuthClient() got an unknown argument 'cliend_id'. "
            "Did you mean 'client_id'?",
        ),
        (
            {"clientId": "i", "client_secret": "s"},
            "AuthClient() got an unknown argument 'clientId'. "
            "Did you mean 'client_id'?",
        ),
        (
            {"client_id": "i", "client_secret": "s", "redirectUri": "u"},
            "AuthClient() got an unknown argument 'redirectUri'. "
            "Did you mean 'redirect_uri'?",
        ),
        (
            {"client_id": "i", "client_secret": "s", "testMode": True},
            "AuthClient() got an unknown argument 'testMode'. "
            "Did you mean 'test_mode'?",
        ),
    ],
)
def test_auth_client_rejects_bad_configuration(kwargs, message):
    with pytest.raises(ConfigurationError) as info:
        AuthClient(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("scope", "options", "message"),
    [
        (
            "read_vehicle_info read_odometer",
            None,
            "scope='read_vehicle_info read_odometer' is one string; pass a list "
            "of permission names, such as ['read_vehicle_info', 'read_odometer'].",
        ),
        (
            ["read_odometr"],
            None,
            "'read_odometr' is not a Smartcar permission. Did you mean "
            "'read_odometer'? The full list is in smartcar_tutorial.PERMISSIONS.",
        ),
        (
            ["read_vin"],
            {"forcePrompt": True},
            "Unknown option 'forcePrompt'. Did you mean 'force_prompt'? Known "
            "options: force_prompt, state, make_bypass, single_select, flags, user.",
        ),
        (
            ["read_vin"],
            {"single_select": True},
            "single_select=True must be a mapping: use {'enabled': True} to let "
            "the owner pick one vehicle, or {'vin': '<17-character VIN>'} for a "
            "given one.",
        ),
        (
            ["read_vin"],
            {"flags": "country:DE"},
            "flags='country:DE' must be a mapping of flag names to values, such "
            "as {'country': 'DE'}.",
        ),
    ],
)
def test_get_auth_url_rejects_bad_input_with_a_hint(scope, options, message):
    client = AuthClient("i", "s", mode="test")
    with pytest.raises(ConfigurationError) as info:
        client.get_auth_url(scope, options)
    assert str(info.value) == message


def test_new_state_is_fresh_and_url_safe():
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(
        len(s) >= 20 and s.replace("-", "").replace("_", "").isalnum() for s in states
    )


# Inputs Smartcar's SDK accepts, generated.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20
)
scopes = st.lists(
    st.builds(
        lambda name, required: ("required:" if required else "") + name,
        st.sampled_from(sorted(PERMISSIONS)),
        st.booleans(),
    ),
    max_size=5,
)
single_selects = st.one_of(
    st.fixed_dictionaries({"enabled": st.booleans()}),
    st.fixed_dictionaries({"vin": text}),
    st.fixed_dictionaries({"enabled": st.booleans(), "vin": text}),
)
options = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "force_prompt": st.booleans(),
            "state": text,
            "make_bypass": text,
            "single_select": single_selects,
            "flags": st.dictionaries(
                text, st.one_of(st.booleans(), text, st.integers()), max_size=3
            ),
            "user": text,
        },
    ),
)
clients = st.fixed_dictionaries(
    {"client_id": text, "client_secret": text},
    optional={
        "redirect_uri": text,
        "mode": st.sampled_from(["live", "test", "simulated", "TEST", "Live"]),
        "test_mode": st.booleans(),
    },
)


@settings(max_examples=300, deadline=None)
@given(client=clients, scope=scopes, options=options)
def test_get_auth_url_equals_the_installed_sdk(client, scope, options):
    ours = AuthClient(**client).get_auth_url(scope, options)
    assert ours == sdk_url(client, scope, options)
