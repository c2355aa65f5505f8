/**
 * One structured logger: a line is one JSON object `{ level, msg, ...fields }` on the console
 * method of its level (Workers Logs index them by field). Logs hold no personal data:
 * - the thrown value, the optional last argument, is logged as `error: safeErrorText(err)` (and,
 *   at level error, `stack: safeStack(err)`), never as the message of a drizzle error with its
 *   bound parameters;
 * - fields are ids, counts, names and flags; a field named like personal data or a secret
 *   (email, address, ip, token, password, secret, key material) is written as "[redacted]";
 * - email addresses inside any string are replaced by "[email]".
 */
export type LogValue = string | number | boolean | null | undefined | readonly LogValue[] | { readonly [name: string]: LogValue };
export type LogFields = Readonly<Record<string, LogValue>>;
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields, err?: unknown): void;
  error(msg: string, fields?: LogFields, err?: unknown): void;
  /** A logger whose lines all carry `fields` (e.g. `{ request_id }`, `{ queue }`). */
  with(fields: LogFields): Logger;
}

const SINK: Record<LogLevel, (line: string) => void> = {
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

/** Field names whose values are personal data or secrets; logged as "[redacted]". */
export const REDACTED_FIELD = /(^|_)(e?mail|address|ip|token|password|secret|cookie|authorization|key_?material)($|_)/i;

/** The JSON line for one entry (exported for tests). */
export function logLine(level: LogLevel, msg: string, fields: LogFields = {}, ...err: [unknown?]): string {
  const out: Record<string, unknown> = { level, msg: scrub(msg) };
  Object.assign(out, clean(fields));
  if (err.length) {
    out.error = safeErrorText(err[0]);
    const stack = level === "error" ? safeStack(err[0]) : undefined;
    if (stack) out.stack = stack;
  }
  return JSON.stringify(out);
}

function clean(value: LogValue): unknown {
  if (typeof value === "string") return scrub(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, LogValue>)) out[name] = REDACTED_FIELD.test(name) ? "[redacted]" : clean(v);
  return out;
}

/**
 * Methods on the prototype, bound fields in one property: `log.with(…)` runs on every request and
 * makes one small object instead of a set of closures. Call the methods on the logger
 * (`ctx.log.info(…)`); one taken off it (`const { info } = log`) has no `this`.
 */
class BoundLogger implements Logger {
  constructor(private readonly bound: LogFields) {}
  info(msg: string, fields?: LogFields): void {
    SINK.info(logLine("info", msg, { ...this.bound, ...fields }));
  }
  warn(msg: string, fields?: LogFields, ...err: [unknown?]): void {
    SINK.warn(logLine("warn", msg, { ...this.bound, ...fields }, ...err));
  }
  error(msg: string, fields?: LogFields, ...err: [unknown?]): void {
    SINK.error(logLine("error", msg, { ...this.bound, ...fields }, ...err));
  }
  with(fields: LogFields): Logger {
    return new BoundLogger({ ...this.bound, ...fields });
  }
}

/** The logger; `log.with({ request_id })` for lines of one request or job. */
export const log: Logger = new BoundLogger({});

/**
 * Text of an error that is safe to log: no bound SQL parameters (drizzle's query errors put
 * them, i.e. emails, hashes and tokens, into the message and hence the stack), no email
 * addresses. The SQL text and the driver's own reason (e.g. "UNIQUE constraint failed") stay.
 */
export function safeErrorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) {
      const query = (e as { query?: unknown }).query;
      parts.push(typeof query === "string" && "params" in e ? `${e.name}: Failed query: ${query}` : `${e.name}: ${scrub(e.message)}`);
    } else {
      parts.push(scrub(String(e)));
    }
  }
  return parts.join(" ← caused by ");
}

/** The stack without its message lines (they repeat the message, parameters included). */
export function safeStack(err: unknown): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  return err.stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .join("\n");
}

const scrub = (text: string) =>
  text.replace(/\nparams: [\s\S]*$/, "\nparams: [redacted]").replace(/[^\s@"'<>,;:]+@[^\s@"'<>,;:]+\.[a-z]{2,}/gi, "[email]");
