import { describe, expect, it } from "vitest";
import { inNotification, notificationTitle, PercentTally, USER_WORK_COMMANDS } from "../../src/common/progressRoute";

describe("progress routing", () => {
  it("shows cancellable progress of a user's command as a notification, the rest in the status bar", () => {
    expect(inNotification({ title: "Run tests", cancellable: true }, 1)).toBe(true);
    expect(inNotification({ title: "Run tests", cancellable: true }, 0)).toBe(false); // run on save
    expect(inNotification({ title: "Indexing", cancellable: false }, 1)).toBe(false);
    expect(inNotification({ title: "Indexing" }, 2)).toBe(false);
    expect(USER_WORK_COMMANDS).toEqual(["codeloop.implement", "codeloop.generateTests", "codeloop.runTests"]);
  });

  it("names the notification as codeloop's", () => {
    expect(notificationTitle({ title: "Run tests" })).toBe("codeloop: Run tests");
    expect(notificationTitle({ title: "codeloop: Implement f" })).toBe("codeloop: Implement f");
    expect(notificationTitle({ title: "  " })).toBe("codeloop: working");
  });

  it("turns percentages into increments that never go back or past 100", () => {
    const t = new PercentTally();
    expect(t.increment(undefined)).toBeUndefined();
    expect(t.increment(10)).toBe(10);
    expect(t.increment(35)).toBe(25);
    expect(t.increment(20)).toBe(0);
    expect(t.increment(250)).toBe(65);
    expect(t.increment(Number.NaN)).toBeUndefined();
  });
});
