"""Declarative fraud rules: the safe condition language and rule sets that override the model."""
