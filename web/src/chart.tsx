/** A small SVG bar chart (one bar per block), no chart library. */

export interface Bar {
  /** Label of the bar (the block height). */
  x: number;
  y: number;
}

const W = 480;
const H = 140;
const PAD_L = 44;
const PAD_B = 18;
const PAD_T = 8;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  if (v === 0) return '0';
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k`;
  if (v >= 10) return v.toFixed(0);
  return v.toFixed(v >= 1 ? 1 : 2);
}

export function BarChart({
  title,
  unit,
  bars,
  testId,
}: {
  title: string;
  unit: string;
  bars: Bar[];
  testId?: string;
}) {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.y)));
  const plotW = W - PAD_L - 4;
  const plotH = H - PAD_B - PAD_T;
  const n = Math.max(bars.length, 1);
  const step = plotW / n;
  const bw = Math.max(1, step * 0.8);
  const first = bars[0]?.x;
  const last = bars[bars.length - 1]?.x;
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>
        {title} <span class="muted">({unit})</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} per block`}>
        <title>{`${title} per block, heights ${first ?? '-'} to ${last ?? '-'}`}</title>
        {[0, 0.5, 1].map((f) => {
          const y = PAD_T + plotH * (1 - f);
          return (
            <g key={f}>
              <line x1={PAD_L} x2={W - 4} y1={y} y2={y} class="grid" />
              <text x={PAD_L - 6} y={y + 4} text-anchor="end" class="axis">
                {label(max * f)}
              </text>
            </g>
          );
        })}
        {bars.map((b, i) => {
          const h = (Math.min(b.y, max) / max) * plotH;
          return (
            <rect
              key={b.x}
              x={PAD_L + i * step + (step - bw) / 2}
              y={PAD_T + plotH - h}
              width={bw}
              height={h}
              class="bar"
            >
              <title>{`height ${b.x}: ${label(b.y)} ${unit}`}</title>
            </rect>
          );
        })}
        {first !== undefined && (
          <text x={PAD_L} y={H - 4} class="axis">
            {first}
          </text>
        )}
        {last !== undefined && bars.length > 1 && (
          <text x={W - 4} y={H - 4} text-anchor="end" class="axis">
            {last}
          </text>
        )}
      </svg>
    </figure>
  );
}
