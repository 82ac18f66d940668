"""One parser turns whatever Connect sent back into an AuthorizationResult."""

from __future__ import annotations

import pytest

from smartcar_tutorial import (
    AuthorizationDeniedError,
    AuthorizationError,
    ConfigurationError,
    parse_redirect,
    shorten,
)
from smartcar_tutorial.result import ERROR_EXPLANATIONS


def test_parse_redirect_reads_a_whole_url():
    result = parse_redirect("http://localhost:8080/callback?code=c-1&state=s-1")
    assert (result.code, result.state, result.ok) == ("c-1", "s-1", True)


@pytest.mark.parametrize(
    "text",
    [
        "?error=access_denied&error_description=User+denied+access&state=s",
        "error=access_denied&error_description=User%20denied%20access&state=s",
    ],
)
def test_parse_redirect_decodes_plus_and_percent_spaces(text):
    result = parse_redirect(text)
    assert result.error_description == "User denied access"
    assert not result.ok


def test_parse_redirect_accepts_a_bare_pasted_code():
    assert parse_redirect("  9f86d081-884c  \n").code == "9f86d081-884c"


def test_parse_redirect_keeps_extras_and_the_redirect_uris_own_query():
    result = parse_redirect(
        "http://localhost:8080/callback?app=demo&error=vehicle_incompatible"
        "&vin=1HGCM82633A004352&make=TESLA&model=Model+3&year=2020"
    )
    assert dict(result.extras) == {
        "app": "demo",
        "vin": "1HGCM82633A004352",
        "make": "TESLA",
        "model": "Model 3",
        "year": "2020",
    }
    assert "Model 3" in result.explain()


def test_parse_redirect_decodes_non_ascii():
    result = parse_redirect("?error=server_error&error_description=Fehler%20%C3%BC")
    assert result.error_description == "Fehler ü"


@pytest.mark.parametrize("text", ["", "http://localhost:8080/callback", "?state=s"])
def test_parse_redirect_rejects_text_without_code_or_error(text):
    with pytest.raises(ConfigurationError, match="neither a code nor an error"):
        parse_redirect(text)


def test_raise_for_error_names_denial_apart_from_other_errors():
    with pytest.raises(AuthorizationDeniedError, match="pressed Deny"):
        parse_redirect("?error=access_denied").raise_for_error()
    with pytest.raises(AuthorizationError, match="no vehicles") as info:
        parse_redirect("?error=no_vehicles").raise_for_error()
    assert info.value.error == "no_vehicles"


@pytest.mark.parametrize("error", sorted(ERROR_EXPLANATIONS))
def test_explain_says_what_to_try_for_every_connect_error(error):
    _, todo = ERROR_EXPLANATIONS[error]
    assert parse_redirect(f"?error={error}").explain().endswith(todo)


def test_shorten_keeps_only_the_start():
    assert shorten("abcdef123456") == "abcd…"
    assert "123456" not in shorten("abcdef123456")
