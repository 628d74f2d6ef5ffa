/**
 * The extension's settings as one typed object, and the shape the server receives.
 *
 * Declared once in package.json (`contributes.configuration`, section "tinyAgent"); read here
 * through a getter so this module needs no `vscode` import and can be unit-tested. The server
 * gets the same nested shape in `initializationOptions` as it gets from
 * `workspace/configuration` for the section "tinyAgent", so it parses one format.
 */

export const SETTINGS_SECTION = "tinyAgent";

export type Device = "auto" | "cpu" | "cuda";
export type ValidateOn = "type" | "save";

export interface TinyAgentSettings {
  readonly serverPath: string;
  readonly modelPath: string;
  readonly device: Device;
  /** null: the model's own configuration decides. */
  readonly beams: number | null;
  readonly maxTokens: number | null;
  readonly validateOn: ValidateOn;
  readonly completionsEnabled: boolean;
  readonly completionWaitMs: number;
  readonly debounceMs: number;
  readonly maxFileKb: number;
}

/** What the server reads: `initializationOptions` and the "tinyAgent" configuration section. */
export interface ServerSettings {
  server: { path: string };
  modelPath: string;
  device: Device;
  beams: number | null;
  maxTokens: number | null;
  validateOn: ValidateOn;
  completions: { enabled: boolean; waitMs: number };
  debounceMs: number;
  maxFileKb: number;
}

export const DEFAULT_SETTINGS: TinyAgentSettings = {
  serverPath: "",
  modelPath: "",
  device: "auto",
  beams: null,
  maxTokens: null,
  validateOn: "type",
  completionsEnabled: true,
  completionWaitMs: 150,
  debounceMs: 250,
  maxFileKb: 2048,
};

/** Reads one key of the "tinyAgent" section (e.g. "server.path"); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

function stringSetting(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function intSetting<F extends number | null>(value: unknown, fallback: F, min: number, max: number): number | F {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return fallback;
  }
  return Math.min(max, Math.max(min, Math.round(value)));
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : fallback;
}

/** Builds the typed settings, replacing values of the wrong type or range by the defaults. */
export function readSettings(get: SettingGetter): TinyAgentSettings {
  const d = DEFAULT_SETTINGS;
  return {
    serverPath: stringSetting(get("server.path"), d.serverPath).trim(),
    modelPath: stringSetting(get("modelPath"), d.modelPath).trim(),
    device: oneOf(get("device"), ["auto", "cpu", "cuda"], d.device),
    beams: intSetting(get("beams"), d.beams, 1, 16),
    maxTokens: intSetting(get("maxTokens"), d.maxTokens, 16, 2048),
    validateOn: oneOf(get("validateOn"), ["type", "save"], d.validateOn),
    completionsEnabled:
      typeof get("completions.enabled") === "boolean"
        ? (get("completions.enabled") as boolean)
        : d.completionsEnabled,
    completionWaitMs: intSetting(get("completions.waitMs"), d.completionWaitMs, 0, 5000),
    debounceMs: intSetting(get("debounceMs"), d.debounceMs, 0, 5000),
    maxFileKb: intSetting(get("maxFileKb"), d.maxFileKb, 1, 1048576),
  };
}

export function toServerSettings(settings: TinyAgentSettings): ServerSettings {
  return {
    server: { path: settings.serverPath },
    modelPath: settings.modelPath,
    device: settings.device,
    beams: settings.beams,
    maxTokens: settings.maxTokens,
    validateOn: settings.validateOn,
    completions: { enabled: settings.completionsEnabled, waitMs: settings.completionWaitMs },
    debounceMs: settings.debounceMs,
    maxFileKb: settings.maxFileKb,
  };
}

/**
 * Settings that the running server cannot take over a `didChangeConfiguration`: a change to
 * any of them restarts the server (a different executable, or a model loaded on start).
 */
export const RESTART_KEYS: readonly string[] = ["server.path", "modelPath", "device"];
