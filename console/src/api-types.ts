// The API's types, generated once by `npm run types:api` (scripts/gen-api-types.mjs) into the typed
// client's package; the console uses the same file.
export type * from "../../clients/typescript/src/schema";
