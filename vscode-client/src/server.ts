/**
 * Starts, restarts and stops the codeloop language server (`<python> -m codeloop serve`), one
 * restart at a time, and keeps the status bar item and the `codeloop.serverRunning` context key
 * up to date.
 */
import { execFile } from "node:child_process";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CancellationToken,
  LanguageClient,
  ResponseError,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import {
  checkInterpreter,
  checkMessage,
  installCommandLine,
  resolveInterpreter,
  serverCommand,
  type Interpreter,
  type Runner,
} from "./common/interpreter";
import { ClientCommands, EDITOR_POSITION_COMMANDS, Methods, SECRET_API_KEY, SERVER_RUNNING_CONTEXT, type EditorPositionArgs, type ServerStatus } from "./common/protocol";
import { INLINE_ACCEPTED_COMMAND, parseVerdict } from "./common/inlineVerdict";
import { SerialRunner } from "./common/serial";
import { initializationOptions, readSettings, redacted, SECTION } from "./common/settings";
import { parseStatus, statusView, type ClientState } from "./common/status";
import { filesToSave, type LspWorkspaceEdit } from "./common/workspaceEdit";
import { InlineNote } from "./inlineNote";
import { ProgressRouter } from "./progress";
import { pythonExtensionInterpreter } from "./python";

const CHECK_TIMEOUT_MS = 30_000;

/** Runs a process without a shell and collects its output (for the interpreter check). */
export const nodeRunner: Runner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: CHECK_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (err && typeof err.code === "string") {
        resolve({ spawnError: { code: err.code, message: err.message }, exitCode: null, stdout: String(stdout), stderr: String(stderr) });
        return;
      }
      resolve({ exitCode: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private state: ClientState = "stopped";
  private serverStatus: ServerStatus | undefined;
  private interpreter: Interpreter | undefined;
  private readonly restarts = new SerialRunner(() => this.doRestart());
  private readonly statusItem: vscode.StatusBarItem;
  private readonly inlineNote = new InlineNote();
  private readonly progress = new ProgressRouter(() => this.client);
  private readonly readyListeners: ((client: LanguageClient) => void)[] = [];
  private disposed = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusItem = vscode.window.createStatusBarItem("codeloop.status", vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = "codeloop";
    this.statusItem.command = ClientCommands.showLogs;
    this.render();
    this.statusItem.show();
  }

  /** The running client, if any. */
  get running(): LanguageClient | undefined {
    return this.client && this.client.state === State.Running ? this.client : undefined;
  }

  /** Calls `listener` with every client once it has started (now, if one is running). */
  onClientReady(listener: (client: LanguageClient) => void): void {
    this.readyListeners.push(listener);
    if (this.running) listener(this.running);
  }

  restart(): Promise<void> {
    return this.restarts.run();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stopClient();
    this.statusItem.dispose();
    this.inlineNote.dispose();
    this.progress.dispose();
  }

  private setState(state: ClientState): void {
    this.state = state;
    if (state !== "running") this.serverStatus = undefined;
    void vscode.commands.executeCommand("setContext", SERVER_RUNNING_CONTEXT, state === "running");
    this.render();
  }

  private render(): void {
    const view = statusView(this.state, this.serverStatus, this.interpreter?.command.join(" "));
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.progress.clear();
    this.inlineNote.hide();
    if (!client) return;
    try {
      await client.stop(5_000);
    } catch (err) {
      this.log.warn(`codeloop: stopping the server: ${String(err)}`);
    }
    try {
      await client.dispose();
    } catch {
      // Already stopped.
    }
  }

  private workspaceFolder(): vscode.WorkspaceFolder | undefined {
    const active = vscode.window.activeTextEditor?.document.uri;
    return (active && vscode.workspace.getWorkspaceFolder(active)) || vscode.workspace.workspaceFolders?.[0];
  }

  private async doRestart(): Promise<void> {
    await this.stopClient();
    if (this.disposed) return;
    this.setState("starting");
    const folder = this.workspaceFolder();
    const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
    const settings = readSettings((key) => config.get(key));
    const fromPythonExtension = await pythonExtensionInterpreter(folder?.uri);
    const interpreter = resolveInterpreter(settings.interpreter, fromPythonExtension, {
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
      env: process.env,
    });
    this.interpreter = interpreter;
    this.log.info(`Python: ${interpreter.command.join(" ")} (${interpreter.source})`);

    const check = await checkInterpreter(interpreter, nodeRunner);
    if (check.kind !== "ok") {
      this.setState(check.kind === "not-found" ? "no-interpreter" : "not-installed");
      const message = checkMessage(interpreter, check) as string;
      this.log.error(`${message} ${check.detail}`);
      void this.showCheckFailure(message, interpreter, check.kind === "not-installed", settings.installSource);
      return;
    }
    this.log.info(`codeloop ${check.version ?? ""} found for ${interpreter.command.join(" ")}`);

    const apiKey = await this.context.secrets.get(SECRET_API_KEY);
    const options = initializationOptions(settings, apiKey);
    this.log.debug(`initializationOptions: ${JSON.stringify(redacted(options))}`);
    const { command, args } = serverCommand(interpreter, settings.serverArgs);
    this.log.info(`Starting: ${[command, ...args].join(" ")}`);

    const serverOptions: ServerOptions = {
      command,
      args,
      options: { cwd: folder?.uri.fsPath, env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
      ],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: options,
      synchronize: { configurationSection: SECTION },
      middleware: {
        executeCommand: async (cmd, cmdArgs, next) => {
          if (cmd === INLINE_ACCEPTED_COMMAND) this.inlineNote.onAccepted(cmdArgs);
          try {
            // Implement / Generate Tests / Run Tests: their progress shows as a notification with Cancel.
            return await this.progress.around(cmd, async () => next(cmd, withEditorPosition(cmd, cmdArgs)));
          } catch (err) {
            // A failed command is reported as a notification, not as VS Code's modal
            // "Command resulted in an error" dialog (the server explains the failure itself).
            const message = errorText(err);
            this.log.warn(`${cmd}: ${message}`);
            void vscode.window.showWarningMessage(message.startsWith("codeloop") ? message : `codeloop: ${message}`);
            return undefined;
          }
        },
        workspace: {
          // Files the edit changes that were not open (generated tests merged into a test file,
          // a new test file) are saved, so the tests exist on disk and not only in a hidden buffer.
          handleApplyEdit: async (params, next) => {
            const openBefore = shownOrDirty();
            const result = await next(params, CancellationToken.None);
            if (result instanceof ResponseError || !result?.applied) return result;
            const autoSave = vscode.workspace.getConfiguration("files").get<boolean>("refactoring.autoSave", true);
            if (autoSave) await this.saveFiles(filesToSave(params.edit as LspWorkspaceEdit, openBefore, uriKey));
            return result;
          },
        },
        provideInlineCompletionItems: async (document, position, ctx, token, next) => {
          const enabled = vscode.workspace.getConfiguration(SECTION, document.uri).get<boolean>("inlineCompletion.enabled", true);
          if (!enabled) return undefined;
          const result = await next(document, position, ctx, token);
          if (!token.isCancellationRequested) {
            const items = !result ? [] : Array.isArray(result) ? result : result.items;
            this.inlineNote.onItems(document, position, items);
          }
          return result;
        },
        handleWorkDoneProgress: (token, params, next) => this.progress.handle(token, params, next),
      },
    };
    const client = new LanguageClient("codeloop", "codeloop", serverOptions, clientOptions);
    client.onNotification(Methods.status, (raw: unknown) => {
      const status = parseStatus(raw);
      if (status && client === this.client) {
        this.serverStatus = status;
        this.render();
      }
    });
    client.onNotification(Methods.inlineVerified, (raw: unknown) => {
      const verdict = parseVerdict(raw);
      if (verdict && client === this.client) this.inlineNote.onVerdict(verdict);
    });
    client.onDidChangeState((e) => {
      if (client !== this.client) return;
      if (e.newState === State.Running) this.setState("running");
      else if (e.newState === State.Stopped) this.setState("stopped");
    });
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      if (client !== this.client) return;
      this.setState("error");
      const message = `codeloop: the server failed to start with ${interpreter.command.join(" ")}: ${errorText(err)}`;
      this.log.error(message);
      void vscode.window.showErrorMessage(message, "Show Logs").then((pick) => {
        if (pick === "Show Logs") this.log.show();
      });
      return;
    }
    this.setState("running");
    for (const listener of this.readyListeners) {
      try {
        listener(client);
      } catch (err) {
        this.log.error(`codeloop: ${String(err)}`);
      }
    }
  }

  private async saveFiles(uris: string[]): Promise<void> {
    for (const uri of uris) {
      const key = uriKey(uri);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
      if (!doc || !doc.isDirty) continue;
      try {
        if (!(await doc.save())) this.log.warn(`codeloop: could not save ${doc.uri.fsPath} after the server's edit`);
      } catch (err) {
        this.log.warn(`codeloop: saving ${doc.uri.fsPath}: ${errorText(err)}`);
      }
    }
  }

  private async showCheckFailure(message: string, interpreter: Interpreter, offerInstall: boolean, installSource: string): Promise<void> {
    const actions = offerInstall ? ["Install codeloop", "Open Settings", "Show Logs"] : ["Open Settings", "Show Logs"];
    const pick = await vscode.window.showErrorMessage(message, ...actions);
    if (pick === "Install codeloop") {
      const terminal = vscode.window.createTerminal({ name: "Install codeloop" });
      terminal.show();
      terminal.sendText(installCommandLine(interpreter, installSource));
      const next = await vscode.window.showInformationMessage(
        "codeloop: installing in the terminal. Restart the server when the install has finished.",
        "Restart Server",
      );
      if (next === "Restart Server") void this.restart();
    } else if (pick === "Open Settings") {
      void vscode.commands.executeCommand("workbench.action.openSettings", "codeloop.interpreter");
    } else if (pick === "Show Logs") {
      this.log.show();
    }
  }
}

/** Implement / Generate Tests / Run Tests from the palette or a keybinding act on the cursor. */
function withEditorPosition(command: string, args: unknown[]): unknown[] {
  if (!EDITOR_POSITION_COMMANDS.includes(command) || args.length > 0) return args;
  const editor = vscode.window.activeTextEditor;
  if (!editor) return args;
  const position: EditorPositionArgs = {
    uri: editor.document.uri.toString(),
    line: editor.selection.active.line,
    version: editor.document.version,
  };
  return [position];
}

/**
 * Documents the user has in front of them: in an editor tab, or with unsaved changes. A server
 * edit to any other file (closed, or loaded in the background by some extension) is saved.
 */
function shownOrDirty(): Set<string> {
  const out = new Set<string>();
  for (const doc of vscode.workspace.textDocuments) if (doc.isDirty) out.add(doc.uri.toString());
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      const input = tab.input;
      if (input instanceof vscode.TabInputText) out.add(input.uri.toString());
      else if (input instanceof vscode.TabInputTextDiff) out.add(input.modified.toString());
    }
  }
  return out;
}

/** A URI as VS Code spells it (servers percent-encode differently). */
function uriKey(uri: string): string {
  try {
    return vscode.Uri.parse(uri, true).toString();
  } catch {
    return uri;
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
