"""``initialize`` is answered before torch and wgpu load; they come later, in the background."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsp_helpers import PROFILES, test_settings, wait_for
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

pytestmark = pytest.mark.slow


def native_libraries(pid: int) -> set[str]:
    """The shared objects mapped into process ``pid``: what it has really imported."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {line.split()[-1] for line in maps.splitlines() if ".so" in line}


def heavy(libraries: set[str]) -> set[str]:
    return {
        lib for lib in libraries if "libtorch" in lib or "wgpu_native" in lib or "libc10" in lib
    }


@pytest.mark.parametrize("profile", PROFILES)
async def test_initialize_comes_before_heavy_imports(
    bare_client: LanguageClient, slow_model: Path, tmp_path: Path, profile: str
) -> None:
    settings = {**test_settings(), "modelPath": str(slow_model)}
    bare_client.set_configuration({"tinyAgent": settings})
    capabilities = client_capabilities(profile)
    bare_client.capabilities = capabilities
    result = await bare_client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities,
            process_id=os.getpid(),
            root_uri=tmp_path.as_uri(),
            initialization_options={"tinyAgent": settings},
        )
    )
    assert result.server_info is not None and result.server_info.name == "tiny-agent-trainer"
    server = bare_client._server
    assert server is not None
    assert heavy(native_libraries(server.pid)) == set(), "initialize waited for torch or wgpu"

    bare_client.initialized(types.InitializedParams())

    async def model_state() -> str:
        info = await bare_client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tinyAgent.modelInfo")
        )
        return str(info["state"])

    states = [await model_state()]
    while states[-1] != "ready":
        assert states[-1] in ("unloaded", "loading"), states
        await asyncio.sleep(0.1)
        states.append(await model_state())
    assert "loading" in states, "the model loads after initialized, while requests are answered"
    # The same check sees torch once the model is in: it would catch a top-level import.
    await wait_for(lambda: any("libtorch" in lib for lib in native_libraries(server.pid)))
