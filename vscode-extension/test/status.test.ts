import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStatus, statusView } from "../src/status";

describe("status bar", () => {
  it("shows training progress as a percentage", () => {
    const view = statusView(parseStatus({ model: "/ws/checkpoints/tiny", state: "training", progress: 42 }));
    assert.match(view.text, /tiny: training 42%$/);
    assert.match(view.tooltip, /\/ws\/checkpoints\/tiny/);
  });

  it("accepts progress as a fraction", () => {
    assert.equal(parseStatus({ state: "training", progress: 0.425 }).progress, 43);
  });

  it("shows loading and ready with the model's folder name", () => {
    assert.match(statusView(parseStatus({ model: "data/models/default", state: "loading" })).text, /default: loading$/);
    assert.match(statusView(parseStatus({ model: "dummy", state: "ready" })).text, /dummy: ready$/);
  });

  it("keeps the previous model name when a notification omits it", () => {
    assert.equal(parseStatus({ state: "training", progress: 10 }, "default").model, "default");
  });

  it("treats an unknown state as ready rather than failing", () => {
    assert.equal(parseStatus({ model: "m", state: "bogus" }).state, "ready");
  });
});
