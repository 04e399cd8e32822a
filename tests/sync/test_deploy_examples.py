# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The deploy examples run as written: checked statically (no Docker, no cluster here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _docs() -> dict[str, Any]:
    text = (ROOT / "deploy" / "kubernetes-cronjob.yaml").read_text(encoding="utf-8")
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(text)}


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    return dict(cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"])


def test_the_full_job_has_the_incremental_jobs_limits_security_and_deadlines() -> None:
    docs = _docs()
    inc, full = docs["tierwise-incremental"], docs["tierwise-full"]
    pi, pf = _pod(inc), _pod(full)
    ci, cf = pi["containers"][0], pf["containers"][0]
    assert pi["securityContext"] == pf["securityContext"]
    assert ci["securityContext"] == cf["securityContext"]
    assert ci["resources"] == cf["resources"]
    assert ci["volumeMounts"] == cf["volumeMounts"]
    for key in ("backoffLimit", "activeDeadlineSeconds"):
        assert inc["spec"]["jobTemplate"]["spec"][key] == full["spec"]["jobTemplate"]["spec"][key]
    assert inc["spec"]["startingDeadlineSeconds"] == full["spec"]["startingDeadlineSeconds"]
    assert cf["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_cronjobs_do_not_overlap_and_a_lock_held_exit_is_not_a_failed_job() -> None:
    docs = _docs()
    assert "0 2 * * *" == docs["tierwise-full"]["spec"]["schedule"]
    assert "15 0-1,3-23 * * *" == docs["tierwise-incremental"]["spec"]["schedule"]
    for name in ("tierwise-incremental", "tierwise-full"):
        command = " ".join(_pod(docs[name])["containers"][0]["command"])
        assert "[ $rc -eq 5 ] && exit 0" in command


def test_reports_go_to_a_persistent_volume_and_provision_is_shown() -> None:
    docs = _docs()
    assert "PersistentVolumeClaim" == docs["tierwise-reports"]["kind"]
    pod = _pod(docs["tierwise-full"])
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert "/data/reports" == env["TIERWISE_REPORT_DIR"]
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert ["tierwise-reports"] == claims
    provision = docs["tierwise-provision"]["spec"]["template"]["spec"]["containers"][0]
    assert ["tierwise", "provision"] == provision["args"]


def test_the_image_owns_its_folders_and_checks_health_on_the_configured_port() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "mkdir -p /data/reports && chown -R tierwise:tierwise /data" in dockerfile
    assert 'CMD ["tierwise", "health"]' in dockerfile
    assert "9108/metrics" not in dockerfile.split("HEALTHCHECK", 1)[1]


def test_env_files_are_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored
