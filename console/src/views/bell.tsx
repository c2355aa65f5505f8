import { useEffect, useState } from "hono/jsx/dom";
import { connectNotifications } from "../live";

/**
 * The notification bell in the header: the unread count, live. The stream's first message is the
 * count, every new notification is followed by the new count, and so is every mark-read (in any tab).
 */
export function Bell({ sessionId }: { sessionId: string }) {
  const [count, setCount] = useState<number | null>(null);
  const [latest, setLatest] = useState<string | null>(null);
  // One stream per session: a new sign-in (another session) starts a new one.
  useEffect(
    () =>
      connectNotifications((m) => {
        if (m.type === "unread_count") setCount(m.count);
        else setLatest(m.notification.title);
      }),
    [sessionId],
  );
  // A polite live region without role="status": the views' own status notices keep that role.
  return (
    <span class="bell" aria-live="polite" title={latest ? `Latest: ${latest}` : "Unread notifications"} data-unread={count ?? ""}>
      <span aria-hidden="true">🔔</span>
      <span class="bell-count" data-testid="bell-count">{count ?? "–"}</span>
      <span class="sr-only"> unread notifications</span>
    </span>
  );
}
