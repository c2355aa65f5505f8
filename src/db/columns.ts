import { sql } from "drizzle-orm";
import { integer, text } from "drizzle-orm/sqlite-core";

// Column conventions shared by every feature's tables: timestamps are integer milliseconds since
// the epoch (drizzle maps them to Date), booleans are 0/1 integers, arrays/objects are JSON text.
export const ts = (name: string) => integer(name, { mode: "timestamp_ms" });
export const createdAt = () => ts("created_at").notNull().default(sql`(unixepoch() * 1000)`);
export const updatedAt = () => ts("updated_at").notNull().default(sql`(unixepoch() * 1000)`);
export const bool = (name: string) => integer(name, { mode: "boolean" });
export const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();
