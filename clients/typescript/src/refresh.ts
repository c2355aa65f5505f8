/**
 * Access tokens with a single-flight refresh. keel rotates refresh tokens: each one is spent by
 * its first use, and presenting a spent one revokes the whole session (401 `token_reused`). So
 * when several requests fail with 401 at once, exactly ONE refresh may run; the others wait for it
 * and retry with its access token. A request that failed with an access token already replaced
 * retries with the current one without refreshing again.
 */

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export interface TokenRefresherOptions {
  /** keel's origin, e.g. `https://api.example.com`. */
  baseUrl: string;
  tokens?: Tokens | null;
  /** Called with every new pair (store the refresh token where your app keeps it). */
  onTokens?: (tokens: Tokens) => void;
  /** Called once the session cannot be refreshed (refresh token spent, revoked or expired). */
  onSessionEnded?: () => void;
  fetch?: typeof fetch;
}

export class TokenRefresher {
  #tokens: Tokens | null;
  #inflight: Promise<string | null> | null = null;
  /** How many refreshes were sent (for tests and metrics). */
  refreshCount = 0;

  constructor(private readonly opts: TokenRefresherOptions) {
    this.#tokens = opts.tokens ?? null;
  }

  get accessToken(): string | null {
    return this.#tokens?.access_token ?? null;
  }

  setTokens(tokens: Tokens | null): void {
    this.#tokens = tokens;
  }

  /**
   * A fresh access token after `failed` was refused: the current one if it already differs,
   * else the result of the one refresh in flight (started here if none). null: signed out.
   */
  refresh(failed: string | null): Promise<string | null> {
    const current = this.accessToken;
    if (current !== null && current !== failed) return Promise.resolve(current);
    this.#inflight ??= this.#refreshNow().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refreshNow(): Promise<string | null> {
    const refreshToken = this.#tokens?.refresh_token;
    if (!refreshToken) return null;
    this.refreshCount += 1;
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(`${this.opts.baseUrl}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch {
      return null; // network failure: keep the tokens, the next 401 tries again
    }
    if (res.status === 200) {
      const body = (await res.json()) as Tokens;
      this.#tokens = { access_token: body.access_token, refresh_token: body.refresh_token };
      this.opts.onTokens?.(this.#tokens);
      return this.#tokens.access_token;
    }
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      this.#tokens = null;
      this.opts.onSessionEnded?.();
    }
    return null;
  }

  /**
   * A `fetch` that sends the access token (unless the request carries its own credentials) and,
   * on 401, refreshes once (single-flight) and retries the request once.
   */
  fetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const ownCredentials = request.headers.has("Authorization") || request.headers.has("X-API-Key");
    const token = this.accessToken;
    if (ownCredentials || token === null) return (this.opts.fetch ?? fetch)(request);
    const retry = request.clone();
    request.headers.set("Authorization", `Bearer ${token}`);
    const res = await (this.opts.fetch ?? fetch)(request);
    if (res.status !== 401) return res;
    const fresh = await this.refresh(token);
    if (fresh === null) return res;
    await res.body?.cancel();
    retry.headers.set("Authorization", `Bearer ${fresh}`);
    return (this.opts.fetch ?? fetch)(retry);
  };
}
