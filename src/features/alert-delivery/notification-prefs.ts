/**
 * `user_profiles.notification_preferences`, as delivery reads it. The stored object is free-form
 * (the seed's default is `{email: true, sms: false, push: true}`): every key delivery reads that
 * is missing or not a boolean counts as on, so existing rows keep getting what they got.
 * - email: no email of any kind below (alerts, digests, reminders, changes) when false;
 * - in_app: no in-app notification rows when false;
 * - alerts / reminders / changes / digests: that type's email.
 */
export interface NotificationPrefs {
  email: boolean;
  in_app: boolean;
  alerts: boolean;
  reminders: boolean;
  changes: boolean;
  digests: boolean;
}

export const NOTIFICATION_PREF_KEYS = ["email", "in_app", "alerts", "reminders", "changes", "digests"] as const;

/** The type flag that governs each notification type's email. */
export const EMAIL_FLAG_OF = { alert_match: "alerts", reminder: "reminders", tender_changed: "changes", digest: "digests", system: null } as const;

/** Reads the stored JSON (text or object); anything unreadable is all on. */
export function readNotificationPrefs(stored: unknown): NotificationPrefs {
  let o: unknown = stored;
  if (typeof stored === "string") {
    try {
      o = JSON.parse(stored);
    } catch {
      o = {};
    }
  }
  const rec = o !== null && typeof o === "object" ? (o as Record<string, unknown>) : {};
  const on = (k: (typeof NOTIFICATION_PREF_KEYS)[number]) => rec[k] !== false;
  return { email: on("email"), in_app: on("in_app"), alerts: on("alerts"), reminders: on("reminders"), changes: on("changes"), digests: on("digests") };
}

/** Whether an email of this type may go out under these preferences. */
export function emailAllowed(prefs: NotificationPrefs, type: keyof typeof EMAIL_FLAG_OF): boolean {
  const flag = EMAIL_FLAG_OF[type];
  return prefs.email && (flag === null || prefs[flag]);
}
