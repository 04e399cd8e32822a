"""The pure tiering core: a model file in, plain records in, decisions with reasons out."""
