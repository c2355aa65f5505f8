import { env } from "cloudflare:workers";
import { call, json, signedInUser } from "./harness";

/** Grants a built-in role directly in D1 (how the first administrator of a deployment is made). */
export const grantInD1 = (userId: string, role: "admin" | "superuser" | "moderator", expiresAt: number | null = null) =>
  env.DB.prepare("INSERT INTO user_roles (id, user_id, role_id, expires_at) VALUES (?, ?, ?, ?)")
    .bind(`uro_${userId}_${role}`, userId, `role_${role}`, expiresAt)
    .run();

/** A signed-in user holding `role`, granted in D1. */
export async function signedInWithRole(role: "admin" | "superuser" = "admin") {
  const signed = await signedInUser();
  await grantInD1(signed.user.id, role);
  return signed;
}

export async function apiKeyFor(token: string, scopes: string[] = ["read:profile"]): Promise<string> {
  const res = await call("me/api-keys", { body: { name: "k", scopes }, token });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${await res.text()}`);
  return (await json<{ key: string }>(res)).key;
}

export const auditRows = async (userId: string, action: string) =>
  (await env.DB.prepare("SELECT * FROM audit_log WHERE user_id = ? AND action = ? ORDER BY id").bind(userId, action).all<Record<string, unknown>>()).results;
