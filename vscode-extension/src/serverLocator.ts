/**
 * Finds the `tiny-agent-trainer` executable that runs the language server.
 *
 * Kept free of the `vscode` module so the search order can be unit-tested with plain Node:
 * the extension gathers the facts (setting, Python extension's interpreter, workspace folders,
 * PATH) and this module decides.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const SERVER_EXECUTABLE = "tiny-agent-trainer";

/** Where a server executable was found; shown to the user in the log. */
export type ServerSource = "setting" | "python-extension" | "workspace-venv" | "path";

export interface ServerLocation {
  /** Absolute path of the executable. */
  readonly command: string;
  readonly args: readonly string[];
  readonly source: ServerSource;
}

export interface LocateInput {
  /** `tinyAgent.server.path` as the user wrote it ("" when unset). */
  readonly configuredPath: string;
  /** Python interpreter selected in the Python extension, when that extension is installed. */
  readonly pythonInterpreter?: string;
  /** Absolute paths of the open workspace folders, first one first. */
  readonly workspaceFolders: readonly string[];
  /** The PATH variable the server would be started with. */
  readonly envPath: string;
  readonly platform?: NodeJS.Platform;
  readonly homeDir?: string;
  /** Injected so tests can describe a file system; defaults to a real executable-file check. */
  readonly isExecutable?: (file: string) => boolean;
}

export type LocateResult =
  | { readonly found: true; readonly location: ServerLocation; readonly tried: readonly string[] }
  | { readonly found: false; readonly message: string; readonly tried: readonly string[] };

/** Arguments that start the language server over stdio. */
export const SERVE_ARGS: readonly string[] = ["serve"];

export function isExecutableFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function executableNames(platform: NodeJS.Platform): string[] {
  return platform === "win32"
    ? [`${SERVER_EXECUTABLE}.exe`, `${SERVER_EXECUTABLE}.cmd`, SERVER_EXECUTABLE]
    : [SERVER_EXECUTABLE];
}

function venvBinDir(platform: NodeJS.Platform): string {
  return platform === "win32" ? "Scripts" : "bin";
}

/**
 * Expands `~` and `${workspaceFolder}` and makes a relative path absolute against the first
 * workspace folder (or leaves it relative when no folder is open).
 */
export function expandConfiguredPath(
  configured: string,
  workspaceFolders: readonly string[],
  homeDir: string,
): string {
  let value = configured.trim();
  const folder = workspaceFolders[0];
  if (folder !== undefined) {
    value = value.split("${workspaceFolder}").join(folder);
  }
  if (value === "~") {
    value = homeDir;
  } else if (value.startsWith("~/") || value.startsWith("~\\")) {
    value = path.join(homeDir, value.slice(2));
  }
  if (!path.isAbsolute(value) && folder !== undefined) {
    value = path.join(folder, value);
  }
  return path.normalize(value);
}

/**
 * Applies the search order: the setting; the Python extension's interpreter (its bin folder);
 * a `.venv` in each workspace folder; PATH. A setting that points nowhere is an error of its
 * own rather than a silent fall-through, so a typo does not start some other server.
 */
export function locateServer(input: LocateInput): LocateResult {
  const platform = input.platform ?? process.platform;
  const homeDir = input.homeDir ?? os.homedir();
  const isExecutable = input.isExecutable ?? isExecutableFile;
  const names = executableNames(platform);
  const tried: string[] = [];

  const hit = (command: string, source: ServerSource): LocateResult => ({
    found: true,
    location: { command, args: SERVE_ARGS, source },
    tried,
  });

  if (input.configuredPath.trim() !== "") {
    const configured = expandConfiguredPath(input.configuredPath, input.workspaceFolders, homeDir);
    tried.push(configured);
    if (isExecutable(configured)) {
      return hit(configured, "setting");
    }
    return {
      found: false,
      tried,
      message:
        `The setting tinyAgent.server.path is "${input.configuredPath}", but ${configured} ` +
        `is not an executable file. Point it at the tiny-agent-trainer executable ` +
        `(for example .venv/bin/tiny-agent-trainer), or clear it to search automatically.`,
    };
  }

  if (input.pythonInterpreter !== undefined && input.pythonInterpreter !== "") {
    const binDir = path.dirname(input.pythonInterpreter);
    for (const name of names) {
      const candidate = path.join(binDir, name);
      tried.push(candidate);
      if (isExecutable(candidate)) {
        return hit(candidate, "python-extension");
      }
    }
  }

  for (const folder of input.workspaceFolders) {
    for (const name of names) {
      const candidate = path.join(folder, ".venv", venvBinDir(platform), name);
      tried.push(candidate);
      if (isExecutable(candidate)) {
        return hit(candidate, "workspace-venv");
      }
    }
  }

  const separator = platform === "win32" ? ";" : ":";
  for (const dir of input.envPath.split(separator)) {
    if (dir === "") {
      continue;
    }
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) {
        tried.push(candidate);
        return hit(candidate, "path");
      }
    }
  }
  tried.push(`${SERVER_EXECUTABLE} on PATH`);

  return {
    found: false,
    tried,
    message:
      `Tiny Agent could not find the ${SERVER_EXECUTABLE} language server. ` +
      `Install it (pip install tiny-agent-trainer) into the Python environment selected in ` +
      `VS Code or into .venv in this workspace, or set tinyAgent.server.path.`,
  };
}
