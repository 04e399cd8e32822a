"""``python -m tierwise.sync`` runs the CLI (where the console script is not on PATH)."""

from tierwise.sync.cli import main

main()
