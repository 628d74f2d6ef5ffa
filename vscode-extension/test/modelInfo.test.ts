import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeModel } from "../src/modelInfo";

describe("model info", () => {
  it("names the built-in templates", () => {
    const text = describeModel({ model: "dummy", state: "ready", path: null, kind: "template", params: 0, metrics: {} });
    assert.equal(text, "dummy — built-in templates, no trained model; ready");
  });

  it("gives a trained model's folder, size, beam and metrics", () => {
    const text = describeModel({
      model: "/ws/checkpoints/best",
      state: "ready",
      path: "/ws/checkpoints/best",
      kind: "model",
      params: 123456,
      beam_size: 4,
      metrics: { val_loss: 1.23456, exact_match: 0.5, note: "ignored" },
      training: true,
    });
    assert.equal(
      text,
      "/ws/checkpoints/best — 123,456 parameters; beam 4; ready; a training run is in progress; exact_match 0.500, val_loss 1.23",
    );
  });

  it("says why a model failed to load", () => {
    const text = describeModel({ model: "/ws/m", state: "failed", message: "no model.safetensors in /ws/m" });
    assert.equal(text, "/ws/m; failed to load: no model.safetensors in /ws/m");
  });

  it("copes with an answer that is not an object", () => {
    assert.match(describeModel(null), /no answer/);
  });
});
