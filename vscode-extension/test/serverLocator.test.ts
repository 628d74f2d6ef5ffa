import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { expandConfiguredPath, locateServer } from "../src/serverLocator";

let root: string;

function makeExecutable(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "#!/bin/sh\nexit 0\n");
  fs.chmodSync(file, 0o755);
  return file;
}

describe("locateServer", () => {
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-agent-locate-"));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("uses the setting when it points at an executable", () => {
    const exe = makeExecutable(path.join(root, "custom", "tiny-agent-trainer"));
    makeExecutable(path.join(root, "ws", ".venv", "bin", "tiny-agent-trainer"));
    const result = locateServer({
      configuredPath: exe,
      workspaceFolders: [path.join(root, "ws")],
      envPath: "",
      platform: "linux",
    });
    assert.equal(result.found, true);
    assert.ok(result.found);
    assert.equal(result.location.command, exe);
    assert.equal(result.location.source, "setting");
    assert.deepEqual(result.location.args, ["serve"]);
  });

  it("resolves a relative setting and ${workspaceFolder} against the first folder", () => {
    const ws = path.join(root, "ws");
    const exe = makeExecutable(path.join(ws, "tools", "tiny-agent-trainer"));
    for (const configured of ["tools/tiny-agent-trainer", "${workspaceFolder}/tools/tiny-agent-trainer"]) {
      const result = locateServer({ configuredPath: configured, workspaceFolders: [ws], envPath: "", platform: "linux" });
      assert.ok(result.found, configured);
      assert.equal(result.location.command, exe);
    }
  });

  it("reports a setting that points nowhere instead of falling back", () => {
    const ws = path.join(root, "ws");
    makeExecutable(path.join(ws, ".venv", "bin", "tiny-agent-trainer"));
    const result = locateServer({
      configuredPath: "/no/such/tiny-agent-trainer",
      workspaceFolders: [ws],
      envPath: "",
      platform: "linux",
    });
    assert.equal(result.found, false);
    assert.ok(!result.found);
    assert.match(result.message, /tinyAgent\.server\.path/);
    assert.match(result.message, /\/no\/such\/tiny-agent-trainer/);
  });

  it("rejects a setting that names a file without execute permission", () => {
    const file = path.join(root, "tiny-agent-trainer");
    fs.writeFileSync(file, "not executable");
    fs.chmodSync(file, 0o644);
    const result = locateServer({ configuredPath: file, workspaceFolders: [], envPath: "", platform: "linux" });
    assert.equal(result.found, false);
  });

  it("prefers the Python extension's interpreter over the workspace .venv", () => {
    const ws = path.join(root, "ws");
    makeExecutable(path.join(ws, ".venv", "bin", "tiny-agent-trainer"));
    const selected = makeExecutable(path.join(root, "conda", "bin", "tiny-agent-trainer"));
    const result = locateServer({
      configuredPath: "",
      pythonInterpreter: path.join(root, "conda", "bin", "python3"),
      workspaceFolders: [ws],
      envPath: "",
      platform: "linux",
    });
    assert.ok(result.found);
    assert.equal(result.location.command, selected);
    assert.equal(result.location.source, "python-extension");
  });

  it("falls back to the workspace .venv when the selected interpreter lacks the server", () => {
    const ws2 = path.join(root, "second");
    const venvExe = makeExecutable(path.join(ws2, ".venv", "bin", "tiny-agent-trainer"));
    const result = locateServer({
      configuredPath: "",
      pythonInterpreter: "/usr/bin/python3-without-server/python3",
      workspaceFolders: [path.join(root, "first"), ws2],
      envPath: "",
      platform: "linux",
    });
    assert.ok(result.found);
    assert.equal(result.location.command, venvExe);
    assert.equal(result.location.source, "workspace-venv");
    assert.ok(result.tried.includes("/usr/bin/python3-without-server/tiny-agent-trainer"));
  });

  it("searches PATH last, in order", () => {
    const a = path.join(root, "a");
    const b = path.join(root, "b");
    fs.mkdirSync(a);
    const exe = makeExecutable(path.join(b, "tiny-agent-trainer"));
    makeExecutable(path.join(root, "c", "tiny-agent-trainer"));
    const result = locateServer({
      configuredPath: "",
      workspaceFolders: [path.join(root, "ws")],
      envPath: [a, b, path.join(root, "c")].join(":"),
      platform: "linux",
    });
    assert.ok(result.found);
    assert.equal(result.location.command, exe);
    assert.equal(result.location.source, "path");
  });

  it("says what to do when nothing is found, and where it looked", () => {
    const ws = path.join(root, "ws");
    const result = locateServer({ configuredPath: "", workspaceFolders: [ws], envPath: root, platform: "linux" });
    assert.ok(!result.found);
    assert.match(result.message, /could not find the tiny-agent-trainer language server/);
    assert.match(result.message, /tinyAgent\.server\.path/);
    assert.ok(result.tried.includes(path.join(ws, ".venv", "bin", "tiny-agent-trainer")));
  });

  it("looks in Scripts\\ with .exe names on Windows", () => {
    const seen: string[] = [];
    const result = locateServer({
      configuredPath: "",
      workspaceFolders: ["/ws"],
      envPath: "",
      platform: "win32",
      isExecutable: (file) => {
        seen.push(file);
        return file === path.join("/ws", ".venv", "Scripts", "tiny-agent-trainer.exe");
      },
    });
    assert.ok(result.found);
    assert.equal(result.location.source, "workspace-venv");
  });
});

describe("expandConfiguredPath", () => {
  it("expands ~ to the home folder", () => {
    assert.equal(expandConfiguredPath("~/bin/tat", [], "/home/u"), path.normalize("/home/u/bin/tat"));
  });
  it("keeps absolute paths", () => {
    assert.equal(expandConfiguredPath(" /opt/tat ", ["/ws"], "/home/u"), "/opt/tat");
  });
});
