/**
 * Which Python runs the server, and how to tell the user when it cannot.
 * Pure logic: the caller supplies the setting, the Python extension's answer and a process runner.
 */

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface Interpreter {
  /** The executable and its leading arguments, e.g. ["/venv/bin/python"] or ["py", "-3.12"]. */
  command: string[];
  source: InterpreterSource;
}

export interface ExpandContext {
  workspaceFolder?: string;
  home?: string;
  env: Record<string, string | undefined>;
}

/** Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~`. */
export function expandVariables(value: string, ctx: ExpandContext): string {
  let out = value.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
    if (envName) return ctx.env[envName] ?? "";
    if (name === "workspaceFolder") return ctx.workspaceFolder ?? whole;
    if (name === "userHome") return ctx.home ?? whole;
    return whole;
  });
  if (ctx.home && (out === "~" || out.startsWith("~/"))) out = ctx.home + out.slice(1);
  return out;
}

/** Normalises the `codeloop.interpreter` setting (string or array) to a command, or [] when unset. */
export function interpreterFromSetting(value: unknown, ctx: ExpandContext): string[] {
  let parts: string[];
  if (typeof value === "string") parts = [value];
  else if (Array.isArray(value)) parts = value.filter((v): v is string => typeof v === "string");
  else parts = [];
  parts = parts.map((p) => expandVariables(p.trim(), ctx)).filter((p) => p !== "");
  return parts;
}

/**
 * The interpreter, in order: the `codeloop.interpreter` setting, the Python extension's active
 * environment, then `python3` (`python` on Windows).
 */
export function resolveInterpreter(
  setting: unknown,
  pythonExtensionPath: string | undefined,
  ctx: ExpandContext,
  platform: string = process.platform,
): Interpreter {
  const fromSetting = interpreterFromSetting(setting, ctx);
  if (fromSetting.length > 0) return { command: fromSetting, source: "setting" };
  if (pythonExtensionPath && pythonExtensionPath.trim() !== "") {
    return { command: [pythonExtensionPath.trim()], source: "python-extension" };
  }
  return { command: [platform === "win32" ? "python" : "python3"], source: "default" };
}

/** The server's command line: `<python> -m codeloop serve [serverArgs...]`. */
export function serverCommand(interpreter: Interpreter, serverArgs: readonly string[] = []): { command: string; args: string[] } {
  const [command, ...rest] = interpreter.command;
  return { command, args: [...rest, "-m", "codeloop", "serve", ...serverArgs] };
}

/** Shell-quotes one argument for the install command shown in a terminal. */
export function shellQuote(arg: string, platform: string = process.platform): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (platform === "win32") return `"${arg.replace(/"/g, '""')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line the "Install codeloop" button runs in a terminal. */
export function installCommandLine(interpreter: Interpreter, source: string, platform: string = process.platform): string {
  const pkg = source.trim() === "" ? "codeloop" : source.trim();
  const parts = [...interpreter.command, "-m", "pip", "install", pkg];
  const quoted = parts.map((p) => shellQuote(p, platform));
  // PowerShell needs the call operator to run a quoted executable path.
  if (platform === "win32" && quoted[0].startsWith('"')) quoted[0] = `& ${quoted[0]}`;
  return quoted.join(" ");
}

/** Outcome of running `<python> -c "import codeloop"`. */
export type InterpreterCheck =
  | { kind: "ok"; version?: string }
  | { kind: "not-found"; detail: string }
  | { kind: "not-installed"; detail: string };

export interface RunResult {
  /** Set when the process could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: { code?: string; message: string };
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export type Runner = (command: string, args: string[]) => Promise<RunResult>;

export const IMPORT_CHECK_SCRIPT = "import codeloop, sys; sys.stdout.write(getattr(codeloop, '__version__', '?'))";

/** Checks that the interpreter runs and can import codeloop. */
export async function checkInterpreter(interpreter: Interpreter, run: Runner): Promise<InterpreterCheck> {
  const [command, ...rest] = interpreter.command;
  const result = await run(command, [...rest, "-c", IMPORT_CHECK_SCRIPT]);
  if (result.spawnError) {
    return { kind: "not-found", detail: result.spawnError.code ? `${result.spawnError.code}: ${result.spawnError.message}` : result.spawnError.message };
  }
  if (result.exitCode === 0) return { kind: "ok", version: result.stdout.trim() || undefined };
  const stderr = result.stderr.trim();
  if (/ModuleNotFoundError|No module named/.test(stderr)) {
    return { kind: "not-installed", detail: lastLine(stderr) };
  }
  if (result.exitCode === 126 || result.exitCode === 127) {
    return { kind: "not-found", detail: lastLine(stderr) || `exit code ${result.exitCode}` };
  }
  return { kind: "not-installed", detail: lastLine(stderr) || `exit code ${result.exitCode}` };
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  return lines.length > 0 ? lines[lines.length - 1].trim() : "";
}

/** The one message shown for a failed check (the UI adds the buttons). */
export function checkMessage(interpreter: Interpreter, check: InterpreterCheck): string | undefined {
  const python = interpreter.command.join(" ");
  const where =
    interpreter.source === "setting"
      ? " (from the codeloop.interpreter setting)"
      : interpreter.source === "python-extension"
        ? " (the Python extension's active interpreter)"
        : "";
  switch (check.kind) {
    case "ok":
      return undefined;
    case "not-found": {
      const why = /ENOENT/.test(check.detail) ? "was not found" : /EACCES/.test(check.detail) ? "is not executable" : `cannot run (${check.detail})`;
      return `codeloop: the Python interpreter ${python}${where} ${why}. Set codeloop.interpreter to a Python 3.10+ interpreter.`;
    }
    case "not-installed":
      return `codeloop is not installed for ${python}${where}.`;
  }
}
