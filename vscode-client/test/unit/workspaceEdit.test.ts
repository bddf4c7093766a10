import { describe, expect, it } from "vitest";
import { editedUris, filesToSave } from "../../src/common/workspaceEdit";

const TESTS = "file:///ws/tests/test_geometry.py";
const SOURCE = "file:///ws/shapes/geometry.py";

const textEdit = (uri: string, version: number | null = null) => ({
  textDocument: { uri, version },
  edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: "x" }],
});

describe("editedUris", () => {
  it("lists created files and text-edited files once, in order", () => {
    const edit = {
      documentChanges: [
        { kind: "create", uri: TESTS, options: { ignoreIfExists: true } },
        textEdit(TESTS),
        textEdit(SOURCE, 3),
      ],
    };
    expect(editedUris(edit)).toEqual([TESTS, SOURCE]);
  });

  it("reads the plain `changes` map when there are no documentChanges", () => {
    expect(editedUris({ changes: { [SOURCE]: [], [TESTS]: [] } })).toEqual([SOURCE, TESTS]);
  });

  it("follows renames and drops deleted files", () => {
    const edit = {
      documentChanges: [
        { kind: "rename", oldUri: SOURCE, newUri: "file:///ws/shapes/geo.py" },
        textEdit(TESTS),
        { kind: "delete", uri: TESTS },
      ],
    };
    expect(editedUris(edit)).toEqual(["file:///ws/shapes/geo.py"]);
  });

  it("ignores malformed entries instead of throwing", () => {
    const edit = { documentChanges: [null, 3, { textDocument: null }, { textDocument: { uri: 7 } }, textEdit(SOURCE)] };
    expect(editedUris(edit as never)).toEqual([SOURCE]);
    expect(editedUris(undefined)).toEqual([]);
    expect(editedUris(null)).toEqual([]);
  });
});

describe("filesToSave", () => {
  it("saves only the files that were not open before the edit", () => {
    const edit = { documentChanges: [textEdit(TESTS), textEdit(SOURCE, 4)] };
    expect(filesToSave(edit, new Set([SOURCE]))).toEqual([TESTS]);
    expect(filesToSave(edit, new Set([SOURCE, TESTS]))).toEqual([]);
    expect(filesToSave(edit, new Set())).toEqual([TESTS, SOURCE]);
  });

  it("compares URIs the way the editor spells them", () => {
    const server = "file:///ws/my%20tests/test_a.py";
    const editor = "file:///ws/my tests/test_a.py";
    const key = (u: string) => decodeURIComponent(u);
    expect(filesToSave({ documentChanges: [textEdit(server)] }, new Set([editor]), key)).toEqual([]);
    expect(filesToSave({ documentChanges: [textEdit(server)] }, new Set([editor]))).toEqual([server]);
  });
});
