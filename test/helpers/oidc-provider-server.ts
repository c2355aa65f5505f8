/**
 * A real OpenID provider for the tests (panva's oidc-provider, the certified Node implementation):
 * one test client, no consent screen, devInteractions' own login form.
 *
 * Accounts: any login name signs in. The subject is the login name; the email is the login name
 * when it holds an "@", else `<login>@idp.example`; a login starting with "unverified" gets
 * `email_verified: false`; a login starting with "mfa" signs in with `amr: ["pwd", "otp"]` (the
 * provider's own MFA). So the two test users "alice" and "unverified-bob", and any other a test needs.
 */
import http from "node:http";
import Provider from "oidc-provider";

export const OIDC_TEST_CLIENT = { client_id: "keel-test", client_secret: "keel-test-secret-keel-test-secret" };

function account(id: string) {
  const email = id.includes("@") ? id : `${id}@idp.example`;
  return {
    accountId: id,
    claims: async () => ({ sub: id, email, email_verified: !id.startsWith("unverified"), name: `IdP ${id}` }),
  };
}

function provider(issuer: string, redirectUris: string[]) {
  const p = new Provider(issuer, {
    clients: [{ ...OIDC_TEST_CLIENT, redirect_uris: redirectUris, token_endpoint_auth_method: "client_secret_basic" }],
    // amr in the openid scope: every ID token says how the person signed in (the session's amr).
    claims: { acr: null, auth_time: null, sid: null, openid: ["sub", "amr"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx: unknown, id: string) => account(id),
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ["keel-test-cookie-key"] },
    // Short enough that a test moving keel's clock by minutes sees an expired ID token.
    ttl: { IdToken: 60, AccessToken: 60, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
    // First-party test client: no consent screen, the grant is made at login.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async loadExistingGrant(ctx: any) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  // devInteractions' login form, finished here so the session records how the person signed in (amr).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  p.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method !== "POST" || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const body = await new Promise<string>((resolve) => {
      let data = "";
      ctx.req.on("data", (chunk: Buffer) => (data += chunk.toString()));
      ctx.req.on("end", () => resolve(data));
    });
    const form = new URLSearchParams(body);
    const login = form.get("login");
    if (form.get("prompt") !== "login" || !login) throw new Error("unexpected interaction");
    ctx.respond = false;
    await p.interactionFinished(ctx.req, ctx.res, { login: { accountId: login, amr: login.startsWith("mfa") ? ["pwd", "otp"] : ["pwd"] } }, { mergeWithLastSubmission: false });
  });
  return p;
}

/** Starts a provider with issuer http://127.0.0.1:<port>; resolves to its stop function. */
export function startTestProvider(port: number, redirectUris: string[]): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(provider(`http://127.0.0.1:${port}`, redirectUris).callback());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }),
    );
  });
}
