// Bar charts drawn as inline SVG (no chart library). Each chart carries a text alternative and
// the numbers as a table for screen readers.

export interface Point {
  label: string;
  value: number;
}

export function BarChart({ title, points, id, empty }: { title: string; points: Point[]; id: string; empty?: string }) {
  const width = 640;
  const height = 180;
  const pad = { top: 12, right: 8, bottom: 28, left: 36 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const step = points.length ? innerW / points.length : innerW;
  const barW = Math.max(1, step * 0.7);
  const total = points.reduce((s, p) => s + p.value, 0);
  const ticks = [0, Math.round(max / 2), max];
  if (total === 0) {
    // Empty axes look like a broken chart: say what will appear instead.
    return (
      <figure class="chart" aria-labelledby={`${id}-cap`}>
        <figcaption id={`${id}-cap`}>{title}</figcaption>
        <p class="chart-empty" data-chart-empty={id}>
          No data yet. {empty ?? "Bars appear here as soon as there is activity to count."}
        </p>
      </figure>
    );
  }
  return (
    <figure class="chart" aria-labelledby={`${id}-cap`}>
      <figcaption id={`${id}-cap`}>
        {title} <span class="meta">(total {total})</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${points.length} bars, highest ${max}, total ${total}`} data-chart={id}>
        {ticks.map((t) => {
          const y = pad.top + innerH - (t / max) * innerH;
          return (
            <g>
              <line x1={pad.left} x2={width - pad.right} y1={y} y2={y} class="grid-line" />
              <text x={pad.left - 6} y={y + 4} text-anchor="end" class="axis">
                {t}
              </text>
            </g>
          );
        })}
        {points.map((p, i) => {
          const h = (p.value / max) * innerH;
          const x = pad.left + i * step + (step - barW) / 2;
          return (
            <rect x={x} y={pad.top + innerH - h} width={barW} height={h} class="bar" data-value={p.value}>
              <title>{`${p.label}: ${p.value}`}</title>
            </rect>
          );
        })}
        {points.length
          ? [0, Math.floor((points.length - 1) / 2), points.length - 1].map((i) => (
              <text x={pad.left + i * step + step / 2} y={height - 8} text-anchor="middle" class="axis">
                {points[i]!.label}
              </text>
            ))
          : null}
      </svg>
      <details>
        <summary>Data</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr>
                <td>{p.label}</td>
                <td>{p.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
