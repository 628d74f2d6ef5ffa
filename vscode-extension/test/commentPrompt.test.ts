import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commentPromptAt } from "../src/commentPrompt";

describe("commentPromptAt", () => {
  const lines = [
    "@group(0) @binding(0) var<storage, read_write> data: array<f32>;",
    "",
    "// compute shader that doubles",
    "//   every element of a buffer",
    "",
    "fn f() {}",
  ];

  it("joins the comment block at the cursor", () => {
    assert.deepEqual(commentPromptAt(lines, 3), {
      prompt: "compute shader that doubles every element of a buffer",
      lastLine: 3,
    });
  });

  it("finds the comment above blank lines under the cursor", () => {
    assert.equal(commentPromptAt(lines, 4)?.lastLine, 3);
  });

  it("returns undefined when the cursor is on code", () => {
    assert.equal(commentPromptAt(lines, 5), undefined);
    assert.equal(commentPromptAt(lines, 0), undefined);
  });

  it("ignores an empty comment", () => {
    assert.equal(commentPromptAt(["//", "//   "], 1), undefined);
  });
});
