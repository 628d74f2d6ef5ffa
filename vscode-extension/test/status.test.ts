import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStatus, statusView } from "../src/status";

describe("status bar", () => {
  it("shows training progress as a percentage", () => {
    const view = statusView(parseStatus({ model: "/ws/checkpoints/tiny", state: "training", progress: 42 }));
    assert.match(view.text, /tiny: training 42%$/);
    assert.match(view.tooltip, /\/ws\/checkpoints\/tiny/);
  });

  it("reads progress as a percentage, rounded, 1 being 1%", () => {
    assert.equal(parseStatus({ state: "training", progress: 1 }).progress, 1);
    assert.equal(parseStatus({ state: "training", progress: 42.6 }).progress, 43);
    assert.equal(parseStatus({ state: "training", progress: 140 }).progress, 100);
  });

  it("says when the model failed to load, with the server's reason in the tooltip", () => {
    const view = statusView(
      parseStatus({ model: "/ws/models/broken", state: "failed", message: "no weights in /ws/models/broken" }),
    );
    assert.match(view.text, /broken: failed to load$/);
    assert.match(view.tooltip, /no weights in \/ws\/models\/broken/);
    assert.match(statusView(parseStatus({ model: "default", state: "unloaded" })).text, /default: not loaded$/);
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
