"""Language-server tests: the real server as a subprocess, driven by pytest-lsp clients.

Every ``client`` test runs twice, with VS Code's and Neovim 0.7's declared capabilities.
The server is started exactly as editors start it: the ``tiny-agent-trainer serve`` script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import PROFILES, SCRIPT, SHARED_PROFILES, server_env, start
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[SCRIPT, "serve"], server_env=server_env()),
    params=PROFILES,
)
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[None]:
    await start(lsp_client, request.param, tmp_path)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[SCRIPT, "serve"], server_env=server_env()),
    params=SHARED_PROFILES,
    scope="module",
)
async def shared_client(
    lsp_client: LanguageClient,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[None]:
    """Like ``client``, but one server per module and profile, for tests that only read.

    Tests using it need ``pytestmark = pytest.mark.asyncio(loop_scope="module")``.
    """
    result = await start(lsp_client, request.param, tmp_path_factory.mktemp("shared"))
    lsp_client.position_encoding = result.capabilities.position_encoding  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[SCRIPT, "serve"], server_env=server_env()),
)
async def bare_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A connected client that has not initialized yet: the test chooses its settings."""
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="session")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lsp_helpers import build_slow_model

    return build_slow_model(tmp_path_factory.mktemp("slow_model"))
