import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { understand } from "../../src/understand/understand.js";
import { engineChat } from "../support/engineChat.js";
import { seededCategories } from "../support/fakeLookups.js";

interface CorpusLine {
  text: string;
  lang: "ar" | "en" | "arabizi" | null;
  intent: string;
  category?: string;
  child_related?: boolean;
}

// Real-style resident messages kept beside the repository (../shared/corpus); a copy ships in
// test/fixtures so a clone alone can run the suite.
const shared = path.join(import.meta.dirname, "../../../shared/corpus/resident-messages.jsonl");
const bundled = path.join(import.meta.dirname, "../fixtures/resident-messages.jsonl");
const file = (() => {
  try {
    return readFileSync(shared, "utf8");
  } catch {
    return readFileSync(bundled, "utf8");
  }
})();
const corpus: CorpusLine[] = file
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as CorpusLine);

// The corpus names intents its own way; these are ours.
const INTENT: Record<string, string> = {
  greeting: "greeting",
  new_request: "newRequest",
  balance: "balance",
  status: "status",
  opt_out: "optOut",
  opt_in: "optIn",
  help: "help",
  human: "human",
  switch_language: "switchLanguage",
  unclear: "unclear",
  media_only: "unclear",
};

describe("every corpus message is understood", () => {
  it("the bundled copy matches the shared corpus", () => {
    try {
      expect(readFileSync(bundled, "utf8")).toBe(readFileSync(shared, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  });

  it.each(corpus.map((c) => [c.text || "(empty)", c] as const))("%s", (_label, line) => {
    const u = understand(line.text, seededCategories);
    if (line.intent === "menu_choice") {
      expect(u.choice).toBe(Number(line.text.normalize("NFKC").replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x6f0))));
    } else {
      expect(u.intent.type).toBe(INTENT[line.intent]);
    }
    if (line.category) expect(u.categoryCode).toBe(line.category);
    if (line.child_related) expect(u.aboutChildren).toBe(true);
    if (line.lang === "arabizi") expect(u.language).toBe("arabizi");
    else if (line.lang && line.intent !== "menu_choice") expect(u.language).toBe(line.lang);
  });
});

describe("a first message that names a problem proposes the right category", () => {
  const requests = corpus.filter((c) => c.category);
  it.each(requests.map((c) => [c.text, c] as const))("%s", async (_text, line) => {
    const chat = engineChat({ channel: "sms" });
    const turn = await chat.say(line.text);
    expect(chat.state.draft?.categoryCode).toBe(line.category);
    expect(turn.keys).toEqual(["intake.confirmCategory"]);
    expect(turn.segments).toBe(1);
    // Arabizi is answered in Arabic; English in English.
    expect(chat.resident.locale).toBe(line.lang === "en" ? "en" : "ar");
  });
});
