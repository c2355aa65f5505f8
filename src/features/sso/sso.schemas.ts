import { z } from "@hono/zod-openapi";
import { ORG_ROLES } from "../../db/org-roles";
import { normalizeDomain } from "./domains";

/** Roles a first SSO sign-in may join with: never owner (an identity provider must not mint owners). */
const JOIN_ROLES = ORG_ROLES.filter((r) => r !== "owner") as [Exclude<(typeof ORG_ROLES)[number], "owner">, ...Exclude<(typeof ORG_ROLES)[number], "owner">[]];

export const SsoConfigInput = z
  .strictObject({
    issuer: z.string().trim().min(1).max(2048).openapi({ description: "The provider's issuer URL (https; http://127.0.0.1 or localhost in development only)", example: "https://login.example.com/realms/acme" }),
    client_id: z.string().trim().min(1).max(512),
    client_secret: z.string().min(1).max(4096).optional().openapi({ description: "Write only: sealed at rest, never returned. Required on the first PUT; leave it out to keep the stored one." }),
    enforce_sso: z.boolean().default(false).openapi({ description: "Password, email-code and social sign-in of an address at a verified domain answer 403 `sso_required`" }),
    default_role: z.enum(JOIN_ROLES).default("member").openapi({ description: "The role a first SSO sign-in joins with" }),
    enabled: z.boolean().default(true),
  })
  .openapi("SsoConfigInput");

export const SsoSignInSchema = z.object({ at: z.string(), email: z.string(), outcome: z.string() }).openapi("SsoSignIn");

export const SsoConfigSchema = z
  .object({
    organization_id: z.string(),
    issuer: z.string(),
    client_id: z.string(),
    client_secret_set: z.literal(true),
    enforce_sso: z.boolean(),
    default_role: z.enum(JOIN_ROLES),
    enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    recent: z.array(SsoSignInSchema).openapi({ description: "The last 20 SSO sign-ins and errors, newest first" }),
  })
  .openapi("SsoConfig");

export const DomainInput = z
  .strictObject({
    domain: z
      .string()
      .max(255)
      .transform((v, ctx) => {
        const d = normalizeDomain(v);
        if (d === null) {
          ctx.addIssue({ code: "custom", message: "Not a domain name (e.g. example.com)" });
          return z.NEVER;
        }
        return d;
      })
      .openapi({ type: "string", example: "example.com" }),
  })
  .openapi("DomainInput");

export const DomainSchema = z
  .object({
    domain: z.string(),
    verification_record: z.object({ type: z.literal("TXT"), name: z.string(), value: z.string() }).openapi({ description: "Publish this TXT record, then POST …/verify" }),
    verified_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("OrgDomain");

export const DomainList = z.object({ items: z.array(DomainSchema) }).openapi("OrgDomainList");

export const DomainParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
  domain: z.string().min(1).max(255).openapi({ param: { name: "domain", in: "path" }, example: "example.com" }),
});
