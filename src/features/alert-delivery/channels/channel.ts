/**
 * Delivery channels. A channel turns one message for one recipient into the statements that
 * deliver it (so a caller's guard and ledger commit with it, in one batch) and what to do once
 * they committed. Built: email (the outbox, then the email queue) and in-app (notifications rows).
 * SMS, WhatsApp and push (seed 000) are not built: no provider here to test them against; a new one
 * is a file beside these, registered in dispatcher.ts's CHANNELS, gated by its own preference key.
 */
import type { SQL } from "drizzle-orm";
import type { RenderedEmail } from "../../../email/templates";
import type { Statement } from "../../../platform/db";
import type { DeliveryContext } from "../delivery.context";
import type { NotificationPrefs } from "../notification-prefs";

export type NotificationType = "alert_match" | "reminder" | "tender_changed" | "system";
export type ChannelName = "email" | "in_app";

/** Who receives it, as the dispatcher loaded them. */
export interface Recipient {
  userId: string;
  email: string;
  name: string;
  timeZone: string;
  language: string;
  prefs: NotificationPrefs;
  quietHours: { start: string; end: string } | null;
  /** A provider refused the address for good: no email. */
  emailSuppressed: boolean;
}

/** One message, already rendered for the recipient (their language and zone). */
export interface ChannelMessage {
  type: NotificationType;
  tenderId: string | null;
  alertId: string | null;
  inApp: { title: string; message: string; actionUrl: string | null };
  email: RenderedEmail;
}

export interface PreparedDelivery {
  statements: Statement[];
  /** After the batch committed, with the results of `statements` (e.g. enqueue the email if its row was written). */
  after?: (results: readonly D1Result[]) => Promise<void>;
  /** The in-app notification ids `statements` may write (the dispatcher pushes them live and emits notification.created). */
  notificationIds?: string[];
}

export interface Channel {
  readonly name: ChannelName;
  /** Whether the recipient's preferences let this type through this channel. */
  accepts(recipient: Recipient, type: NotificationType): boolean;
  /** The statements that deliver `message`, each written only while `guard` holds. */
  prepare(ctx: DeliveryContext, recipient: Recipient, message: ChannelMessage, guard: SQL): Promise<PreparedDelivery>;
  /** prepare, run, after: delivers at once (no caller guard). */
  deliver(ctx: DeliveryContext, recipient: Recipient, message: ChannelMessage): Promise<boolean>;
}
