// Drives VS Code (code-server) in headless Chromium through playwright-core, the way a user
// would: keyboard, command palette, clicks. One scenario per run:
//
//   node driver.cjs SCENARIO CONFIG_JSON
//
// CONFIG_JSON: {"url": code-server URL, "folder": workspace path, "artifacts": dir for
// screenshots, "playwright": path of playwright-core, "chromium": browser executable}.
// Prints one JSON object with what the user could see; tests/e2e/test_vscode.py judges it.
// Exits 1 (with {"error": ...} and a screenshot) when the editor never showed what was awaited.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const [, , scenario, configJson] = process.argv;
const config = JSON.parse(configJson);
const { chromium } = require(config.playwright);

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

const log = (...args) => process.stderr.write(`[driver ${scenario}] ${args.join(" ")}\n`);

async function screenshot(page, name) {
  const file = path.join(config.artifacts, `${scenario}-${name}.png`);
  await page.screenshot({ path: file });
  log("screenshot", file);
  return file;
}

/** Polls fn until it returns a truthy value; throws with `what` after timeoutMs. */
async function waitFor(what, fn, timeoutMs = 30000, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) {
      return last;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function statusBarTexts(page) {
  return page.$$eval(".part.statusbar .statusbar-item", (els) =>
    els.map((e) => (e.textContent || "").trim()).filter((t) => t !== ""),
  );
}

/** Our status bar item's text once the server has reported a state, e.g. "dummy: ready". */
async function tinyAgentStatus(page) {
  return page.$$eval(".part.statusbar .statusbar-item", (els) => {
    const ours = els.find((e) => (e.getAttribute("id") || "").includes("tinyAgent.status"));
    return ours ? (ours.textContent || "").trim() : null;
  });
}

async function openWorkbench(page) {
  const url = `${config.url}/?folder=${encodeURIComponent(config.folder)}`;
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench .part.statusbar", { timeout: 60000 });
  // The explorer shows the folder once the remote file system is up.
  await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60000 });
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 10000 });
  await page.keyboard.press("Enter");
}

async function openFile(page, name) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(name);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${name}"]`, { timeout: 10000 });
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.tabs-container .tab.active[aria-label*="${name}"]`, { timeout: 10000 });
  await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout: 10000 });
  // Let the grammar tokenize and the server answer didOpen.
  await page.waitForTimeout(500);
}

/** Ctrl+S, then wait until the file on disk has changed (the editor's save really landed). */
async function save(page, name) {
  const file = path.join(config.folder, name);
  const before = fs.readFileSync(file, "utf8");
  await page.keyboard.press("Control+S");
  await waitFor(`${name} to be saved`, async () => fs.readFileSync(file, "utf8") !== before, 15000);
}

/** Text, CSS class and colour of every token the editor rendered, line by line. */
async function renderedTokens(page) {
  return page.$$eval(".editor-instance .monaco-editor .view-lines .view-line", (lines) =>
    lines
      .map((line) => ({
        top: parseFloat(line.style.top || "0"),
        tokens: Array.from(line.querySelectorAll(":scope > span > span")).map((s) => ({
          text: (s.textContent || "").replace(/\u00a0/g, " "),
          className: s.className,
          color: getComputedStyle(s).color,
        })),
      }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.tokens),
  );
}

async function notifications(page) {
  return page.$$eval(".notifications-toasts .notification-toast, .notifications-center .notification-list-item", (els) =>
    els.map((e) => ({
      message: (e.querySelector(".notification-list-item-message")?.textContent || "").trim(),
      source: (e.querySelector(".notification-list-item-source")?.textContent || "").trim(),
      buttons: Array.from(e.querySelectorAll(".notification-list-item-buttons-container .monaco-button")).map(
        (b) => (b.textContent || "").trim(),
      ),
      progress: e.querySelector(".monaco-progress-container.active, .monaco-progress-container.infinite, .monaco-progress-container.discrete") !== null,
    })),
  );
}

/**
 * A notification whose message matches `pattern`. A plain message's toast can hide itself
 * before a slow poll sees it, so after a few seconds the notification centre, which keeps every
 * notification, is opened (again, if something closed it) and searched as well.
 */
async function findNotification(page, what, pattern, timeoutMs) {
  const toastsUntil = Date.now() + Math.min(10000, timeoutMs / 3);
  return waitFor(what, async () => {
    const found = (await notifications(page)).find((n) => pattern.test(n.message));
    if (found) {
      return found;
    }
    if (Date.now() > toastsUntil && (await page.$(".notifications-center.visible")) === null) {
      await runCommand(page, "Notifications: Show Notifications");
    }
    return null;
  }, timeoutMs);
}

const scenarios = {
  /** Colours of a shader as the grammar paints them (semantic tokens off in this workspace). */
  async highlighting(page) {
    await openFile(page, "highlight.wgsl");
    const lines = await waitFor("coloured tokens", async () => {
      const l = await renderedTokens(page);
      return l.length > 10 && l.some((t) => t.length > 3) ? l : null;
    });
    const status = await waitFor("the Tiny Agent status bar item", () => tinyAgentStatus(page), 30000);
    const shot = await screenshot(page, "editor");
    const language = await page.$$eval(".part.statusbar .statusbar-item", (els) =>
      els.map((e) => (e.textContent || "").trim()).find((t) => t === "WGSL") || null,
    );
    return { lines, status, language, screenshots: [shot] };
  },

  /** naga's error for a broken shader in the Problems panel, and gone once fixed by typing. */
  async diagnostics(page) {
    await openFile(page, "broken.wgsl");
    await page.keyboard.press("Control+Shift+M");
    const problems = await waitFor(
      "a problem in the Problems panel",
      async () => {
        const rows = await page.$$eval(".markers-panel .monaco-list-row", (els) =>
          els.map((e) => (e.getAttribute("aria-label") || e.textContent || "").trim()),
        );
        return rows.some((r) => r.includes("expected")) ? rows : null;
      },
      60000,
    );
    const squiggles = await page.$$eval(".editor-instance .squiggly-error", (els) => els.length);
    const shotError = await screenshot(page, "problems");
    // Fix the shader as a user would: select `1u` on line 3 and type `1.0`.
    await page.locator(".editor-instance .monaco-editor .view-lines").click();
    await page.keyboard.press("Control+G");
    await page.keyboard.type("3:18");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.type("1.0");
    const after = await waitFor(
      "the Problems panel to clear",
      async () => {
        const rows = await page.$$eval(".markers-panel .monaco-list-row", (els) => els.length);
        const empty = await page.$$eval(".markers-panel .message-box-container", (els) =>
          els.map((e) => (e.textContent || "").trim()).join(" "),
        );
        return rows === 0 ? { rows, empty: empty || "no rows" } : null;
      },
      30000,
    );
    const shotFixed = await screenshot(page, "fixed");
    const text = (await renderedTokens(page)).map((l) => l.map((t) => t.text).join(""));
    await save(page, "broken.wgsl");
    return { problems, squiggles, after, text, screenshots: [shotError, shotFixed] };
  },

  /** Type a comment, wait for the generated code as ghost text, accept it with Tab, save. */
  async completion(page) {
    await openFile(page, "generate.wgsl");
    await waitFor("the server to be ready", async () => /ready/.test((await tinyAgentStatus(page)) || ""), 60000);
    await page.locator(".editor-instance .monaco-editor .view-lines").click();
    await page.keyboard.type(config.prompt, { delay: 15 });
    const ghost = await waitFor(
      "generated code as ghost text",
      async () => {
        const text = await page.$$eval(".editor-instance .ghost-text-decoration, .editor-instance .ghost-text", (els) => {
          const lines = [];
          for (const span of els) {
            const line = span.closest(".view-line") || span;
            if (!lines.includes(line)) {
              lines.push(line);
            }
          }
          return lines
            .map((line) =>
              Array.from(line.querySelectorAll(".ghost-text-decoration, .ghost-text"))
                .filter((s) => s.querySelector(".ghost-text-decoration, .ghost-text") === null)
                .map((s) => s.textContent || "")
                .join(""),
            )
            .join("\n");
        });
        return text.trim() !== "" ? text : null;
      },
      60000,
    );
    const shotGhost = await screenshot(page, "ghost-text");
    await page.keyboard.press("Tab");
    await waitFor("the accepted code in the editor", async () => (await renderedTokens(page)).length > 3, 10000);
    await save(page, "generate.wgsl");
    // The accepted code passes naga: the Problems panel stays empty once the server has had
    // time to check it (debounce 100 ms here; a shader validates in milliseconds).
    await page.keyboard.press("Control+Shift+M");
    await page.waitForSelector(".markers-panel", { timeout: 10000 });
    await page.waitForTimeout(2000);
    const problems = await page.$$eval(".markers-panel .monaco-list-row", (els) =>
      els.map((e) => (e.getAttribute("aria-label") || e.textContent || "").trim()),
    );
    const squiggles = await page.$$eval(".editor-instance .squiggly-error", (els) => els.length);
    const shotAccepted = await screenshot(page, "accepted");
    return { ghost, problems, squiggles, screenshots: [shotGhost, shotAccepted] };
  },

  /** The palette commands that need no training: Generate from Comment, Validate Workspace, Show Model Info. */
  async commands(page) {
    await openFile(page, "generate.wgsl");
    await waitFor("the server to be ready", async () => /ready/.test((await tinyAgentStatus(page)) || ""), 60000);
    await page.locator(".editor-instance .monaco-editor .view-lines").click();
    await page.keyboard.type(config.prompt, { delay: 10 });
    await page.keyboard.press("Escape");
    await runCommand(page, "Tiny Agent: Generate from Comment");
    await waitFor("the generated code below the comment", async () => (await renderedTokens(page)).length > 5, 60000);
    await save(page, "generate.wgsl");
    const shotGenerated = await screenshot(page, "generated");

    await runCommand(page, "Tiny Agent: Validate Workspace");
    const summary = await findNotification(page, "the validation summary", /Validated \d+ WGSL files/, 60000);
    const problems = await waitFor(
      "the Problems panel to list broken.wgsl",
      async () => {
        const rows = await page.$$eval(".markers-panel .monaco-list-row", (els) =>
          els.map((e) => (e.getAttribute("aria-label") || e.textContent || "").trim()),
        );
        return rows.some((r) => r.includes("broken.wgsl")) ? rows : null;
      },
      30000,
    );
    const shotValidated = await screenshot(page, "validated");

    await runCommand(page, "Tiny Agent: Show Model Info");
    const info = await findNotification(page, "the model info message", /Tiny Agent model:/, 30000);
    const output = await waitFor(
      "the model info in the output channel",
      async () => {
        const text = await page.$$eval(".output-view .view-line", (els) =>
          els.map((e) => (e.textContent || "").replace(/\u00a0/g, " ")).join("\n"),
        );
        return /Model info/.test(text) ? text : null;
      },
      30000,
    );
    const shotInfo = await screenshot(page, "model-info");
    return { summary, problems, info, output, screenshots: [shotGenerated, shotValidated, shotInfo] };
  },

  /** A server path that points nowhere: a clear message whose button opens the setting. */
  async missingServer(page) {
    await openFile(page, "highlight.wgsl");
    const message = await waitFor(
      "the message that the server was not found",
      async () => (await notifications(page)).find((n) => /tinyAgent\.server\.path/.test(n.message)) || null,
      30000,
    );
    const status = await waitFor("the status bar to show the error", () => tinyAgentStatus(page), 10000);
    const shotMessage = await screenshot(page, "message");
    await page
      .locator(".notifications-toasts .notification-toast", { hasText: "tinyAgent.server.path" })
      .locator(".monaco-button", { hasText: "Open Setting" })
      .click();
    const setting = await waitFor(
      "the settings editor on tinyAgent.server.path",
      async () => {
        const rows = await page.$$eval(".settings-editor .setting-item-contents", (els) =>
          els.map((e) => (e.querySelector(".setting-item-title")?.textContent || "").trim()),
        );
        return rows.length > 0 ? rows : null;
      },
      20000,
    );
    const shotSetting = await screenshot(page, "setting");
    // Correct the workspace's value in the settings editor; the server restarts by itself.
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Workspace" }).click();
    const input = page.locator(".settings-editor .setting-item-contents input").first();
    await input.waitFor({ state: "visible", timeout: 10000 });
    await input.fill(config.serverPath);
    await input.press("Tab");
    const statusAfterFix = await waitFor(
      "the server to start after the setting was fixed",
      async () => {
        const s = (await tinyAgentStatus(page)) || "";
        return /ready/.test(s) ? s : null;
      },
      60000,
    );
    const shotFixed = await screenshot(page, "fixed");
    return { message, status, setting, statusAfterFix, screenshots: [shotMessage, shotSetting, shotFixed] };
  },

  /**
   * Tiny Agent: Train Model twice, as a user would from the palette. The first run (a short
   * configuration) shows its progress notification and finishes; the second (a long one) is
   * cancelled with the notification's Cancel button once it reports epochs.
   */
  async training(page) {
    await openFile(page, "highlight.wgsl");
    await waitFor("the server to be ready", async () => /ready/.test((await tinyAgentStatus(page)) || ""), 60000);

    const trainingToast = async (name) =>
      (await notifications(page)).find((n) => n.message.includes(`Training ${name}`)) || null;

    /** Runs Train Model and picks `name` in the quick pick; returns the labels offered. */
    const startTraining = async (name) => {
      await runCommand(page, "Tiny Agent: Train Model");
      const picks = await waitFor("the configuration quick pick", async () => {
        const rows = await page.$$eval(".quick-input-list .monaco-list-row", (els) =>
          els.map((e) => (e.getAttribute("aria-label") || "").trim()),
        );
        return rows.some((r) => r.includes(name)) ? rows : null;
      });
      await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().click();
      return picks;
    };

    // A run to the end.
    const picks = await startTraining(config.shortConfig);
    const progress = await waitFor(
      `a progress notification for ${config.shortConfig}`,
      async () => {
        const t = await trainingToast(config.shortConfig);
        return t && t.progress && t.buttons.includes("Cancel") ? t : null;
      },
      60000,
      100,
    );
    const shotProgress = await screenshot(page, "progress");
    const statusWhileTraining = await waitFor(
      "the status bar to show training progress",
      async () => {
        const s = (await tinyAgentStatus(page)) || "";
        return /training \d+%/.test(s) ? s : null;
      },
      30000,
      100,
    ).catch(() => null);
    const finished = await waitFor(
      "the message that training finished",
      async () => (await notifications(page)).find((n) => /Training (finished|complete)/i.test(n.message)) || null,
      180000,
    );
    const statusAfterFinish = await waitFor(
      "the status bar to show the new model ready",
      async () => {
        const s = (await tinyAgentStatus(page)) || "";
        return /ready/.test(s) && !/dummy/.test(s) ? s : null;
      },
      60000,
    );
    const progressGoneAfterFinish = await waitFor(
      "the progress notification to close",
      async () => (await trainingToast(config.shortConfig)) === null,
      10000,
    ).catch(() => false);
    const shotFinished = await screenshot(page, "finished");

    // A run cancelled from its notification once it is in the training loop.
    await startTraining(config.longConfig);
    const running = await waitFor(
      `${config.longConfig} to report an epoch`,
      async () => {
        const t = await trainingToast(config.longConfig);
        return t && /epoch \d+\/\d+/.test(t.message) ? t : null;
      },
      120000,
      100,
    );
    const statusBeforeCancel = (await tinyAgentStatus(page)) || "";
    const shotRunning = await screenshot(page, "running");
    await page
      .locator(".notifications-toasts .notification-toast", { hasText: `Training ${config.longConfig}` })
      .locator(".monaco-button", { hasText: "Cancel" })
      .click();
    const stopped = await waitFor(
      "the message that training stopped",
      async () => (await notifications(page)).find((n) => /Training (stopped|cancelled|canceled|interrupted)/i.test(n.message)) || null,
      60000,
    );
    await waitFor(
      "the progress notification to close",
      async () => (await trainingToast(config.longConfig)) === null,
      30000,
    );
    const statusAfterCancel = await waitFor(
      "the status bar to leave the training state",
      async () => {
        const s = (await tinyAgentStatus(page)) || "";
        return /ready/.test(s) ? s : null;
      },
      60000,
    );
    const shotCancelled = await screenshot(page, "cancelled");
    // The server is still there: it answers a command after the cancellation.
    await runCommand(page, "Tiny Agent: Show Model Info");
    const info = await waitFor(
      "the model info message",
      async () => (await notifications(page)).find((n) => /Tiny Agent model:/.test(n.message)) || null,
      30000,
    );
    return {
      picks,
      progress,
      statusWhileTraining,
      finished,
      statusAfterFinish,
      progressGoneAfterFinish,
      running,
      statusBeforeCancel,
      stopped,
      statusAfterCancel,
      info,
      screenshots: [shotProgress, shotFinished, shotRunning, shotCancelled],
    };
  },
};

(async () => {
  fs.mkdirSync(config.artifacts, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromium, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const started = Date.now();
  let result;
  let code = 0;
  try {
    await openWorkbench(page);
    result = await scenarios[scenario](page);
  } catch (error) {
    code = 1;
    let shot = null;
    try {
      shot = await screenshot(page, "failure");
    } catch {
      // the page is gone; the error says why
    }
    result = {
      error: String(error && error.stack ? error.stack : error),
      statusBar: await statusBarTexts(page).catch(() => []),
      notifications: await notifications(page).catch(() => []),
      screenshots: shot ? [shot] : [],
    };
  }
  result.seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify(result) + "\n");
  await browser.close();
  process.exit(code);
})();
