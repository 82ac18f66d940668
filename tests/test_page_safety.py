"""Secrets, tokens, run-specific values and machine paths stay off the pages."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from smartcar_tutorial.page_safety import (
    REDACTED,
    configured_secrets,
    find_token_values,
    leaked_secrets,
    redact,
    scrub_machine_paths,
    scrub_timestamps,
    shows_port_takeover,
    unexpected_ports,
)
from smartcar_tutorial.sandbox import DEMO_CLIENT_SECRET


def test_configured_secrets_counts_secrets_and_tokens_but_not_the_demo_secret():
    environ = {
        "SMARTCAR_CLIENT_ID": "my-app",
        "SMARTCAR_CLIENT_SECRET": "real-secret-123",
        "SMARTCAR_ACCESS_TOKEN": "token-456789",
        "SMARTCAR_REDIRECT_URI": "https://app.example.com/callback",
        "OTHER_SECRET": "not-ours-000",
    }

    secrets = configured_secrets(environ)

    basic = base64.b64encode(b"my-app:real-secret-123").decode()
    assert set(secrets.values()) == {"real-secret-123", "token-456789", basic}
    assert configured_secrets({"SMARTCAR_CLIENT_SECRET": DEMO_CLIENT_SECRET}) == {}


def test_leaked_secrets_finds_plain_and_html_escaped_values():
    secrets = {"SMARTCAR_CLIENT_SECRET": "a&b-secret"}

    assert leaked_secrets(b"x a&amp;b-secret y", secrets) == ["SMARTCAR_CLIENT_SECRET"]
    assert leaked_secrets(b"nothing here", secrets) == []


def test_find_token_values_reads_json_repr_form_and_bearer():
    text = (
        '{"access_token": "aaaaaaaa-1"}\n'
        "Access(access_token='bbbbbbbb-2', refresh_token='cccccccc-3')\n"
        "grant_type=refresh_token&refresh_token=dddddddd-4\n"
        "Authorization: Bearer eeeeeeee-5\n"
        "{&#x27;access_token&#x27;: &#x27;ffffffff-6&#x27;}\n"
        "{'access_token': '7aee…'}"
    )

    assert find_token_values(text) == {
        "aaaaaaaa-1",
        "bbbbbbbb-2",
        "cccccccc-3",
        "dddddddd-4",
        "eeeeeeee-5",
        "ffffffff-6",
    }


def test_redact_replaces_every_occurrence():
    assert (
        redact("t0ken-123 and t0ken-123", {"t0ken-123"}) == f"{REDACTED} and {REDACTED}"
    )


def test_scrub_machine_paths_replaces_known_folders_and_kernel_files(tmp_path):
    build = tmp_path / "smartcar-docs-x"
    text = (
        f"{build}/executed/03.ipynb\n"
        "/tmp/ipykernel_1234/567.py:3: UserWarning\n"
        f"{sys.prefix}/lib/python3/site.py\n"
        f"{Path.home()}/notes\n"
    )

    scrubbed = scrub_machine_paths(text, {build: "<build>"})

    assert scrubbed.splitlines() == [
        "<build>/executed/03.ipynb",
        "<cell>:3: UserWarning",
        "<python>/lib/python3/site.py",
        "~/notes",
    ]


def test_unexpected_ports_and_takeovers_are_noticed():
    assert unexpected_ports("http://localhost:8080 127.0.0.1:51234", [8080]) == [51234]
    assert shows_port_takeover("running; took the port over from x (process 42)")
    assert shows_port_takeover("Another kernel took port 8081 over; stopped")
    assert not shows_port_takeover("CallbackServer('http://localhost:8080', running)")


def test_scrub_timestamps_replaces_iso_and_spaced_date_times():
    text, count = scrub_timestamps(
        "a 2026-12-03T19:15:00.595274Z b 2026-12-03 21:33 UTC"
    )

    assert count == 2
    assert text == "a YYYY-MM-DD hh:mm b YYYY-MM-DD hh:mm UTC"
