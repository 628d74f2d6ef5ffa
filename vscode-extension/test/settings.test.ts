import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_SETTINGS, readSettings, toServerSettings } from "../src/settings";

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
  contributes: { configuration: { properties: Record<string, { default: unknown; markdownDescription?: string; minimum?: number; maximum?: number }> } };
};
const declared = manifest.contributes.configuration.properties;

function getterFrom(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

describe("settings", () => {
  it("uses the defaults declared in package.json", () => {
    const fromManifest = readSettings((key) => declared[`tinyAgent.${key}`]?.default);
    assert.deepEqual(fromManifest, DEFAULT_SETTINGS);
  });

  it("declares every setting the server receives, each with a description", () => {
    const flatten = (obj: object, prefix = ""): string[] =>
      Object.entries(obj).flatMap(([k, v]) =>
        v !== null && typeof v === "object" ? flatten(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    for (const key of flatten(toServerSettings(DEFAULT_SETTINGS))) {
      const entry = declared[`tinyAgent.${key}`];
      assert.ok(entry !== undefined, `tinyAgent.${key} is not declared in package.json`);
      assert.ok((entry.markdownDescription ?? "").length > 20, `tinyAgent.${key} has no description`);
    }
  });

  it("passes the user's values to the server in the nested shape of the section", () => {
    const settings = readSettings(
      getterFrom({
        "server.path": " /opt/tat ",
        modelPath: "dummy",
        device: "cpu",
        beams: 2,
        maxTokens: 128,
        validateOn: "save",
        "completions.enabled": false,
        "completions.waitMs": 400,
        debounceMs: 50,
        maxFileKb: 512,
      }),
    );
    assert.deepEqual(toServerSettings(settings), {
      server: { path: "/opt/tat" },
      modelPath: "dummy",
      device: "cpu",
      beams: 2,
      maxTokens: 128,
      validateOn: "save",
      completions: { enabled: false, waitMs: 400 },
      debounceMs: 50,
      maxFileKb: 512,
    });
  });

  it("replaces values of the wrong type or out of range", () => {
    const settings = readSettings(
      getterFrom({ device: "tpu", beams: 99, maxTokens: "many", validateOn: 3, debounceMs: -5, "completions.enabled": "yes" }),
    );
    assert.equal(settings.device, "auto");
    assert.equal(settings.beams, 16);
    assert.equal(settings.maxTokens, null);
    assert.equal(settings.validateOn, "type");
    assert.equal(settings.debounceMs, 0);
    assert.equal(settings.completionsEnabled, true);
  });

  it("clamps the completion wait and the file size limit to their declared ranges", () => {
    const settings = readSettings(getterFrom({ "completions.waitMs": 99999, maxFileKb: 0 }));
    assert.equal(settings.completionWaitMs, declared["tinyAgent.completions.waitMs"].maximum);
    assert.equal(settings.maxFileKb, declared["tinyAgent.maxFileKb"].minimum);
  });
});
