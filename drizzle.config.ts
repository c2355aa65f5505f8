import { defineConfig } from "drizzle-kit";

// Generates SQL migrations from src/db/schema.ts into migrations/ (`npm run db:generate`).
// They are applied with `wrangler d1 migrations apply` (never `drizzle-kit push`: on D1 a table
// rebuild cascades deletes, read every generated file before committing it).
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
