import type { Db } from "../../../src/db/createDb.js";
import { hashPassword } from "../../../src/services/passwords.js";
import { MUNICIPALITY } from "../../support/testApp.js";

// A cheap scrypt for test PINs: the real cost is for the imported codes, not for fixtures.
const TEST_HASH = { N: 2 ** 12, r: 8, p: 1 };

export interface BalanceFixture {
  currency: "LBP" | "USD";
  amountDue: string;
  dueDate: Date;
}

/** An account as the import would leave it: hashed PIN, balances per currency, statement lines. */
export async function createAccount(
  db: Db,
  fields: {
    number: string;
    holderName?: string;
    accountType?: string;
    description?: string;
    code?: string;
    balances?: BalanceFixture[];
    lines?: Array<{ date: Date; kind: string; description?: string; currency: "LBP" | "USD"; amount: string; reference: string }>;
  },
) {
  return db.account.create({
    data: {
      municipalityId: MUNICIPALITY,
      number: fields.number,
      holderName: fields.holderName ?? "جورج الخوري",
      accountType: fields.accountType ?? "property",
      description: fields.description ?? "شقة، بناية الخوري، الطابق الثاني",
      verificationCodeHash: await hashPassword(fields.code ?? "4821", TEST_HASH),
      balances: { create: (fields.balances ?? []).map((b) => ({ currency: b.currency, amountDue: b.amountDue, dueDate: b.dueDate })) },
      lines: { create: (fields.lines ?? []).map((l) => ({ ...l, description: l.description ?? "" })) },
    },
  });
}

/** A resident who wrote on a channel at some time (or never, with `lastInboundAt: null`). */
export async function createResident(
  db: Db,
  fields: { phone: string; locale?: "ar" | "en" | null; optedOut?: boolean; identities?: Array<{ channel: "sms" | "whatsapp"; lastInboundAt: Date | null }> },
) {
  return db.resident.create({
    data: {
      municipalityId: MUNICIPALITY,
      phone: fields.phone,
      locale: fields.locale === undefined ? "ar" : fields.locale,
      optedOut: fields.optedOut ?? false,
      identities: {
        create: (fields.identities ?? [{ channel: "sms", lastInboundAt: new Date("2025-01-01T10:00:00Z") }]).map((i) => ({
          municipalityId: MUNICIPALITY,
          channel: i.channel,
          address: fields.phone,
          lastInboundAt: i.lastInboundAt,
        })),
      },
    },
  });
}

/** The resident linked the account with the bill's code. */
export function linkByCode(db: Db, accountId: number, residentId: number) {
  return db.accountLink.create({ data: { municipalityId: MUNICIPALITY, accountId, residentId, linkedBy: "code" } });
}

let nextReference = 70_000;

/**
 * A payment a resident reported, as the conversation files it: a finance ticket (no category) with
 * the receipt photo, and its PaymentReport.
 */
export async function reportPayment(
  db: Db,
  fields: {
    residentId: number;
    accountId: number;
    amount: string;
    currency: "LBP" | "USD";
    paidAt?: string;
    paymentRef?: string;
    channel?: "sms" | "whatsapp";
    locale?: "ar" | "en";
    media?: Array<{ url: string; contentType: string }>;
  },
) {
  const reference = nextReference++;
  const ticket = await db.ticket.create({
    data: {
      municipalityId: MUNICIPALITY,
      reference,
      residentId: fields.residentId,
      description: `دفعة ${fields.amount} ${fields.currency}`,
      department: "finance",
      channel: fields.channel ?? "sms",
      locale: fields.locale ?? "ar",
      media: JSON.stringify(fields.media ?? []),
      events: { create: { actorType: "resident", kind: "created", data: JSON.stringify({ channel: fields.channel ?? "sms", needsHuman: false }) } },
    },
  });
  const report = await db.paymentReport.create({
    data: {
      municipalityId: MUNICIPALITY,
      ticketId: ticket.id,
      accountId: fields.accountId,
      amount: fields.amount,
      currency: fields.currency,
      paidAt: fields.paidAt ?? "OMT شتورة",
      paymentRef: fields.paymentRef ?? "OMT-558812",
    },
  });
  return { ticket, report, reference };
}

/** The calendar day `days` after `from`, at UTC midnight (how `new Date("YYYY-MM-DD")` stores a due date). */
export const daysAfter = (from: Date, days: number) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + days));
