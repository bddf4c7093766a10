"""The calc project (support.agent_project) and the index in each test's own cache folder."""

from support.calc_fixtures import calc, own_cache  # noqa: F401 - fixtures for this folder
