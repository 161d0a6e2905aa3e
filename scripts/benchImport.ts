/**
 * `npm run bench:import [-- --rows 100000]`: generates an accounts export of that many rows (a fifth
 * of the accounts owe in LBP and USD, so two rows) and a statement file of as many lines, imports
 * them into a fresh SQLite database in a temporary folder, and prints rows per second, the time of
 * each phase (the write phase is how long other writers wait) and the peak RSS. Then imports the same
 * files again (nothing changes) and prints that time too.
 */
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createDb } from "../src/db/createDb.js";
import { migrate } from "../src/db/migrate.js";
import { importAccounts, type ImportProgress } from "../src/services/accountImport/importAccounts.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "100000" }, keep: { type: "boolean", default: false } } });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 10) throw new Error("--rows must be a whole number of at least 10");

const FIRST_NAMES = ["محمد", "علي", "حسن", "فاطمة", "زينب", "خالد", "ريما", "جورج", "سامي", "نادين", "أحمد", "مريم"];
const FAMILY_NAMES = ["الحاج", "الميس", "عراجي", "شحادة", "صعب", "الخطيب", "أبو خليل", "الريّس", "الحلبي", "سكرية"];
const QUARTERS = ["حي المدارس", "الشارع العام", "وادي الدلم", "حي السراي", "طريق شتورة", "ساحة البلدة"];

/** Writes lines to a file, waiting when the stream asks to. */
async function writeLines(file: string, header: string, lines: () => Generator<string>) {
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  for (const line of lines()) if (!out.write(`${line}\n`)) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

function* accountLines(): Generator<string> {
  let written = 0;
  for (let i = 0; written < rows; i++) {
    const number = `QE-${String(100000 + i)}`;
    const holder = `${FIRST_NAMES[i % FIRST_NAMES.length]} ${FIRST_NAMES[(i >> 3) % FIRST_NAMES.length]} ${FAMILY_NAMES[(i >> 5) % FAMILY_NAMES.length]}`;
    const business = i % 7 === 0;
    const description = `"${business ? "محل" : "عقار رقم"} ${1000 + i}، ${QUARTERS[i % QUARTERS.length]}"`;
    const code = String(1000 + ((i * 7919) % 9_000_000));
    const common = `${number},"${holder}",${business ? "business" : "property"},${description}`;
    yield `${common},LBP,"${grouped(((i % 90) + 1) * 50_000)}",2026-12-31,${code}`;
    written++;
    // Every fifth account also owes in dollars.
    if (i % 5 === 0 && written < rows) {
      yield `${common},USD,${(i % 400) + 20}.50,2026-12-31,${code}`;
      written++;
    }
  }
}

function* statementLines(): Generator<string> {
  for (let i = 0; i < rows; i++) {
    const number = `QE-${String(100000 + (i >> 1))}`;
    yield i % 2 === 0
      ? `${number},2026-01-15,charge,رسم القيمة التأجيرية 2026,LBP,"${grouped(((i % 90) + 1) * 50_000)}",FAC-2026-${i}`
      : `${number},2026-06-0${(i % 9) + 1},payment,دفعة في صندوق البلدية,LBP,"-${grouped(((i % 40) + 1) * 10_000)}",REC-${i}`;
  }
}

const grouped = (n: number) => n.toLocaleString("en-US");
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "baladiya-bench-"));
  try {
    const accounts = path.join(dir, "accounts.csv");
    const statement = path.join(dir, "statement.csv");
    await writeLines(accounts, "account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code", accountLines);
    await writeLines(statement, "account_number,date,kind,description,currency,amount,reference", statementLines);
    console.log(`${rows} account rows (${mb(statSync(accounts).size)}) and ${rows} statement lines (${mb(statSync(statement).size)}) in ${dir}`);

    const url = `file:${path.join(dir, "bench.db")}`;
    await migrate(url);
    const db = await createDb(url);

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const tty = Boolean(process.stdout.isTTY);
    let phaseTimes: string[] = [];
    // Phases follow one another: each starts when the previous one ended.
    let phaseStart = 0;
    const onProgress = (p: ImportProgress) => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (tty) process.stdout.write(`\r\x1b[2K${p.file} ${p.phase}: ${p.rows} rows`);
      if (!p.done) return;
      const now = performance.now();
      phaseTimes.push(`${p.file} ${p.phase} ${seconds(now - phaseStart)}`);
      phaseStart = now;
    };

    let started = performance.now();
    phaseStart = started;
    const first = await importAccounts(db, { municipalityId: "qab-elias", accounts, statement, source: "bench", now: new Date(), onProgress, progressEvery: 2000 });
    const firstMs = performance.now() - started;
    clearInterval(sampler);
    if (tty) process.stdout.write("\n");
    if (!first.ok) throw new Error(`refused: ${first.errors.slice(0, 5).map((e) => `${e.file} ${e.line} ${e.message}`).join("; ")}`);
    console.log(`first import: ${first.accounts} accounts, ${rows} account rows and ${first.lines} statement lines in ${seconds(firstMs)}`);
    console.log(`  ${Math.round((rows + first.lines) / (firstMs / 1000))} rows/s (both files), peak RSS ${mb(peakRss)}`);
    console.log(`  phases: ${phaseTimes.join(", ")}`);

    phaseTimes = [];
    started = performance.now();
    phaseStart = started;
    const second = await importAccounts(db, { municipalityId: "qab-elias", accounts, statement, source: "bench", now: new Date(), onProgress, progressEvery: 2000 });
    const secondMs = performance.now() - started;
    if (tty) process.stdout.write("\n");
    if (!second.ok) throw new Error("second import refused");
    console.log(`same files again: unchanged=${second.unchanged} in ${seconds(secondMs)} (${Math.round((rows + second.lines) / (secondMs / 1000))} rows/s)`);
    console.log(`  phases: ${phaseTimes.join(", ")}`);
    await db.$disconnect();
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
