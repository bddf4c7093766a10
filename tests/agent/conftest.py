"""The chat agent on the fake model over the calc project (support.agent_project)."""

from support.calc_fixtures import calc, own_cache  # noqa: F401 - fixtures for this folder
