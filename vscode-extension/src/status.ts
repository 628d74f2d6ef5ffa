/**
 * Text of the status bar item, from the server's `tinyAgent/status` notification
 * `{"model": str, "state": "unloaded" | "loading" | "ready" | "failed" | "training",
 * "progress"?: 0..100, "message"?: str}`. "starting", "stopped" and "error" are the client's own
 * states: the server is being started, has exited, or could not be started.
 */

export type ServerState =
  | "starting"
  | "unloaded"
  | "loading"
  | "ready"
  | "failed"
  | "training"
  | "stopped"
  | "error";

export interface StatusNotification {
  model?: unknown;
  state?: unknown;
  progress?: unknown;
  message?: unknown;
}

export interface StatusView {
  readonly text: string;
  readonly tooltip: string;
}

const KNOWN_STATES: readonly ServerState[] = [
  "starting",
  "unloaded",
  "loading",
  "ready",
  "failed",
  "training",
  "stopped",
  "error",
];

export interface ParsedStatus {
  readonly model: string;
  readonly state: ServerState;
  /** 0..100, or undefined when the server did not say. */
  readonly progress?: number;
  /** Why the model failed to load, when the server said. */
  readonly message?: string;
}

/** Progress is a percentage (0..100), as in LSP's work-done progress. */
export function parseStatus(note: StatusNotification, previousModel = ""): ParsedStatus {
  const model = typeof note.model === "string" && note.model !== "" ? note.model : previousModel;
  const state = KNOWN_STATES.includes(note.state as ServerState)
    ? (note.state as ServerState)
    : "ready";
  let progress: number | undefined;
  if (typeof note.progress === "number" && Number.isFinite(note.progress)) {
    progress = Math.max(0, Math.min(100, Math.round(note.progress)));
  }
  const message = typeof note.message === "string" && note.message !== "" ? note.message : undefined;
  return { model, state, progress, message };
}

function modelLabel(model: string): string {
  if (model === "") {
    return "no model";
  }
  const parts = model.split(/[\\/]/).filter((p) => p !== "");
  return parts.length > 0 ? parts[parts.length - 1] : model;
}

export function statusView(status: ParsedStatus): StatusView {
  const label = modelLabel(status.model);
  const tooltip = `Tiny Agent — model: ${status.model === "" ? "none" : status.model}`;
  switch (status.state) {
    case "starting":
      return { text: "$(loading~spin) Tiny Agent: starting", tooltip };
    case "unloaded":
      return { text: `$(circle-outline) ${label}: not loaded`, tooltip: `${tooltip} (loads on first use)` };
    case "loading":
      return { text: `$(loading~spin) ${label}: loading`, tooltip };
    case "failed":
      return {
        text: `$(warning) ${label}: failed to load`,
        tooltip: `${tooltip}\n${status.message ?? "The model could not be loaded"}; see Show Logs`,
      };
    case "training":
      return {
        text:
          status.progress === undefined
            ? `$(sync~spin) ${label}: training`
            : `$(sync~spin) ${label}: training ${status.progress}%`,
        tooltip,
      };
    case "stopped":
      return { text: "$(circle-slash) Tiny Agent: stopped", tooltip: "Tiny Agent server is not running" };
    case "error":
      return { text: "$(error) Tiny Agent: error", tooltip: "Tiny Agent server failed; see Show Logs" };
    case "ready":
      return { text: `$(check) ${label}: ready`, tooltip };
  }
}
