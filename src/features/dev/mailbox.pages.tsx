import type { Context, Next } from "hono";
import { openOutboxBodies, outboxRepo } from "../../email/outbox.repo";
import type { App, AppEnv } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { PAGE_STYLESHEET } from "../pages/page-layout";

// The local mailbox for people (development only): a browser asking for text/html gets pages;
// API clients keep the JSON of mailbox.routes.ts.

/** The list and message pages: like the link pages, plus same-origin frames for the HTML part. */
const MAILBOX_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The HTML part of a message, shown inside the sandboxed iframe: the email's own inline styles
 * and data: images, no script, no requests, and framable by the mailbox only. The `sandbox`
 * directive repeats the iframe's sandbox, so the part is sandboxed even when opened directly.
 */
const MAIL_PART_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation";

/** The iframe's sandbox: no scripts, no same-origin access; links may open at the top level on a click. */
export const MAIL_FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation";

type Row = Awaited<ReturnType<ReturnType<typeof outboxRepo>["latest"]>>[number];


const wantsHtml = (c: Context<AppEnv>) => (c.req.header("Accept") ?? "").includes("text/html");

function send(c: Context<AppEnv>, html: string, csp = MAILBOX_CSP): Response {
  c.header("Content-Security-Policy", csp);
  c.header("Cache-Control", "no-store");
  return c.html(html);
}

const Shell = ({ title, children }: { title: string; children: unknown }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · keel dev mailbox`}</title>
      <link rel="stylesheet" href={PAGE_STYLESHEET} />
    </head>
    <body>
      <header class="masthead">
        <span class="brand">keel</span> · development mailbox
      </header>
      <main class="card wide">{children}</main>
    </body>
  </html>
);

const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

function MailList({ rows, to }: { rows: Row[]; to: string }) {
  return (
    <Shell title="Mailbox">
      <h1>Mailbox</h1>
      <p class="meta">Emails keel “sent” while running locally, newest first. Nothing here leaves this machine.</p>
      <form method="get" action="/dev/mailbox" class="filter">
        <div class="field">
          <label for="to">Only messages to</label>
          <input id="to" name="to" type="email" value={to} autocomplete="off" />
        </div>
        <button type="submit">Filter</button> {to ? <a href="/dev/mailbox">Show all</a> : null}
      </form>
      {rows.length === 0 ? (
        <p>No messages yet.</p>
      ) : (
        <table>
          <caption class="meta">{rows.length} message(s)</caption>
          <thead>
            <tr>
              <th scope="col">Received (UTC)</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Template</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>{when(r.createdAt)}</td>
                <td>{r.toAddress}</td>
                <td>
                  <a href={`/dev/mailbox/${encodeURIComponent(r.id)}`}>{r.subject}</a>
                </td>
                <td>{r.template}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Shell>
  );
}

function MailView({ row, text }: { row: Row; text: string }) {
  return (
    <Shell title={row.subject}>
      <p>
        <a href="/dev/mailbox">← All messages</a>
      </p>
      <h1>{row.subject}</h1>
      <p class="meta">
        To {row.toAddress} · {when(row.createdAt)} UTC · template {row.template} · {row.status}
      </p>
      <iframe
        class="mail-frame"
        title={`HTML part of “${row.subject}”`}
        src={`/dev/mailbox/${encodeURIComponent(row.id)}/html`}
        sandbox={MAIL_FRAME_SANDBOX}
        referrerpolicy="no-referrer"
      />
      <h2>Plain-text part</h2>
      <pre class="mail-text">{text}</pre>
    </Shell>
  );
}

/**
 * Links in the message open in the top window (the sandbox allows that on a click only), so a
 * verification link leaves the mailbox for keel's page, as it would from a mail client.
 */
function framedPart(html: string): string {
  const base = '<base target="_top">';
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => `${m}${base}`) : html.replace(/<html[^>]*>/i, (m) => `${m}<head>${base}</head>`);
}

/** Registers the HTML views; must run before the JSON route of /dev/mailbox. */
export function registerMailboxPages(app: App): void {
  async function mailbox(c: Context<AppEnv>, next: Next) {
    if (!c.var.ctx.config.isDevelopment || !wantsHtml(c)) return next();
    const to = (c.req.query("to") ?? "").trim().toLowerCase();
    const rows = await outboxRepo(c.var.ctx.db).latest(100, to || undefined);
    return send(c, `<!doctype html>${String(<MailList rows={rows} to={to} />)}`);
  }
  app.use("/dev/mailbox", mailbox);

  const message = async (c: Context<AppEnv>, id: string) => {
    if (!c.var.ctx.config.isDevelopment) throw new AppError("not_found", `No route for GET ${c.req.path}`);
    const row = await outboxRepo(c.var.ctx.db).get(id);
    if (!row) throw new AppError("not_found", "No such message");
    return row;
  };
  // Bodies are sealed at rest (email/outbox.repo.ts); the local mailbox shows them opened.
  app.get("/dev/mailbox/:id", async (c) => {
    const row = await message(c, c.req.param("id"));
    const { text } = await openOutboxBodies(c.var.ctx, row);
    return send(c, `<!doctype html>${String(<MailView row={row} text={text} />)}`);
  });
  app.get("/dev/mailbox/:id/html", async (c) => {
    const row = await message(c, c.req.param("id"));
    c.header("Referrer-Policy", "no-referrer");
    return send(c, framedPart((await openOutboxBodies(c.var.ctx, row)).html), MAIL_PART_CSP);
  });
}
