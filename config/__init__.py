"""Typed settings and the default tiering model (``model.yaml``)."""
