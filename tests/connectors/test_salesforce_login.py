# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Salesforce login flows on the wire: simple-salesforce's own login code against the
sandbox's token, userinfo and SOAP endpoints.

simple-salesforce always builds ``https://{domain}.salesforce.com/...``. The test resolves
``*.salesforce.com`` to the sandbox the way a hosts-file entry would: a transport adapter
sends the request to the sandbox's address and keeps the original ``Host`` header, so the
emulator still sees (and checks) which login host was asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter

from tests.connectors.sandbox_support import MODEL_FIELDS
from tests.sandbox.conftest import sf_client
from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.errors import AuthenticationError, ConfigurationError
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import SalesforceConnector
from tierwise.sandbox import Sandbox
from tierwise.sandbox.sf_auth import CONSUMER_KEY, CONSUMER_SECRET, MY_DOMAIN

HOSTS = (MY_DOMAIN, "login.salesforce.com", "test.salesforce.com")


class SalesforceHosts(HTTPAdapter):
    """``*.salesforce.com`` -> the sandbox (like /etc/hosts), Host header preserved."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(str(request.url))
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=self.target))
        return super().send(request, *args, **kwargs)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=5, seed=3) as sb:
        yield sb


def connector(sb: Sandbox, **kw: Any) -> SalesforceConnector:
    settings = SalesforceSettings(ca_bundle=sb.ca_file, **kw)
    sf = SalesforceConnector(settings, MODEL_FIELDS, retry_policy=RetryPolicy(max_attempts=1))
    adapter = SalesforceHosts(sb.salesforce_url.removeprefix("https://"))
    for host in HOSTS:
        sf.client.session.mount(f"https://{host}", adapter)
    return sf


def test_client_credentials_against_my_domain_issue_a_token_the_rest_api_accepts(
    box: Sandbox,
) -> None:
    sf = connector(
        box,
        consumer_key=SecretStr(CONSUMER_KEY),
        consumer_secret=SecretStr(CONSUMER_SECRET),
        domain=MY_DOMAIN,
    )

    sf.check_access()
    user_id = sf.running_user_id()

    assert {"login": 1, "limits": 1, "oauth2/userinfo": 1} == sf.usage().calls
    assert box.salesforce.org.api_user_id == user_id
    assert box.salesforce.auth.issued, "the REST call used the token the endpoint issued"
    sf.close()


def test_client_credentials_need_a_my_domain_host(box: Sandbox) -> None:
    with pytest.raises(ConfigurationError, match="My Domain"):
        connector(
            box,
            consumer_key=SecretStr(CONSUMER_KEY),
            consumer_secret=SecretStr(CONSUMER_SECRET),
            domain="login",
        )
    # ... and the org refuses the flow on login.salesforce.com anyway.
    session = requests.Session()
    session.mount(
        "https://login.salesforce.com", SalesforceHosts(box.salesforce_url.removeprefix("https://"))
    )
    answer = session.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CONSUMER_KEY,
            "client_secret": CONSUMER_SECRET,
        },
        verify=str(box.ca_file),
        timeout=5,
    )
    session.close()
    assert (400, "invalid_grant") == (answer.status_code, answer.json()["error"])


def test_a_wrong_client_secret_is_an_authentication_error(box: Sandbox) -> None:
    sf = connector(
        box,
        consumer_key=SecretStr(CONSUMER_KEY),
        consumer_secret=SecretStr("canary-wrong-secret"),
        domain=MY_DOMAIN,
    )
    with pytest.raises(AuthenticationError) as caught:
        sf.check_access()
    assert "canary-wrong-secret" not in str(caught.value)
    sf.close()


def test_jwt_bearer_with_the_connected_apps_key(box: Sandbox, tmp_path: Path) -> None:
    key_file = tmp_path / "server.key"
    key_file.write_bytes(box.salesforce.auth.private_key_pem())
    sf = connector(
        box,
        username=box.salesforce.auth.username,
        domain="login",
        consumer_key=SecretStr(CONSUMER_KEY),
        private_key_file=key_file,
    )

    sf.check_access()

    assert 1 == sf.usage().calls["login"]
    sf.close()


def test_jwt_bearer_signed_with_another_key_is_refused(box: Sandbox, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "other.key"
    key_file.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    sf = connector(
        box,
        username=box.salesforce.auth.username,
        domain="login",
        consumer_key=SecretStr(CONSUMER_KEY),
        private_key_file=key_file,
    )
    with pytest.raises(AuthenticationError):
        sf.check_access()
    sf.close()


def legacy(sb: Sandbox) -> SalesforceConnector:
    auth = sb.salesforce.auth
    return connector(
        sb,
        username=auth.username,
        password=SecretStr(auth.password),
        security_token=SecretStr(auth.security_token),
    )


def test_legacy_soap_login_is_refused_by_a_new_org(box: Sandbox) -> None:
    sf = legacy(box)
    with pytest.raises(AuthenticationError, match="INVALID_OPERATION"):
        sf.check_access()
    sf.close()


def test_legacy_soap_login_works_where_enabled_and_pins_api_64() -> None:
    with Sandbox(accounts=5, seed=3, salesforce_soap_login=True) as sb:
        sf = legacy(sb)
        sf.check_access()
        soap = [c for c in sb.calls if "/services/Soap/" in c.path]
        sf.close()
    assert ["/services/Soap/u/64.0"] == [c.path for c in soap]


def test_soap_login_is_not_available_from_api_65(box: Sandbox) -> None:
    sf = sf_client(box)
    answer = sf.session.post(
        f"{box.salesforce_url}/services/Soap/u/65.0",
        data="<x/>",
        headers={"SOAPAction": "login", "content-type": "text/xml"},
        timeout=5,
    )
    assert 500 == answer.status_code
    assert (
        "The SOAP Login operation is not available in the API version specified (65.0)"
        in answer.text
    )
