"""Where the kernel runs, and the addresses a browser uses to reach it."""

from __future__ import annotations

import pytest

from smartcar_tutorial.where import (
    Where,
    browser_location,
    detect,
    is_forwarded_elsewhere,
)

AUTH_URL = "http://localhost:8081/oauth/authorize?client_id=a&state=s"
HUB = {"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/", "JUPYTERHUB_USER": "alice"}


def test_detect_a_laptop_from_an_empty_environment():
    where = detect({})

    assert where.kind == "laptop" and not where.remote
    assert where.browser_url(AUTH_URL) == AUTH_URL


def test_detect_jupyterhub_and_build_root_relative_proxy_links():
    where = detect(HUB)

    assert (where.kind, where.prefix, where.user) == (
        "jupyterhub",
        "/user/alice/",
        "alice",
    )
    assert where.browser_url(AUTH_URL) == (
        "/user/alice/proxy/8081/oauth/authorize?client_id=a&state=s"
    )


def test_detect_binder_by_its_variables():
    env = {**HUB, "BINDER_LAUNCH_HOST": "https://mybinder.org/"}

    assert detect(env).kind == "binder"
    assert detect({"BINDER_REPO_URL": "https://example.org/r"}).remote


def test_a_hub_with_a_public_url_gives_absolute_links():
    env = {**HUB, "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/"}

    assert detect(env).browser_url(AUTH_URL) == (
        "https://hub.example.org/user/alice/proxy/8081/oauth/authorize"
        "?client_id=a&state=s"
    )


def test_a_facilitators_override_wins():
    env = {**HUB, "SMARTCAR_TUTORIAL_PUBLIC_BASE": "https://lab.example.org/base"}
    where = detect(env)

    assert (where.kind, where.prefix) == ("configured", "/base/")
    assert where.browser_url("http://127.0.0.1:8080/callback") == (
        "https://lab.example.org/base/proxy/8080/callback"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://connect.smartcar.com/oauth/authorize?client_id=a",
        "http://example.org:8081/oauth/authorize",
    ],
)
def test_addresses_off_this_machine_are_left_alone(url):
    assert detect(HUB).browser_url(url) == url


# Redirects through jupyter-server-proxy --------------------------------------

CALLBACK = "http://localhost:8080/callback?code=abc&state=s"
THROUGH_PROXY = {"X-Forwarded-Prefix": "/user/alice/proxy/8081", "Host": "hub:8000"}


def test_a_redirect_without_the_proxy_is_unchanged():
    assert browser_location(CALLBACK, {"Host": "localhost:8081"}) == CALLBACK


def test_a_redirect_through_the_proxy_goes_to_the_proxys_address_of_the_port():
    headers = {**THROUGH_PROXY, "Origin": "https://hub.example.org"}

    assert browser_location(CALLBACK, headers) == (
        "https://hub.example.org/user/alice/proxy/8080/callback?code=abc&state=s"
    )


def test_forwarded_headers_name_the_address_bar_when_origin_is_missing():
    headers = {
        **THROUGH_PROXY,
        "X-Forwarded-Proto": "https,http",
        "X-Forwarded-Host": "hub.example.org, 127.0.0.1:8000",
    }

    assert browser_location(CALLBACK, headers).startswith(
        "https://hub.example.org/user/alice/proxy/8080/callback?"
    )


def test_host_over_http_is_the_last_guess():
    headers = {"X-Forwarded-Prefix": "/proxy/8081", "Host": "127.0.0.1:8888"}

    assert browser_location(CALLBACK, headers) == (
        "http://127.0.0.1:8888/proxy/8080/callback?code=abc&state=s"
    )


@pytest.mark.parametrize(
    "location",
    [
        "https://app.example.org/callback?code=abc",
        "http://app.example.org/callback?code=abc",
        "com.example.app://callback?code=abc",
    ],
)
def test_only_loopback_redirects_are_rewritten(location):
    assert browser_location(location, THROUGH_PROXY) == location


def test_a_request_through_another_users_server_is_told_apart():
    hub = detect(HUB)

    assert is_forwarded_elsewhere({"X-Forwarded-Prefix": "/user/bob/proxy/8080"}, hub)
    assert is_forwarded_elsewhere({"X-Forwarded-Prefix": "/user/al/proxy/8080"}, hub)
    assert not is_forwarded_elsewhere(THROUGH_PROXY, hub)
    assert not is_forwarded_elsewhere({}, hub)
    assert not is_forwarded_elsewhere(
        {"X-Forwarded-Prefix": "/user/bob/proxy/8080"}, Where("laptop")
    )
