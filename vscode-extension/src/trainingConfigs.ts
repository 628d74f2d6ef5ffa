/**
 * Training configurations offered by "Tiny Agent: Train Model": the TOML files in each
 * workspace folder's `config/` that hold a `[training]` table, plus the shipped default.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface TrainingConfigChoice {
  readonly label: string;
  readonly description: string;
  /** Absolute path; undefined means the server's shipped default configuration. */
  readonly configPath?: string;
}

const TRAINING_TABLE = /^\s*\[training\]\s*(#.*)?$/m;

/** True when the TOML text has a `[training]` table (engine.toml and others do not). */
export function isTrainingConfig(text: string): boolean {
  return TRAINING_TABLE.test(text);
}

export function findTrainingConfigs(workspaceFolders: readonly string[]): TrainingConfigChoice[] {
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
  choices.push({
    label: "Shipped default",
    description: "wgsl_generation.toml that comes with tiny-agent-trainer",
  });
  return choices;
}
