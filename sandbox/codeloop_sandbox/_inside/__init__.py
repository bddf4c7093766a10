"""Modules that run INSIDE the sandbox (imported there as top-level modules from this directory)."""
