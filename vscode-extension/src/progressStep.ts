/**
 * Turns LSP work-done progress values (an absolute `percentage`) into what VS Code's
 * notification progress takes (an `increment` added to what was already shown), and the text
 * shown beside the title.
 */

export interface ProgressValue {
  readonly message?: string;
  readonly percentage?: number;
}

export interface ProgressStep {
  /** Text after the notification's title, e.g. "42% — epoch 3/5 · loss 1.204". */
  readonly message?: string;
  /** How much to add to the bar; undefined leaves it as it is. Never negative. */
  readonly increment?: number;
  /** The percentage the bar shows after this step. */
  readonly shown: number;
}

export function nextProgressStep(shown: number, value: ProgressValue): ProgressStep {
  if (typeof value.percentage !== "number" || !Number.isFinite(value.percentage)) {
    return { message: value.message, increment: undefined, shown };
  }
  const target = Math.max(0, Math.min(100, value.percentage));
  const increment = Math.max(0, target - shown);
  const percent = `${Math.round(target)}%`;
  return {
    message: value.message !== undefined && value.message !== "" ? `${percent} — ${value.message}` : percent,
    increment,
    shown: shown + increment,
  };
}
