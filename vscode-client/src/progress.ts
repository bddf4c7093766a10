/**
 * The server's cancellable progress for work the user asked for, as a VS Code notification with
 * a Cancel button (see src/common/progressRoute.ts for which progress goes where). Wired through
 * vscode-languageclient's `handleWorkDoneProgress` middleware: a routed token's begin and reports
 * never reach the library's status bar progress; its end does, so the library forgets the token.
 */
import * as vscode from "vscode";
import { WorkDoneProgressCancelNotification, type LanguageClient, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from "vscode-languageclient/node";
import { inNotification, notificationTitle, PercentTally, USER_WORK_COMMANDS } from "./common/progressRoute";

type Params = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

interface Shown {
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
  pending: WorkDoneProgressReport[]; // reports that came before withProgress called back
  tally: PercentTally;
  done: () => void;
  ended: boolean;
}

export class ProgressRouter implements vscode.Disposable {
  private running = 0;
  private readonly shown = new Map<string, Shown>();

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** Wraps a server command the user runs: its progress, while it runs, is a notification. */
  async around<T>(command: string, run: () => Promise<T>): Promise<T> {
    if (!USER_WORK_COMMANDS.includes(command)) return run();
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
    }
  }

  /** The `handleWorkDoneProgress` middleware. */
  handle(token: string | number, params: Params, next: (token: string | number, params: Params) => void): void {
    const key = String(token);
    const mine = this.shown.get(key);
    if (params.kind === "begin") {
      if (!inNotification(params, this.running)) return next(token, params);
      this.begin(token, key, params);
      return;
    }
    if (!mine) return next(token, params);
    if (params.kind === "report") {
      if (mine.progress) this.report(mine, params);
      else mine.pending.push(params);
      return;
    }
    mine.ended = true;
    this.shown.delete(key);
    mine.done();
    next(token, params); // the library's own part for this token ends and is forgotten
  }

  private begin(token: string | number, key: string, begin: WorkDoneProgressBegin): void {
    const entry: Shown = { pending: [], tally: new PercentTally(), done: () => undefined, ended: false };
    this.shown.set(key, entry);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: notificationTitle(begin), cancellable: true },
      (progress, cancel) =>
        new Promise<void>((resolve) => {
          entry.done = resolve;
          if (entry.ended) return resolve();
          entry.progress = progress;
          this.report(entry, { kind: "report", message: begin.message, percentage: begin.percentage });
          for (const report of entry.pending.splice(0)) this.report(entry, report);
          cancel.onCancellationRequested(() => {
            // The server stops the work and ends the progress (which closes the notification).
            void this.client()?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
        }),
    );
  }

  private report(entry: Shown, report: WorkDoneProgressReport): void {
    const increment = entry.tally.increment(report.percentage);
    if (report.message === undefined && increment === undefined) return;
    entry.progress?.report({ message: report.message, increment });
  }

  /** The server stopped: close what it can no longer end. */
  clear(): void {
    for (const entry of this.shown.values()) entry.done();
    this.shown.clear();
  }

  dispose(): void {
    this.clear();
  }
}
