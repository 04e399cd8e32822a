"""Salesforce login endpoints: OAuth 2.0 token (client credentials, JWT bearer), userinfo,
and the SOAP ``login()`` call new orgs no longer allow.

Sources (CRM-API-NOTES §1.14, sandbox/README.md):
- client credentials: ``POST https://{MyDomain}.my.salesforce.com/services/oauth2/token``,
  ``grant_type=client_credentials``; login/test.salesforce.com are refused [sf-cc-migrate]
  (help.salesforce.com/s/articleView?id=000886201). simple-salesforce sends id:secret as
  HTTP Basic (simple_salesforce/login.py); RFC 6749 §2.3.1 also allows form parameters.
- JWT bearer: ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with an RS256
  assertion whose ``iss`` is the consumer key, ``sub`` the username, ``aud`` the login host,
  ``exp`` in the future (help.salesforce.com ``remoteaccess_oauth_jwt_flow``;
  simple_salesforce/login.py builds exactly these claims).
- the token answer's ``id`` is the identity URL ``…/id/{orgId}/{userId}`` [sf-identity-url];
  ``/services/oauth2/userinfo`` answers ``user_id`` and ``organization_id`` [sf-userinfo].
- SOAP ``login()``: not available at API 65.0+ (fault INVALID_OPERATION, wording quoted in
  forcedotcom/wsc#363 and simple-salesforce#805), disabled by default in new orgs
  [sf-soap-login-retire]. The fault a disabled org returns is a GUESS (switch
  ``soap_login_enabled``).
"""

from __future__ import annotations

import base64
import html
import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tierwise.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.salesforce import SalesforceEmulator

ORG_ID = "00DHn0000SANDBOX"
MY_DOMAIN = "tierwise-sandbox.my.salesforce.com"
CONSUMER_KEY = "3MVG9sandbox.consumer.key"
CONSUMER_SECRET = "sandbox-consumer-secret"  # noqa: S105 - the emulator's own test secret
SOAP_LAST_VERSION = 64.0
JWT_AUDIENCES = (
    "https://login.salesforce.com",
    "https://test.salesforce.com",
    f"https://{MY_DOMAIN}",
)


class OAuthEndpoints:
    """Token, userinfo and SOAP login for one emulated org and its integration user."""

    def __init__(self, emulator: SalesforceEmulator, *, soap_login_enabled: bool) -> None:
        self.emulator = emulator
        self.soap_login_enabled = soap_login_enabled
        self.consumer_key = CONSUMER_KEY
        self.consumer_secret = CONSUMER_SECRET
        self.my_domain = MY_DOMAIN
        self.username = "integration@sandbox.example"
        self.password = "sandbox-password"  # noqa: S105 - the emulator's own test secret
        self.security_token = "sandbox-token"  # noqa: S105
        self.issued: set[str] = set()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def private_key_pem(self) -> bytes:
        """The connected app's certificate key, as the admin would hand it to tierwise."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # ---- dispatch ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        if request.method == "POST" and request.path.rstrip("/") == "/services/oauth2/token":
            return self._token(request)
        if request.path.rstrip("/") == "/services/oauth2/userinfo":
            return self._userinfo(request)
        if request.method == "POST" and request.path.startswith("/services/Soap/u/"):
            return self._soap_login(request)
        return Response.json(404, {"error": "not_found", "error_description": "not found"})

    def _host(self, request: Request) -> str:
        return (request.header("Host") or "").split(":")[0].lower()

    def _grant(self) -> Response:
        token = f"{ORG_ID}!" + secrets.token_urlsafe(24)
        self.issued.add(token)
        user_id = self.emulator.org.api_user_id
        return Response.json(
            200,
            {
                "access_token": token,
                "instance_url": self.emulator.base_url,
                "id": f"https://login.salesforce.com/id/{ORG_ID}/{user_id}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            },
        )

    @staticmethod
    def _error(status: int, error: str, description: str) -> Response:
        return Response.json(status, {"error": error, "error_description": description})

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(request, form)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt_bearer(form)
        return self._error(400, "unsupported_grant_type", "grant type not supported")

    def _client_credentials(self, request: Request, form: dict[str, str]) -> Response:
        host = self._host(request)
        if not host.endswith(".my.salesforce.com"):
            # login/test.salesforce.com do not support this flow [sf-cc-migrate].
            return self._error(400, "invalid_grant", "request not supported on this domain")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
            except ValueError:
                return self._error(400, "invalid_client", "invalid client credentials")
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.consumer_key:
            return self._error(400, "invalid_client_id", "client identifier invalid")
        if client_secret != self.consumer_secret:
            return self._error(400, "invalid_client", "invalid client credentials")
        return self._grant()

    def _jwt_bearer(self, form: dict[str, str]) -> Response:
        assertion = form.get("assertion") or ""
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=list(JWT_AUDIENCES),
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return self._error(400, "invalid_grant", "expired authorization code")
        except jwt.InvalidAudienceError:
            return self._error(400, "invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return self._error(400, "invalid_grant", "invalid assertion")
        if claims.get("iss") != self.consumer_key:
            return self._error(400, "invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.username:
            return self._error(400, "invalid_grant", "user hasn't approved this consumer")
        return self._grant()

    def _userinfo(self, request: Request) -> Response:
        header = request.header("Authorization") or ""
        token = header.partition(" ")[2].strip()
        if token not in self.issued and token != self.emulator.token:
            return Response.json(403, {"error": "Forbidden"})
        user_id = self.emulator.org.api_user_id
        return Response.json(
            200,
            {
                "sub": f"https://login.salesforce.com/id/{ORG_ID}/{user_id}",
                "user_id": user_id,
                "organization_id": ORG_ID,
                "preferred_username": self.username,
                "email": self.username,
            },
        )

    # ---- SOAP login -------------------------------------------------------------------------

    def _soap_login(self, request: Request) -> Response:
        version_text = request.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            version = float(version_text)
        except ValueError:
            return _soap_fault("INVALID_OPERATION", "bad version")
        if version > SOAP_LAST_VERSION:
            return _soap_fault(
                "INVALID_OPERATION",
                "The SOAP Login operation is not available in the API version specified "
                f"({version_text})",
            )
        if not self.soap_login_enabled:
            # GUESS: the wording a new org answers with is not documented.
            return _soap_fault(
                "INVALID_OPERATION", "SOAP API login() is disabled by default in this org."
            )
        body = request.body.decode("utf-8")
        # simple-salesforce uses the n1: or urn: prefix depending on the variant.
        user = re.search(r"<(?:\w+:)?username>(.*?)</(?:\w+:)?username>", body, re.S)
        secret = re.search(r"<(?:\w+:)?password>(.*?)</(?:\w+:)?password>", body, re.S)
        if (
            user is None
            or secret is None
            or html.unescape(user.group(1)) != self.username
            or html.unescape(secret.group(1)) != self.password + self.security_token
        ):
            return _soap_fault(
                "INVALID_LOGIN",
                "INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
            )
        token = f"{ORG_ID}!" + secrets.token_urlsafe(24)
        self.issued.add(token)
        server = f"{self.emulator.base_url}/services/Soap/u/{version_text}/{ORG_ID}"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
            '"http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            f"<soapenv:Body><loginResponse><result><serverUrl>{server}</serverUrl>"
            f"<sessionId>{token}</sessionId><userId>{self.emulator.org.api_user_id}</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response.text(200, xml, "text/xml")


def _soap_fault(code: str, message: str) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
        '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com">'
        "<soapenv:Body><soapenv:Fault><faultcode>sf:"
        + code
        + "</faultcode><faultstring>"
        + code
        + ": "
        + message
        + "</faultstring><detail><sf:LoginFault><sf:exceptionCode>"
        + code
        + "</sf:exceptionCode><sf:exceptionMessage>"
        + message
        + "</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    )
    return Response.text(500, xml, "text/xml")
