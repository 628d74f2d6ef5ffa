/**
 * Text of the status bar item, from the server's `tinyAgent/status` notification
 * `{"model": str, "state": "loading" | "ready" | "training", "progress": number | null}`.
 */

export type ServerState = "starting" | "loading" | "ready" | "training" | "stopped" | "error";

export interface StatusNotification {
  model?: unknown;
  state?: unknown;
  progress?: unknown;
}

export interface StatusView {
  readonly text: string;
  readonly tooltip: string;
}

const KNOWN_STATES: readonly ServerState[] = [
  "starting",
  "loading",
  "ready",
  "training",
  "stopped",
  "error",
];

export interface ParsedStatus {
  readonly model: string;
  readonly state: ServerState;
  /** 0..100, or undefined when the server did not say. */
  readonly progress?: number;
}

/** Accepts progress as a fraction (0..1) or a percentage (0..100). */
export function parseStatus(note: StatusNotification, previousModel = ""): ParsedStatus {
  const model = typeof note.model === "string" && note.model !== "" ? note.model : previousModel;
  const state = KNOWN_STATES.includes(note.state as ServerState)
    ? (note.state as ServerState)
    : "ready";
  let progress: number | undefined;
  if (typeof note.progress === "number" && Number.isFinite(note.progress)) {
    const pct = note.progress <= 1 && note.progress > 0 ? note.progress * 100 : note.progress;
    progress = Math.max(0, Math.min(100, Math.round(pct)));
  }
  return { model, state, progress };
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
    case "loading":
      return { text: `$(loading~spin) ${label}: loading`, tooltip };
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
