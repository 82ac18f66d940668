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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"client_secret": "s"}, "No client_id was given"),
        ({"client_id": "i"}, "SMARTCAR_CLIENT_SECRET is not set"),
        ({"client_id": "i", "client_secret": "s", "mode": "sandbox"}, "'sandbox'"),
        ({"cliend_id": "i", "client_secret": "s"}, "Did you mean 'client_id'?"),
        ({"clientId": "i", "client_secret": "s"}, "Did you mean 'client_id'?"),
        (
            {"client_id": "i", "client_secret": "s", "redirectUri": "u"},
            "'redirect_uri'",
        ),
        ({"client_id": "i", "client_secret": "s", "testMode": True}, "'test_mode'"),
        ({"client_id": "", "client_secret": "s"}, "argument client_id= was empty"),
    ],
)
def test_auth_client_rejects_bad_configuration(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        AuthClient(**kwargs)


@pytest.mark.parametrize(
    ("scope", "options", "message"),
    [
        ("read_vehicle_info read_odometer", None, "one string"),
        (["read_odometr"], None, "Did you mean 'read_odometer'"),
        (["read_vin"], {"forcePrompt": True}, "Did you mean 'force_prompt'"),
        (["read_vin"], {"single_select": True}, "must be a mapping"),
        (["read_vin"], {"flags": "country:DE"}, "must be a mapping"),
    ],
)
def test_get_auth_url_rejects_bad_input_with_a_hint(scope, options, message):
    client = AuthClient("i", "s", mode="test")
    with pytest.raises(ConfigurationError, match=message):
        client.get_auth_url(scope, options)


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
