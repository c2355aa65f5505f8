import { z } from "@hono/zod-openapi";
import { PlainTextName } from "../../platform/plain-text";

// The input shapes of a person's identifying fields, shared by registration, /me, the profile
// and administration.

/** Emails are compared lowercased and trimmed everywhere. */
export const EmailInput = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: "Enter a valid email address" }))
  .transform((e) => e.toLowerCase())
  .openapi({ example: "ada@example.com", type: "string", format: "email" });

/** A person's full name, as registration, the profile and administration take it (it goes into emails: plain text). */
export const FullNameInput = PlainTextName.max(200);

/** A phone number in a loose international form (digits, spaces, brackets, dots, dashes, a leading +). */
export const PhoneInput = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ().-]{5,20}$/, "Enter a phone number");
