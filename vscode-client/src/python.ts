/**
 * The Python extension's active interpreter, when that extension is installed (optional: it is
 * not an extensionDependency). Its API is used duck-typed, so no package of it is bundled.
 */
import * as vscode from "vscode";

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(env: { path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

const PYTHON_EXTENSION_ID = "ms-python.python";

async function environmentsApi(): Promise<PythonEnvironmentsApi | undefined> {
  const ext = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (!ext) return undefined;
  try {
    if (!ext.isActive) await ext.activate();
    const api = (ext.exports as { environments?: PythonEnvironmentsApi } | undefined)?.environments;
    return api && typeof api.getActiveEnvironmentPath === "function" ? api : undefined;
  } catch {
    return undefined;
  }
}

/** The executable of the Python extension's active environment for `resource`, if any. */
export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const api = await environmentsApi();
  if (!api) return undefined;
  try {
    const active = api.getActiveEnvironmentPath(resource);
    if (!active) return undefined;
    const env = await api.resolveEnvironment(active);
    return env?.executable?.uri?.fsPath ?? active.path;
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the user picks another interpreter in the Python extension. */
export async function onPythonInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await environmentsApi();
  return api?.onDidChangeActiveEnvironmentPath ? api.onDidChangeActiveEnvironmentPath(() => listener()) : undefined;
}
