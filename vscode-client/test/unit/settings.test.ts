import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS, flatDefaults, initializationOptions, readSettings, redacted, restartNeeded } from "../../src/common/settings";

const manifest = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8"));
const properties: Record<string, { default: unknown; description?: string; markdownDescription?: string }> =
  manifest.contributes.configuration.properties;

describe("settings", () => {
  it("has the same keys and defaults as package.json, each with a description", () => {
    const fromManifest = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k.replace(/^codeloop\./, ""), v.default]));
    expect(fromManifest).toEqual(flatDefaults());
    for (const [key, prop] of Object.entries(properties)) {
      expect(prop.description ?? prop.markdownDescription, key).toBeTruthy();
    }
  });

  it("reads values and replaces mistyped ones by defaults", () => {
    const values: Record<string, unknown> = {
      "model.baseUrl": "http://127.0.0.1:9/v1",
      "model.candidates": "many",
      "sandbox.allowLevels": ["A", "C"],
      "tests.runOnSave": true,
      "sandbox.memoryMib": Number.NaN,
      interpreter: ["/v/bin/python", 3],
    };
    const s = readSettings((k) => values[k]);
    expect(s.model.baseUrl).toBe("http://127.0.0.1:9/v1");
    expect(s.model.candidates).toBe(4);
    expect(s.sandbox.allowLevels).toEqual(["A", "C"]);
    expect(s.tests.runOnSave).toBe(true);
    expect(s.sandbox.memoryMib).toBe(2048);
    expect(s.interpreter).toEqual([]);
    expect(s.model.temperature).toBe(0.2);
  });

  it("sends the whole section, nested camelCase, plus the API key only when stored", () => {
    const s = readSettings(() => undefined);
    const opts = initializationOptions(s);
    expect(opts).toEqual(JSON.parse(JSON.stringify(DEFAULTS)));
    expect(opts).not.toHaveProperty("apiKey");
    expect((opts.model as Record<string, unknown>).apiKeyEnv).toBe("OPENAI_API_KEY");
    const withKey = initializationOptions(s, " sk-secret ");
    expect(withKey.apiKey).toBe("sk-secret");
    expect(JSON.stringify(redacted(withKey))).not.toContain("sk-secret");
    // The defaults object is not shared with the result.
    (opts.model as Record<string, unknown>).name = "changed";
    expect(DEFAULTS.model.name).toBe("");
  });

  it("restarts only for the settings that decide how the server starts", () => {
    // VS Code's affectsConfiguration is true for the changed key and every section above it.
    const changed = (key: string) => (section: string) => key === section || key.startsWith(`${section}.`);
    expect(restartNeeded(changed("codeloop.interpreter"))).toBe(true);
    expect(restartNeeded(changed("codeloop.serverArgs"))).toBe(true);
    expect(restartNeeded(changed("codeloop.model.name"))).toBe(false);
    expect(restartNeeded(changed("codeloop.tests.runOnSave"))).toBe(false);
    expect(restartNeeded(changed("python.defaultInterpreterPath"))).toBe(false);
  });
});
