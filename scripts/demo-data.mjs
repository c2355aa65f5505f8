// Local demo data for `npm start`: two verified users and ~50 tenders, as idempotent SQL
// (INSERT OR IGNORE with fixed ids). Every start also restores the two demo accounts (active,
// verified, documented password, no two-factor); `npm run reset` wipes everything else.
// Plain Node >= 20, no dependencies.
import { randomBytes, scrypt } from "node:crypto";

export const DEMO_USERS = [
  {
    id: "usr_demo_admin",
    email: "admin@keel.test",
    password: "keel-local-operator-passphrase",
    fullName: "Keel Admin",
    accountType: "enterprise",
    roles: ["role_admin"],
    profile: { company_name: "Keel", designation: "Platform administrator", head_office_city: "Bengaluru", head_office_state: "Karnataka" },
  },
  {
    id: "usr_demo_member",
    email: "demo@keel.test",
    password: "keel-local-member-passphrase",
    fullName: "Demo Member",
    accountType: "free",
    roles: [],
    profile: {
      company_name: "Demo Infra Projects Pvt Ltd",
      designation: "Bid Manager",
      industry_sector: ["Construction", "Water Supply"],
      operating_states: ["Bihar", "Jharkhand", "Uttar Pradesh"],
      head_office_city: "Patna",
      head_office_state: "Bihar",
      preferred_tender_types: ["Works"],
      min_tender_value: 1000000,
      max_tender_value: 250000000,
      specializations: ["Roads", "Bridges", "Pipelines"],
    },
  },
];

// ---------------------------------------------------------------------------
// Password hashes: exactly the format of src/features/auth/password-hash.ts
// (`$scrypt$ln=14,r=8,p=5$<salt b64>$<hash b64>`, standard base64 without padding, NFKC
// normalised UTF-8 password, 16-byte salt, 32-byte key).

const SCRYPT = { N: 2 ** 14, r: 8, p: 5 };
const MiB = 1024 * 1024;

const b64 = (bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");

export function hashPassword(password) {
  const { N, r, p } = SCRYPT;
  const salt = randomBytes(16);
  const maxmem = Math.max(64 * MiB, 256 * N * r * p + 4 * MiB);
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password.normalize("NFKC"), "utf8"), salt, 32, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(`$scrypt$ln=${Math.log2(N)},r=${r},p=${p}$${b64(salt)}$${b64(key)}`),
    );
  });
}

// ---------------------------------------------------------------------------
// Tenders. [department, state, title, portal, value in INR]

const T = [
  ["Road Construction Department", "Bihar", "Construction of 2-lane road from Bakhtiyarpur to Rajgir with paved shoulders", "eProc Bihar", 184500000],
  ["Public Works Department", "Uttar Pradesh", "Widening and strengthening of Lucknow–Sitapur road (km 12 to km 34)", "UP eTender", 326000000],
  ["National Highways Authority of India", "Jharkhand", "Four-laning of Ranchi–Hazaribagh section of NH-33 including bypass at Ramgarh", "NHAI eTender", 500000000],
  ["Health & Family Welfare", "Bihar", "Supply of medical equipment for district hospitals (ventilators, patient monitors, defibrillators)", "eProc Bihar", 42750000],
  ["Jal Shakti", "Uttar Pradesh", "Rural piped drinking water supply scheme for 38 villages in Banda district under Jal Jeevan Mission", "UP eTender", 276400000],
  ["Indian Railways", "Bihar", "Construction of road over bridge in lieu of level crossing no. 47 near Hajipur station", "IREPS", 98000000],
  ["Central Public Works Department", "Delhi", "Renovation of staff Café and pantry at Nirman Bhawan, New Delhi", "CPPP", 3850000],
  ["Rural Development", "Jharkhand", "Construction of rural roads under PMGSY package JH-14-112 in Gumla district", "Jharkhand eTender", 118300000],
  ["Public Works Department", "Maharashtra", "Construction of Government Polytechnic hostel building at Nanded", "Maha eTender", 64200000],
  ["Health & Family Welfare", "Karnataka", "Supply of reagents and consumables for RT-PCR laboratories for one year", "Karnataka eProcurement", 15600000],
  ["Water Resources", "Odisha", "Desiltation and lining of Hirakud distributary canal, reach 0 to 14 km", "Odisha eTender", 87500000],
  ["Urban Development", "Tamil Nadu", "Construction of storm water drains in Zone 9, Greater Chennai Corporation", "Tamil Nadu eProcurement", 210000000],
  ["Indian Railways", "Maharashtra", "Supply of LED lighting fixtures for coaching depots of Central Railway, Mumbai division", "IREPS", 8900000],
  ["Tourism", "Odisha", "Construction of Café and visitor amenities block at Konark Sun Temple precinct", "Odisha eTender", 24800000],
  ["School Education", "Uttar Pradesh", "Supply and installation of smart classroom equipment in 250 government schools", "GeM", 56300000],
  ["Energy", "Bihar", "Strengthening of 33/11 kV sub-stations and feeders in Nalanda circle", "eProc Bihar", 142000000],
  ["Public Works Department", "Karnataka", "Improvement of Mysuru–Hunsur state highway SH-88 including culverts", "Karnataka eProcurement", 173000000],
  ["Jal Shakti", "Bihar", "Construction of flood protection embankment on river Kosi near Supaul", "eProc Bihar", 389000000],
  ["Health & Family Welfare", "Maharashtra", "Annual maintenance contract for CT and MRI machines at government medical colleges", "Maha eTender", 34000000],
  ["Rural Development", "Odisha", "Construction of Anganwadi centre buildings in Koraput and Rayagada districts", "Odisha eTender", 19750000],
  ["Women & Child Development", "Jharkhand", "Supply of crèche furniture and learning kits for Anganwadi centres", "GeM", 7400000],
  ["National Highways Authority of India", "Uttar Pradesh", "Operation and maintenance of toll plaza at Khalilabad on NH-28", "NHAI eTender", 61000000],
  ["Central Public Works Department", "Karnataka", "Construction of residential quarters (Type II and III) for CAPF at Yelahanka", "CPPP", 247500000],
  ["Indian Railways", "Odisha", "Doubling of railway line between Sambalpur and Titlagarh: earthwork and minor bridges", "IREPS", 452000000],
  ["Urban Development", "Maharashtra", "Design, supply and commissioning of 12 MLD sewage treatment plant at Solapur", "Maha eTender", 298000000],
  ["Agriculture", "Karnataka", "Supply of solar-powered irrigation pump sets to farmers under PM-KUSUM", "Karnataka eProcurement", 83600000],
  ["Health & Family Welfare", "Tamil Nadu", "Procurement of essential drugs and surgical items for primary health centres", "Tamil Nadu eProcurement", 47200000],
  ["Public Works Department", "Jharkhand", "Construction of 2-lane road from Dumka to Jamtara including major bridge over Ajay river", "Jharkhand eTender", 226000000],
  ["Energy", "Uttar Pradesh", "Supply of smart prepaid electricity meters for Purvanchal discom", "UP eTender", 465000000],
  ["Water Resources", "Maharashtra", "Repairs to spillway gates of Jayakwadi dam, Aurangabad", "Maha eTender", 52300000],
  ["School Education", "Bihar", "Construction of additional classrooms and toilets in 120 middle schools of Gaya", "eProc Bihar", 39600000],
  ["Central Public Works Department", "Tamil Nadu", "Painting and waterproofing of central government office complex at Shastri Bhavan, Chennai", "CPPP", 9200000],
  ["Indian Railways", "Jharkhand", "Provision of foot over bridge and lifts at Dhanbad junction", "IREPS", 27300000],
  ["Rural Development", "Uttar Pradesh", "Construction of community sanitary complexes in Gorakhpur district", "UP eTender", 11800000],
  ["Health & Family Welfare", "Odisha", "Supply of advanced life support ambulances with medical equipment", "GeM", 68000000],
  ["Urban Development", "Karnataka", "Smart city: redevelopment of KR Market with pedestrian plaza and multi-level parking", "Karnataka eProcurement", 412000000],
  ["Public Works Department", "Tamil Nadu", "Reconstruction of minor bridge at km 23/4 on Madurai–Melur road", "Tamil Nadu eProcurement", 14600000],
  ["Jal Shakti", "Jharkhand", "Construction of check dams and percolation tanks in Palamu watershed", "Jharkhand eTender", 23500000],
  ["Energy", "Odisha", "Installation of rooftop solar plants on 300 government buildings in Bhubaneswar", "Odisha eTender", 95000000],
  ["Tourism", "Maharashtra", "Development of pilgrim amenities and Café kiosks at Shirdi", "Maha eTender", 17900000],
  ["Agriculture", "Bihar", "Construction of 5,000 MT scientific warehouses at Purnia and Katihar", "eProc Bihar", 71500000],
  ["National Highways Authority of India", "Karnataka", "Rehabilitation of flyover and service roads on NH-48 at Tumakuru", "NHAI eTender", 134000000],
  ["School Education", "Tamil Nadu", "Supply of science laboratory equipment to higher secondary schools", "GeM", 12400000],
  ["Indian Railways", "Uttar Pradesh", "Comprehensive cleaning and pest control of coaches at Prayagraj coaching depot", "IREPS", 5600000],
  ["Health & Family Welfare", "Jharkhand", "Construction of 100-bed maternal and child health wing at Sadar Hospital, Deoghar", "Jharkhand eTender", 189000000],
  ["Urban Development", "Odisha", "Laying of HDPE water distribution network in Cuttack municipal corporation (Phase II)", "Odisha eTender", 156000000],
  ["Central Public Works Department", "Bihar", "Construction of Kendriya Vidyalaya school building at Darbhanga", "CPPP", 104000000],
  ["Rural Development", "Maharashtra", "Construction of gram panchayat bhavans in Yavatmal district", "Maha eTender", 500000],
  ["Water Resources", "Tamil Nadu", "Rehabilitation of tanks and supply channels in the Vaigai basin", "Tamil Nadu eProcurement", 63700000],
  ["Public Works Department", "Odisha", "Construction of 2-lane road from Jeypore to Boriguma with cross drainage works", "Odisha eTender", 142800000],
];

export const DEMO_TENDER_COUNT = T.length;

const OFFICERS = {
  "Road Construction Department": "Executive Engineer, Road Division",
  "Public Works Department": "Superintending Engineer, PWD Circle",
  "National Highways Authority of India": "Project Director, PIU",
  "Health & Family Welfare": "Mission Director, National Health Mission",
  "Jal Shakti": "Executive Engineer, Jal Nigam",
  "Indian Railways": "Deputy Chief Engineer (Construction)",
  "Central Public Works Department": "Executive Engineer, CPWD Division",
  "Rural Development": "Chief Engineer, Rural Works",
  "Water Resources": "Executive Engineer, Irrigation Division",
  "Urban Development": "Commissioner, Municipal Corporation",
  "Tourism": "Director of Tourism",
  "School Education": "State Project Director, Samagra Shiksha",
  "Energy": "Chief Engineer (Distribution)",
  "Agriculture": "Director of Agriculture",
  "Women & Child Development": "Director, ICDS",
};

const CENTRAL = new Set(["National Highways Authority of India", "Indian Railways", "Central Public Works Department"]);

/** Indian digit grouping: 18450000 → "1,84,50,000". */
function inr(n) {
  const s = String(Math.round(n));
  if (s.length <= 3) return s;
  const last3 = s.slice(-3);
  const rest = s.slice(0, -3).replace(/\B(?=(\d{2})+(?!\d))/g, ",");
  return `${rest},${last3}`;
}

const DAY = 86_400_000;

/** The demo tenders, deterministic except that dates are relative to `now` (ms). */
export function demoTenders(now) {
  const today = Math.floor(now / DAY) * DAY; // 00:00 UTC
  return T.map(([department, state, title, portal, value], i) => {
    const n = String(i + 1).padStart(3, "0");
    const closingIn = -5 + ((i * 37) % 96); // -5 … 90 days
    let publishedAgo = (i * 7) % 30; // 0 … 29 days
    if (closingIn < 7) publishedAgo = Math.min(29, Math.max(publishedAgo, 7 - closingIn + 7));
    const published = Math.min(now, today - publishedAgo * DAY + 5 * 3_600_000); // 10:30 IST
    const closing = today + closingIn * DAY + 9.5 * 3_600_000; // 15:00 IST
    const months = 6 + ((i * 5) % 19);
    const description =
      `${title}. Bids are invited by the ${OFFICERS[department] ?? "Tender Inviting Authority"}, ${department}, ` +
      `${CENTRAL.has(department) ? `Government of India (${state})` : `Government of ${state}`}, from eligible contractors and suppliers. ` +
      `Estimated cost ₹${inr(value)}; EMD ₹${inr(Math.max(10000, Math.round((value * 0.02) / 1000) * 1000))}; ` +
      `completion period ${months} months. Bid documents and corrigenda are published on ${portal}.`;
    return {
      id: `tnd_demo_${n}`,
      external_id: `DEMO-2026-${n}`,
      title,
      description,
      department,
      state,
      portal,
      value,
      currency: "INR",
      published_at: published,
      closing_date: closing,
      url: `https://demo.keel.test/tenders/DEMO-2026-${n}`,
    };
  });
}

// ---------------------------------------------------------------------------
// SQL

export function sqlString(v) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "object") v = JSON.stringify(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

/**
 * The seed script. `hashes` maps each demo email to a password hash (used only when the user
 * does not exist yet). Every statement is a no-op when its row already exists.
 */
export function seedSql({ now, hashes }) {
  const q = sqlString;
  const out = ["-- keel local demo data (generated by scripts/start.mjs; idempotent)"];
  for (const u of DEMO_USERS) {
    const hash = hashes[u.email];
    if (!hash) throw new Error(`no password hash for ${u.email}`);
    const byEmail = `(SELECT id FROM users WHERE email = ${q(u.email)})`;
    out.push(
      `INSERT OR IGNORE INTO users (id, email, email_verified, email_verified_at, password_hash, full_name, status, account_type, password_changed_at, created_at, updated_at) VALUES (${[
        u.id, u.email, 1, now, hash, u.fullName, "active", u.accountType, now, now, now,
      ].map(q).join(", ")});`,
    );
    const profile = { ...u.profile };
    const cols = Object.keys(profile);
    out.push(
      `INSERT OR IGNORE INTO user_profiles (user_id, ${cols.join(", ")}, created_at, updated_at) SELECT id, ${cols
        .map((c) => q(profile[c]))
        .join(", ")}, ${now}, ${now} FROM users WHERE email = ${q(u.email)};`,
    );
    out.push(`INSERT OR IGNORE INTO user_preferences (user_id, updated_at) SELECT id, ${now} FROM users WHERE email = ${q(u.email)};`);
    // The first history entry is the current hash; only for a user that has no history yet.
    out.push(
      `INSERT OR IGNORE INTO password_history (id, user_id, password_hash, created_at) SELECT ${q(`pwh_${u.id.slice(4)}`)}, id, password_hash, ${now} FROM users WHERE email = ${q(u.email)} AND NOT EXISTS (SELECT 1 FROM password_history WHERE user_id = ${byEmail});`,
    );
    // Restore the demo account as documented, whatever a previous tour or console session did
    // to it: active (not deleted, suspended or locked), verified, the documented email and
    // password, no two-factor. Skipped if another account has taken its address since.
    out.push(
      `UPDATE users SET email = ${q(u.email)}, email_verified = 1, email_verified_at = COALESCE(email_verified_at, ${now}), password_hash = ${q(hash)}, status = 'active', deletion_requested_at = NULL, failed_login_attempts = 0, last_failed_login_at = NULL, locked_until = NULL, two_factor_enabled = 0, updated_at = ${now} WHERE id = ${q(u.id)} AND NOT EXISTS (SELECT 1 FROM users WHERE email = ${q(u.email)} AND id <> ${q(u.id)});`,
    );
    out.push(`DELETE FROM mfa_totp WHERE user_id = ${q(u.id)};`);
    out.push(`DELETE FROM mfa_backup_codes WHERE user_id = ${q(u.id)};`);
    for (const role of u.roles) {
      out.push(
        `INSERT OR IGNORE INTO user_roles (id, user_id, role_id, granted_at) SELECT ${q(`urole_${u.id.slice(4)}_${role.slice(5)}`)}, id, ${q(role)}, ${now} FROM users WHERE email = ${q(u.email)};`,
      );
    }
  }
  const cols = ["id", "external_id", "title", "description", "department", "state", "portal", "value", "currency", "published_at", "closing_date", "url"];
  for (const t of demoTenders(now)) {
    out.push(
      `INSERT OR IGNORE INTO tenders (${cols.join(", ")}, created_at, updated_at) VALUES (${cols.map((c) => q(t[c])).join(", ")}, ${now}, ${now});`,
    );
  }
  return out.join("\n") + "\n";
}
