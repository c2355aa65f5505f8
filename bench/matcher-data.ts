/**
 * Seeded, realistic data for the alert-matching benchmark (issue 7): Indian public-procurement
 * tenders and the alerts users set on them. Deterministic for a seed, no I/O, so the workerd bench
 * and the tests see the same data.
 *
 *   const tenders = generateTenders(1_000, 1);   // TenderFields & { id }
 *   const alerts = generateAlerts(10_000, 2);    // { id, userId, criteria }
 *
 * Shape of the data (calibrated to plausible volumes, not to flatter the index):
 * - Tenders belong to one of ten sectors (skewed: roads and buildings most often) and mention
 *   2–5 of that sector's ~25 terms, with "Construction of … at <place>"-style titles, a place,
 *   and portal boilerplate; 5% carry accented or transliterated Hindi words. States are skewed
 *   towards the large ones. Values are log-uniform from ₹1 lakh to ₹1,000 crore (8% unknown);
 *   closing dates fall from 5 days before to 60 days after BENCH_NOW (4% unknown).
 * - Alerts (five per user) pick one sector, sometimes two, and 1–4 keywords from them with the
 *   popular terms first: single words, two-word phrases, prefixes such as "bridg*" (12%); words
 *   like "construction" or "supply" only inside a phrase. 85% of keyword alerts set 1–3 states
 *   (contractors work regionally), some a department, half a minimum value, 15% a maximum, 20% a
 *   closing window, 15% excludes. 8% set no keyword (states or a department, and a value).
 * - Result with seeds (1, 2), 1,000 tenders × 10,000 alerts: about 71 matches per tender (0.7% of
 *   pairs, about 7 per alert per 1,000 tenders, so ~35 a day per alert at ~5,000 new tenders a
 *   day, near the default max_alerts_per_day of 50); 30% of alerts match nothing, a few broad
 *   ones match hundreds.
 *   The index's advantage over the naive loop shrinks as the match rate grows, because every
 *   match must be checked in full: report the rate next to the ratio.
 */
import type { TenderCriteria } from "../src/db/schema";
import type { TenderFields } from "../src/features/tenders/match";

/** The "now" the generated closing dates are relative to. */
export const BENCH_NOW = new Date("2026-03-02T06:00:00Z");
const DAY = 86_400_000;

/** mulberry32: small, fast, good enough for test data. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
/** Index i drawn with weight 1/(i+1)^s: the head of the list is common, the tail rare. */
const zipf = <T>(r: Rand, xs: readonly T[], s = 1): T => {
  const total = xs.reduce((sum, _, i) => sum + (i + 1) ** -s, 0);
  let x = r() * total;
  for (let i = 0; i < xs.length; i++) {
    x -= (i + 1) ** -s;
    if (x <= 0) return xs[i] as T;
  }
  return xs[xs.length - 1] as T;
};
const sample = <T>(r: Rand, xs: readonly T[], n: number): T[] => {
  const copy = [...xs];
  const out: T[] = [];
  while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(r() * copy.length), 1)[0] as T);
  return out;
};

interface Sector {
  readonly name: string;
  readonly actions: readonly string[];
  /** Terms as users type them; the first ones are the most common. */
  readonly terms: readonly string[];
  readonly departments: readonly string[];
}

// Ordered by how often tenders of the sector appear (zipf picks the first ones more often).
const SECTORS: readonly Sector[] = [
  {
    name: "roads",
    actions: ["Construction of", "Improvement of", "Widening and strengthening of", "Special repair of", "Providing and laying"],
    terms: ["road", "bridge", "highway", "culvert", "bitumen", "pavement", "resurfacing", "widening", "flyover",
      "drainage", "national highway", "rural roads", "pmgsy", "cement concrete", "footpath", "kerb", "retaining wall", "overlay",
      "bituminous macadam", "box culvert", "minor bridge", "approach road", "link road", "underpass", "construction"],
    departments: ["Public Works Department", "Rural Works Department", "National Highways Authority of India", "Border Roads Organisation"],
  },
  {
    name: "buildings",
    actions: ["Construction of", "Repair and renovation of", "Maintenance of", "Additional classrooms at", "Painting of"],
    terms: ["building", "school", "renovation", "hostel", "anganwadi", "toilet",
      "boundary wall", "plumbing", "painting", "civil works", "classroom", "community hall", "quarters", "roofing", "flooring",
      "waterproofing", "electrical works", "panchayat bhawan", "godown", "auditorium", "compound wall", "false ceiling", "repair",
      "maintenance", "construction"],
    departments: ["Public Works Department", "Education Department", "Central Public Works Department", "Panchayati Raj Department", "Municipal Corporation"],
  },
  {
    name: "water",
    actions: ["Providing and laying", "Supply and installation of", "Operation and maintenance of", "Construction of", "Augmentation of"],
    terms: ["water", "pipeline", "water supply", "pump", "tubewell", "borewell", "sewerage", "drinking water", "water treatment plant",
      "overhead tank", "jal jeevan mission", "ductile iron", "hdpe", "valves", "sump", "rising main", "distribution network",
      "house connections", "chlorination", "reservoir", "stp", "desilting", "handpump", "rainwater harvesting", "submersible"],
    departments: ["Public Health Engineering Department", "Water Resources Department", "Jal Board", "Municipal Corporation"],
  },
  {
    name: "health",
    actions: ["Supply of", "Procurement of", "Rate contract for", "Supply and installation of", "Annual maintenance contract for"],
    terms: ["medical", "equipment", "medical equipment", "hospital", "medicines", "drugs", "surgical", "diagnostic", "x-ray",
      "ambulance", "oxygen", "ventilator", "laboratory", "reagents", "consumables", "ultrasound", "dialysis", "ct scan",
      "hospital furniture", "bio-medical waste", "pathology", "ecg", "syringes", "vaccine", "cold chain"],
    departments: ["Health and Family Welfare Department", "Medical Services Corporation", "AIIMS", "District Hospital"],
  },
  {
    name: "it",
    actions: ["Supply of", "Procurement of", "Supply, installation and commissioning of", "Development of", "Annual maintenance contract for"],
    terms: ["it", "software", "hardware", "computer", "laptop", "server", "networking", "cctv", "data centre", "cloud",
      "e-governance", "website", "printer", "desktop", "ups", "firewall", "storage", "licence", "mobile app", "erp",
      "biometric", "video conferencing", "lan", "wifi", "cyber security"],
    departments: ["Information Technology Department", "National Informatics Centre", "e-Governance Society", "Police Department"],
  },
  {
    name: "energy",
    actions: ["Supply and installation of", "Design, supply and commissioning of", "Erection of", "Procurement of", "Maintenance of"],
    terms: ["solar", "power", "transformer", "substation", "cable", "street light", "led", "inverter", "solar panel",
      "electrification", "rooftop solar", "solar pump", "battery", "distribution transformer", "feeder", "conductor", "poles",
      "meters", "smart meters", "switchgear", "high mast", "earthing", "hv line", "lt line", "dg set"],
    departments: ["Energy Department", "State Electricity Board", "Renewable Energy Development Agency", "Power Distribution Company"],
  },
  {
    name: "supply",
    actions: ["Supply of", "Hiring of", "Rate contract for", "Providing", "Procurement of"],
    terms: ["furniture", "stationery", "uniforms", "vehicles", "hiring of vehicles", "catering", "security services",
      "housekeeping", "manpower", "office furniture", "printing", "sports goods", "books", "kitchen equipment", "bedding",
      "fire extinguishers", "tyres", "diesel", "lubricants", "tents", "mattresses", "steel almirah", "chairs", "blankets", "supply"],
    departments: ["Stores Purchase Department", "General Administration Department", "Police Department", "Education Department"],
  },
  {
    name: "consultancy",
    actions: ["Consultancy services for", "Selection of consultant for", "Preparation of", "Engagement of agency for", "Hiring of consultant for"],
    terms: ["consultancy", "detailed project report", "survey", "design", "supervision", "audit", "feasibility study",
      "third party inspection", "project management", "dpr", "topographical survey", "environmental impact assessment",
      "valuation", "geotechnical investigation", "quality control", "master plan", "architectural design", "training",
      "capacity building", "evaluation", "baseline survey", "gis mapping", "legal services", "chartered accountant", "social audit"],
    departments: ["Urban Development Department", "Planning Department", "Smart City Limited", "Rural Development Department"],
  },
  {
    name: "marine",
    actions: ["Dredging of", "Construction of", "Maintenance dredging at", "Repair of", "Protection works at"],
    terms: ["dredging", "port", "jetty", "harbour", "sea wall", "embankment", "river training", "breakwater", "fishing harbour",
      "capital dredging", "maintenance dredging", "berth", "navigation channel", "anti-erosion", "groynes", "revetment",
      "boat", "dredger", "silt", "shore protection", "inland waterways", "ferry", "pontoon", "bollards", "fenders"],
    departments: ["Port Trust", "Inland Waterways Authority of India", "Water Resources Department", "Fisheries Department"],
  },
  {
    name: "agriculture",
    actions: ["Supply of", "Construction of", "Procurement of", "Distribution of", "Renovation of"],
    terms: ["seeds", "fertilizer", "irrigation", "canal", "drip irrigation", "tractor", "warehouse", "cold storage", "check dam",
      "minor irrigation", "pesticides", "sprinkler", "farm ponds", "lift irrigation", "mandi", "agricultural implements",
      "soil testing", "polyhouse", "watershed", "fodder", "cattle shed", "veterinary", "fish seed", "bee keeping", "nursery"],
    departments: ["Agriculture Department", "Irrigation Department", "Horticulture Department", "Animal Husbandry Department"],
  },
];

/** The 28 states and 8 union territories. */
export const STATES = [
  "Uttar Pradesh", "Maharashtra", "Bihar", "West Bengal", "Madhya Pradesh", "Tamil Nadu", "Rajasthan", "Karnataka", "Gujarat",
  "Andhra Pradesh", "Odisha", "Telangana", "Kerala", "Jharkhand", "Assam", "Punjab", "Chhattisgarh", "Haryana",
  "Uttarakhand", "Himachal Pradesh", "Tripura", "Meghalaya", "Manipur", "Nagaland", "Goa", "Arunachal Pradesh", "Mizoram",
  "Sikkim", "Delhi", "Jammu and Kashmir", "Puducherry", "Chandigarh", "Ladakh", "Andaman and Nicobar Islands",
  "Dadra and Nagar Haveli and Daman and Diu", "Lakshadweep",
] as const;

const PLACES = [
  "Patna", "Gaya", "Muzaffarpur", "Lucknow", "Varanasi", "Kanpur", "Pune", "Nagpur", "Nashik", "Kolkata", "Howrah", "Bhopal",
  "Indore", "Jabalpur", "Chennai", "Madurai", "Coimbatore", "Jaipur", "Jodhpur", "Udaipur", "Bengaluru", "Mysuru", "Hubballi",
  "Ahmedabad", "Surat", "Vadodara", "Visakhapatnam", "Vijayawada", "Bhubaneswar", "Cuttack", "Hyderabad", "Warangal",
  "Thiruvananthapuram", "Kochi", "Ranchi", "Dhanbad", "Guwahati", "Ludhiana", "Amritsar", "Raipur", "Bilaspur", "Gurugram",
  "Dehradun", "Shimla", "Agartala", "Shillong", "Imphal", "Kohima", "Panaji", "Itanagar", "Aizawl", "Gangtok", "Srinagar",
  "Puducherry", "Port Blair", "Kavaratti", "Leh", "Silvassa", "Puri", "Pondichéry", "Belagavi", "Tiruchirappalli",
];

const BOILERPLATE = [
  "bids are invited from eligible registered contractors",
  "as per the specifications and schedule of quantities",
  "earnest money deposit to be paid online",
  "completion period 12 months from the date of work order",
  "technical and financial bids through the e-procurement portal",
  "pre-bid meeting will be held in the office of the executive engineer",
  "the tender document can be downloaded from the portal",
  "bidders must have completed similar works in the last five years",
  "including defect liability period of three years",
  "for and on behalf of the governor of the state",
  "two cover system with reverse auction",
  "GST extra as applicable",
];
const EXTRA = ["pradhan mantri", "mukhyamantri yojana", "nirmāṇ kārya", "sadak", "bhawan", "zila parishad", "nagar nigam", "café", "régie"];

/** Words of the action phrases ("Construction of", "Supply of") that alerts use only in phrases. */
const GENERIC = new Set(["construction", "repair", "maintenance", "supply"]);

/** A generated tender: what the matcher reads, plus an id. */
export interface BenchTender extends TenderFields {
  readonly id: string;
}

/** A generated alert in the shape the alerts table stores. */
export interface BenchAlert {
  readonly id: string;
  readonly userId: string;
  readonly criteria: TenderCriteria;
}

const titleCase = (s: string) => s.replace(/\b\p{L}/gu, (c) => c.toUpperCase());

/**
 * `n` tenders, the same for the same seed.
 *
 * @example generateTenders(2, 1)[0] // { id: "t0", title: "Construction of Minor Bridge at Gaya", description: "...", ... }
 */
export function generateTenders(n: number, seed: number): BenchTender[] {
  const r = prng(seed);
  const out: BenchTender[] = [];
  for (let i = 0; i < n; i++) {
    const sector = zipf(r, SECTORS, 0.7);
    const terms = sample(r, sector.terms, 2 + Math.floor(r() * 4));
    const place = pick(r, PLACES);
    const [first = "work", ...rest] = terms;
    const title = `${pick(r, sector.actions)} ${titleCase(first)}${rest.length > 0 && r() < 0.5 ? ` and ${titleCase(rest[0] ?? "")}` : ""} at ${place}`;
    const description = [
      `${pick(r, sector.actions).toLowerCase()} ${rest.join(", ")} in ${place} district`,
      ...sample(r, BOILERPLATE, 2 + Math.floor(r() * 3)),
      r() < 0.05 ? pick(r, EXTRA) : "",
      r() < 0.3 ? `ref no ${Math.floor(r() * 1e6)}/${2025 + Math.floor(r() * 2)}` : "",
    ]
      .filter(Boolean)
      .join(". ");
    out.push({
      id: `t${i}`,
      title,
      description,
      state: zipf(r, STATES, 0.5),
      department: pick(r, sector.departments),
      value: r() < 0.08 ? null : Math.round(10 ** (5 + r() * 5)),
      closingDate: r() < 0.04 ? null : new Date(BENCH_NOW.getTime() + (-5 + r() * 65) * DAY),
    });
  }
  return out;
}

/**
 * `n` active alerts, five per user, the same for the same seed. Every criteria object passes the
 * TenderCriteria schema.
 *
 * @example generateAlerts(1, 2)[0] // { id: "a0", userId: "u0", criteria: { keywords: ["bridge", "road*"], states: ["Bihar"] } }
 */
export function generateAlerts(n: number, seed: number): BenchAlert[] {
  const r = prng(seed);
  const out: BenchAlert[] = [];
  const keyword = (sector: Sector): string => {
    let term = zipf(r, sector.terms);
    // Nobody sets "construction" or "supply" alone: it would match a third of all tenders.
    if (GENERIC.has(term)) term = `${sector.terms[Math.floor(r() * 5)]} ${term}`;
    const x = r();
    if (x < 0.12) {
      const word = term.split(" ")[0] ?? term;
      // Users truncate a little ("bridg*", "electrif*"), rarely below four letters.
      return `${word.slice(0, Math.max(Math.min(4, word.length), word.length - Math.floor(r() * 3)))}*`;
    }
    if (x < 0.4 && !term.includes(" ")) return `${term} ${zipf(r, sector.terms).split(" ")[0]}`;
    return term;
  };
  for (let i = 0; i < n; i++) {
    const sectors = [zipf(r, SECTORS, 0.7), ...(r() < 0.25 ? [pick(r, SECTORS)] : [])];
    const criteria: TenderCriteria = {};
    const sector = sectors[0] as Sector;
    if (r() < 0.92) {
      criteria.keywords = [...new Set(Array.from({ length: 1 + Math.floor(r() * 4) }, () => keyword(pick(r, sectors))))];
      if (r() < 0.15) criteria.exclude_keywords = sample(r, ["supply only", "consultancy", "hiring", "annual maintenance", "repair"], 1 + Math.floor(r() * 2));
      if (r() < 0.85) criteria.states = sample(r, STATES, 1 + Math.floor(r() * 3));
      else if (r() < 0.3) criteria.departments = [pick(r, sector.departments)];
    } else if (r() < 0.7) {
      criteria.states = sample(r, STATES, 1 + Math.floor(r() * 2));
      criteria.min_value = Math.round(10 ** (6 + r() * 3));
    } else {
      criteria.departments = [pick(r, sector.departments)];
      criteria.min_value = Math.round(10 ** (6 + r() * 3));
    }
    if (r() < 0.5 && criteria.min_value === undefined) criteria.min_value = Math.round(10 ** (5 + r() * 3));
    if (r() < 0.15) criteria.max_value = Math.round((criteria.min_value ?? 1e5) * 10 ** (1 + r() * 2));
    if (r() < 0.2) criteria.closing_date_range = pick(r, ["next_7_days", "next_30_days", "next_90_days", "any"] as const);
    out.push({ id: `a${i}`, userId: `u${Math.floor(i / 5)}`, criteria });
  }
  return out;
}
