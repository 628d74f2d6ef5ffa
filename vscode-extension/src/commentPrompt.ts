/**
 * The plain-English prompt for "Generate from Comment": the block of `//` comment lines at or
 * directly above the cursor.
 */

export interface CommentPrompt {
  /** The comment text, lines joined by spaces, without the `//` markers. */
  readonly prompt: string;
  /** 0-based line of the last comment line; generated code goes after it. */
  readonly lastLine: number;
}

const COMMENT_LINE = /^\s*\/\/\/?\s?(.*)$/;

export function commentPromptAt(lines: readonly string[], cursorLine: number): CommentPrompt | undefined {
  let line = Math.min(cursorLine, lines.length - 1);
  while (line >= 0 && lines[line].trim() === "") {
    line -= 1;
  }
  if (line < 0 || !COMMENT_LINE.test(lines[line])) {
    return undefined;
  }
  const last = line;
  const parts: string[] = [];
  while (line >= 0) {
    const match = COMMENT_LINE.exec(lines[line]);
    if (match === null) {
      break;
    }
    parts.unshift(match[1].trim());
    line -= 1;
  }
  const prompt = parts.filter((p) => p !== "").join(" ");
  return prompt === "" ? undefined : { prompt, lastLine: last };
}
