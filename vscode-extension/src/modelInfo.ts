/**
 * One line about the server's model for "Tiny Agent: Show Model Info", from the
 * `tinyAgent.modelInfo` answer: `{model, state, kind: "template" | "model", path, params,
 * beam_size, metrics, training, message}`. The full answer goes to the output channel.
 */

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toPrecision(3);
}

function formatMetrics(metrics: unknown): string {
  if (metrics === null || typeof metrics !== "object") {
    return "";
  }
  const parts = Object.entries(metrics as Record<string, unknown>)
    .filter(([, v]) => typeof v === "number" && Number.isFinite(v))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${formatNumber(v as number)}`);
  return parts.join(", ");
}

export function describeModel(info: unknown): string {
  if (info === null || typeof info !== "object") {
    return `no answer from the server (${String(info)})`;
  }
  const r = info as Record<string, unknown>;
  const name = typeof r.path === "string" && r.path !== "" ? r.path : String(r.model ?? "default");
  const state = typeof r.state === "string" ? r.state : "unknown";
  const parts: string[] = [];
  if (r.kind === "template") {
    parts.push(`${name} — built-in templates, no trained model`);
  } else if (typeof r.params === "number" && r.params > 0) {
    parts.push(`${name} — ${formatNumber(r.params)} parameters`);
    if (typeof r.beam_size === "number") {
      parts.push(`beam ${r.beam_size}`);
    }
  } else {
    parts.push(name);
  }
  parts.push(state === "failed" && typeof r.message === "string" ? `failed to load: ${r.message}` : state);
  if (r.training === true) {
    parts.push("a training run is in progress");
  }
  const metrics = formatMetrics(r.metrics);
  if (metrics !== "") {
    parts.push(metrics);
  }
  return parts.join("; ");
}
