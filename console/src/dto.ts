// The API's DTOs as the console uses them: names for the schemas of api-types.ts, which
// `npm run types:api` generates from the app's /openapi.json. No hand-typed copies.
import type { components } from "./api-types";

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type CookieTokens = Schemas["CookieTokens"];
export type FieldError = NonNullable<Schemas["Problem"]["errors"]>[number];
export type SessionRow = Schemas["Session"];
export type ApiKey = Schemas["ApiKey"];
export type CreatedApiKey = Schemas["CreatedApiKey"];
export type AuditEvent = Schemas["AuditEvent"];
export type Org = Schemas["AdminOrganization"];
export type OrgPage = Schemas["AdminOrganizationPage"];
export type Member = Schemas["Member"];
export type MemberPage = Schemas["MemberPage"];
export type UserPage = Schemas["AdminUserPage"];
export type BulkResult = Schemas["AdminBulkResult"];
export type MyOrg = Schemas["Organization"];
export type MyOrgPage = Schemas["OrganizationPage"];
export type SsoConfig = Schemas["SsoConfig"];
export type OrgDomain = Schemas["OrgDomain"];
export type OrgDomainList = Schemas["OrgDomainList"];
export type Passkey = Schemas["Passkey"];
