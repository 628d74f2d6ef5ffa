/**
 * Shows the server's work-done progress as a notification with a Cancel button.
 *
 * vscode-languageclient shows server-created progress in the status bar, where it cannot be
 * cancelled. Training must be cancellable, so this feature takes over
 * `window/workDoneProgress/create`; it is registered after the built-in features, so its
 * handler replaces theirs, also after an automatic restart. Cancel sends
 * `window/workDoneProgress/cancel` for the token.
 */
import * as vscode from "vscode";
import {
  BaseLanguageClient,
  FeatureState,
  ProgressToken,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
} from "vscode-languageclient";
import { nextProgressStep } from "./progressStep";

export function showProgressNotification(client: BaseLanguageClient, token: ProgressToken): vscode.Disposable {
  let shown = 0;
  let report: ((value: WorkDoneProgressReport | WorkDoneProgressBegin) => void) | undefined;
  let finish: (() => void) | undefined;
  let ended = false;
  const subscription = client.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === "begin") {
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: value.title,
          cancellable: value.cancellable === true,
        },
        (progress, cancellation) =>
          new Promise<void>((resolve) => {
            cancellation.onCancellationRequested(() => {
              void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
            });
            report = (v) => {
              const step = nextProgressStep(shown, v);
              shown = step.shown;
              progress.report({ message: step.message, increment: step.increment });
            };
            finish = resolve;
            report(value);
            if (ended) {
              resolve();
            }
          }),
      );
    } else if (value.kind === "report") {
      report?.(value);
    } else {
      ended = true;
      finish?.();
      subscription.dispose();
    }
  });
  return new vscode.Disposable(() => {
    finish?.();
    subscription.dispose();
  });
}

export class NotificationProgressFeature implements StaticFeature {
  private readonly active = new Set<vscode.Disposable>();

  constructor(private readonly client: BaseLanguageClient) {}

  fillClientCapabilities(capabilities: { window?: { workDoneProgress?: boolean } }): void {
    capabilities.window = { ...capabilities.window, workDoneProgress: true };
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      this.active.add(showProgressNotification(this.client, params.token));
    });
  }

  getState(): FeatureState {
    return { kind: "static" };
  }

  clear(): void {
    for (const part of this.active) {
      part.dispose();
    }
    this.active.clear();
  }
}
