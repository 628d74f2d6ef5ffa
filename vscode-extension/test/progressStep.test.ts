import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextProgressStep } from "../src/progressStep";

describe("progress notification steps", () => {
  it("turns absolute percentages into increments, with the percentage in the text", () => {
    const first = nextProgressStep(0, { percentage: 10, message: "epoch 1/5" });
    assert.deepEqual(first, { message: "10% — epoch 1/5", increment: 10, shown: 10 });
    const second = nextProgressStep(first.shown, { percentage: 42, message: "epoch 3/5 · loss 1.2" });
    assert.deepEqual(second, { message: "42% — epoch 3/5 · loss 1.2", increment: 32, shown: 42 });
  });

  it("never moves the bar backwards or past 100%", () => {
    assert.deepEqual(nextProgressStep(42, { percentage: 30 }), { message: "30%", increment: 0, shown: 42 });
    assert.deepEqual(nextProgressStep(90, { percentage: 250 }), { message: "100%", increment: 10, shown: 100 });
  });

  it("keeps the bar where it is for a message without a percentage", () => {
    assert.deepEqual(nextProgressStep(42, { message: "epoch 3 done · val loss 1.1" }), {
      message: "epoch 3 done · val loss 1.1",
      increment: undefined,
      shown: 42,
    });
  });
});
