"""Pytest fixtures for any test package that needs the CRM sandbox.

Import them into a ``conftest.py``::

    from tierwise.sandbox.pytest_plugin import make_sandbox, sandbox  # noqa: F401

``sandbox`` is a small started sandbox (50 companies, seed 7); ``make_sandbox(**kw)``
starts one with any :class:`~sandbox.Sandbox` keywords and stops it after the test.
``salesforce_session(sb)`` builds the ``requests.Session`` simple-salesforce needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tierwise.sandbox.core import Sandbox

SandboxFactory = Callable[..., Sandbox]


def salesforce_session(sb: Sandbox) -> requests.Session:
    """A session that trusts the sandbox CA.

    ``trust_env`` is off because requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
    from the environment override ``Session.verify``.
    """
    session = requests.Session()
    session.verify = str(sb.ca_file)
    session.trust_env = False
    return session


@pytest.fixture
def make_sandbox() -> Iterator[SandboxFactory]:
    started: list[Sandbox] = []

    def factory(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("accounts", 50)
        kwargs.setdefault("seed", 7)
        sb = Sandbox(**kwargs).start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox: SandboxFactory) -> Sandbox:
    return make_sandbox()
