import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  BROWSE_LABEL,
  findTrainingConfigs,
  isTrainingConfig,
  shippedConfigCandidates,
  trainArguments,
  trainingPicks,
} from "../src/trainingConfigs";

describe("training configurations", () => {
  it("lists workspace configs with a [training] table, then Browse", () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-agent-configs-"));
    try {
      fs.mkdirSync(path.join(ws, "config"));
      fs.writeFileSync(path.join(ws, "config", "tiny.toml"), "[task]\nname = 't'\n\n[training]\nnum_epochs = 1\n");
      fs.writeFileSync(path.join(ws, "config", "engine.toml"), "log_level = 'INFO'\n[paths]\nlog_path = 'logs/'\n");
      fs.writeFileSync(path.join(ws, "config", "notes.txt"), "[training]\n");
      const choices = findTrainingConfigs([ws, path.join(ws, "missing")]);
      assert.deepEqual(
        choices.map((c) => [c.label, c.configPath]),
        [
          ["tiny.toml", path.join(ws, "config", "tiny.toml")],
          [BROWSE_LABEL, undefined],
        ],
      );
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it("offers the shipped default of the project the server runs from, once", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-agent-project-"));
    try {
      fs.mkdirSync(path.join(project, "config"));
      const shipped = path.join(project, "config", "wgsl_generation.toml");
      fs.writeFileSync(shipped, "[training]\nnum_epochs = 30\n");
      const candidates = shippedConfigCandidates(path.join(project, ".venv", "bin", "tiny-agent-trainer"));
      assert.deepEqual(candidates, [shipped]);
      const other = findTrainingConfigs([], candidates);
      assert.deepEqual(other.map((c) => c.label), ["Shipped default", BROWSE_LABEL]);
      const same = findTrainingConfigs([project], candidates);
      assert.deepEqual(same.map((c) => c.label), ["wgsl_generation.toml", BROWSE_LABEL]);
      assert.deepEqual(findTrainingConfigs([], shippedConfigCandidates("/nowhere/bin/x")).length, 1);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it("does not mistake a [training.x] table or a comment for [training]", () => {
    assert.equal(isTrainingConfig("# [training]\n[training.extra]\n"), false);
    assert.equal(isTrainingConfig("  [training]  # the loop\n"), true);
  });

  it("offers each configuration again with the first folder's shaders, Browse last", () => {
    const choices = [
      { label: "tiny.toml", description: "ws/config/tiny.toml", configPath: "/p/ws/config/tiny.toml" },
      { label: "Shipped default", description: "/p/config/w.toml", configPath: "/p/config/w.toml" },
      { label: BROWSE_LABEL, description: "pick a file" },
    ];
    const picks = trainingPicks(choices, ["/p/ws", "/p/other"]);
    assert.deepEqual(
      picks.map((p) => [p.label, p.configPath, p.workspaceFolder]),
      [
        ["tiny.toml", "/p/ws/config/tiny.toml", undefined],
        ["Shipped default", "/p/config/w.toml", undefined],
        ["tiny.toml + ws shaders", "/p/ws/config/tiny.toml", "/p/ws"],
        ["Shipped default + ws shaders", "/p/config/w.toml", "/p/ws"],
        [BROWSE_LABEL, undefined, undefined],
      ],
    );
    assert.deepEqual(trainingPicks(choices, []), choices);
  });

  it("passes the folder as the server's workspace argument only when asked", () => {
    assert.deepEqual(trainArguments("/p/c.toml"), [{ config: "/p/c.toml" }]);
    assert.deepEqual(trainArguments("/p/c.toml", "/p/ws"), [{ config: "/p/c.toml", workspace: "/p/ws" }]);
  });
});
