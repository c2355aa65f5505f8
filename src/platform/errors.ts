import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code of the public contract (docs/api.md), mapped to exactly one status.
 * Codes are never derived from statuses: several codes share 401 or 403.
 */
export const ERRORS = {
  validation_failed: { status: 422, title: "Request validation failed" },
  /** An alert names a state or department no tender has ever had (issue 19; allow_unknown_values skips the check). */
  unknown_criteria_value: { status: 422, title: "No tender has this value" },
  unauthenticated: { status: 401, title: "Authentication required" },
  invalid_credentials: { status: 401, title: "Invalid email or password" },
  token_expired: { status: 401, title: "Token expired" },
  token_reused: { status: 401, title: "Refresh token already used" },
  mfa_required: { status: 401, title: "Second factor required" },
  invalid_mfa_code: { status: 401, title: "Invalid authentication code" },
  reauthentication_required: { status: 401, title: "A recent sign-in is required: POST /auth/reauthenticate" },
  email_not_verified: { status: 403, title: "Email address not verified" },
  account_inactive: { status: 403, title: "Account is not active" },
  password_expired: { status: 403, title: "Password expired" },
  terms_update_required: { status: 403, title: "New terms or privacy policy must be accepted" },
  sso_required: { status: 403, title: "This address signs in through its organization's single sign-on" },
  forbidden: { status: 403, title: "Forbidden" },
  insufficient_scope: { status: 403, title: "API key lacks the required scope" },
  not_found: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  limit_reached: { status: 409, title: "Plan limit reached" },
  account_exists: { status: 409, title: "An account with this email already exists" },
  precondition_failed: { status: 412, title: "The resource changed since the ETag sent in If-Match" },
  payload_too_large: { status: 413, title: "Payload too large" },
  weak_password: { status: 422, title: "Password does not meet the policy" },
  password_reused: { status: 422, title: "Password was used recently" },
  invalid_webhook_url: { status: 422, title: "The webhook URL is not allowed" },
  idempotency_key_reused: { status: 422, title: "This Idempotency-Key was used with another request" },
  account_locked: { status: 423, title: "Account temporarily locked" },
  upgrade_required: { status: 426, title: "This endpoint only answers a WebSocket upgrade" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal server error" },
  service_unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorExtra {
  errors?: FieldError[];
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Extra members of the problem document (e.g. `locked_until`). */
  fields?: Record<string, unknown>;
  /** Override the status of the code; only for `validation_failed` (400 vs 422). */
  status?: ContentfulStatusCode;
}

/** The one error type of keel. `onError` turns it into an RFC 9457 problem document. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extra: AppErrorExtra = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.name = "AppError";
  }

  get status(): ContentfulStatusCode {
    return this.extra.status ?? ERRORS[this.code].status;
  }
}

/** Throws the `not_found` error used for both missing and foreign resources. */
export const notFound = (what: string): never => {
  throw new AppError("not_found", `${what} not found`);
};
