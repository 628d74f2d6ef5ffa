/**
 * Training configurations offered by "Tiny Agent: Train Model": the TOML files in each
 * workspace folder's `config/` that hold a `[training]` table, plus the shipped default.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface TrainingConfigChoice {
  readonly label: string;
  readonly description: string;
  /** Absolute path; undefined for the "Browse…" entry. */
  readonly configPath?: string;
}

const TRAINING_TABLE = /^\s*\[training\]\s*(#.*)?$/m;

/** True when the TOML text has a `[training]` table (engine.toml and others do not). */
export function isTrainingConfig(text: string): boolean {
  return TRAINING_TABLE.test(text);
}

/**
 * Where the shipped default configuration is when the server runs from a project checkout
 * or an editable install: `<project>/.venv/bin/tiny-agent-trainer` ->
 * `<project>/config/wgsl_generation.toml`.
 */
export function shippedConfigCandidates(serverCommand: string | undefined): string[] {
  if (serverCommand === undefined) {
    return [];
  }
  const project = path.dirname(path.dirname(path.dirname(serverCommand)));
  return [path.join(project, "config", "wgsl_generation.toml")];
}

export const BROWSE_LABEL = "Browse…";

/**
 * Workspace configurations first, then the shipped default (when it exists and is not one of
 * them), then a "Browse…" entry for any other file.
 */
export function findTrainingConfigs(
  workspaceFolders: readonly string[],
  shippedCandidates: readonly string[] = [],
): TrainingConfigChoice[] {
  const choices: TrainingConfigChoice[] = [];
  for (const folder of workspaceFolders) {
    const dir = path.join(folder, "config");
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith(".toml"));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const file = path.join(dir, name);
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        continue;
      }
      if (isTrainingConfig(text)) {
        choices.push({
          label: name,
          description: path.relative(path.dirname(folder), file),
          configPath: file,
        });
      }
    }
  }
  const listed = new Set(choices.map((c) => c.configPath));
  for (const candidate of shippedCandidates) {
    const resolved = path.resolve(candidate);
    if (!listed.has(resolved) && fs.existsSync(resolved)) {
      choices.push({ label: "Shipped default", description: resolved, configPath: resolved });
      listed.add(resolved);
    }
  }
  choices.push({ label: BROWSE_LABEL, description: "pick a training configuration (.toml) file" });
  return choices;
}

/** One row of the "Train Model" quick pick. */
export interface TrainingPick extends TrainingConfigChoice {
  /** The folder whose shaders' pairs are added to the base data; undefined for none. */
  readonly workspaceFolder?: string;
}

/**
 * The rows of "Train Model": each configuration on its own data; then, when a workspace folder
 * is open, each configuration again with the pairs of the first folder's shaders added (a `//`
 * comment directly above a function is the prompt). "Browse…" stays last, on its own data.
 */
export function trainingPicks(
  choices: readonly TrainingConfigChoice[],
  workspaceFolders: readonly string[],
): TrainingPick[] {
  const configs = choices.filter((c) => c.configPath !== undefined);
  const others = choices.filter((c) => c.configPath === undefined);
  const folder = workspaceFolders[0];
  if (folder === undefined) {
    return [...choices];
  }
  const name = path.basename(folder);
  const mined = configs.map((c) => ({
    label: `${c.label} + ${name} shaders`,
    description: `also the commented functions in ${name}'s *.wgsl files`,
    configPath: c.configPath,
    workspaceFolder: folder,
  }));
  return [...configs, ...mined, ...others];
}

/** The arguments of the server's `tinyAgent.train` for a configuration and a workspace folder. */
export function trainArguments(configPath: string, workspaceFolder?: string): Record<string, unknown>[] {
  return [workspaceFolder === undefined ? { config: configPath } : { config: configPath, workspace: workspaceFolder }];
}
