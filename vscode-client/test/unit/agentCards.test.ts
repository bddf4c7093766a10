import { describe, expect, it } from "vitest";
import { ChatSession, proposalCardHtml, toView } from "../../src/common/chatState";
import { parseFromWebview, type Proposal } from "../../src/common/protocol";

const proposal: Proposal = {
  id: "p1",
  uri: "file:///w/calc/ops.py",
  path: "calc/ops.py",
  version: 3,
  diff: "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n-    ...\n+    return <b>sum</b>\n",
  newText: "x",
  created: false,
};

describe("the agent's tool cards and proposals", () => {
  it("shows each tool call as a card that goes from running to done, result escaped and expandable", () => {
    const s = new ChatSession("t");
    s.start("what fails?");
    expect(s.toolEvent({ id: "t-1", callId: "c1", name: "run_tests", arguments: {}, status: "running" })).toBeDefined();
    let html = toView(s.get("t-1")!).html;
    expect(html).toContain('<details class="tool-card running" data-call="c1">');
    expect(html).toContain("running…");
    s.toolEvent({ id: "t-1", callId: "c1", name: "run_tests", arguments: {}, status: "done", result: "tests: 1 <failed>" });
    s.toolEvent({ id: "t-1", callId: "c2", name: "read_file", arguments: { path: ".env" }, status: "failed", result: "error: excluded" });
    html = toView(s.get("t-1")!).html;
    expect(html).toContain('<details class="tool-card done" data-call="c1">');
    expect(html).toContain('<pre class="tool-result">tests: 1 &lt;failed&gt;</pre>');
    expect(html).toContain('<details class="tool-card failed" data-call="c2">');
    expect(html).toContain("{&quot;path&quot;:&quot;.env&quot;}");
    expect(s.get("t-1")?.tools?.map((c) => c.status)).toEqual(["done", "failed"]);
  });

  it("ignores events of unknown chats and malformed ones", () => {
    const s = new ChatSession("t");
    s.start("q");
    expect(s.toolEvent({ id: "nope", callId: "c", name: "x", arguments: {}, status: "running" })).toBeUndefined();
    expect(s.toolEvent({} as never)).toBeUndefined();
    expect(s.addProposal({ id: "t-1", callId: "c", proposal: {} as Proposal })).toBeUndefined();
  });

  it("shows a proposal as a coloured, escaped diff with Apply / Discard until it is settled", () => {
    const s = new ChatSession("t");
    s.start("fix it");
    s.addProposal({ id: "t-1", callId: "c9", proposal });
    s.addProposal({ id: "t-1", callId: "c9", proposal }); // the same one twice: one card
    expect(s.get("t-1")?.proposals).toHaveLength(1);
    const html = toView(s.get("t-1")!).html;
    expect(html).toContain('<button class="proposal-button" data-action="apply" data-proposal="p1">Apply</button>');
    expect(html).toContain('<span class="diff-add">+    return &lt;b&gt;sum&lt;/b&gt;</span>');
    expect(html).toContain('<span class="diff-del">-    ...</span>');
    const card = s.proposal("t-1", "p1")!;
    card.state = "refused";
    card.reason = "the file changed since the proposal was made";
    const refused = proposalCardHtml(card);
    expect(refused).not.toContain("<button");
    expect(refused).toContain("Not applied: the file changed since the proposal was made");
  });

  it("ends a turn stopped by the step limit as done, with a note", () => {
    const s = new ChatSession("t");
    s.start("q");
    s.finish({ id: "t-1", text: "what I found", finishReason: "max_steps" });
    expect(s.get("t-1")).toMatchObject({ status: "done", content: "what I found" });
    expect(s.get("t-1")?.note).toContain("step limit");
  });

  it("accepts only well-formed proposal actions from the webview", () => {
    expect(parseFromWebview({ type: "proposal", action: "apply", messageId: "t-1", proposalId: "p1" })).toEqual({
      type: "proposal",
      action: "apply",
      messageId: "t-1",
      proposalId: "p1",
    });
    expect(parseFromWebview({ type: "proposal", action: "delete", messageId: "t-1", proposalId: "p1" })).toBeUndefined();
    expect(parseFromWebview({ type: "proposal", action: "apply", messageId: "t-1", proposalId: "" })).toBeUndefined();
  });
});
