"""Orchestration: pull -> decide -> plan writes -> apply -> record, plus the CLI and scheduler."""
