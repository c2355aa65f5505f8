import type { Child } from "hono/jsx";
import { useCallback, useEffect, useState } from "hono/jsx/dom";
import { ApiError } from "./api";

// Routing: the console lives under /console; the worker's asset router serves index.html for
// any of its paths (single-page-application), and history.pushState moves between views.

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((fn) => fn()));

export function navigate(path: string): void {
  if (location.pathname + location.search === path) return;
  history.pushState(null, "", path);
  listeners.forEach((fn) => fn());
  window.scrollTo(0, 0);
}

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return { path: location.pathname.replace(/\/+$/, "") || "/", search: new URLSearchParams(location.search) };
}

export function Link({ href, children, class: cls, current }: { href: string; children: Child; class?: string; current?: boolean }) {
  return (
    <a
      href={href}
      class={cls}
      aria-current={current ? "page" : undefined}
      onClick={(e: MouseEvent) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/**
 * The error state and runner of a console action: `run(work, ...loaded)` clears the last error,
 * runs `work`, then reloads what it changed; a failure is kept in `error` as an ApiError (an
 * ErrorNotice shows it, `error.field(name)` beside its input; a failed fetch is code `network`).
 * Resolves whether the action succeeded.
 */
export function useAction() {
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (work: () => Promise<unknown>, ...loaded: Pick<Loaded<unknown>, "reload">[]): Promise<boolean> => {
    setError(null);
    try {
      await work();
      for (const l of loaded) l.reload();
      return true;
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "network", String(err)));
      return false;
    }
  };
  return { error, setError, run };
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? ` (${error.code})` : "";
  return (
    <div class="notice notice-error" role="alert">
      <p>
        {message}
        {code}
      </p>
    </div>
  );
}

export function Notice({ kind, children }: { kind: "ok" | "info"; children: Child }) {
  return (
    <div class={`notice notice-${kind}`} role="status">
      {children}
    </div>
  );
}

/** A labelled input; `errors` (from the API's problem) are shown next to it. */
export function Field(props: {
  name: string;
  label: string;
  type?: string;
  value?: string | number | null;
  autocomplete?: string;
  required?: boolean;
  errors?: string[];
  hint?: string;
  inputmode?: "numeric" | "text" | "email";
  idPrefix?: string;
}) {
  const id = `${props.idPrefix ?? "f"}-${props.name}`;
  const errs = props.errors ?? [];
  const describedBy = [props.hint ? `${id}-hint` : "", errs.length ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <div class="hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        autocomplete={props.autocomplete}
        required={props.required}
        inputmode={props.inputmode}
        aria-invalid={errs.length ? "true" : undefined}
        aria-describedby={describedBy}
      />
      {errs.length ? (
        <ul class="field-errors" id={`${id}-err`}>
          {errs.map((m) => (
            <li>{m}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function Select(props: { name: string; label: string; options: readonly (string | [string, string])[]; value?: string; idPrefix?: string }) {
  const id = `${props.idPrefix ?? "f"}-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name}>
        {props.options.map((o) => {
          const [value, label] = typeof o === "string" ? [o, o || "any"] : o;
          return (
            <option value={value} selected={value === (props.value ?? "")}>
              {label}
            </option>
          );
        })}
      </select>
    </div>
  );
}

/** What an empty view says on first use: what will appear here, and how to get there. */
export function EmptyHint({ children }: { children: Child }) {
  return (
    <p class="empty-hint" role="note">
      {children}
    </p>
  );
}

/** The string fields of a submitted form. */
export function formValues(e: Event): Record<string, string> {
  e.preventDefault();
  const out: Record<string, string> = {};
  new FormData(e.currentTarget as HTMLFormElement).forEach((v, k) => {
    if (typeof v === "string") out[k] = v;
  });
  return out;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—");

/**
 * A two-step action: the first button asks, the second confirms. Every state-changing admin
 * action goes through it.
 */
export function ConfirmButton({ label, question, onConfirm, danger }: { label: string; question: string; onConfirm: () => Promise<void> | void; danger?: boolean }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={danger ? "danger" : "secondary"} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span class="confirm-q">{question}</span>
      <button
        type="button"
        class={danger ? "danger" : ""}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        Confirm
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
