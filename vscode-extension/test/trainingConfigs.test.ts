import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { findTrainingConfigs, isTrainingConfig } from "../src/trainingConfigs";

describe("training configurations", () => {
  it("lists workspace configs with a [training] table, then the shipped default", () => {
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
          ["Shipped default", undefined],
        ],
      );
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it("does not mistake a [training.x] table or a comment for [training]", () => {
    assert.equal(isTrainingConfig("# [training]\n[training.extra]\n"), false);
    assert.equal(isTrainingConfig("  [training]  # the loop\n"), true);
  });
});
