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
  const label = count === null ? "Notifications" : `Notifications: ${count} unread`;
  return (
    <span class="bell" role="status" aria-live="polite" aria-label={label} title={latest ? `Latest: ${latest}` : label} data-unread={count ?? ""}>
      <span aria-hidden="true">🔔</span>
      <span class="bell-count" data-testid="bell-count">{count ?? "–"}</span>
    </span>
  );
}
