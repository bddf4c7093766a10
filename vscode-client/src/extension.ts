/**
 * codeloop for VS Code: starts the codeloop language server and adds the chat panel.
 * Everything else (code actions, inline completions, diagnostics, progress, the server's
 * commands) comes from the server through vscode-languageclient.
 */
import * as vscode from "vscode";
import { ChatViewProvider, registerChatView } from "./chatView";
import { CHAT_VIEW_ID, ClientCommands, SECRET_API_KEY } from "./common/protocol";
import { restartNeeded } from "./common/settings";
import { onPythonInterpreterChanged } from "./python";
import { ServerManager } from "./server";

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("codeloop", { log: true });
  const server = new ServerManager(context, log);
  manager = server;
  context.subscriptions.push(log);

  registerChatView(context, new ChatViewProvider(context.extensionUri, server, log), CHAT_VIEW_ID);

  let debounce: NodeJS.Timeout | undefined;
  const restartSoon = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void server.restart(), 500);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(ClientCommands.restart, () => server.restart()),
    vscode.commands.registerCommand(ClientCommands.showLogs, () => log.show()),
    vscode.commands.registerCommand(ClientCommands.openChat, () => vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`)),
    vscode.commands.registerCommand(ClientCommands.setApiKey, async () => {
      const key = await vscode.window.showInputBox({
        title: "codeloop: API key",
        prompt: "The key of your OpenAI-compatible endpoint. Kept in VS Code's secret storage and passed to the server at start-up; never written to settings.",
        password: true,
        ignoreFocusOut: true,
      });
      if (key === undefined || key.trim() === "") return;
      await context.secrets.store(SECRET_API_KEY, key.trim());
      void vscode.window.showInformationMessage("codeloop: API key stored; restarting the server.");
      await server.restart();
    }),
    vscode.commands.registerCommand(ClientCommands.clearApiKey, async () => {
      await context.secrets.delete(SECRET_API_KEY);
      void vscode.window.showInformationMessage("codeloop: API key removed; restarting the server.");
      await server.restart();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (restartNeeded((section) => e.affectsConfiguration(section))) restartSoon();
    }),
    { dispose: () => debounce && clearTimeout(debounce) },
  );

  const pythonWatch = await onPythonInterpreterChanged(() => {
    const setting = vscode.workspace.getConfiguration("codeloop").get<unknown>("interpreter");
    const unset = setting === undefined || setting === "" || (Array.isArray(setting) && setting.length === 0);
    if (unset) restartSoon();
  });
  if (pythonWatch) context.subscriptions.push(pythonWatch);

  void server.restart();
}

export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}
