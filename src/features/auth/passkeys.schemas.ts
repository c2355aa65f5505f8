import { z } from "@hono/zod-openapi";
import { PlainTextName } from "../../platform/plain-text";
import { EmailInput } from "../users/users.schemas";
import { RefreshTokenDelivery } from "./auth.schemas";

/** A passkey as its owner sees it (never the public key or the counter). */
export const PasskeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    backed_up: z.boolean().openapi({ description: "The credential is backed up (synced), so losing this device does not lose it" }),
    device_type: z.enum(["singleDevice", "multiDevice"]).openapi({ description: "`multiDevice`: a synced passkey; `singleDevice`: bound to one authenticator" }),
    transports: z.array(z.string()),
  })
  .openapi("Passkey");

export const PasskeyListSchema = z.object({ items: z.array(PasskeySchema) }).openapi("PasskeyList");

// Plain text: the name goes into the "passkey added" email.
export const PasskeyName = PlainTextName.max(100);

const ChallengeId = z.string().min(16).max(128).openapi({ description: "The `challenge_id` of the options this response answers" });

/**
 * The browser's `RegistrationResponseJSON` / `AuthenticationResponseJSON` (WebAuthn Level 3,
 * `PublicKeyCredential.toJSON()`): checked in depth by the WebAuthn verification, bounded here.
 */
const CredentialResponse = (description: string) =>
  z
    .object({
      id: z.string().min(1).max(1024),
      rawId: z.string().min(1).max(1024),
      type: z.literal("public-key"),
      response: z.record(z.string(), z.unknown()),
      clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
      authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
    })
    .openapi({ description });

export const RegistrationResponseInput = CredentialResponse("The browser's RegistrationResponseJSON");
export const AuthenticationResponseInput = CredentialResponse("The browser's AuthenticationResponseJSON");

export const PasskeyRegisterVerifyInput = z
  .strictObject({ challenge_id: ChallengeId, response: RegistrationResponseInput, name: PasskeyName.optional() })
  .openapi("PasskeyRegisterVerifyInput");

export const PasskeyLoginOptionsInput = z
  .strictObject({
    email: EmailInput.optional().openapi({ description: "Limit the options to this account's passkeys; without it, any discoverable credential (usernameless, autofill)" }),
  })
  .openapi("PasskeyLoginOptionsInput");

export const PasskeyLoginVerifyInput = z
  .strictObject({
    challenge_id: ChallengeId,
    response: AuthenticationResponseInput,
    device_name: z.string().trim().min(1).max(100).optional(),
    device_token: z.string().max(512).optional(),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .openapi("PasskeyLoginVerifyInput");

export const PasskeyRenameInput = z.strictObject({ name: PasskeyName }).openapi("PasskeyRenameInput");

const ChallengeIdOut = z.string().openapi({ description: "Send back with the response of this ceremony (single-use, 5 minutes)" });

export const RegistrationOptionsSchema = z
  .looseObject({ challenge_id: ChallengeIdOut, challenge: z.string() })
  .openapi("PasskeyRegistrationOptions", { description: "WebAuthn PublicKeyCredentialCreationOptionsJSON plus `challenge_id`" });

export const AuthenticationOptionsSchema = z
  .looseObject({ challenge_id: ChallengeIdOut, challenge: z.string() })
  .openapi("PasskeyAuthenticationOptions", { description: "WebAuthn PublicKeyCredentialRequestOptionsJSON plus `challenge_id`" });
