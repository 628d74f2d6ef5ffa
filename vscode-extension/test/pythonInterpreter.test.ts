import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { activeInterpreter, PythonEnvironmentsApi } from "../src/pythonInterpreter";

const folder = { fsPath: "/ws" };

describe("the Python extension's interpreter", () => {
  it("is absent when the extension or its environments API is missing", async () => {
    assert.equal(await activeInterpreter(undefined, folder), undefined);
    assert.equal(await activeInterpreter({}, folder), undefined);
  });

  it("is the resolved executable of the active environment of the folder", async () => {
    const asked: Array<string | undefined> = [];
    const api: PythonEnvironmentsApi = {
      environments: {
        getActiveEnvironmentPath: (resource) => {
          asked.push(resource?.fsPath);
          return { path: "/envs/conda-env" };
        },
        resolveEnvironment: async (env) =>
          env.path === "/envs/conda-env" ? { executable: { uri: { fsPath: "/envs/conda-env/bin/python" } } } : undefined,
      },
    };
    assert.equal(await activeInterpreter(api, folder), "/envs/conda-env/bin/python");
    assert.deepEqual(asked, ["/ws"]);
  });

  it("falls back to the active path when it cannot be resolved, and says why", async () => {
    const logged: string[] = [];
    const api: PythonEnvironmentsApi = {
      environments: {
        getActiveEnvironmentPath: () => ({ path: "/ws/.venv/bin/python" }),
        resolveEnvironment: async () => {
          throw new Error("discovery still running");
        },
      },
    };
    assert.equal(await activeInterpreter(api, folder, (m) => logged.push(m)), "/ws/.venv/bin/python");
    assert.match(logged.join("\n"), /could not resolve \/ws\/\.venv\/bin\/python: Error: discovery still running/);
    const unresolved: PythonEnvironmentsApi = {
      environments: { getActiveEnvironmentPath: () => ({ path: "/usr/bin/python3" }), resolveEnvironment: () => undefined },
    };
    assert.equal(await activeInterpreter(unresolved, folder), "/usr/bin/python3");
  });

  it("is absent when no environment is selected or the API throws", async () => {
    assert.equal(await activeInterpreter({ environments: { getActiveEnvironmentPath: () => undefined } }, folder), undefined);
    assert.equal(await activeInterpreter({ environments: { getActiveEnvironmentPath: () => ({ path: "" }) } }, folder), undefined);
    const logged: string[] = [];
    const throwing: PythonEnvironmentsApi = {
      environments: {
        getActiveEnvironmentPath: () => {
          throw new Error("not ready");
        },
      },
    };
    assert.equal(await activeInterpreter(throwing, folder, (m) => logged.push(m)), undefined);
    assert.equal(logged.length, 1);
  });
});
