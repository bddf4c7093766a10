import { describe, expect, it } from "vitest";
import {
  checkInterpreter,
  checkMessage,
  expandVariables,
  installCommandLine,
  resolveInterpreter,
  serverCommand,
  type RunResult,
} from "../../src/common/interpreter";

const ctx = { workspaceFolder: "/ws", home: "/home/u", env: { VENV: "/opt/venv" } };

describe("resolveInterpreter", () => {
  it("prefers the setting (string)", () => {
    expect(resolveInterpreter("/usr/bin/python3.12", "/ext/python", ctx)).toEqual({ command: ["/usr/bin/python3.12"], source: "setting" });
  });
  it("accepts an array with arguments and expands variables", () => {
    expect(resolveInterpreter(["${env:VENV}/bin/python", "-X", "utf8"], undefined, ctx)).toEqual({
      command: ["/opt/venv/bin/python", "-X", "utf8"],
      source: "setting",
    });
    expect(resolveInterpreter("${workspaceFolder}/.venv/bin/python", undefined, ctx).command).toEqual(["/ws/.venv/bin/python"]);
    expect(resolveInterpreter("~/venv/bin/python", undefined, ctx).command).toEqual(["/home/u/venv/bin/python"]);
  });
  it("falls back to the Python extension, then python3", () => {
    expect(resolveInterpreter([], "/ext/python", ctx)).toEqual({ command: ["/ext/python"], source: "python-extension" });
    expect(resolveInterpreter("", undefined, ctx, "linux")).toEqual({ command: ["python3"], source: "default" });
    expect(resolveInterpreter(["  "], "", ctx, "win32")).toEqual({ command: ["python"], source: "default" });
    expect(resolveInterpreter(42, undefined, ctx, "darwin").source).toBe("default");
  });
  it("leaves unknown variables alone and empties unset env vars", () => {
    expect(expandVariables("${foo}/${env:NOPE}/x", ctx)).toBe("${foo}//x");
  });
});

describe("serverCommand", () => {
  it("runs the module with the interpreter's own arguments first", () => {
    expect(serverCommand({ command: ["py", "-3.12"], source: "setting" }, ["--log-file", "x"])).toEqual({
      command: "py",
      args: ["-3.12", "-m", "codeloop", "serve", "--log-file", "x"],
    });
  });
});

describe("installCommandLine", () => {
  it("quotes paths with spaces for the shell", () => {
    expect(installCommandLine({ command: ["/opt/my py/bin/python"], source: "setting" }, "codeloop", "linux")).toBe(
      "'/opt/my py/bin/python' -m pip install codeloop",
    );
    expect(installCommandLine({ command: ["/v/bin/python"], source: "setting" }, "/src/code loop", "linux")).toBe("/v/bin/python -m pip install '/src/code loop'");
    expect(installCommandLine({ command: ["C:\\Program Files\\Python\\python.exe"], source: "setting" }, "", "win32")).toBe(
      '& "C:\\Program Files\\Python\\python.exe" -m pip install codeloop',
    );
  });
});

describe("checkInterpreter", () => {
  const interp = { command: ["/nope/python"], source: "setting" as const };
  const runner = (r: RunResult) => async () => r;

  it("reports a missing executable", async () => {
    const check = await checkInterpreter(interp, runner({ spawnError: { code: "ENOENT", message: "spawn /nope/python ENOENT" }, exitCode: null, stdout: "", stderr: "" }));
    expect(check.kind).toBe("not-found");
    expect(checkMessage(interp, check)).toMatch(/^codeloop: the Python interpreter \/nope\/python \(from the codeloop.interpreter setting\) was not found\. Set codeloop.interpreter/);
  });
  it("reports codeloop not installed", async () => {
    const check = await checkInterpreter(
      { command: ["/usr/bin/python3"], source: "default" },
      runner({ exitCode: 1, stdout: "", stderr: "Traceback...\nModuleNotFoundError: No module named 'codeloop'\n" }),
    );
    expect(check).toEqual({ kind: "not-installed", detail: "ModuleNotFoundError: No module named 'codeloop'" });
    expect(checkMessage({ command: ["/usr/bin/python3"], source: "default" }, check)).toBe("codeloop is not installed for /usr/bin/python3.");
  });
  it("passes with the version", async () => {
    let seen: string[] = [];
    const check = await checkInterpreter({ command: ["py", "-3"], source: "setting" }, async (cmd, args) => {
      seen = [cmd, ...args];
      return { exitCode: 0, stdout: "0.1.0", stderr: "" };
    });
    expect(check).toEqual({ kind: "ok", version: "0.1.0" });
    expect(seen.slice(0, 3)).toEqual(["py", "-3", "-c"]);
    expect(checkMessage(interp, check)).toBeUndefined();
  });
});
