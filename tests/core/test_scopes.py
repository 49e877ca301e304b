"""Only the Microsoft Graph scopes the product pages list are ever asked for: GPT Pro's
``User.Read email openid offline_access profile`` at sign-in, and Image Pro's
``Sites.ReadWrite.All`` besides when it redeems a grant for Graph. Checked on the sign-in
request the app really builds (against a real OpenID provider standing in for Entra), on the
settings that could widen them, and over every place in the code that names a scope."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from teamspro.app import create_app
from teamspro.config import GRAPH_SCOPES, GraphSettings, OidcProvider, Settings
from tests.fixtures.app import make_settings
from tests.fixtures.oidc import OidcPeer

SRC = Path(__file__).resolve().parents[2] / "src" / "teamspro"
GRAPH_PERMISSION = (
    r"\b(User|Sites|Files|Chat|ChannelMessage|Team|Group|Mail|Calendars)"
    r"\.(Read|Write|ReadWrite|ReadBasic|Send|Create)\w*(\.All)?"
)


def test_the_sign_in_request_asks_exactly_the_published_scopes(
    oidc_peer: OidcPeer, tmp_path: Path, sqlite_url: str
) -> None:
    # The Entra preset, its discovery answered by the real provider on loopback.
    entra = oidc_peer.provider_config(key="entra", preset="entra")
    settings = make_settings(tmp_path, sqlite_url, oidc_providers=[entra])
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        started = client.get("/auth/oidc/entra/start", follow_redirects=False)
    assert started.status_code == 303, started.text
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert set(query["scope"][0].split()) == set(GRAPH_SCOPES["gpt"])
    assert set(GRAPH_SCOPES["gpt"]) == {"User.Read", "email", "openid", "offline_access", "profile"}


def test_sharepoint_grants_are_redeemed_for_image_pros_one_extra_scope() -> None:
    """Image Pro libraries and GPT Pro knowledge sources share one Graph client and one scope:
    the seeds publish Sites.ReadWrite.All (Image Pro's) and no other SharePoint scope."""
    asked = {s.removeprefix("https://graph.microsoft.com/") for s in Settings().graph.scope.split()}
    assert asked == {"Sites.ReadWrite.All", "offline_access"}
    assert asked <= set(GRAPH_SCOPES["images"])
    assert set(GRAPH_SCOPES["images"]) - set(GRAPH_SCOPES["gpt"]) == {"Sites.ReadWrite.All"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: GraphSettings(scope="https://graph.microsoft.com/Files.ReadWrite.All"),
        lambda: GraphSettings(scope="Sites.ReadWrite.All ChannelMessage.Read.All"),
        lambda: GraphSettings(scope="Sites.Read.All"),
        lambda: OidcProvider(
            key="ms",
            name="Microsoft",
            client_id="c",
            issuer="https://login.microsoftonline.com/contoso/v2.0",
            scopes=["openid", "Files.Read.All"],
        ),
    ],
)
def test_settings_cannot_widen_them(build: object) -> None:
    with pytest.raises(ValidationError, match=r"published scopes|may ask only"):
        build()  # type: ignore[operator]


def test_every_place_that_names_a_scope_is_one_of_these() -> None:
    """A new request for a scope (a Teams files or chats one, say) shows up here first."""
    named = []
    for path in sorted(SRC.rglob("*.py")):
        if path.is_relative_to(SRC / "core" / "privacy"):
            continue  # a data export's scope (person or organisation) is no OAuth scope
        for line in path.read_text().splitlines():
            # A Graph permission by name, or a scope passed on from a variable.
            if re.search(GRAPH_PERMISSION + r"|\bscopes?=[^\"'\s]", line):
                named.append(f"{path.relative_to(SRC)}: {line.strip()}")
    places = [n.split(":")[0] for n in named]
    assert sorted(set(places)) == [
        "config.py",
        "core/graph/auth.py",
        "core/identity/oidc.py",
    ], named
    permissions = {m.group(0) for n in named for m in re.finditer(GRAPH_PERMISSION, n)}
    assert permissions == {"User.Read", "Sites.ReadWrite.All"}, permissions
