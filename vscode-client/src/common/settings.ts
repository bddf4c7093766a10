/**
 * The `codeloop` settings section, resolved in one place, and its mapping to the server's
 * `initializationOptions`. Pure: the caller passes a getter over the VS Code configuration.
 */

export const SECTION = "codeloop";

export interface ServerSettings {
  model: {
    baseUrl: string;
    name: string;
    chatModel: string;
    completionModel: string;
    apiKeyEnv: string;
    temperature: number;
    candidates: number;
    timeout: number;
  };
  sandbox: { timeout: number; memoryMib: number; allowLevels: string[] };
  tests: { runOnSave: boolean };
  generate: { budget: number; engine: string };
  inlineCompletion: { enabled: boolean; verify: boolean };
  learn: { enabled: boolean };
  logLevel: string;
}

export interface ClientSettings {
  interpreter: string[] | string;
  serverArgs: string[];
  installSource: string;
}

/** Defaults; they match package.json's `contributes.configuration` (a unit test checks that). */
export const DEFAULTS: ServerSettings & ClientSettings = {
  model: {
    baseUrl: "",
    name: "",
    chatModel: "",
    completionModel: "",
    apiKeyEnv: "OPENAI_API_KEY",
    temperature: 0.2,
    candidates: 4,
    timeout: 60,
  },
  sandbox: { timeout: 30, memoryMib: 2048, allowLevels: ["A"] },
  tests: { runOnSave: false },
  generate: { budget: 20, engine: "auto" },
  inlineCompletion: { enabled: true, verify: true },
  learn: { enabled: true },
  logLevel: "info",
  interpreter: [],
  serverArgs: [],
  installSource: "codeloop",
};

/** Dotted keys (below `codeloop.`) and their defaults, flattened. */
export function flatDefaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else out[`${prefix}${k}`] = v;
    }
  };
  walk(DEFAULTS as unknown as Record<string, unknown>, "");
  return out;
}

export type Getter = (key: string) => unknown;

function pick<T>(get: Getter, key: string, fallback: T, valid: (v: unknown) => boolean): T {
  const v = get(key);
  return v !== undefined && valid(v) ? (v as T) : fallback;
}

const isString = (v: unknown) => typeof v === "string";
const isBool = (v: unknown) => typeof v === "boolean";
const isNumber = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const isStringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Reads every setting, replacing missing or mistyped values by the defaults. */
export function readSettings(get: Getter): ServerSettings & ClientSettings {
  const d = DEFAULTS;
  return {
    model: {
      baseUrl: pick(get, "model.baseUrl", d.model.baseUrl, isString),
      name: pick(get, "model.name", d.model.name, isString),
      chatModel: pick(get, "model.chatModel", d.model.chatModel, isString),
      completionModel: pick(get, "model.completionModel", d.model.completionModel, isString),
      apiKeyEnv: pick(get, "model.apiKeyEnv", d.model.apiKeyEnv, isString),
      temperature: pick(get, "model.temperature", d.model.temperature, isNumber),
      candidates: pick(get, "model.candidates", d.model.candidates, isNumber),
      timeout: pick(get, "model.timeout", d.model.timeout, isNumber),
    },
    sandbox: {
      timeout: pick(get, "sandbox.timeout", d.sandbox.timeout, isNumber),
      memoryMib: pick(get, "sandbox.memoryMib", d.sandbox.memoryMib, isNumber),
      allowLevels: pick(get, "sandbox.allowLevels", d.sandbox.allowLevels, isStringArray),
    },
    tests: { runOnSave: pick(get, "tests.runOnSave", d.tests.runOnSave, isBool) },
    generate: {
      budget: pick(get, "generate.budget", d.generate.budget, isNumber),
      engine: pick(get, "generate.engine", d.generate.engine, isString),
    },
    inlineCompletion: {
      enabled: pick(get, "inlineCompletion.enabled", d.inlineCompletion.enabled, isBool),
      verify: pick(get, "inlineCompletion.verify", d.inlineCompletion.verify, isBool),
    },
    learn: { enabled: pick(get, "learn.enabled", d.learn.enabled, isBool) },
    logLevel: pick(get, "logLevel", d.logLevel, isString),
    interpreter: pick(get, "interpreter", d.interpreter, (v) => isString(v) || isStringArray(v)),
    serverArgs: pick(get, "serverArgs", d.serverArgs, isStringArray),
    installSource: pick(get, "installSource", d.installSource, isString),
  };
}

/**
 * `initializationOptions` for the server: the whole `codeloop` section (camelCase, nested as in
 * settings.json) plus `apiKey` when one is stored in secret storage. The key travels only in this
 * message; callers must never log the result.
 */
export function initializationOptions(settings: ServerSettings & ClientSettings, apiKey?: string): Record<string, unknown> {
  const options: Record<string, unknown> = JSON.parse(JSON.stringify(settings));
  if (apiKey && apiKey.trim() !== "") options.apiKey = apiKey.trim();
  return options;
}

/** The same options with secrets masked, for logging. */
export function redacted(options: Record<string, unknown>): Record<string, unknown> {
  return "apiKey" in options ? { ...options, apiKey: "<redacted>" } : options;
}

/**
 * Settings whose change restarts the server: the ones that decide how it is started. Every
 * other setting reaches the running server without a restart (the client sends
 * workspace/didChangeConfiguration; the server pulls the section again and applies it).
 */
export const RESTART_SETTINGS: readonly string[] = ["interpreter", "serverArgs"];

export function restartNeeded(affects: (section: string) => boolean): boolean {
  return RESTART_SETTINGS.some((key) => affects(`${SECTION}.${key}`));
}
