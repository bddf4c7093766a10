import { describe, expect, it } from "vitest";
import { ChatSession, describeRequestError, MAX_HISTORY, toView } from "../../src/common/chatState";
import { parseFromWebview } from "../../src/common/protocol";

describe("ChatSession", () => {
  it("starts a turn with history and context, one request at a time", () => {
    const s = new ChatSession("t");
    const first = s.start("  hello  ", { uri: "file:///a.py", languageId: "python", text: "x = 1" });
    expect(first?.params).toEqual({ id: "t-1", message: "hello", history: [], context: { uri: "file:///a.py", languageId: "python", text: "x = 1" } });
    expect(s.busy).toBe(true);
    expect(s.start("again")).toBeUndefined();
    s.appendChunk("t-1", "Hi");
    s.appendChunk("t-1", " there");
    expect(s.get("t-1")?.content).toBe("Hi there");
    s.finish({ id: "t-1", text: "Hi there", finishReason: "stop" });
    expect(s.busy).toBe(false);
    const second = s.start("next");
    expect(second?.params.history).toEqual([
      { role: "user", content: "hello" },
      { role: "assistant", content: "Hi there" },
    ]);
    expect(second?.params).not.toHaveProperty("context");
  });

  it("ignores empty messages, unknown ids and chunks after the end", () => {
    const s = new ChatSession("t");
    expect(s.start("   ")).toBeUndefined();
    s.start("q");
    expect(s.appendChunk("nope", "x")).toBeUndefined();
    s.finish({ id: "t-1", text: "", finishReason: "cancelled" });
    expect(s.appendChunk("t-1", "late")).toBeUndefined();
    expect(s.get("t-1")).toMatchObject({ status: "cancelled", content: "", note: "Stopped." });
  });

  it("prefers the final text when it is longer than what streamed", () => {
    const s = new ChatSession("t");
    s.start("q");
    s.appendChunk("t-1", "par");
    s.finish({ id: "t-1", text: "partial and the rest", finishReason: "length" });
    expect(s.get("t-1")).toMatchObject({ content: "partial and the rest", status: "done" });
    expect(s.get("t-1")?.note).toMatch(/length/);
  });

  it("marks errors and leaves failed turns out of the history", () => {
    const s = new ChatSession("t");
    s.start("q1");
    s.finish({ id: "t-1", text: "", finishReason: "error", error: "401 Unauthorized" });
    expect(s.get("t-1")).toMatchObject({ status: "error", note: "Error: 401 Unauthorized" });
    s.start("q2");
    s.fail("t-2", "Stopped.", true);
    expect(s.get("t-2")?.status).toBe("cancelled");
    const third = s.start("q3");
    expect(third?.params.history).toEqual([
      { role: "user", content: "q1" },
      { role: "user", content: "q2" },
    ]);
  });

  it("caps the history", () => {
    const s = new ChatSession("t");
    for (let i = 1; i <= 30; i++) {
      s.start(`q${i}`);
      s.finish({ id: `t-${i}`, text: `a${i}`, finishReason: "stop" });
    }
    expect(s.start("last")?.params.history).toHaveLength(MAX_HISTORY);
  });

  it("finds code blocks by message and index", () => {
    const s = new ChatSession("t");
    s.start("q");
    s.appendChunk("t-1", "x\n```python\nprint(1)\n```\n```\ntwo\n```");
    expect(s.codeBlock("t-1", 0)?.code).toBe("print(1)");
    expect(s.codeBlock("t-1", 1)?.code).toBe("two");
    expect(s.codeBlock("t-1", 2)).toBeUndefined();
    expect(s.codeBlock("zzz", 0)).toBeUndefined();
  });

  it("renders the user's text verbatim and the answer as sanitised markdown", () => {
    const s = new ChatSession("t");
    const t = s.start("<b>**hi**</b>\nline2")!;
    expect(toView(t.user).html).toBe("<p>&lt;b&gt;**hi**&lt;/b&gt;<br>line2</p>");
    s.appendChunk("t-1", "**bold** <script>x</script>");
    expect(toView(s.get("t-1")!).html).toBe("<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>");
  });
});

describe("describeRequestError", () => {
  it("explains a server without chat", () => {
    expect(describeRequestError({ code: -32601, message: "Unhandled method codeloop/chat" })).toMatch(/does not support chat yet/);
    expect(describeRequestError({ code: -32800, message: "cancelled" })).toBe("Stopped.");
    expect(describeRequestError(new Error("boom"))).toBe("Error: boom");
  });
});

describe("parseFromWebview", () => {
  it("accepts well-formed messages only", () => {
    expect(parseFromWebview({ type: "send", text: "hi" })).toEqual({ type: "send", text: "hi" });
    expect(parseFromWebview({ type: "send", text: "  " })).toBeUndefined();
    expect(parseFromWebview({ type: "codeAction", action: "apply", messageId: "m", block: 1 })).toEqual({
      type: "codeAction",
      action: "apply",
      messageId: "m",
      block: 1,
    });
    expect(parseFromWebview({ type: "codeAction", action: "rm -rf", messageId: "m", block: 1 })).toBeUndefined();
    expect(parseFromWebview({ type: "codeAction", action: "copy", messageId: "m", block: -1 })).toBeUndefined();
    expect(parseFromWebview({ type: "codeAction", action: "copy", messageId: "m", block: 1.5 })).toBeUndefined();
    expect(parseFromWebview({ type: "stop", extra: 1 })).toEqual({ type: "stop" });
    expect(parseFromWebview(null)).toBeUndefined();
    expect(parseFromWebview("send")).toBeUndefined();
    expect(parseFromWebview({ type: "eval", code: "x" })).toBeUndefined();
  });
});
