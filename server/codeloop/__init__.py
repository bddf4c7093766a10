"""codeloop: a Python language server that turns intents into verified code."""

__version__ = "0.1.0"
