import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { Notice, Page, sendPage } from "../pages/page-layout";
import { CONSOLE, form, sameOriginForms } from "../pages/page-forms";
import { describeUnsubscribe, unsubscribe } from "./unsubscribe.service";

// The page of the unsubscribe link (features/pages/page-forms.tsx says how every emailed-link page
// behaves).

/** The unsubscribe token is signed, not stored: same bounds as `/api/v1/unsubscribe`. */
const UnsubscribeForm = z.object({ token: z.string().trim().min(1).max(1000) });

// ---------------------------------------------------------------------------------------------
// /unsubscribe (the link in alert and digest emails; the same verb as /api/v1/unsubscribe)

const UNSUBSCRIBE_TITLE = "Unsubscribe";

const BadUnsubscribeLink = () => (
  <Notice kind="error">
    <p>This unsubscribe link is not valid. Open the link from the email again, or copy the whole address into the browser.</p>
    <p>You can also turn emails off in keel: your alerts, or the digest frequency in your preferences.</p>
  </Notice>
);

/** The GET page and POST form of /unsubscribe. */
export function registerUnsubscribePage(app: App): void {
  app.get("/unsubscribe", async (c) => {
    const input = UnsubscribeForm.safeParse({ token: c.req.query("token") ?? "" });
    if (!input.success) return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    let what;
    try {
      what = await describeUnsubscribe(c.var.ctx, input.data.token);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "validation_failed") throw err;
      return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    }
    return sendPage(
      c,
      <Page title={UNSUBSCRIBE_TITLE}>
        <form method="post" action="/unsubscribe">
          {what.kind === "alert" ? (
            <p>
              Press the button to stop emails for {what.alertName ? <>the alert <strong>{what.alertName}</strong></> : "this alert"}. The alert keeps running; its other notifications are unchanged.
            </p>
          ) : (
            <p>Press the button to stop the daily or weekly digest emails. Your alerts keep running.</p>
          )}
          <input type="hidden" name="token" value={input.data.token} />
          <button type="submit">{what.kind === "alert" ? "Stop emails for this alert" : "Stop digest emails"}</button>
        </form>
      </Page>,
    );
  });

  app.post("/unsubscribe", sameOriginForms, async (c) => {
    const input = UnsubscribeForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    let result;
    try {
      result = await unsubscribe(c.var.ctx, input.data.token);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "validation_failed") throw err;
      return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    }
    return sendPage(
      c,
      <Page title="Unsubscribed">
        <Notice kind="ok">
          <p>{result.unsubscribed === "alert" ? "You will no longer get emails for this alert." : "You will no longer get digest emails."}</p>
        </Notice>
        <p>
          <a href={CONSOLE}>Open keel</a> to change your alerts or preferences.
        </p>
      </Page>,
    );
  });
}

