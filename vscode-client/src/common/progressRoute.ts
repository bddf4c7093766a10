/**
 * Where the server's `$/progress` shows. vscode-languageclient puts every work-done progress in
 * the status bar (a spinner, no Cancel). Work the user asked for (Implement, Generate Tests,
 * Run Tests from the palette, a key or a code action) shows as a notification with a Cancel
 * button instead; background work (tests run on save, the index) stays in the status bar, where
 * the codeloop item already names it.
 */
import { ServerCommands } from "./protocol";

/** Commands whose cancellable progress is shown as a notification while they run. */
export const USER_WORK_COMMANDS: readonly string[] = [ServerCommands.implement, ServerCommands.generateTests, ServerCommands.runTests];

export interface ProgressBegin {
  title: string;
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}

/** Does this `begin` belong in a notification? (`running`: user-work commands now in flight.) */
export function inNotification(begin: ProgressBegin, running: number): boolean {
  return begin.cancellable === true && running > 0;
}

/** The notification's title: the server's title, named as codeloop's. */
export function notificationTitle(begin: ProgressBegin): string {
  const title = begin.title.trim() || "working";
  return /^codeloop\b/i.test(title) ? title : `codeloop: ${title}`;
}

/**
 * VS Code's progress takes increments, LSP sends percentages: the increment for each report
 * (never negative, never past 100 in total), or undefined when the report has no percentage.
 */
export class PercentTally {
  private reported = 0;

  increment(percentage: number | undefined): number | undefined {
    if (typeof percentage !== "number" || !Number.isFinite(percentage)) return undefined;
    const clamped = Math.max(0, Math.min(100, percentage));
    const delta = Math.max(0, clamped - this.reported);
    this.reported += delta;
    return delta;
  }
}
