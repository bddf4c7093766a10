// The fake OpenAI-compatible model: the repository's tests/support/fake_model_rules.py (the Python
// suite's tests/support/fake_openai.py answering by rules, recording the model name of every
// request), or, when it is absent, a minimal streaming stand-in (chat only).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** Starts the fake; resolves to {baseUrl, stop(), scripted, ruled, requests()}. `conversation` (a JSON
 * file path: {trigger, replies}) scripts an agent conversation with tool calls; `rules` (a JSON file
 * path: [{kind, match, texts}]) answers requests by what they ask; `record` (a file path) receives one
 * JSON line per request, read back by requests() (the Python fake only). */
export async function startFakeModel({ python, repoDir, reply, chunkDelay = 0.05, conversation, rules, record }) {
  const ruled = join(repoDir, "tests", "support", "fake_model_rules.py");
  const plain = join(repoDir, "tests", "support", "fake_openai.py");
  if (existsSync(ruled)) return startPythonFake(python, ruled, reply, chunkDelay, conversation, { rules, record });
  if (existsSync(plain)) return startPythonFake(python, plain, reply, chunkDelay, conversation, {});
  return startNodeFake(reply, chunkDelay);
}

function startPythonFake(python, script, reply, chunkDelay, conversation, { rules, record }) {
  return new Promise((resolve, reject) => {
    const extra = conversation ? ["--script", conversation] : [];
    if (rules) extra.push("--rules", rules);
    if (record) extra.push("--record", record);
    const proc = spawn(python, [script, "--port", "0", "--reply", reply, "--chunk-delay", String(chunkDelay), ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr += d));
    proc.on("error", reject);
    proc.on("exit", (code) => reject(new Error(`fake_openai.py exited (${code}): ${stderr}`)));
    const lines = createInterface({ input: proc.stdout });
    lines.once("line", (line) => {
      const port = Number(line.trim());
      if (!Number.isInteger(port) || port <= 0) reject(new Error(`fake_openai.py printed ${JSON.stringify(line)}`));
      resolve({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        source: script,
        scripted: Boolean(conversation),
        ruled: Boolean(rules) && script.endsWith("fake_model_rules.py"),
        /** The requests so far: [{kind, model, rule}]. */
        requests: () => (record && existsSync(record) ? readFileSync(record, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []),
        stop: () => proc.kill("SIGTERM"),
      });
    });
  });
}

function startNodeFake(reply, chunkDelay) {
  const words = reply.match(/\S+\s*|\s+/g) ?? [reply];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      if (req.method === "GET" && req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake", object: "model", owned_by: "test" }] }));
        return;
      }
      let json = {};
      try {
        json = JSON.parse(body || "{}");
      } catch {
        // answer anyway
      }
      const base = { id: "chatcmpl-fake", object: "chat.completion", created: Math.floor(Date.now() / 1000), model: json.model ?? "fake" };
      if (!json.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ...base, choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }] }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
      send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
      for (const w of words) {
        send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: w }, finish_reason: null }] });
        await new Promise((r) => setTimeout(r, chunkDelay * 1000));
      }
      send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
      res.end("data: [DONE]\n\n");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ baseUrl: `http://127.0.0.1:${port}/v1`, source: "node stand-in", ruled: false, requests: () => [], stop: () => server.close() });
    });
  });
}
