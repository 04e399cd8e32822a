"""Client exceptions in, tierwise errors out: one table per CRM."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from tierwise.connectors.errors import (
    AuthenticationError,
    FatalCrmError,
    QuotaExhaustedError,
    RetriableError,
    SchemaError,
)
from tierwise.connectors.hubspot import errors as hs_errors
from tierwise.connectors.salesforce import errors as sf_errors


def sf_error(cls: type[Exception], status: int, code: str, message: str = "m") -> Exception:
    return cls(
        "https://x/services/data/v59.0/query/",
        status,
        "query",
        [{"errorCode": code, "message": message}],
    )


@pytest.mark.parametrize(
    ("exc", "read", "expected"),
    [
        (sf_error(SalesforceExpiredSession, 401, "INVALID_SESSION_ID"), False, AuthenticationError),
        (
            sf_error(SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED"),
            False,
            QuotaExhaustedError,
        ),
        (sf_error(SalesforceGeneralError, 429, "REQUEST_LIMIT_EXCEEDED"), False, RetriableError),
        (
            sf_error(
                SalesforceRefusedRequest,
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded",
            ),
            False,
            RetriableError,
        ),
        (sf_error(SalesforceMalformedRequest, 400, "QUERY_TIMEOUT"), True, FatalCrmError),
        (sf_error(SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW"), False, RetriableError),
        (sf_error(SalesforceMalformedRequest, 400, "INVALID_FIELD"), True, SchemaError),
        (sf_error(SalesforceMalformedRequest, 400, "MALFORMED_QUERY"), True, FatalCrmError),
        (sf_error(SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION"), False, RetriableError),
        (sf_error(SalesforceGeneralError, 503, "SERVER_UNAVAILABLE"), False, RetriableError),
        (SalesforceGeneralError("u", 502, "r", "<html>bad gateway</html>"), False, RetriableError),
        (requests.exceptions.ConnectionError("reset"), False, RetriableError),
        (requests.exceptions.ReadTimeout("slow"), False, RetriableError),
        (requests.exceptions.ChunkedEncodingError("cut"), False, RetriableError),
        (ValueError("bug"), False, FatalCrmError),
    ],
    ids=lambda value: getattr(value, "__name__", None) or type(value).__name__,
)
def test_salesforce_errors_are_classified_by_status_and_error_code(
    exc: Exception, read: bool, expected: type[Exception]
) -> None:
    error = sf_errors.classify(exc, operation="query", object_name="Account", read=read)
    assert type(error) is expected
    assert error.system == "salesforce"


def test_a_failed_ssl_handshake_names_the_ca_bundle_setting() -> None:
    error = sf_errors.classify(requests.exceptions.SSLError("bad cert"), operation="query")
    assert "TIERWISE_SALESFORCE__CA_BUNDLE" in str(error)


def hs_error(
    cls: type[Exception],
    status: int,
    body: dict[str, Any] | str,
    headers: dict[str, str] | None = None,
) -> Exception:
    exc = cls(status=status, reason="r")
    exc.body = json.dumps(body) if isinstance(body, dict) else body  # type: ignore[attr-defined]  # cls is typed type[Exception]; HubSpot's ApiException has body
    exc.headers = headers or {}  # type: ignore[attr-defined]  # cls is typed type[Exception]; HubSpot's ApiException has headers
    return exc


TEN_SECONDLY = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
}
DAILY = {
    "status": "error",
    "message": "You have reached your daily limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "DAILY",
}
SECONDLY = {
    "status": "error",
    "message": "You have reached your secondly limit.",
    "errorType": "RATE_LIMIT",
}


@pytest.mark.parametrize(
    ("exc", "expected", "retry_after"),
    [
        (
            hs_error(CompaniesApiException, 401, {"category": "INVALID_AUTHENTICATION"}),
            AuthenticationError,
            None,
        ),
        (
            hs_error(PropertiesApiException, 403, {"category": "MISSING_SCOPES"}),
            AuthenticationError,
            None,
        ),
        (
            hs_error(CompaniesApiException, 429, TEN_SECONDLY, {"Retry-After": "3"}),
            RetriableError,
            3.0,
        ),
        (hs_error(CompaniesApiException, 429, TEN_SECONDLY), RetriableError, 10.0),
        (hs_error(CompaniesApiException, 429, SECONDLY), RetriableError, 1.0),
        (hs_error(PropertiesApiException, 429, DAILY), QuotaExhaustedError, None),
        (hs_error(CompaniesApiException, 500, "oops"), RetriableError, None),
        (
            hs_error(CompaniesApiException, 503, {"category": "SERVICE_UNAVAILABLE"}),
            RetriableError,
            None,
        ),
        (
            hs_error(CompaniesApiException, 400, {"category": "VALIDATION_ERROR"}),
            FatalCrmError,
            None,
        ),
        (
            hs_error(CompaniesApiException, 404, {"category": "OBJECT_NOT_FOUND"}),
            FatalCrmError,
            None,
        ),
        (MaxRetryError(None, "/crm", reason=None), RetriableError, None),  # type: ignore[arg-type]  # no connection pool is needed to classify the error
        (ProtocolError("Connection aborted."), RetriableError, None),
        (ReadTimeoutError(None, "/crm", "read timed out"), RetriableError, None),  # type: ignore[arg-type]  # no connection pool is needed to classify the error
        (NewConnectionError(None, "refused"), RetriableError, None),  # type: ignore[arg-type]  # no connection pool is needed to classify the error
    ],
)
def test_hubspot_errors_are_classified_by_status_policy_and_transport(
    exc: Exception, expected: type[Exception], retry_after: float | None
) -> None:
    error = hs_errors.classify(exc, operation="update companies", object_name="companies")
    assert type(error) is expected
    if retry_after is not None:
        assert isinstance(error, RetriableError)
        assert retry_after == error.retry_after
