import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App, AppEnv } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { rateLimitIp } from "../../platform/rate-limit";
import { CONSOLE } from "../pages/page-forms";
import { Notice, Page, sendPage } from "../pages/page-layout";
import { deviceTypeOf } from "../tenders/tenders.service";
import { recordEmailClick, tenderExists } from "./tender-links.repo";
import { tenderPageUrl, verifyTenderLink } from "./tender-links";

const html = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

const linkRoute = createRoute({
  method: "get",
  path: "/l/{signed}",
  tags: ["Service"],
  summary: "An emailed tender link: records the click, 302 to the tender's page",
  description: "Signed for its recipient; records an `email_click` and redirects to `${EMAIL_LINK_BASE_URL}/tenders/{id}`, else `/console/tenders/{id}`. Refusals are HTML pages.",
  request: { params: z.object({ signed: z.string() }) },
  responses: {
    302: { description: "To the tender's page", headers: z.object({ Location: z.string() }) },
    400: html("Forged or expired link"),
    404: html("Tender deleted"),
    429: html("RATE_TENDER_LINK_PER_IP"),
  },
});

const TITLE = "Tender link";

export function registerTenderLinks(app: App): void {
  app.openapi(linkRoute, async (c) => openTenderLink(c, c.req.valid("param").signed));
}

async function openTenderLink(c: Context<AppEnv>, signed: string): Promise<Response> {
  const ctx = c.var.ctx;
  try {
    await rateLimitIp(ctx, "tender-link", ctx.config.RATE_TENDER_LINK_PER_IP);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== "rate_limited") throw err;
    if (err.extra.retryAfter !== undefined) c.header("Retry-After", String(err.extra.retryAfter));
    return sendPage(
      c,
      <Page title={TITLE}>
        <Notice kind="error">
          <p>Too many links were opened from this network. Wait a few minutes and open the link again.</p>
        </Notice>
      </Page>,
      429,
    );
  }
  const link = verifyTenderLink(ctx.env, ctx.config, signed, ctx.now);
  if (!link) {
    return sendPage(
      c,
      <Page title={TITLE}>
        <Notice kind="error">
          <p>This link is not valid, or it has expired. Open the link from a recent email, or copy the whole address into the browser.</p>
        </Notice>
        <p>
          You can also <a href={CONSOLE}>open keel</a> and find the tender there.
        </p>
      </Page>,
      400,
    );
  }
  const recorded = await recordEmailClick(ctx.db, { ...link, deviceType: deviceTypeOf(ctx.userAgent), now: ctx.now });
  if (!recorded && !(await tenderExists(ctx.db, link.tenderId))) {
    return sendPage(
      c,
      <Page title="Tender not available">
        <Notice kind="info">
          <p>This tender is no longer available: it was withdrawn or removed.</p>
        </Notice>
        <p>
          <a href={CONSOLE}>Open keel</a> to see your other tenders and alerts.
        </p>
      </Page>,
      404,
    );
  }
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  return c.redirect(tenderPageUrl(ctx.config, link.tenderId), 302);
}
