import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";

const extensionRoot = path.join(__dirname, "..", "..");
let grammar: textmate.IGrammar;

/** Scopes of each token of one line, keyed by the token's text. */
function tokenize(line: string): Array<{ text: string; scopes: string[] }> {
  const result = grammar.tokenizeLine(line, textmate.INITIAL);
  return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
}

function scopesOf(line: string, text: string): string[] {
  const token = tokenize(line).find((t) => t.text === text);
  assert.ok(token !== undefined, `no token "${text}" in ${JSON.stringify(tokenize(line).map((t) => t.text))}`);
  return token.scopes;
}

function innermost(line: string, text: string): string {
  const scopes = scopesOf(line, text);
  return scopes[scopes.length - 1];
}

describe("WGSL grammar", () => {
  before(async () => {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
        createOnigString: (s) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName) => {
        if (scopeName !== "source.wgsl") {
          return null;
        }
        const file = path.join(extensionRoot, "syntaxes", "wgsl.tmLanguage.json");
        return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
      },
    });
    const loaded = await registry.loadGrammar("source.wgsl");
    assert.ok(loaded !== null);
    grammar = loaded;
  });

  it("is the grammar package.json contributes for the wgsl language", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(extensionRoot, "package.json"), "utf8"));
    assert.deepEqual(manifest.contributes.grammars, [
      { language: "wgsl", scopeName: "source.wgsl", path: "./syntaxes/wgsl.tmLanguage.json" },
    ]);
  });

  it("scopes keywords, function names, and generic vector types", () => {
    const line = "fn scale(v: vec4<f32>) -> vec4<f32> { return v * 2.0; }";
    assert.equal(innermost(line, "fn"), "storage.type.function.wgsl");
    assert.equal(innermost(line, "scale"), "entity.name.function.wgsl");
    assert.equal(innermost(line, "vec4"), "support.type.vector.wgsl");
    assert.equal(innermost(line, "f32"), "support.type.primitive.wgsl");
    assert.equal(innermost(line, "return"), "keyword.control.wgsl");
    assert.equal(innermost(line, "2.0"), "constant.numeric.float.wgsl");
    assert.equal(innermost(line, "->"), "keyword.operator.arrow.wgsl");
  });

  it("scopes attributes and address spaces", () => {
    const line = "@group(0) @binding(1) var<storage, read_write> data: array<u32>;";
    assert.equal(innermost(line, "group"), "entity.other.attribute-name.wgsl");
    assert.equal(innermost(line, "binding"), "entity.other.attribute-name.wgsl");
    assert.equal(innermost(line, "storage"), "storage.modifier.address-space.wgsl");
    assert.equal(innermost(line, "read_write"), "storage.modifier.access.wgsl");
    assert.equal(innermost(line, "array"), "support.type.wgsl");
    assert.equal(innermost(line, "0"), "constant.numeric.integer.wgsl");
  });

  it("scopes numbers with suffixes and hex", () => {
    const line = "let a = 3u + 0x1Fu; let b = 1e-3f; let c = .5h; let d = 7i;";
    for (const n of ["3u", "0x1Fu", "1e-3f", ".5h", "7i"]) {
      assert.match(innermost(line, n), /^constant\.numeric\./, n);
    }
  });

  it("scopes built-in functions apart from user calls", () => {
    const line = "let n = normalize(mix(a, b, 0.5)) + helper(a);";
    assert.equal(innermost(line, "normalize"), "support.function.builtin.wgsl");
    assert.equal(innermost(line, "mix"), "support.function.builtin.wgsl");
    assert.equal(innermost(line, "helper"), "entity.name.function.call.wgsl");
  });

  it("scopes line comments and nested block comments", () => {
    assert.ok(scopesOf("let x = 1; // fn vec4", " fn vec4").includes("comment.line.double-slash.wgsl"));
    const nested = tokenize("/* a /* b */ still comment */ let");
    const still = nested.find((t) => t.text.includes("still"));
    assert.ok(still?.scopes.includes("comment.block.wgsl"));
    assert.equal(innermost("/* a /* b */ c */ let", "let"), "storage.type.wgsl");
  });
});
