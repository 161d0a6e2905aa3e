import {
  CompiledQuery,
  createQueryId,
  type Compilable,
  type DeleteResult,
  type DialectAdapter,
  type InsertResult,
  type Kysely,
  type KyselyPlugin,
  type MergeResult,
  type QueryResult,
  type RootOperationNode,
  type UpdateResult,
} from "kysely";
import type { DB } from "../../generated/kysely/tables.js";
import type { HotQ } from "./connect.js";

/**
 * Queries built and compiled once, then run many times with new values.
 *
 * Building a Kysely query (expression builders, frozen operation nodes) and compiling it (the
 * compiler's visitors) costs more CPU than running it on SQLite with a prepared statement. The
 * per-message path runs the same few queries for every message, so each is built once per database:
 *
 *     const byPhone = prepared((db, p: { municipalityId: string; phone: string }) =>
 *       db.selectFrom("Resident").select("id").where("municipalityId", "=", p.municipalityId).where("phone", "=", p.phone));
 *     const row = await byPhone.first(q, { municipalityId, phone }); // { id: number } | undefined
 *
 * On first use with a database, `build` gets a stand-in for each parameter (`p.phone` is a marker
 * object, not a string) and the query is compiled; each marker's position among the compiled
 * query's parameters is where that parameter's value goes on every later run. Values that are not
 * markers (`"inbound"`, `true`) are constants of the query and are kept.
 *
 * Rules for `build` (it runs once, so anything else is baked in for good):
 * - Pass parameters to Kysely only as values (`where`, `values`, `set`, `limit`, `eb.val`...). A
 *   parameter Kysely inlines into the SQL text (`sql.lit`, `eb.lit`, `sql.raw`, a template literal)
 *   or that never reaches the query is refused on first use, as is one nested in a list or object.
 * - No branching on parameters (`p.x ? ... : ...`, `$if`): a marker is always truthy. Make one
 *   prepared query per shape instead.
 * - Values are scalars (string, number, bigint, boolean, Date, bytes, null; `undefined` is
 *   refused: pass null). Variable-length lists (`where("id", "in", ids)`) cannot be prepared: keep
 *   such queries dynamic.
 *
 * The compiled form is kept per Kysely instance (its dialect adapter, shared with its transactions)
 * and plugin list, so one process compiles each query once per database it talks to.
 */
/**
 * The SQL of every prepared query compiled in this process: the PostgreSQL driver (connect.ts)
 * names these statements so the server parses and plans each once per connection. A fixed set.
 */
export const PREPARED_SQL = new Set<string>();

export function prepared<P extends PreparedParams, O>(build: (db: Kysely<DB>, p: P) => Compilable<O>): PreparedQuery<P, O> {
  const plans = new WeakMap<DialectAdapter, Plan[]>();

  const planFor = (q: HotQ): Plan => {
    const executor = q.getExecutor();
    let forAdapter = plans.get(executor.adapter);
    if (!forAdapter) plans.set(executor.adapter, (forAdapter = []));
    const plugins = executor.plugins;
    for (const plan of forAdapter) if (samePlugins(plan.plugins, plugins)) return plan;
    const plan = compilePlan(q, build as (db: Kysely<DB>, p: PreparedParams) => Compilable<unknown>, plugins);
    forAdapter.push(plan);
    return plan;
  };

  const run = (q: HotQ, params: P): Promise<QueryResult<PreparedRow<O>>> => {
    let plan: Plan;
    let parameters: unknown[];
    try {
      plan = planFor(q);
      parameters = bind(plan, params);
    } catch (error) {
      return Promise.reject(error);
    }
    return q.executeQuery<PreparedRow<O>>({ sql: plan.sql, query: plan.query, parameters, queryId: createQueryId() });
  };

  return {
    run,
    all: async (q, params) => (await run(q, params)).rows,
    first: async (q, params) => (await run(q, params)).rows[0],
    firstOrThrow: async (q, params) => {
      const { rows } = await run(q, params);
      if (rows.length === 0) throw new Error(`prepared query: no result\n${planFor(q).sql}`);
      return rows[0]!;
    },
  };
}

/** A scalar a prepared query can take as a parameter. */
export type PreparedValue = string | number | bigint | boolean | Date | Uint8Array | null;
export type PreparedParams = Record<string, PreparedValue>;

/** The rows a query returns: none for a write without `returning`. */
export type PreparedRow<O> = O extends InsertResult | UpdateResult | DeleteResult | MergeResult ? never : O;

export interface PreparedQuery<P, O> {
  /** Every row. */
  all(q: HotQ, params: P): Promise<PreparedRow<O>[]>;
  /** The first row, or undefined (as `executeTakeFirst`; no `limit` is added). */
  first(q: HotQ, params: P): Promise<PreparedRow<O> | undefined>;
  /** The first row; throws when there is none (as `executeTakeFirstOrThrow`). */
  firstOrThrow(q: HotQ, params: P): Promise<PreparedRow<O>>;
  /** The driver's result: rows, and for writes `numAffectedRows` (an update's `numUpdatedRows`). */
  run(q: HotQ, params: P): Promise<QueryResult<PreparedRow<O>>>;
}

/** A prepared query that cannot be compiled safely, or a parameter it cannot take. */
export class PreparedQueryError extends Error {
  override name = "PreparedQueryError";
}

// ---------------------------------------------------------------------------------------------

interface Plan {
  sql: string;
  /** What drivers and plugins see as the executed query: the SQL, as `CompiledQuery.raw` makes it. */
  query: RootOperationNode;
  plugins: readonly KyselyPlugin[];
  /** Per compiled parameter: the name of the parameter that fills it, or null for a constant. */
  slots: (string | null)[];
  /** Per compiled parameter: the constant (undefined where a parameter goes). */
  constants: unknown[];
}

/** Stands in for one parameter while the query is built; found again among the compiled parameters. */
class Marker {
  constructor(readonly key: string) {}
  [Symbol.toPrimitive](): never {
    throw this.#inlined();
  }
  /** Kysely's `sql.lit`/`eb.lit` describe a value they refuse with JSON.stringify. */
  toJSON(): never {
    throw this.#inlined();
  }
  #inlined(): PreparedQueryError {
    return new PreparedQueryError(
      `prepared query: parameter "${this.key}" was turned into text or a number while building (a template literal, concatenation, arithmetic, ` +
        `sql.raw/sql.lit/eb.lit or another inlined value). Pass parameters to Kysely only as values.`,
    );
  }
}

function compilePlan(q: HotQ, build: (db: Kysely<DB>, p: PreparedParams) => Compilable<unknown>, plugins: readonly KyselyPlugin[]): Plan {
  const markers = new Map<string, Marker>();
  const refuse = (what: string) => () => {
    throw new PreparedQueryError(`prepared query: build ${what} the parameters object; read each parameter by name (p.name) and pass it to Kysely as a value`);
  };
  const params = new Proxy({} as PreparedParams, {
    get(_, key) {
      if (typeof key !== "string") return undefined;
      let marker = markers.get(key);
      if (!marker) markers.set(key, (marker = new Marker(key)));
      return marker;
    },
    has: refuse("tested a key of"),
    ownKeys: refuse("enumerated or spread"),
    getOwnPropertyDescriptor: refuse("inspected"),
    set: refuse("wrote to"),
    defineProperty: refuse("wrote to"),
    deleteProperty: refuse("wrote to"),
  });
  const compiled = build(q, params).compile();
  const listed = markerAsList(compiled.query, new Set());
  if (listed) {
    throw new PreparedQueryError(
      `prepared query: parameter "${listed.key}" is the list of an "in": variable-length lists cannot be prepared, keep this query dynamic\n${compiled.sql}`,
    );
  }

  const slots: (string | null)[] = [];
  const constants: unknown[] = [];
  const used = new Set<string>();
  compiled.parameters.forEach((parameter, i) => {
    if (parameter instanceof Marker) {
      if (markers.get(parameter.key) !== parameter) throw new PreparedQueryError(`prepared query: parameter "${parameter.key}" comes from another build\n${compiled.sql}`);
      slots.push(parameter.key);
      constants.push(undefined);
      used.add(parameter.key);
    } else {
      const nested = markerIn(parameter, 0);
      if (nested) {
        throw new PreparedQueryError(
          `prepared query: parameter "${nested.key}" is inside a list or object value (parameter ${i + 1}); only scalars can be prepared, keep this query dynamic\n${compiled.sql}`,
        );
      }
      slots.push(null);
      constants.push(parameter);
    }
  });
  for (const key of markers.keys()) {
    if (!used.has(key)) {
      throw new PreparedQueryError(
        `prepared query: parameter "${key}" was read while building but is not one of the compiled query's parameters: Kysely inlined it into the SQL ` +
          `or it was not used as a value. Prepare only values Kysely sends as parameters.\n${compiled.sql}`,
      );
    }
  }
  PREPARED_SQL.add(compiled.sql);
  return { sql: compiled.sql, query: CompiledQuery.raw(compiled.sql).query, plugins, slots, constants };
}

/** A marker given as the right side of `in`/`not in` (Kysely compiles it to `in ?`, not a list). */
function markerAsList(node: unknown, seen: Set<object>): Marker | null {
  if (node === null || typeof node !== "object" || node instanceof Marker || seen.has(node)) return null;
  seen.add(node);
  const { kind, operator, rightOperand } = node as { kind?: unknown; operator?: { operator?: unknown }; rightOperand?: { kind?: unknown; value?: unknown } };
  if (kind === "BinaryOperationNode" && (operator?.operator === "in" || operator?.operator === "not in") && rightOperand?.kind === "ValueNode" && rightOperand.value instanceof Marker) {
    return rightOperand.value;
  }
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = markerAsList(child, seen);
    if (found) return found;
  }
  return null;
}

/** A marker nested in a list or plain object value (JSON, a pg array), which a plan cannot fill. */
function markerIn(value: unknown, depth: number): Marker | null {
  if (value instanceof Marker) return value;
  if (depth > 8 || value === null || typeof value !== "object" || value instanceof Date || ArrayBuffer.isView(value)) return null;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const found = markerIn(item, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The compiled query's parameters for one run: each slot's value, checked, or the constant. */
function bind(plan: Plan, params: PreparedParams): unknown[] {
  const { slots, constants } = plan;
  const values = new Array<unknown>(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const key = slots[i];
    if (key === null || key === undefined) {
      values[i] = constants[i];
      continue;
    }
    const value: unknown = params[key];
    if (typeof value === "object" && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array)) {
      throw new PreparedQueryError(`prepared query: parameter "${key}" is ${Array.isArray(value) ? "a list" : "an object"}; only scalars can be prepared\n${plan.sql}`);
    }
    if (value === undefined) throw new PreparedQueryError(`prepared query: parameter "${key}" is undefined (pass null for NULL)\n${plan.sql}`);
    values[i] = value;
  }
  return values;
}

function samePlugins(a: readonly KyselyPlugin[], b: readonly KyselyPlugin[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
