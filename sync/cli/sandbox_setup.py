"""tierwise's own provisioning, run against a just-started sandbox.

The sandbox is a model of the CRMs and must not import tierwise (issue 14), so
``tierwise sandbox --provisioned`` hands this function to
``sandbox.serve_forever(on_started=...)``. It provisions the way a user does - the
composition root's connectors and ``tierwise provision``'s steps - so the sandbox's idea
of "provisioned" is whatever tierwise's provision produced (issue 11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class StartedSandbox(Protocol):
    """What provisioning needs of a sandbox: the TIERWISE_* settings that point at it."""

    def env(self) -> Mapping[str, str]: ...


def provision_sandbox(sb: StartedSandbox) -> None:
    """Create tierwise's fields and properties in both emulated CRMs."""
    # Imported here: the CLI imports this module, and the CLI's names stay its own.
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.cli.configure import provision_all
    from tierwise.sync.cli.core import settings_from_env

    config = settings_from_env(sb.env())
    model = boot.build_model(config)
    with boot.crm_connectors(config, model) as connectors:
        provision_all(connectors, model, dry_run=False)
