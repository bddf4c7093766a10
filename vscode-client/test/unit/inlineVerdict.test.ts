import { describe, expect, it } from "vitest";
import { acceptedNote, concernsPlace, failedNote, parseVerdict, verifiedEvidence, verifiedNote } from "../../src/common/inlineVerdict";

const VERDICT = { uri: "file:///w/geo.py", version: 7, line: 11, name: "area", status: "verified", evidence: "verified 2/2 examples", reason: "" };

describe("inline verdicts", () => {
  it("parses the server's notification and rejects malformed ones", () => {
    expect(parseVerdict(VERDICT)).toEqual(VERDICT);
    expect(parseVerdict({ ...VERDICT, version: null, name: 3 })).toEqual({ ...VERDICT, version: null, name: "" });
    for (const bad of [null, "x", { ...VERDICT, status: "skipped" }, { ...VERDICT, line: -1 }, { ...VERDICT, line: 1.5 }, { ...VERDICT, uri: 1 }]) {
      expect(parseVerdict(bad)).toBeUndefined();
    }
  });

  it("concerns only the suggestion under the cursor, in the same document version", () => {
    const v = parseVerdict(VERDICT)!;
    expect(concernsPlace(v, { uri: VERDICT.uri, version: 7, line: 11 })).toBe(true);
    expect(concernsPlace(v, { uri: VERDICT.uri, version: 8, line: 11 })).toBe(false); // edited since
    expect(concernsPlace(v, { uri: VERDICT.uri, version: 7, line: 12 })).toBe(false);
    expect(concernsPlace(v, { uri: "file:///w/other.py", version: 7, line: 11 })).toBe(false);
    expect(concernsPlace(v, undefined)).toBe(false);
    expect(concernsPlace({ ...v, version: null }, { uri: VERDICT.uri, version: 99, line: 11 })).toBe(true);
  });

  it("finds the evidence only on the server's verified command", () => {
    expect(verifiedEvidence({ command: "codeloop.inlineCompletionAccepted", title: "codeloop: verified 3/3 examples, 1/1 existing tests" })).toBe(
      "verified 3/3 examples, 1/1 existing tests",
    );
    expect(verifiedEvidence(undefined)).toBeUndefined();
    expect(verifiedEvidence({ command: "codeloop.inlineCompletionAccepted", title: "codeloop: 1/2 examples" })).toBeUndefined();
    expect(verifiedEvidence({ command: "other.command", title: "codeloop: verified 2/2 examples" })).toBeUndefined();
  });

  it("marks verified and accepted suggestions, never a failed one", () => {
    expect(verifiedNote("verified 2/2 examples").text).toBe("$(pass) suggestion verified 2/2 examples");
    expect(acceptedNote("verified 2/2 examples").text).toBe("$(pass) accepted: verified 2/2 examples");
    const failed = failedNote({ ...parseVerdict(VERDICT)!, status: "failed", evidence: "1/2 examples", reason: "area(1) returned 2" });
    expect(failed.text).toBe("$(warning) suggestion of area fails its checks");
    expect(failed.text).not.toMatch(/verified/);
    expect(failed.tooltip).toContain("area(1) returned 2");
    expect(failed.severity).toBe("warning");
    // text from the server cannot inject status bar icons
    expect(verifiedNote("verified $(zap)").text).not.toContain("$(zap)");
  });
});
