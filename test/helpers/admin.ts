import { env } from "cloudflare:workers";
import { grantRole } from "./fixtures";
import { call, json, signedInUser } from "./harness";

/** A signed-in user holding `role`, granted in D1. */
export async function signedInWithRole(role: "admin" | "superuser" = "admin") {
  const signed = await signedInUser();
  await grantRole(signed.user.id, role);
  return signed;
}

export async function apiKeyFor(token: string, scopes: string[] = ["read:profile"]): Promise<string> {
  const res = await call("me/api-keys", { body: { name: "k", scopes }, token });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${await res.text()}`);
  return (await json<{ key: string }>(res)).key;
}

export const auditRows = async (userId: string, action: string) =>
  (await env.DB.prepare("SELECT * FROM audit_log WHERE user_id = ? AND action = ? ORDER BY id").bind(userId, action).all<Record<string, unknown>>()).results;
