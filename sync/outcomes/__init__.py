"""Outcome analytics: how each tier performs against the CRMs' own deal history.

``data`` gathers inputs (opportunities pulled live from the configured CRMs, tiers and
scores from the state store), ``metrics`` holds the pure measures (win rate, lift, AUC),
``report`` / ``backtest`` / ``calibrate`` / ``volatility`` build results, and ``render``
and ``charts`` turn them into text, CSV, JSON and a self-contained HTML page.
"""
