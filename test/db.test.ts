import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { favorites, roles, sessions, tenders, users } from "../src/db/tables";
import { createDb } from "../src/platform/db";
import { newId } from "../src/platform/ids";

const db = createDb(env.DB);

async function insertUser(email = `${newId("x")}@example.com`) {
  const id = newId("usr");
  await db.insert(users).values({ id, email, passwordHash: "$scrypt$x", fullName: "Row Test" });
  return id;
}

async function insertTender(title: string, description: string | null = null) {
  const id = newId("tnd");
  await db.insert(tenders).values({ id, externalId: id, title, description, state: "Bihar", value: 1_000_000 });
  return id;
}

describe("D1 schema (migrations applied)", () => {
  it("inserts and selects through drizzle with typed timestamps, booleans and JSON", async () => {
    const userId = await insertUser();
    const tenderId = await insertTender("Construction of road and bridge");
    const favId = newId("fav");
    await db.insert(favorites).values({ id: favId, userId, tenderId, tags: ["roads", "bihar"], priority: "high" });
    const row = await db.select().from(favorites).where(eq(favorites.id, favId)).get();
    expect(row?.tags).toEqual(["roads", "bihar"]);
    // A millisecond timestamp read back as the instant it was written (not 1970, not ×1000).
    expect(Math.abs(row!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    const user = await db.select().from(users).where(eq(users.id, userId)).get();
    expect(user).toMatchObject({ emailVerified: false, status: "active", accountType: "free", twoFactorEnabled: false });
  });

  it("enforces unique constraints (user+tender favorite, email)", async () => {
    const userId = await insertUser();
    const tenderId = await insertTender("Supply of medical equipment");
    await db.insert(favorites).values({ id: newId("fav"), userId, tenderId });
    const causeOf = (p: Promise<unknown>) => p.then(() => "inserted", (e: { cause?: unknown }) => String(e.cause));
    expect(await causeOf(db.insert(favorites).values({ id: newId("fav"), userId, tenderId }))).toMatch(/UNIQUE constraint failed: favorites.user_id, favorites.tender_id/);
    const email = `${newId("dup")}@example.com`;
    await insertUser(email);
    expect(await causeOf(insertUser(email))).toMatch(/UNIQUE constraint failed: users.email/);
  });

  it("cascades deletes from users to their sessions and favorites", async () => {
    const userId = await insertUser();
    const tenderId = await insertTender("Desilting of canals");
    await db.insert(favorites).values({ id: newId("fav"), userId, tenderId });
    await db.insert(sessions).values({ id: newId("ses"), userId, expiresAt: new Date(Date.now() + 1000) });
    await db.delete(users).where(eq(users.id, userId));
    expect(await db.select().from(favorites).where(eq(favorites.userId, userId))).toHaveLength(0);
    expect(await db.select().from(sessions).where(eq(sessions.userId, userId))).toHaveLength(0);
  });

  it("keeps the FTS5 index in sync on insert, update and delete, ignoring case and accents", async () => {
    const id = await insertTender("Renovation of the Café at District Hospital", "Civil and electrical works");
    const search = async (q: string) =>
      (await env.DB.prepare("SELECT t.id FROM tenders_fts f JOIN tenders t ON t.rowid = f.rowid WHERE tenders_fts MATCH ?").bind(q).all<{ id: string }>())
        .results.map((r) => r.id);
    expect(await search("cafe")).toContain(id);
    expect(await search("ELECTRICAL")).toContain(id);
    await db.update(tenders).set({ title: "Renovation of the canteen" }).where(eq(tenders.id, id));
    expect(await search("cafe")).not.toContain(id);
    expect(await search("canteen")).toContain(id);
    await db.delete(tenders).where(eq(tenders.id, id));
    expect(await search("canteen")).not.toContain(id);
  });

  it("has the built-in roles and permissions", async () => {
    const names = (await db.select({ name: roles.name }).from(roles)).map((r) => r.name).sort();
    expect(names).toEqual(["admin", "moderator", "superuser", "user"]);
    const adminPerms = await db.all<{ name: string }>(sql`
      SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = 'role_admin' ORDER BY p.name`);
    expect(adminPerms.map((p) => p.name)).toEqual(
      expect.arrayContaining(["admin:audit", "admin:roles", "admin:system", "admin:users"]),
    );
  });
});
