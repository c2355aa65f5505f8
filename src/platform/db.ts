import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";

export type Db = ReturnType<typeof createDb>;

const clients = new WeakMap<D1Database, ReturnType<typeof build>>();
const build = (d1: D1Database) => drizzle(d1);

/**
 * The only place a drizzle client is built: once per binding object (per isolate). It carries no
 * schema (no `db.query`): repositories import their tables from db/tables.
 */
export function createDb(d1: D1Database) {
  let db = clients.get(d1);
  if (!db) {
    db = build(d1);
    clients.set(d1, db);
  }
  return db;
}

/** The header that carries a D1 bookmark both ways: the client sends its last one, every response its newest. */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/**
 * The shape of a D1 bookmark (a Durable Object storage bookmark: four fixed-width lowercase hex
 * groups, so two of them compare as strings in commit order). Anything else in the header (a typo,
 * a proxy's mangling, the constraint words) is ignored: the request starts as if none was sent.
 */
const BOOKMARK_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The client's bookmark if it has the shape of one, else null (ignored, never an error). */
export const parseBookmark = (value: string | undefined | null): string | null => (value && BOOKMARK_SHAPE.test(value) ? value : null);

/**
 * GET paths that must read the primary although they are reads: sign-in flows and token checks
 * (auth, the emailed links' pages and verbs, the OpenID callback), admin, GETs that write (a
 * tender link counts its click), and organization reads, whose queries check the caller's
 * membership themselves (docs/consistency.md: shared notes and favorites are exact; a replica could
 * still show them to a member removed a moment ago). Every other GET may be served by a replica;
 * a service whose query checks membership elsewhere uses `primaryDb` itself (the shared notes on
 * GET /tenders/{id} and GET /me/notes?tender_id=).
 */
const FRESH_READ_PREFIXES = [
  "/api/v1/auth/",
  "/api/v1/admin/",
  "/api/v1/orgs",
  "/api/v1/unsubscribe",
  "/api/v1/me/identities/",
  "/.well-known/",
  "/l/",
  "/sign-in",
  "/verify-email",
  "/reset-password",
  "/accept-invitation",
  "/unsubscribe",
  "/dev/",
];

/** Whether a request to `path` with `method` may read from a replica (else it starts from the primary). */
export function mayReadReplica(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  for (const prefix of FRESH_READ_PREFIXES) if (path.startsWith(prefix)) return false;
  return true;
}

/**
 * Where a request's D1 session starts (issue 20, point 5). Writes and the fresh reads start from
 * the primary ("first-primary": a check that guards a write never reads a lagging replica, and a
 * bookmark cannot loosen that). Other reads continue from the client's bookmark (read-your-writes
 * across requests) or, without one, from any replica ("first-unconstrained").
 */
export function sessionStart(method: string, path: string, bookmarkHeader: string | undefined | null): D1SessionConstraint | D1SessionBookmark {
  if (!mayReadReplica(method, path)) return "first-primary";
  return parseBookmark(bookmarkHeader) ?? "first-unconstrained";
}

/**
 * A request's database: a D1 session started where `sessionStart` says, wrapped by drizzle on
 * first use (a request that reads no D1 builds nothing). `bookmark()` is what the response carries:
 * the session's newest bookmark, else the client's own (handed back so it is never lost), else null.
 */
export function requestDb(d1: D1Database, method: string, path: string, bookmarkHeader: string | undefined | null) {
  let session: D1DatabaseSession | undefined;
  let db: Db | undefined;
  return {
    get db(): Db {
      if (!db) {
        session = d1.withSession(sessionStart(method, path, bookmarkHeader));
        // drizzle's D1 driver calls only prepare() and batch(), which a session has.
        db = drizzle(session as unknown as D1Database);
      }
      return db;
    },
    bookmark(): string | null {
      return session?.getBookmark() ?? parseBookmark(bookmarkHeader);
    },
  };
}

/**
 * The primary, outside the request's session (D1 sends a query made without a session to the
 * primary). For a read whose answer outlives the request in a cache (the isolate caches of access,
 * API keys and the user view, KV): filled from a lagging replica, the cache would serve a state
 * older than a write already committed, for its whole TTL, to every client.
 */
export const primaryDb = (env: { DB: D1Database }): Db => createDb(env.DB);

/** One statement of a batch: a drizzle query, or a raw one from `rawStatement`/`insertIf`. */
export type Statement = BatchItem<"sqlite">;

/**
 * Runs statements as one D1 transaction. The result is a tuple typed per statement (a
 * `.returning()` gives its rows, a plain write its run result), so callers destructure it
 * without casts. An empty list runs nothing.
 * @example const [, inserted] = await runBatch(ctx, [auditInsert(…), db.insert(t).values(v).returning()]);
 */
export async function runBatch<const T extends readonly Statement[]>(ctx: { db: Db }, statements: T): Promise<BatchResponse<T>> {
  if (statements.length === 0) return [] as unknown as BatchResponse<T>;
  return ctx.db.batch(statements as unknown as readonly [Statement, ...Statement[]]) as Promise<BatchResponse<T>>;
}

/**
 * D1 binds at most 100 parameters per statement: split work into chunks that fit.
 * @example for (const ids of chunk(allIds, 90)) await db.delete(t).where(inArray(t.id, ids));
 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Whether `err` or one of its causes (drizzle wraps D1 errors) says `text`. */
function errorSays(err: unknown, text: string): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (String((e as { message?: string }).message ?? e).includes(text)) return true;
  }
  return false;
}

/** Whether `err` is a UNIQUE violation on `column`. */
export const isUniqueViolation = (err: unknown, column: string): boolean => errorSays(err, `UNIQUE constraint failed: ${column}`);

/** Whether `err` is a FOREIGN KEY violation (e.g. a row naming a tender that does not exist). */
export const isForeignKeyViolation = (err: unknown): boolean => errorSays(err, "FOREIGN KEY constraint failed");

/** `column IN` the values of a JSON array parameter: one bound parameter however many ids (D1 allows 100). */
export const inJsonArray = (column: unknown, json: string) => sql`${column} IN (SELECT value FROM json_each(${json}))`;

/**
 * Raw SQL usable inside `db.batch()`. drizzle's D1 batch binds parameters on a prepared
 * statement that its raw-query object never creates (its `_prepare()` returns itself without
 * `stmt`), so a parameterised `db.run(sql)` breaks a batch: attach the statement here.
 */
export function rawStatement(db: Db, query: SQL) {
  return withStatement(db, db.run(query));
}

/** Like `rawStatement`, for a raw SELECT whose rows the batch returns (`db.all` in a batch). */
export function rawSelect<T>(db: Db, query: SQL) {
  return withStatement(db, db.all<T>(query));
}

function withStatement<R>(db: Db, raw: R): R {
  const built = (raw as unknown as { getQuery(): { sql: string } }).getQuery();
  (raw as unknown as { stmt: D1PreparedStatement }).stmt = db.$client.prepare(built.sql);
  return raw;
}

/**
 * `INSERT INTO table (…) SELECT … WHERE condition`, for `db.batch()`: the row is written only
 * when `condition` holds at that point of the batch (a guarded change's audit row, an email that
 * depends on state). `values` are the same drizzle values an ordinary insert takes (mapped to
 * driver values by each column), so the conditional and the plain insert cannot drift apart.
 */
export function insertIf<T extends SQLiteTable>(db: Db, table: T, values: T["$inferInsert"], condition: SQL) {
  return rawStatement(db, insertSelectSql(table, values, condition));
}

/**
 * The SQL of `insertIf`, for a statement that goes on (`ON CONFLICT … DO UPDATE …`, `RETURNING …`):
 * the SELECT always has its WHERE, so SQLite parses a following ON CONFLICT as the upsert clause.
 */
export function insertSelectSql<T extends SQLiteTable>(table: T, values: T["$inferInsert"], condition: SQL): SQL {
  const columns = getTableColumns(table) as Record<string, { name: string; mapToDriverValue(v: unknown): unknown }>;
  const entries = Object.entries(values as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const names = sql.join(entries.map(([key]) => sql.identifier(columns[key]!.name)), sql`, `);
  const params = sql.join(entries.map(([key, v]) => sql`${v === null ? null : columns[key]!.mapToDriverValue(v)}`), sql`, `);
  return sql`INSERT INTO ${table} (${names}) SELECT ${params} WHERE ${condition}`;
}

type DriverColumn = { name: string; default?: unknown; mapToDriverValue(v: unknown): unknown };

/** Rows per JSON parameter: well under D1's 2 MB value and 100 KB statement limits. */
const JSON_ROWS_PER_STATEMENT = 200;

/**
 * Multi-row `INSERT INTO table (…) SELECT … FROM json_each(?)`, for `db.batch()`: every chunk of
 * rows travels as ONE bound JSON parameter, so 1,000 rows bind a handful of parameters instead of
 * breaking D1's 100-parameter limit. `rows` are ordinary drizzle insert values (mapped per column
 * like a plain insert); a value a row leaves out takes the column's default (a plain default is
 * sent, an SQL default applies via coalesce) or NULL. `onConflictDoNothing` skips conflicting rows.
 */
export function insertJsonRows<T extends SQLiteTable>(db: Db, table: T, rows: readonly T["$inferInsert"][], opts: { onConflictDoNothing?: boolean } = {}) {
  const columns = Object.entries(getTableColumns(table) as Record<string, DriverColumn>);
  return chunk(rows, JSON_ROWS_PER_STATEMENT).map((part) => {
    const json = part.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, col] of columns) {
        let v = (row as Record<string, unknown>)[key];
        if (v === undefined && col.default !== undefined && !is(col.default, SQL)) v = col.default;
        if (v !== undefined && v !== null) out[col.name] = col.mapToDriverValue(v);
      }
      return out;
    });
    const names = sql.join(columns.map(([, col]) => sql.identifier(col.name)), sql`, `);
    const values = sql.join(
      columns.map(([, col]) => {
        const extract = sql`json_extract(j.value, ${`$.${col.name}`})`;
        return is(col.default, SQL) ? sql`coalesce(${extract}, ${col.default as SQL})` : extract;
      }),
      sql`, `,
    );
    const conflict = opts.onConflictDoNothing ? sql` WHERE true ON CONFLICT DO NOTHING` : sql``;
    return rawStatement(db, sql`INSERT INTO ${table} (${names}) SELECT ${values} FROM json_each(${JSON.stringify(json)}) j${conflict}`);
  });
}

/**
 * Multi-row `UPDATE table SET … FROM json_each(?)` keyed by `key`, for `db.batch()`: each row
 * changes only the fields it carries (a field absent from a row keeps its stored value; an
 * explicit null sets NULL). One JSON parameter per chunk of rows.
 */
export function updateJsonRows<T extends SQLiteTable>(
  db: Db,
  table: T,
  key: keyof T["$inferInsert"] & string,
  rows: readonly Partial<T["$inferInsert"]>[],
  /** An extra SQL condition on the row's key column (e.g. "the actor may change this user"), checked by the statement itself. */
  guard?: (keyColumn: SQL) => SQL,
) {
  const columns = getTableColumns(table) as Record<string, DriverColumn>;
  const keyCol = columns[key]!;
  return chunk(rows, JSON_ROWS_PER_STATEMENT).flatMap((part) => {
    const used = new Set<string>();
    const json = part.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
        if (v === undefined || !columns[k]) continue;
        out[columns[k].name] = v === null ? null : columns[k].mapToDriverValue(v);
        if (k !== key) used.add(k);
      }
      return out;
    });
    if (used.size === 0) return [];
    const sets = sql.join(
      [...used].map((k) => {
        const name = columns[k]!.name;
        const path = `$.${name}`;
        return sql`${sql.identifier(name)} = CASE WHEN json_type(j.value, ${path}) IS NULL THEN ${table}.${sql.identifier(name)} ELSE json_extract(j.value, ${path}) END`;
      }),
      sql`, `,
    );
    return [
      rawStatement(
        db,
        sql`UPDATE ${table} SET ${sets} FROM json_each(${JSON.stringify(json)}) j WHERE ${table}.${sql.identifier(keyCol.name)} = json_extract(j.value, ${`$.${keyCol.name}`})${
          guard ? sql` AND ${guard(sql`${table}.${sql.identifier(keyCol.name)}`)}` : sql``
        }`,
      ),
    ];
  });
}
