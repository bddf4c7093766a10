/**
 * The status bar note about the inline suggestion on screen (see src/common/inlineVerdict.ts):
 * "suggestion verified 2/2 examples" while a verified one is shown, "accepted: verified ..." after
 * Tab, "suggestion ... fails its checks" when its background check failed. When the server
 * reports that the suggestion under the cursor passed its check, the client asks for it again
 * (`editor.action.inlineSuggest.trigger`): the server answers from its cache, now with the mark.
 */
import * as vscode from "vscode";
import { acceptedNote, concernsPlace, failedNote, verifiedEvidence, verifiedNote, type EditorPlace, type InlineVerdict, type Note } from "./common/inlineVerdict";

type Kind = "verified" | "failed" | "accepted";

const ACCEPTED_NOTE_MS = 15_000;

export class InlineNote implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private shown: { kind: Kind; uri: string; line: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    // Right after the codeloop item (priority 50, left).
    this.item = vscode.window.createStatusBarItem("codeloop.inlineSuggestion", vscode.StatusBarAlignment.Left, 49);
    this.item.name = "codeloop inline suggestion";
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.shown && e.document.uri.toString() === this.shown.uri && e.contentChanges.length > 0) this.hide();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (!this.shown || this.shown.kind === "accepted") return;
        if (e.textEditor.document.uri.toString() !== this.shown.uri || e.selections[0]?.active.line !== this.shown.line) this.hide();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.hide()),
    );
  }

  /** The inline items the server gave for `document` at `position` (from the provider middleware). */
  onItems(document: vscode.TextDocument, position: vscode.Position, items: readonly vscode.InlineCompletionItem[]): void {
    const evidence = items.length > 0 ? verifiedEvidence(items[0].command) : undefined;
    const uri = document.uri.toString();
    if (evidence) {
      this.show("verified", uri, position.line, verifiedNote(evidence));
    } else if (!(this.shown?.kind === "failed" && this.shown.uri === uri && this.shown.line === position.line)) {
      this.hide(); // an unmarked suggestion: no note (a failed check's note stays while it applies)
    }
  }

  /** `codeloop/inlineVerified`: a background check ended. */
  onVerdict(verdict: InlineVerdict): void {
    const editor = vscode.window.activeTextEditor;
    const place: EditorPlace | undefined = editor && {
      uri: editor.document.uri.toString(),
      version: editor.document.version,
      line: editor.selection.active.line,
    };
    if (!concernsPlace(verdict, place)) return;
    if (verdict.status === "verified") {
      void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    } else {
      this.show("failed", verdict.uri, verdict.line, failedNote(verdict));
    }
  }

  /** The user accepted a verified suggestion (its command ran). */
  onAccepted(args: unknown[]): void {
    const first = args[0] as { verified?: unknown } | undefined;
    const evidence = typeof first?.verified === "string" ? first.verified : undefined;
    const editor = vscode.window.activeTextEditor;
    if (!evidence || !editor) return;
    this.show("accepted", editor.document.uri.toString(), editor.selection.active.line, acceptedNote(evidence));
    this.timer = setTimeout(() => this.hide(), ACCEPTED_NOTE_MS);
  }

  private show(kind: Kind, uri: string, line: number, note: Note): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.shown = { kind, uri, line };
    this.item.text = note.text;
    this.item.tooltip = note.tooltip;
    this.item.backgroundColor = note.severity === "warning" ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.item.show();
  }

  hide(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.shown = undefined;
    this.item.hide();
  }

  dispose(): void {
    this.hide();
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
