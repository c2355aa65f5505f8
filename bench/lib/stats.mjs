// Statistics and number formatting shared by the bench reports.

/** The q-quantile with linear interpolation between closest ranks (q = 0.5: the median); NaN for no values. */
export function quantile(values, q) {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);
export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
export const round = (v, d = 1) => (Number.isFinite(v) ? Number(v.toFixed(d)) : NaN);
/** A number with `d` decimals, or `missing` when it is not finite. */
export const fmt = (v, d = 1, missing = "n/a") => (Number.isFinite(v) ? v.toFixed(d) : missing);
