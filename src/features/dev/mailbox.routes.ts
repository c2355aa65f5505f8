import { createRoute, z } from "@hono/zod-openapi";
import { openOutboxBodies, outboxRepo } from "../../email/outbox.repo";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { problemResponses } from "../../platform/problem";
import { registerMailboxPages } from "./mailbox.pages";

const MailSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  template: z.string(),
  opened: z.boolean().openapi({ description: "false: the bodies were sealed with another key; text and html then say so" }),
  status: z.enum(["pending", "sent", "failed"]),
  created_at: z.string(),
});

const mailboxRoute = createRoute({
  method: "get",
  path: "/dev/mailbox",
  tags: ["Service"],
  summary: "Emails sent while running locally, newest first (development only)",
  request: {
    query: z.object({
      to: z.string().optional().openapi({ description: "Only messages to this address" }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: {
      description: "The local mailbox. A browser (`Accept: text/html`) gets a page instead; each message opens at `/dev/mailbox/{id}`.",
      content: {
        "application/json": { schema: z.object({ items: z.array(MailSchema) }) },
        "text/html": { schema: z.string() },
      },
    },
    ...problemResponses(404),
  },
});

export function registerDevMailbox(app: App): void {
  registerMailboxPages(app);
  app.openapi(mailboxRoute, async (c) => {
    const { config, db } = c.var.ctx;
    if (!config.isDevelopment) throw new AppError("not_found", `No route for GET ${c.req.path}`);
    const { to, limit } = c.req.valid("query");
    const rows = await outboxRepo(db).latest(limit, to?.trim().toLowerCase());
    // Bodies are sealed at rest; the local mailbox shows them opened, and a row sealed with
    // another key as such (the rest of the list still loads).
    const items = await Promise.all(
      rows.map(async (r) => {
        const { text, html, opened } = await openOutboxBodies(c.var.ctx, r);
        return {
          id: r.id,
          to: r.toAddress,
          subject: r.subject,
          text,
          html,
          template: r.template,
          opened,
          status: r.status,
          created_at: r.createdAt.toISOString(),
        };
      }),
    );
    return c.json({ items }, 200);
  });
}
