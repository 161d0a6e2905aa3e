import { readFileSync } from "node:fs";
import path from "node:path";
import type {
  AccountView,
  CategoryView,
  LinkAccountEffect,
  LinkOutcome,
  Lookups,
  StatementLineView,
  SurveyView,
  TicketView,
} from "../../src/conversation/types.js";

interface SeedCategory {
  code: string;
  nameAr: string;
  nameEn: string;
  keywords: string[];
  needsLocation: boolean;
  childRelated: boolean;
}

/** The seeded categories, as the engine sees them. */
export const seededCategories: CategoryView[] = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, "../../seed/categories.json"), "utf8")) as SeedCategory[]
).map((c) => ({
  code: c.code,
  name: { ar: c.nameAr, en: c.nameEn },
  keywords: c.keywords,
  needsLocation: c.needsLocation,
  childRelated: c.childRelated,
}));

/** An account of the town as the fake knows it: what the resident may see once linked, its code, its statement. */
export interface FakeAccount extends AccountView {
  code: string;
  lines: StatementLineView[];
}

/** One try at linking, by this resident ("self") or from another phone. */
/** A survey invitation in the fake world: its answers and pauses are applied by engineChat. */
export interface FakeSurvey extends SurveyView {
  answers: Map<number, string | null>;
  paused: boolean;
}

export interface FakeAttempt {
  accountNumber: string;
  success: boolean;
  at: Date;
  phone: "self" | "other";
}

const LOCK_MS = 3600_000;
const MAX_FAILURES = 5;

/**
 * In-memory lookups for one resident: their tickets, the town's accounts and which are linked to
 * this phone, and references handed out from `nextReference` upwards so transcripts are deterministic.
 * `tryLink` plays the inbox's part for the `linkAccount` effect, with the same rules as the database
 * service (5 failures per phone and per account number an hour; unknown number = wrong code).
 */
export class FakeLookups implements Lookups {
  tickets: TicketView[] = [];
  accounts: FakeAccount[] = [];
  linked = new Set<number>();
  attempts: FakeAttempt[] = [];
  /** The engine's clock, kept in step by engineChat. */
  now = new Date("2026-11-29T09:00:00Z");
  constructor(private nextReference = 10427) {}

  async categories() {
    return seededCategories;
  }
  async openTickets(limit: number) {
    const open = this.tickets
      .filter((t) => t.status !== "resolved" && t.status !== "closed")
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return { tickets: open.slice(0, limit), total: open.length };
  }
  async ticketByReference(reference: number) {
    return this.tickets.find((t) => t.reference === reference) ?? null;
  }
  async freeReference() {
    return this.nextReference++;
  }
  async linkedAccounts(): Promise<AccountView[]> {
    return this.accounts
      .filter((a) => this.linked.has(a.id))
      .sort((a, b) => a.number.localeCompare(b.number, "en", { numeric: true }))
      .map(({ code: _code, lines: _lines, ...view }) => view);
  }
  async statementLines(accountId: number, limit: number) {
    if (!this.linked.has(accountId)) return [];
    const account = this.accounts.find((a) => a.id === accountId);
    // Newest first; of two lines on one day, the one added last (as the database orders by id).
    const lines = (account?.lines ?? []).map((line, order) => ({ line, order }));
    lines.sort((a, b) => b.line.date.getTime() - a.line.date.getTime() || b.order - a.order);
    return lines.slice(0, limit).map((l) => l.line);
  }
  async linkingLocked() {
    return this.failures((a) => a.phone === "self") >= MAX_FAILURES;
  }
  /** The ticket staff last wrote about, as a test sets it. */
  thread: { reference: number; categoryCode: string | null } | null = null;
  async staffThread() {
    return this.thread;
  }

  /** The surveys this resident was invited to, as a test sets them (the inbox's invitations). */
  surveys: FakeSurvey[] = [];
  async survey(invitationId: number): Promise<SurveyView | null> {
    const survey = this.surveys.find((s) => s.invitationId === invitationId);
    return survey ? { ...survey, questions: [...survey.questions] } : null;
  }
  async unfinishedSurvey(): Promise<SurveyView | null> {
    const open = this.surveys.filter((s) => s.open && s.nextQuestion < s.questions.length).at(-1);
    return open ? { ...open } : null;
  }

  /** Adds an account to the town (not linked); returns it. */
  addAccount(account: Partial<FakeAccount> & { number: string; code: string }): FakeAccount {
    const full: FakeAccount = {
      id: this.accounts.length + 1,
      holderName: "محمد علي الحاج",
      accountType: "property",
      balances: [],
      lastPayment: null,
      lines: [],
      ...account,
    };
    this.accounts.push(full);
    return full;
  }

  /** Applies a `linkAccount` effect the way the inbox does: records the try, links on success. */
  tryLink(effect: LinkAccountEffect): LinkOutcome {
    const account = this.accounts.find((a) => a.number.toUpperCase() === effect.accountNumber.toUpperCase());
    const accountNumber = account?.number ?? effect.accountNumber.toUpperCase();
    const byPhone = this.failures((a) => a.phone === "self");
    const byNumber = this.failures((a) => a.accountNumber === accountNumber);
    const record = (success: boolean) => this.attempts.push({ accountNumber, success, at: this.now, phone: "self" });
    if (byPhone >= MAX_FAILURES || byNumber >= MAX_FAILURES) {
      record(false);
      return { status: "locked" };
    }
    const success = account !== undefined && account.code === effect.code;
    record(success);
    if (!account || !success) return { status: byPhone + 1 >= MAX_FAILURES || byNumber + 1 >= MAX_FAILURES ? "locked" : "rejected" };
    this.linked.add(account.id);
    return { status: "linked", accountId: account.id };
  }

  private failures(which: (a: FakeAttempt) => boolean): number {
    const since = this.now.getTime() - LOCK_MS;
    return this.attempts.filter((a) => !a.success && a.at.getTime() >= since && which(a)).length;
  }
}
