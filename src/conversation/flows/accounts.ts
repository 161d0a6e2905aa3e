import { assertNever } from "../../lib/assertNever.js";
import { readAccountNumber, readVerificationCode } from "../../understand/readAccountInput.js";
import { day, isOwed, money, shorten } from "../money.js";
import type { PendingEffect, StepResult } from "../result.js";
import { initialState, type AccountContext, type AccountGoal, type ConversationState } from "../state.js";
import { done, strike, type Turn } from "../turn.js";
import type { AccountView, LinkOutcome, Reply, StatementLineView, TextRef } from "../types.js";
import { startPayment } from "./payments.js";

// An SMS summary must fit two segments in Arabic (134 characters): the holder's name gets what is left.
const HOLDER_SMS = 14;
const HOLDER_RICH = 60;
// One SMS holds the question and three accounts; WhatsApp lists up to nine.
const CHOICES_SMS = 3;
const CHOICES_RICH = 9;
// Statement lines: three fit two SMS segments; WhatsApp shows more.
const STATEMENT_SMS = 3;
const STATEMENT_RICH = 10;

const isSms = (turn: Turn) => turn.ctx.capabilities.maxSegments !== null;

/**
 * "My balance", "statement" or "I paid": a linked resident gets the answer (after choosing one of
 * several accounts); anyone else is first guided through linking an account with the bill's code,
 * except a sender without a verified phone (see `accountsNeedPhone`).
 */
export async function accountQuestion(turn: Turn, goal: AccountGoal): Promise<StepResult> {
  if (!turn.ctx.resident.verifiedPhone) return accountsNeedPhone(turn);
  const accounts = await turn.ctx.lookups.linkedAccounts();
  if (accounts.length === 0) return startLinking(turn, goal);
  if (accounts.length === 1) return forAccount(turn, goal, accounts[0]!);
  return offerChoice(turn, goal, accounts);
}

/**
 * The answer to a sender whose phone number is not known (a WhatsApp LID): balances, statements,
 * linking and payment reports are only for the phone number on the bill. Nothing is looked up, nothing
 * is asked, and the conversation starts afresh.
 */
export function accountsNeedPhone(turn: Turn): StepResult {
  return done(turn, initialState(), [{ key: "account.phoneOnly" }]);
}

const context = (turn: Turn, goal: AccountGoal): AccountContext => ({ goal, startedAt: turn.ctx.now.toISOString() });

/**
 * Asks for the account number, unless this phone has already failed too often in the last hour.
 * Also "link another account": a phone may hold several; the new one's balance follows.
 */
export async function startLinking(turn: Turn, goal: AccountGoal): Promise<StepResult> {
  if (!turn.ctx.resident.verifiedPhone) return accountsNeedPhone(turn);
  if (await turn.ctx.lookups.linkingLocked()) return done(turn, initialState(), [{ key: "link.locked" }]);
  return done(turn, { ...initialState(), step: "linkNumber", account: context(turn, goal) }, [{ key: "link.askNumber" }]);
}

/** What the resident asked for, about one of their linked accounts. */
async function forAccount(turn: Turn, goal: AccountGoal, account: AccountView, justLinked = false): Promise<StepResult> {
  const linked: Reply[] = justLinked ? [{ key: "link.done", params: { number: account.number } }] : [];
  switch (goal) {
    case "balance":
      // The summary's first line says the account is linked: a separate line would cost a segment.
      return done(turn, initialState(), [balanceSummary(turn, account, justLinked)], [
        { type: "recordDisclosure", kind: "balance_disclosed", accountId: account.id },
      ]);
    case "statement": {
      const lines = await turn.ctx.lookups.statementLines(account.id, isSms(turn) ? STATEMENT_SMS : STATEMENT_RICH);
      const replies: Reply[] =
        lines.length === 0 ? [...linked, { key: "statement.empty", params: { number: account.number } }] : [statementList(turn, account, lines, justLinked)];
      return done(turn, initialState(), replies, [{ type: "recordDisclosure", kind: "statement_disclosed", accountId: account.id }]);
    }
    case "report":
      return startPayment(turn, account, linked);
    default:
      return assertNever(goal);
  }
}

/** The latest statement lines; just after linking, the heading says so (a separate line would cost a segment). */
function statementList(turn: Turn, account: AccountView, lines: readonly StatementLineView[], justLinked: boolean): Reply {
  const shown: TextRef[] = lines.map((l) => ({
    $t: "statement.line",
    params: {
      date: day(turn.ctx, l.date),
      kind: { $t: `statement.kind.${l.kind}` },
      amount: money(turn.ctx, l.amount, l.currency),
      // WhatsApp only: the SMS line leaves the description out.
      note: l.description ? ` ${shorten(l.description, 40)}` : "",
    },
  }));
  return { key: justLinked ? "statement.listLinked" : "statement.list", params: { number: account.number, lines: { lines: shown } } };
}

/**
 * One account's balance per currency with its due date, and the last payment: two SMS segments in
 * Arabic at most, the holder's name shortened to fit.
 */
export function balanceSummary(turn: Turn, account: AccountView, justLinked: boolean): Reply {
  const lines: TextRef[] = [{ $t: justLinked ? "balance.headerLinked" : "balance.header", params: { number: account.number, holder: holder(turn, account) } }];
  const owed = account.balances.filter((b) => isOwed(b.amountDue));
  if (owed.length === 0) lines.push({ $t: "balance.nothingDue" });
  for (const [i, b] of owed.entries()) {
    const overdue = b.dueDate.getTime() < startOfDay(turn.ctx.now);
    lines.push({
      $t: i === 0 ? "balance.due" : "balance.dueAlso",
      params: {
        amount: money(turn.ctx, b.amountDue, b.currency),
        when: { $t: overdue ? "balance.overdueSince" : "balance.dueBy", params: { date: day(turn.ctx, b.dueDate) } },
      },
    });
  }
  if (account.lastPayment) {
    const p = account.lastPayment;
    lines.push({ $t: "balance.lastPayment", params: { amount: money(turn.ctx, p.amount, p.currency), date: day(turn.ctx, p.date) } });
  }
  return { key: "balance.summary", params: { lines: { lines } } };
}

// Due dates are days: a bill due "today" is not overdue yet. Beirut is UTC+2 or +3; a day's start in
// UTC is close enough for this comparison, as due dates are stored at midnight UTC.
const startOfDay = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());

/**
 * The holder's name, shortened on SMS. An English reply shows the account's kind instead of an
 * Arabic name: one Arabic letter would make the whole English SMS cost UCS-2 rates.
 */
function holder(turn: Turn, account: AccountView): string | TextRef {
  if (turn.locale === "en" && !/^[\x20-\x7e]*$/.test(account.holderName)) return { $t: `account.kind.${account.accountType}` };
  return shorten(account.holderName, isSms(turn) ? HOLDER_SMS : HOLDER_RICH);
}

/**
 * Several linked accounts: a short numbered list; the account number itself is accepted too. The
 * ids are kept in the order shown, so "2" means what the resident read even if a link changes meanwhile.
 */
function offerChoice(turn: Turn, goal: AccountGoal, accounts: readonly AccountView[]): StepResult {
  const state: ConversationState = { ...initialState(), step: "chooseAccount", account: { ...context(turn, goal), choices: accounts.map((a) => a.id) } };
  return done(turn, state, choiceReplies(turn, accounts));
}

function choiceReplies(turn: Turn, accounts: readonly AccountView[]): Reply[] {
  const shown = accounts.slice(0, isSms(turn) ? CHOICES_SMS : CHOICES_RICH);
  const options = shown.map((a, i) => ({ n: i + 1, label: { $t: "account.option", params: { number: a.number, holder: holder(turn, a) } } }));
  return [{ key: "account.choose", params: { choices: { options } } }, ...(accounts.length > shown.length ? [{ key: "account.others" }] : [])];
}

/** The question for an account step, asked again (after a language switch or "try again"). */
export async function accountPrompt(turn: Turn, step: "linkNumber" | "linkCode" | "chooseAccount"): Promise<Reply[]> {
  switch (step) {
    case "linkNumber":
      return [{ key: "link.askNumber" }];
    case "linkCode":
      return [{ key: "link.askCode" }];
    case "chooseAccount":
      return choiceReplies(turn, await turn.ctx.lookups.linkedAccounts());
    default:
      return assertNever(step);
  }
}

/** The resident answers "which account?": a number from the list, or the account number itself. */
export async function chooseAnswer(turn: Turn, account: AccountContext): Promise<StepResult | null> {
  const accounts = await turn.ctx.lookups.linkedAccounts();
  const shown = (account.choices ?? accounts.map((a) => a.id)).slice(0, isSms(turn) ? CHOICES_SMS : CHOICES_RICH);
  const { choice } = turn.u;
  const typed = readAccountNumber(turn.event.text)?.toUpperCase();
  // "2" is the second in the list, unless no list entry has that number and an account does ("12").
  const chosen =
    (choice !== null ? accounts.find((a) => a.id === shown[choice - 1]) : undefined) ??
    (typed ? accounts.find((a) => a.number.toUpperCase() === typed) : undefined);
  if (chosen) return forAccount(turn, account.goal, chosen);
  if (choice !== null) return strike(turn, [{ key: "retry.number", params: { max: shown.length } }]);
  return null;
}

/** The resident sends the account number printed on the bill. Null when the message is not one. */
export function linkNumberAnswer(turn: Turn, account: AccountContext): StepResult | null {
  const number = readAccountNumber(turn.event.text);
  if (!number) return null;
  return done(turn, { ...turn.state, step: "linkCode", strikes: 0, account: { ...account, number } }, [{ key: "link.askCode" }]);
}

/**
 * The resident sends the bill's code. Whether it is right is only known once the inbox has checked
 * it against the stored hash, so the turn ends in a `PendingEffect`: the inbox tries the link (and
 * records the attempt), then `resume` answers from the outcome. A wrong code and an account number
 * that does not exist come back as the same "rejected" and get the same words.
 * Null when the message cannot be a code.
 */
export function linkCodeAnswer(turn: Turn, account: AccountContext): StepResult | null {
  // Without the number there is nothing to try the code on: ask for it again.
  if (!account.number) return done(turn, { ...turn.state, step: "linkNumber", strikes: 0 }, [{ key: "link.askNumber" }]);
  const code = readVerificationCode(turn.event.text);
  if (!code) return null;
  const pending: PendingEffect = {
    effect: { type: "linkAccount", accountNumber: account.number, code },
    // The rest of the turn keeps what was already said, and adds only the effects still to apply.
    resume: (outcome) => afterLinking({ ...turn, effects: [] }, account.goal, outcome),
  };
  return { ...done(turn, { ...turn.state, account: { ...account, number: undefined } }, []), pending };
}

async function afterLinking(turn: Turn, goal: AccountGoal, outcome: LinkOutcome): Promise<StepResult> {
  switch (outcome.status) {
    case "linked": {
      const account = (await turn.ctx.lookups.linkedAccounts()).find((a) => a.id === outcome.accountId);
      if (!account) throw new Error(`account ${outcome.accountId} was linked but is not among the resident's accounts`);
      return forAccount(turn, goal, account, true);
    }
    case "rejected":
      // Start again from the number: saying which of the two was wrong would tell that the number exists.
      return done(turn, { ...initialState(), step: "linkNumber", account: context(turn, goal) }, [{ key: "link.wrong" }]);
    case "locked":
      return done(turn, initialState(), [{ key: "link.locked" }]);
    default:
      return assertNever(outcome);
  }
}
