import { describe, expect, it } from "vitest";
import { call, expectProblem, json, signedInUser } from "./helpers/harness";

type Profile = Record<string, unknown> & { profile_completion_percentage: number };

describe("GET/PATCH /me/profile", () => {
  it("exists from registration on, with the seed's defaults and 0 % completion", async () => {
    const { token } = await signedInUser();
    const res = await call("me/profile", { token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      company_name: null,
      industry_sector: [],
      notification_preferences: { email: true, sms: false, push: true },
      timezone: "Asia/Kolkata",
      language_preference: "en",
      profile_completion_percentage: 0,
    });
  });

  it("changes only the fields sent, null clears, and the completion percentage follows", async () => {
    const { token } = await signedInUser();
    const first = await json<Profile>(
      await call("me/profile", { method: "PATCH", token, body: { company_name: "Acme Infra", pan_number: "abcde1234f", industry_sector: ["construction", "construction", "it"] } }),
    );
    expect(first).toMatchObject({ company_name: "Acme Infra", pan_number: "ABCDE1234F", industry_sector: ["construction", "it"], timezone: "Asia/Kolkata" });
    expect(first.profile_completion_percentage).toBe(20); // 3 of 15 parts

    const full = {
      designation: "Director",
      gst_number: "27ABCDE1234F1Z5",
      company_registration_number: "U45200MH2001PTC123456",
      annual_turnover_range: "5-10cr",
      employee_count_range: "50-100",
      years_in_business: 12,
      operating_states: ["Bihar", "Jharkhand"],
      head_office_city: "Patna",
      head_office_state: "Bihar",
      preferred_tender_types: ["works"],
      min_tender_value: 1_000_000,
      max_tender_value: 50_000_000,
      specializations: ["highway construction"],
      notification_preferences: { email: true, sms: true, push: false },
      timezone: "Europe/Berlin",
      language_preference: "hi-IN",
    };
    const second = await json<Profile>(await call("me/profile", { method: "PATCH", token, body: full }));
    expect(second).toMatchObject({ ...full, company_name: "Acme Infra", profile_completion_percentage: 100 });

    const cleared = await json<Profile>(await call("me/profile", { method: "PATCH", token, body: { company_name: null, specializations: [] } }));
    expect(cleared).toMatchObject({ company_name: null, specializations: [], designation: "Director" });
    expect(cleared.profile_completion_percentage).toBe(86); // 13 of 15
    expect(await json(await call("me/profile", { token }))).toEqual(cleared);

    const activity = await json<{ items: { action: string; details: { fields: string[] } }[] }>(await call("me/activity", { token }));
    expect(activity.items[0]).toMatchObject({ action: "user.profile_updated", details: { fields: ["company_name", "specializations"] } });
    expect(JSON.stringify(activity.items)).not.toContain("ABCDE1234F");
  });

  it("answers 422 with errors[].path for a bad timezone, bad PAN/GSTIN, oversize arrays, unknown fields", async () => {
    const { token } = await signedInUser();
    const cases: [Record<string, unknown>, string][] = [
      [{ timezone: "Mars/Olympus" }, "timezone"],
      [{ timezone: "+05:30" }, "timezone"],
      [{ pan_number: "ABCD1234F" }, "pan_number"],
      [{ gst_number: "27ABCDE1234F1Y5" }, "gst_number"],
      [{ operating_states: Array.from({ length: 51 }, (_, i) => `State ${i}`) }, "operating_states"],
      [{ specializations: ["x".repeat(101)] }, "specializations.0"],
      [{ industry_sector: [""] }, "industry_sector.0"],
      [{ min_tender_value: 10, max_tender_value: 5 }, "min_tender_value"],
      [{ min_tender_value: -1 }, "min_tender_value"],
      [{ years_in_business: 1.5 }, "years_in_business"],
      [{ notification_preferences: { email: "yes" } }, "notification_preferences.email"],
      [{ language_preference: "english!" }, "language_preference"],
      [{ email: "x@example.com" }, "(root)"],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await call("me/profile", { method: "PATCH", token, body }), 422, "validation_failed");
      expect(problem.errors?.map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect((await json<Profile>(await call("me/profile", { token }))).timezone).toBe("Asia/Kolkata");
  });

  it("keeps min ≤ max against the stored bound", async () => {
    const { token } = await signedInUser();
    expect((await call("me/profile", { method: "PATCH", token, body: { max_tender_value: 100 } })).status).toBe(200);
    const problem = await expectProblem(await call("me/profile", { method: "PATCH", token, body: { min_tender_value: 200 } }), 422, "validation_failed");
    expect(problem.errors?.[0]?.path).toBe("min_tender_value");
    expect(await json(await call("me/profile", { token }))).toMatchObject({ min_tender_value: null, max_tender_value: 100 });
    // Clearing the other bound in the same request makes it acceptable.
    expect(await json(await call("me/profile", { method: "PATCH", token, body: { min_tender_value: 200, max_tender_value: null } }))).toMatchObject({
      min_tender_value: 200,
      max_tender_value: null,
    });
  });

  it("is reachable with an API key holding read:profile / write:profile, not without", async () => {
    const { token } = await signedInUser();
    const { key } = await json<{ key: string }>(await call("me/api-keys", { token, body: { name: "ro", scopes: ["read:profile"] } }));
    expect((await call("me/profile", { apiKey: key })).status).toBe(200);
    await expectProblem(await call("me/profile", { method: "PATCH", apiKey: key, body: { company_name: "X" } }), 403, "insufficient_scope");
  });
});

describe("GET/PATCH /me/preferences", () => {
  it("has every seed default and changes only what is sent", async () => {
    const { token } = await signedInUser();
    const defaults = await json(await call("me/preferences", { token }));
    expect(defaults).toMatchObject({
      default_view: "grid",
      tenders_per_page: 25,
      default_sort: "closing_date",
      quiet_hours_start: null,
      quiet_hours_end: null,
      max_alerts_per_day: 50,
      email_digest_frequency: "daily",
      email_digest_time: "09:00",
      show_expired_tenders: false,
      highlight_urgent_tenders: true,
      profile_visibility: "private",
      enable_ai_recommendations: true,
      enable_smart_suggestions: true,
      preferences_json: {},
    });
    const patched = await json(
      await call("me/preferences", {
        method: "PATCH",
        token,
        body: { quiet_hours_start: "22:00", quiet_hours_end: "07:30", email_digest_frequency: "weekly", preferences_json: { theme: "dark" } },
      }),
    );
    expect(patched).toMatchObject({ quiet_hours_start: "22:00", quiet_hours_end: "07:30", email_digest_frequency: "weekly", preferences_json: { theme: "dark" }, default_view: "grid" });
    expect(await json(await call("me/preferences", { method: "PATCH", token, body: { quiet_hours_start: null } }))).toMatchObject({
      quiet_hours_start: null,
      quiet_hours_end: "07:30",
    });
  });

  it("answers 422 with errors[].path for bad HH:MM, enums, ranges and oversize JSON", async () => {
    const { token } = await signedInUser();
    const cases: [Record<string, unknown>, string][] = [
      [{ quiet_hours_start: "24:00" }, "quiet_hours_start"],
      [{ quiet_hours_end: "7:30" }, "quiet_hours_end"],
      [{ email_digest_time: "09:60" }, "email_digest_time"],
      [{ email_digest_time: null }, "email_digest_time"],
      [{ email_digest_frequency: "hourly" }, "email_digest_frequency"],
      [{ tenders_per_page: 1000 }, "tenders_per_page"],
      [{ preferences_json: { blob: "x".repeat(9000) } }, "preferences_json"],
      [{ theme: "dark" }, "(root)"],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await call("me/preferences", { method: "PATCH", token, body }), 422, "validation_failed");
      expect(problem.errors?.map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect(await json(await call("me/preferences", { token }))).toMatchObject({ quiet_hours_start: null, email_digest_time: "09:00" });
  });
});
