import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { grantRole } from "./fixtures";
import { call, callWithConfig, json, signedInUser, unique } from "./harness";

/** A signed-in administrator (admin role → admin:system) with an ingest API key. */
export async function tenderAdmin() {
  const admin = await signedInUser();
  await grantRole(admin.user.id, "admin");
  // No access cache for these calls, so the grant counts at once.
  const res = await callWithConfig({ ACCESS_CACHE_SECONDS: "0" }, "me/api-keys", { body: { name: "ingest", scopes: ["write:tenders", "read:tenders"] }, token: admin.token });
  expect(res.status).toBe(201);
  const { key } = await json<{ key: string }>(res);
  return { ...admin, key };
}

export interface TenderIn {
  external_id?: string;
  title: string;
  description?: string | null;
  department?: string | null;
  state?: string | null;
  portal?: string | null;
  value?: number | null;
  currency?: string;
  published_at?: string | null;
  closing_date?: string | null;
  url?: string | null;
}

const DAY = 86_400_000;
export const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/** Ingests tenders with the admin's key; returns the counts. Missing external ids get unique ones. */
export async function ingest(key: string, tenders: TenderIn[]) {
  const body = { tenders: tenders.map((t) => ({ external_id: unique("EXT-"), closing_date: inDays(30), ...t })) };
  const res = await call("tenders", { body, apiKey: key });
  expect(res.status, await res.clone().text()).toBe(200);
  return { ...(await json<{ inserted: number; updated: number }>(res)), sent: body.tenders };
}

/** The id of a tender by external id. */
export async function tenderId(externalId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM tenders WHERE external_id = ?").bind(externalId).first<{ id: string }>();
  if (!row) throw new Error(`no tender ${externalId}`);
  return row.id;
}

export interface TenderOut {
  id: string;
  external_id: string;
  title: string;
  state: string | null;
  department: string | null;
  value: number | null;
  closing_date: string | null;
  urgent: boolean;
}

export async function listTenders(token: string, query: Record<string, string>) {
  const res = await call(`tenders?${new URLSearchParams(query)}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ items: TenderOut[]; next_cursor: string | null }>(res);
}
