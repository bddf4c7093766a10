"""Settings over LSP: initialize, initialized, workspace/didChangeConfiguration.

At ``initialize`` the server reads ``initializationOptions`` and the workspace's
``[tool.codeloop]``; after ``initialized`` it pulls ``workspace/configuration``
(section ``codeloop``) when the client supports it, and pulls again on every
``workspace/didChangeConfiguration``. Warnings from :func:`codeloop.config.load_settings`
are shown once each. The ``codeloop/status`` notification follows every change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types

from codeloop import logs, secrets
from codeloop.config import SECTION, settings_for_workspace
from codeloop.lsp.server import CodeloopServer, root_from_params

log = logging.getLogger(__name__)

SETTINGS_REQUEST = "codeloop/settings"


def register(server: CodeloopServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: CodeloopServer, params: types.InitializeParams) -> None:
        ls.root = root_from_params(params)
        ls.init_options = params.initialization_options  # checked by load_settings
        apply_settings(ls, notify=False)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodeloopServer, params: types.InitializedParams) -> None:
        show_warnings(ls)
        await register_for_changes(ls)
        await pull_configuration(ls)
        ls.send_status()
        ls.hooks.emit("initialized")  # features that start background work (the index)
        await probe_sandbox(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: CodeloopServer, params: types.DidChangeConfigurationParams) -> None:
        if supports_pull(ls):
            await pull_configuration(ls)
        else:  # push model: the settings arrive in the notification
            pushed = params.settings
            if isinstance(pushed, dict) and SECTION in pushed:
                pushed = pushed[SECTION]
            ls.client_settings = pushed
            apply_settings(ls)
        ls.send_status()

    @server.feature(SETTINGS_REQUEST)
    def current_settings(ls: CodeloopServer, params: Any = None) -> dict[str, Any]:
        """The settings in effect (API key never included) and the warnings they produced."""
        return {"settings": ls.settings.to_dict(), "warnings": list(ls.settings_warnings)}


def supports_pull(ls: CodeloopServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


def apply_settings(ls: CodeloopServer, notify: bool = True) -> None:
    """Recompute settings from every source; show new warnings; apply the log level."""
    settings, warnings = settings_for_workspace(ls.root, ls.init_options, ls.client_settings)
    ls.settings = settings
    ls.settings_warnings = warnings
    secrets.add_secret(settings.model.api_key)
    logs.set_level(ls.cli_log_level or settings.log_level)
    log.debug("settings: %s", settings.to_dict())
    if notify:
        show_warnings(ls)


def show_warnings(ls: CodeloopServer) -> None:
    for warning in getattr(ls, "settings_warnings", []):
        log.warning("%s", warning)
        ls.show_once(f"codeloop: {warning}", types.MessageType.Warning)


# How long the initialized sequence waits for the client's answer before it goes on (the
# status, the sandbox probe) with the settings it has; a later answer is still applied.
PULL_PATIENCE_S = 10


async def pull_configuration(ls: CodeloopServer) -> None:
    if not supports_pull(ls):
        return
    ls.configuration_pulls += 1
    pull = ls.configuration_pulls
    scope = ls.root.as_uri() if ls.root is not None else None
    answer = asyncio.ensure_future(
        ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(scope_uri=scope, section=SECTION)])
        )
    )
    try:
        result = await asyncio.wait_for(asyncio.shield(answer), timeout=PULL_PATIENCE_S)
    except asyncio.TimeoutError:
        log.warning(
            "workspace/configuration: no answer within %d s; going on with the settings so far, "
            "the answer is applied when it comes", PULL_PATIENCE_S,
        )
        answer.add_done_callback(lambda done: _apply_late_answer(ls, done, pull))
        return
    except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the old settings
        log.warning("workspace/configuration failed: %s", exc)
        return
    _apply_pulled(ls, result)


def _apply_pulled(ls: CodeloopServer, result: Any) -> None:
    ls.client_settings = result[0] if result else None
    apply_settings(ls)


def _apply_late_answer(ls: CodeloopServer, answer: asyncio.Future, pull: int) -> None:
    if answer.cancelled() or answer.exception() is not None:
        log.warning("workspace/configuration failed: %s", "cancelled" if answer.cancelled() else answer.exception())
        return
    if pull != ls.configuration_pulls:
        return  # a newer pull has the newer settings
    log.info("workspace/configuration answered late; settings applied")
    _apply_pulled(ls, answer.result())
    ls.send_status()


# Files whose changes on disk matter: Python sources and tests (the test index), and the
# project files that hold [tool.codeloop] or pytest's discovery settings.
WATCHED_GLOBS = ("**/*.py", "**/pyproject.toml", "**/pytest.ini", "**/tox.ini", "**/setup.cfg")


async def register_for_changes(ls: CodeloopServer) -> None:
    """Ask for workspace/didChangeConfiguration and workspace/didChangeWatchedFiles
    when the client lets servers register them dynamically."""
    workspace = ls.client_capabilities.workspace
    registrations = []
    if workspace and workspace.did_change_configuration and workspace.did_change_configuration.dynamic_registration:
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section=SECTION),
            )
        )
    if workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration:
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_GLOBS]
                ),
            )
        )
    if not registrations:
        return
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(types.RegistrationParams(registrations=registrations)),
            timeout=10,
        )
    except Exception as exc:  # noqa: BLE001
        log.warning("could not register for configuration and file changes: %s", exc)


def project_file_changed(ls: CodeloopServer, path: str) -> None:
    """The workspace's pyproject.toml changed on disk: its [tool.codeloop] may have too."""
    if ls.root is not None and Path(path) == ls.root / "pyproject.toml":
        apply_settings(ls)
        ls.send_status()


async def probe_sandbox(ls: CodeloopServer) -> None:
    """Find the sandbox level off the event loop and publish it in the status."""
    try:
        import codeloop_sandbox

        status: Any = await asyncio.to_thread(codeloop_sandbox.probe)
    except Exception as exc:  # noqa: BLE001 - the status says "unknown", the log says why
        log.warning("sandbox probe failed: %s", exc)
        return
    ls.sandbox_level = getattr(status, "level", "unknown")
    if ls.sandbox_level != "A":
        ls.log_to_client(f"codeloop: sandbox level {status.describe()}", types.MessageType.Warning)
    ls.send_status()
