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
