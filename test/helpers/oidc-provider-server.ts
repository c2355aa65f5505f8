/**
 * A real OpenID provider for the tests (panva's oidc-provider, the certified Node implementation):
 * one test client, no consent screen, devInteractions' own login form.
 *
 * Accounts: any login name signs in. The subject is the login name; the email is the login name
 * when it holds an "@", else `<login>@idp.example`; a login starting with "unverified" gets
 * `email_verified: false`. So the two test users "alice" and "unverified-bob", and any other a
 * test needs.
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
  return new Provider(issuer, {
    clients: [{ ...OIDC_TEST_CLIENT, redirect_uris: redirectUris, token_endpoint_auth_method: "client_secret_basic" }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
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
