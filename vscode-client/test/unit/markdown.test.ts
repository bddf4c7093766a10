import { describe, expect, it } from "vitest";
import { escapeHtml, extractCodeBlocks, renderInline, renderMarkdown, safeUrl } from "../../src/common/markdown";

/** Every tag the renderer may emit, with the attributes each may carry. */
const ALLOWED: Record<string, string[]> = {
  p: [], h3: [], h4: [], h5: [], h6: [], ul: [], ol: ["start"], li: [], blockquote: [], hr: [],
  pre: [], code: ["class"], strong: [], em: [], del: [], br: [],
  a: ["href", "title"], div: ["class", "data-block"], span: ["class"],
  button: ["type", "class", "data-action", "data-block", "title"],
};

/** Asserts the HTML contains only allowed tags and attributes, every attribute double-quoted. */
function assertSafe(html: string): void {
  const tagRe = /<(\/?)([A-Za-z][A-Za-z0-9]*)([^>]*)>/g;
  let m: RegExpExecArray | null;
  // No stray "<" that is not one of our tags.
  const withoutTags = html.replace(tagRe, "");
  expect(withoutTags).not.toMatch(/[<>]/);
  while ((m = tagRe.exec(html))) {
    const [, closing, name, rest] = m;
    expect(Object.keys(ALLOWED), `tag <${name}> in ${html}`).toContain(name.toLowerCase());
    if (closing) {
      expect(rest.trim()).toBe("");
      continue;
    }
    const attrs = rest.trim();
    const attrRe = /([a-z-]+)="([^"]*)"\s*/gy;
    let consumed = 0;
    let a: RegExpExecArray | null;
    while ((a = attrRe.exec(attrs))) {
      expect(ALLOWED[name.toLowerCase()], `attribute ${a[1]} on <${name}>`).toContain(a[1]);
      if (a[1] === "href") expect(a[2]).toMatch(/^https?:\/\//);
      consumed = attrRe.lastIndex;
    }
    expect(attrs.slice(consumed), `unparsed attribute text in <${name}${rest}>`).toBe("");
  }
}

describe("escapeHtml", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  });
});

describe("safeUrl", () => {
  it("accepts http and https", () => {
    expect(safeUrl("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeUrl("HTTP://example.com")).toBe("http://example.com/");
  });
  it.each([
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\u0000script:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "command:workbench.action.terminal.new",
    "vscode://file/etc/passwd",
    "//evil.example.com",
    "/relative",
    "https://exa mple.com",
    "",
  ])("rejects %j", (url) => {
    expect(safeUrl(url)).toBeUndefined();
  });
});

describe("renderMarkdown: hostile input", () => {
  const hostile = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](command:workbench.action.terminal.new)",
    '[x](https://a.example/" onmouseover="alert(1))',
    "[x](https://a.example/\"onmouseover=alert(1)//)",
    '[<img src=x onerror=alert(1)>](https://ok.example)',
    "**<b onmouseover=alert(1)>bold</b>**",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\ncode\n```',
    "```python onload=alert(1)\nx = 1\n```",
    "- <svg onload=alert(1)>\n- item",
    "> <iframe src=javascript:alert(1)>",
    "# <style>body{display:none}</style>",
    "1. <math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "https://ok.example/<script>",
    "https://ok.example/\"onmouseover=\"x",
    "\u0000<script>\u0000",
    "&lt;script&gt; &amp; &#x3C;script&#x3E;",
    "<!-- comment --><![CDATA[x]]>",
    "*_**__~~`[(<>)]`~~__**_*",
    "[a](https://x.example)[b](javascript:y)",
  ];
  it.each(hostile)("renders %j without active content", (input) => {
    const { html } = renderMarkdown(input);
    assertSafe(html);
    // Text such as "onerror=" may remain, escaped, as visible text; assertSafe checks that no tag carries it.
    expect(html).not.toMatch(/<(script|img|svg|iframe|style|math)/i);
  });

  it("shows raw HTML as text", () => {
    expect(renderMarkdown("<script>alert(1)</script>").html).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
  });

  it("drops the link but keeps the text for unsafe URLs", () => {
    expect(renderMarkdown("[click](javascript:alert(1))").html).toBe("<p>click</p>");
  });

  it("keeps entities as literal text (no double meaning)", () => {
    expect(renderMarkdown("&lt;b&gt;").html).toBe("<p>&amp;lt;b&amp;gt;</p>");
  });

  it("survives random mixes of markdown and HTML punctuation", () => {
    const alphabet = ["<", ">", '"', "'", "`", "*", "_", "[", "]", "(", ")", "\n", " ", "#", "-", "1.", "~", "\\", "javascript:", "https://a.example", "onerror=", "&", "```", "> "];
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 500; n++) {
      let s = "";
      const len = 1 + Math.floor(rand() * 40);
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
      assertSafe(renderMarkdown(s).html);
    }
  });
});

describe("renderMarkdown: the supported subset", () => {
  it("renders paragraphs, emphasis, inline code and links", () => {
    const { html } = renderMarkdown("Use **bold**, *it*, _it2_, ~~old~~ and `x < y` with [docs](https://docs.example/a).\n\nNext");
    expect(html).toBe(
      '<p>Use <strong>bold</strong>, <em>it</em>, <em>it2</em>, <del>old</del> and <code>x &lt; y</code> with <a href="https://docs.example/a" title="https://docs.example/a">docs</a>.</p><p>Next</p>',
    );
  });

  it("does not treat snake_case as emphasis", () => {
    expect(renderInline("call my_func_name and __init__")).toBe("call my_func_name and <strong>init</strong>");
  });

  it("renders fenced code with a sanitised language and the toolbar", () => {
    const { html, codeBlocks } = renderMarkdown("Here:\n```python\ndef f():\n    return 1 < 2\n```\nDone");
    expect(codeBlocks).toEqual([{ lang: "python", code: "def f():\n    return 1 < 2", closed: true }]);
    expect(html).toContain('<pre><code class="language-python">def f():\n    return 1 &lt; 2</code></pre>');
    expect(html).toContain('data-action="copy" data-block="0"');
    expect(html).toContain('data-action="apply" data-block="0"');
    expect(html.endsWith("<p>Done</p>")).toBe(true);
  });

  it("renders an unterminated fence while streaming", () => {
    const { html, codeBlocks } = renderMarkdown("```py\nx = 1\n");
    expect(codeBlocks).toEqual([{ lang: "py", code: "x = 1\n", closed: false }]);
    expect(html).toContain('class="code-block streaming"');
  });

  it("numbers code blocks in order, including nested ones", () => {
    const blocks = extractCodeBlocks("```\na\n```\n- item\n\n  ```\n  b\n  ```\n> ```\n> c\n> ```");
    expect(blocks.map((b) => b.code)).toEqual(["a", "b", "c"]);
  });

  it("renders lists, nested lists, numbered lists with a start", () => {
    expect(renderMarkdown("- a\n- b\n  - c\n- d").html).toBe("<ul><li>a</li><li>b<ul><li>c</li></ul></li><li>d</li></ul>");
    expect(renderMarkdown("3. x\n4. y").html).toBe('<ol start="3"><li>x</li><li>y</li></ol>');
  });

  it("renders headings, quotes and rules", () => {
    expect(renderMarkdown("# Title\n> quoted *text*\n\n---").html).toBe("<h3>Title</h3><blockquote><p>quoted <em>text</em></p></blockquote><hr>");
  });

  it("honours backslash escapes", () => {
    expect(renderInline("\\*not em\\* and \\`tick\\`")).toBe("*not em* and `tick`");
  });

  it("links bare https URLs", () => {
    expect(renderInline("see https://x.example/a.")).toBe('see <a href="https://x.example/a" title="https://x.example/a">https://x.example/a</a>.');
  });
});
