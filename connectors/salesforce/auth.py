"""How tierwise logs in to Salesforce: client credentials, JWT bearer, or legacy SOAP.

A login is a zero-argument callable returning ``(session id, instance host[:port])``,
so the client can log in again when a session expires without knowing which flow the
operator configured. A bare access token has no login (None): it cannot be renewed.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from simple_salesforce.login import SalesforceLogin

from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.salesforce.session import TimeoutSession

SYSTEM = "salesforce"

Login = Callable[[], tuple[str, str]]  # -> (session id, instance host[:port])

log = structlog.get_logger(__name__)


# SOAP login() is not available at API 65.0+ (CRM-API-NOTES §1.14): the legacy password
# login pins this version for the login call only; REST keeps settings.api_version.
SOAP_LOGIN_VERSION = "64.0"


def login_domain(domain: str) -> str:
    """What simple-salesforce wants as ``domain`` (it appends ``.salesforce.com``):
    ``acme.my.salesforce.com`` / ``https://acme.my.salesforce.com/`` -> ``acme.my``."""
    host = domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    return host.removesuffix(".salesforce.com")


def make_login(settings: SalesforceSettings, session: TimeoutSession) -> Login | None:
    """A re-usable login for credential auth; None for a bare access token.

    Order: client credentials (consumer key + secret + My Domain), JWT bearer, then the
    legacy SOAP username/password login."""
    domain = login_domain(settings.domain)
    key, secret = settings.consumer_key, settings.consumer_secret
    if key is not None and secret is not None:
        if domain in ("login", "test"):
            raise ConfigurationError(
                "Salesforce client credentials need the org's My Domain host in "
                "TIERWISE_SALESFORCE__DOMAIN (e.g. acme.my.salesforce.com); "
                "login/test.salesforce.com do not support this flow",
                system=SYSTEM,
            )

        def client_credentials_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                consumer_key=key.get_secret_value(),
                consumer_secret=secret.get_secret_value(),
                domain=domain,
            )
            return str(sid), str(instance)

        return client_credentials_login
    if settings.username and key is not None and settings.private_key_file:
        key_file = settings.private_key_file

        def jwt_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                username=settings.username,
                consumer_key=key.get_secret_value(),
                privatekey_file=str(key_file),
                domain=domain,
            )
            return str(sid), str(instance)

        return jwt_login
    if settings.username and settings.password is not None:
        password = settings.password
        security_token = settings.security_token
        version = min(float(settings.api_version), float(SOAP_LOGIN_VERSION))
        log.warning(
            "salesforce_legacy_password_login",
            detail="SOAP login() is disabled in new orgs, unavailable from API 65.0 and "
            "retired in Summer '27; use client credentials (consumer key + secret + My "
            "Domain) or JWT bearer",
            login_api_version=f"{version:.1f}",
        )

        def password_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                username=settings.username,
                password=password.get_secret_value(),
                security_token=security_token.get_secret_value() if security_token else "",
                sf_version=f"{version:.1f}",
                domain=domain,
            )
            return str(sid), str(instance)

        return password_login
    return None
