/**
 * Which files a server's `workspace/applyEdit` touches, and which of them the client saves after
 * the edit is applied. No `vscode` import (unit-tested).
 *
 * VS Code applies an edit to a file that is not open in a hidden, unsaved buffer: generated tests
 * merged into `tests/test_x.py` would exist only as a dirty tab the user may never notice, and
 * pytest, the terminal and the server's own test runs would not see them. So a file that was not
 * open in an editor before the edit (nor holding unsaved changes), or is created by it, is saved
 * once the edit is applied; edits to files the user has open stay unsaved, for review and undo,
 * like any code action.
 */

/** The subset of an LSP `WorkspaceEdit` this module reads (the shapes are validated, not trusted). */
export interface LspWorkspaceEdit {
  changes?: Record<string, unknown>;
  documentChanges?: unknown[];
}

/** URIs of the files whose text an edit changes (text edits and created files), in order, without duplicates. */
export function editedUris(edit: LspWorkspaceEdit | null | undefined): string[] {
  const out: string[] = [];
  const add = (uri: unknown) => {
    if (typeof uri === "string" && uri !== "" && !out.includes(uri)) out.push(uri);
  };
  if (!edit || typeof edit !== "object") return out;
  if (Array.isArray(edit.documentChanges)) {
    for (const change of edit.documentChanges) {
      if (typeof change !== "object" || change === null) continue;
      const c = change as Record<string, unknown>;
      if (c.kind === "create") add(c.uri);
      else if (c.kind === "rename") add(c.newUri);
      else if (c.kind === undefined && typeof c.textDocument === "object" && c.textDocument !== null) {
        add((c.textDocument as Record<string, unknown>).uri);
      }
    }
  } else if (edit.changes && typeof edit.changes === "object") {
    for (const uri of Object.keys(edit.changes)) add(uri);
  }
  // A file deleted by the same edit has nothing left to save.
  if (Array.isArray(edit.documentChanges)) {
    for (const change of edit.documentChanges) {
      const c = change as Record<string, unknown> | null;
      if (c && c.kind === "delete" && typeof c.uri === "string") {
        const i = out.indexOf(c.uri);
        if (i >= 0) out.splice(i, 1);
      }
    }
  }
  return out;
}

/**
 * The files to save after `edit` is applied: those it changes that were not open (shown in an
 * editor, or dirty) before it.
 * `key` normalises a URI the way the editor spells it (percent-encoding differs between servers);
 * `openBefore` holds the normalised URIs of the documents open before the edit.
 */
export function filesToSave(
  edit: LspWorkspaceEdit | null | undefined,
  openBefore: ReadonlySet<string>,
  key: (uri: string) => string = (u) => u,
): string[] {
  return editedUris(edit).filter((uri) => !openBefore.has(key(uri)));
}
