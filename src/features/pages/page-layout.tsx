import type { Context } from "hono";
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The policy of every server-rendered page: nothing but same-origin styles and inline images, no
 * script at all, forms post only to keel, and no page can be framed (clickjacking of the buttons
 * that verify or reset).
 */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The one stylesheet of the pages: a Workers Static Asset (public/static/keel.css). */
export const PAGE_STYLESHEET = "/static/keel.css";

export const Page: FC<PropsWithChildren<{ title: string }>> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="same-origin" />
      <title>{`${title} · keel`}</title>
      <link rel="stylesheet" href={PAGE_STYLESHEET} />
    </head>
    <body>
      <header class="masthead">
        <span class="brand">keel</span>
      </header>
      <main class="card">
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

/** A status box: `role="status"` for good news, `role="alert"` for errors (read out at once). */
export const Notice: FC<PropsWithChildren<{ kind: "ok" | "error" | "info" }>> = ({ kind, children }) => (
  <div class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
    {children}
  </div>
);

/**
 * A labelled input with its errors next to it (`aria-describedby` ties hint and errors to the
 * field, `aria-invalid` marks it).
 */
export const Field: FC<{
  name: string;
  label: string;
  type?: string;
  autocomplete?: string;
  value?: string;
  hint?: Child;
  errors?: string[];
  required?: boolean;
  inputmode?: "numeric" | "email" | "text";
}> = ({ name, label, type = "text", autocomplete, value, hint, errors = [], required = true, inputmode }) => {
  const described = [hint ? `${name}-hint` : null, errors.length ? `${name}-error` : null].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={name}>{label}</label>
      {hint ? (
        <div class="hint" id={`${name}-hint`}>
          {hint}
        </div>
      ) : null}
      <input
        id={name}
        name={name}
        type={type}
        autocomplete={autocomplete}
        value={value}
        required={required}
        inputmode={inputmode}
        aria-invalid={errors.length ? "true" : undefined}
        aria-describedby={described || undefined}
      />
      {errors.length ? (
        <ul class="field-errors" id={`${name}-error`}>
          {errors.map((e) => (
            <li>{e}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
};

/**
 * Sends a page: the strict CSP, no caching (the URL carries a token), and the status that tells
 * what happened (400 bad link, 422 rejected input, 429 slow down).
 */
export function sendPage(c: Context, node: Child, status: ContentfulStatusCode = 200): Response {
  c.header("Content-Security-Policy", PAGE_CSP);
  c.header("Cache-Control", "no-store");
  // The URL carries a token: never sent to another site, but kept for keel's own requests so
  // the forms' Origin is real (no-referrer would make it "null").
  c.header("Referrer-Policy", "same-origin");
  return c.html(`<!doctype html>${String(node)}`, status);
}
