"""``python -m sync`` runs the ``tierwise`` CLI (handy where the console script is not on PATH)."""

from sync.cli import main

main()
