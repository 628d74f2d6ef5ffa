/**
 * Wires the extension together: finds and starts the language server, registers the palette
 * commands, the status bar item and the restart-on-settings behaviour. The decisions live in
 * the modules it imports; this file only connects them to VS Code.
 */
import * as os from "node:os";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { commentPromptAt } from "./commentPrompt";
import { describeModel } from "./modelInfo";
import { NotificationProgressFeature } from "./progress";
import { activeInterpreter, PythonEnvironmentsApi } from "./pythonInterpreter";
import { locateServer } from "./serverLocator";
import { RESTART_KEYS, SETTINGS_SECTION, readSettings, toServerSettings } from "./settings";
import { ParsedStatus, StatusNotification, parseStatus, statusView } from "./status";
import { findTrainingConfigs, shippedConfigCandidates, trainArguments, trainingPicks } from "./trainingConfigs";

const SERVER_COMMANDS = {
  train: "tinyAgent.train",
  generate: "tinyAgent.generate",
  validateWorkspace: "tinyAgent.validateWorkspace",
  modelInfo: "tinyAgent.modelInfo",
  stopTraining: "tinyAgent.stopTraining",
} as const;

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let lastStatus: ParsedStatus = { model: "", state: "stopped" };
let pythonApiSubscribed = false;
/** The executable the running server was started from. */
let serverCommand: string | undefined;

function showStatus(status: ParsedStatus): void {
  lastStatus = status;
  const view = statusView(status);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.show();
}

function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === "file")
    .map((f) => f.uri.fsPath);
}

interface PythonExtensionExports extends PythonEnvironmentsApi {
  environments?: PythonEnvironmentsApi["environments"] & {
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

/** The interpreter selected in the Python extension, when it is installed and answers. */
async function selectedPythonInterpreter(context: vscode.ExtensionContext): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionExports>("ms-python.python");
  if (extension === undefined) {
    return undefined;
  }
  let api: PythonExtensionExports | undefined;
  try {
    api = extension.isActive ? extension.exports : await extension.activate();
  } catch (error) {
    output.appendLine(`The Python extension failed to activate: ${String(error)}`);
    return undefined;
  }
  const environments = api?.environments;
  if (!pythonApiSubscribed && environments?.onDidChangeActiveEnvironmentPath !== undefined) {
    pythonApiSubscribed = true;
    context.subscriptions.push(
      environments.onDidChangeActiveEnvironmentPath(() => {
        if (readSettings(getSetting).serverPath === "") {
          output.appendLine("Python interpreter changed; restarting the server.");
          void restartServer(context);
        }
      }),
    );
  }
  return activeInterpreter(api, vscode.workspace.workspaceFolders?.[0]?.uri, (message) => output.appendLine(message));
}

function getSetting(key: string): unknown {
  return vscode.workspace.getConfiguration(SETTINGS_SECTION).get(key);
}

async function startServer(context: vscode.ExtensionContext): Promise<void> {
  const settings = readSettings(getSetting);
  const folders = workspaceFolderPaths();
  const located = locateServer({
    configuredPath: settings.serverPath,
    pythonInterpreter: await selectedPythonInterpreter(context),
    workspaceFolders: folders,
    envPath: process.env.PATH ?? "",
  });
  if (!located.found) {
    output.appendLine(located.message);
    output.appendLine(`Looked for the server at:\n  ${located.tried.join("\n  ")}`);
    showStatus({ model: "", state: "error" });
    void vscode.window.showErrorMessage(located.message, "Open Setting", "Show Logs").then((choice) => {
      if (choice === "Open Setting") {
        void vscode.commands.executeCommand("workbench.action.openSettings", `${SETTINGS_SECTION}.server.path`);
      } else if (choice === "Show Logs") {
        output.show();
      }
    });
    return;
  }
  const { command, args, source } = located.location;
  serverCommand = command;
  output.appendLine(`Starting ${command} ${args.join(" ")} (found via ${source})`);

  const serverOptions: ServerOptions = {
    command,
    args: [...args],
    options: { cwd: folders[0] ?? os.homedir(), env: { ...process.env } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "wgsl" },
      { scheme: "untitled", language: "wgsl" },
    ],
    initializationOptions: toServerSettings(settings),
    synchronize: { configurationSection: SETTINGS_SECTION },
    outputChannel: output,
    traceOutputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  const newClient = new LanguageClient("tinyAgent", "Tiny Agent", serverOptions, clientOptions);
  newClient.registerProposedFeatures();
  newClient.registerFeature(new NotificationProgressFeature(newClient));
  newClient.onNotification("tinyAgent/status", (note: StatusNotification) => {
    showStatus(parseStatus(note, lastStatus.model));
  });
  newClient.onDidChangeState((event) => {
    if (event.newState === State.Stopped) {
      showStatus({ model: lastStatus.model, state: "stopped" });
    }
  });
  client = newClient;
  showStatus({ model: settings.modelPath, state: "starting" });
  try {
    await newClient.start();
    if (lastStatus.state === "starting") {
      showStatus({ model: settings.modelPath === "" ? "default" : settings.modelPath, state: "ready" });
    }
  } catch (error) {
    showStatus({ model: lastStatus.model, state: "error" });
    output.appendLine(`The server failed to start: ${String(error)}`);
    void vscode.window.showErrorMessage(`Tiny Agent: the server failed to start (${command}).`, "Show Logs").then(
      (choice) => choice === "Show Logs" && output.show(),
    );
  }
}

async function stopServer(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined && running.state === State.Running) {
    try {
      await running.stop(5000);
    } catch (error) {
      output.appendLine(`Stopping the server: ${String(error)}`);
    }
  }
}

let restarting: Promise<void> = Promise.resolve();

function restartServer(context: vscode.ExtensionContext): Promise<void> {
  restarting = restarting.then(async () => {
    await stopServer();
    await startServer(context);
  });
  return restarting;
}

/** The running client, or undefined after telling the user why there is none. */
function runningClient(): LanguageClient | undefined {
  if (client === undefined || client.state !== State.Running) {
    void vscode.window
      .showErrorMessage("Tiny Agent: the language server is not running.", "Restart Server", "Show Logs")
      .then((choice) => {
        if (choice === "Restart Server") {
          void vscode.commands.executeCommand("tinyAgent.restartServer");
        } else if (choice === "Show Logs") {
          output.show();
        }
      });
    return undefined;
  }
  return client;
}

async function executeServerCommand(
  running: LanguageClient,
  command: string,
  args: unknown[],
): Promise<unknown> {
  return running.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
}

async function trainModel(): Promise<void> {
  const running = runningClient();
  if (running === undefined) {
    return;
  }
  const folders = workspaceFolderPaths();
  const choices = trainingPicks(findTrainingConfigs(folders, shippedConfigCandidates(serverCommand)), folders);
  const items: (vscode.QuickPickItem & { choice?: (typeof choices)[number] })[] = [];
  let sectionShown = false;
  for (const c of choices) {
    if (c.workspaceFolder !== undefined && !sectionShown) {
      sectionShown = true;
      items.push({ label: "Also train on this workspace's shaders", kind: vscode.QuickPickItemKind.Separator });
    }
    items.push({ label: c.label, description: c.description, choice: c });
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: "Tiny Agent: Train Model",
    placeHolder: "Training configuration",
  });
  if (picked?.choice === undefined) {
    return;
  }
  let configPath = picked.choice.configPath;
  if (configPath === undefined) {
    const files = await vscode.window.showOpenDialog({
      title: "Training configuration",
      canSelectMany: false,
      filters: { "Training configuration": ["toml"] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (files === undefined || files.length === 0) {
      return;
    }
    configPath = files[0].fsPath;
  }
  const workspaceFolder = picked.choice.workspaceFolder;
  output.appendLine(`Training with ${configPath}${workspaceFolder ? ` and the shaders of ${workspaceFolder}` : ""}`);
  try {
    // The server answers at once and reports progress through a token it creates; the
    // NotificationProgressFeature shows it with a Cancel button.
    const args = trainArguments(configPath, workspaceFolder);
    const result = await executeServerCommand(running, SERVER_COMMANDS.train, args);
    output.appendLine(`tinyAgent.train: ${JSON.stringify(result)}`);
  } catch (error) {
    output.appendLine(`Training failed: ${String(error)}`);
    void vscode.window.showErrorMessage(`Tiny Agent: training failed: ${errorMessage(error)}`);
  }
}

async function stopTraining(): Promise<void> {
  const running = runningClient();
  if (running === undefined) {
    return;
  }
  const result = await executeServerCommand(running, SERVER_COMMANDS.stopTraining, []);
  if (result !== null && typeof result === "object" && (result as { stopped?: unknown }).stopped === false) {
    void vscode.window.showInformationMessage(`Tiny Agent: ${String((result as { reason?: unknown }).reason)}`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function generateFromComment(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== "wgsl") {
    void vscode.window.showWarningMessage("Tiny Agent: open a WGSL file and put the cursor on a // comment.");
    return;
  }
  const lines = editor.document.getText().split(/\r?\n/);
  const found = commentPromptAt(lines, editor.selection.active.line);
  if (found === undefined) {
    void vscode.window.showWarningMessage(
      "Tiny Agent: put the cursor on or below a // comment that says what the shader should do.",
    );
    return;
  }
  const running = runningClient();
  if (running === undefined) {
    return;
  }
  // The server inserts the code at the start of the line after the comment. A comment on the
  // file's last line has no such line; without one the code would land above the comment.
  if (found.lastLine === editor.document.lineCount - 1) {
    const end = editor.document.lineAt(found.lastLine).range.end;
    await editor.edit((builder) => builder.insert(end, "\n"));
  }
  // The server inserts the code below the comment (workspace/applyEdit) and returns it.
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Tiny Agent: writing WGSL for "${found.prompt}"` },
    () =>
      executeServerCommand(running, SERVER_COMMANDS.generate, [
        { uri: editor.document.uri.toString(), line: found.lastLine },
      ]),
  );
  const reply = (result ?? {}) as { error?: unknown; valid?: unknown; diagnostics?: unknown };
  if (typeof reply.error === "string") {
    output.appendLine(`Generate from Comment: ${reply.error}`);
    return;
  }
  if (reply.valid === false) {
    const first = Array.isArray(reply.diagnostics) ? String(reply.diagnostics[0] ?? "") : "";
    void vscode.window.showWarningMessage(`Tiny Agent: the generated code does not pass naga: ${first}`);
  }
}

async function validateWorkspace(): Promise<void> {
  const running = runningClient();
  if (running === undefined) {
    return;
  }
  try {
    // The server publishes the diagnostics and shows the summary itself.
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Tiny Agent: validating WGSL files" },
      () => executeServerCommand(running, SERVER_COMMANDS.validateWorkspace, []),
    );
    output.appendLine(`tinyAgent.validateWorkspace: ${JSON.stringify(result)}`);
    void vscode.commands.executeCommand("workbench.actions.view.problems");
  } catch (error) {
    void vscode.window.showErrorMessage(`Tiny Agent: validation failed: ${errorMessage(error)}`);
  }
}

async function showModelInfo(): Promise<void> {
  const running = runningClient();
  if (running === undefined) {
    return;
  }
  try {
    const info = await executeServerCommand(running, SERVER_COMMANDS.modelInfo, []);
    output.appendLine(`Model info:\n${JSON.stringify(info, null, 2)}`);
    output.show(true);
    void vscode.window.showInformationMessage(`Tiny Agent model: ${describeModel(info)}`);
  } catch (error) {
    void vscode.window.showErrorMessage(`Tiny Agent: model info failed: ${errorMessage(error)}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Tiny Agent");
  statusItem = vscode.window.createStatusBarItem("tinyAgent.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "Tiny Agent";
  statusItem.command = "tinyAgent.showModelInfo";
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand("tinyAgent.trainModel", trainModel),
    vscode.commands.registerCommand("tinyAgent.stopTrainingRun", stopTraining),
    vscode.commands.registerCommand("tinyAgent.generateFromComment", generateFromComment),
    vscode.commands.registerCommand("tinyAgent.checkWorkspace", validateWorkspace),
    vscode.commands.registerCommand("tinyAgent.showModelInfo", showModelInfo),
    vscode.commands.registerCommand("tinyAgent.restartServer", () => restartServer(context)),
    vscode.commands.registerCommand("tinyAgent.showLogs", () => output.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SETTINGS_SECTION}.${key}`))) {
        output.appendLine("Settings changed; restarting the server.");
        void restartServer(context);
      }
    }),
  );
  await restartServer(context);
}

export async function deactivate(): Promise<void> {
  await stopServer();
}
