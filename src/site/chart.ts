/**
 * Build duration and image size over an environment's revisions, as inline
 * SVG: one point per revision whose build has a duration (circles) or a
 * size (squares), joined by a polyline when there are two or more. No
 * script, no style attributes: colours come from site.css classes.
 */
import { buildDuration, formatBytes, formatDuration, statusKey } from './format.js';
import { html, type Html } from './html.js';
import type { SiteRevision } from './model.js';
import { plural } from '../model/words.js';

const WIDTH = 680;
const HEIGHT = 280;
const LEFT = 104;
const RIGHT = 96;
const TOP = 24;
const BOTTOM = 56;
const MIB = 1024 * 1024;

interface Point {
  revision: number;
  value: number;
  status: string;
}

/** The points the chart draws, oldest revision first; exported so tests and the page agree on what a point is. */
export function chartSeries(revisions: readonly SiteRevision[]): { duration: Point[]; size: Point[] } {
  const oldestFirst = [...revisions].sort((a, b) => a.number - b.number);
  const duration: Point[] = [];
  const size: Point[] = [];
  for (const r of oldestFirst) {
    if (!r.build) continue;
    const seconds = buildDuration(r.build);
    if (seconds !== undefined) duration.push({ revision: r.number, value: seconds, status: statusKey(r) });
    const bytes = r.build.sizeBytes;
    if (bytes !== undefined && Number.isFinite(bytes) && bytes >= 0) size.push({ revision: r.number, value: bytes, status: statusKey(r) });
  }
  return { duration, size };
}

/** The smallest of 1, 2, 2.5, 5 × 10^n that is at least `value` (1 for nothing). */
function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= value) return Number((m * power).toPrecision(3));
  return 10 * power;
}

const round = (n: number) => Number(n.toFixed(1));

export function renderChart(revisions: readonly SiteRevision[], id: string): Html {
  const { duration, size } = chartSeries(revisions);
  if (duration.length === 0 && size.length === 0) {
    return html`<p class="empty">No build of this environment has a recorded duration or image size yet.</p>`;
  }
  const columns = [...new Set([...duration, ...size].map((p) => p.revision))].sort((a, b) => a - b);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (revision: number) => {
    const i = columns.indexOf(revision);
    return round(columns.length === 1 ? LEFT + plotWidth / 2 : LEFT + (i * plotWidth) / (columns.length - 1));
  };
  const bottom = TOP + plotHeight;

  const useMinutes = Math.max(0, ...duration.map((p) => p.value)) >= 120;
  const durationUnit = useMinutes ? 60 : 1;
  const durationMax = niceCeil(Math.max(0, ...duration.map((p) => p.value / durationUnit)));
  const sizeMax = niceCeil(Math.max(0, ...size.map((p) => p.value / MIB)));
  const yDuration = (seconds: number) => round(bottom - (seconds / durationUnit / durationMax) * plotHeight);
  const ySize = (bytes: number) => round(bottom - (bytes / MIB / sizeMax) * plotHeight);

  const ticks = [0, 0.5, 1];
  const gridLines = ticks.map((t) => {
    const y = round(bottom - t * plotHeight);
    return html`<line class="grid" x1="${LEFT}" y1="${y}" x2="${LEFT + plotWidth}" y2="${y}"/>`;
  });
  const leftLabels = duration.length
    ? ticks.map(
        (t) =>
          html`<text class="tick tick-duration" x="${LEFT - 8}" y="${round(bottom - t * plotHeight + 4)}" text-anchor="end">${formatDuration(t * durationMax * durationUnit)}</text>`,
      )
    : [];
  const rightLabels = size.length
    ? ticks.map(
        (t) =>
          html`<text class="tick tick-size" x="${LEFT + plotWidth + 8}" y="${round(bottom - t * plotHeight + 4)}" text-anchor="start">${formatBytes(t * sizeMax * MIB)}</text>`,
      )
    : [];
  // Label every column while they fit; past 16, about 16 evenly spaced labels.
  const every = Math.max(1, Math.ceil(columns.length / 16));
  const xLabels = columns
    .filter((_, i) => i % every === 0 || i === columns.length - 1)
    .map((n) => html`<text class="tick tick-revision" x="${x(n)}" y="${bottom + 18}" text-anchor="middle">${n}</text>`);

  const line = (points: Point[], y: (v: number) => number, cls: string) =>
    points.length >= 2 ? html`<polyline class="series ${cls}" points="${points.map((p) => `${x(p.revision)},${y(p.value)}`).join(' ')}"/>` : '';
  const durationPoints = duration.map(
    (p) =>
      html`<circle class="point point-duration status-${p.status}" data-series="duration" data-revision="${p.revision}" cx="${x(p.revision)}" cy="${yDuration(p.value)}" r="5"><title>Revision ${p.revision}: built in ${formatDuration(p.value)} (${p.status === 'not-built' ? 'not built' : p.status})</title></circle>`,
  );
  const sizePoints = size.map(
    (p) =>
      html`<rect class="point point-size status-${p.status}" data-series="size" data-revision="${p.revision}" x="${x(p.revision) - 4.5}" y="${ySize(p.value) - 4.5}" width="9" height="9"><title>Revision ${p.revision}: image size ${formatBytes(p.value)}</title></rect>`,
  );
  const describe = [
    duration.length ? `build duration for ${plural(duration.length, 'revision')} (circles, left axis)` : '',
    size.length ? `image size for ${plural(size.length, 'revision')} (squares, right axis)` : '',
  ]
    .filter(Boolean)
    .join(' and ');

  return html`<figure class="chart">
<svg class="chart-svg" id="${id}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc" data-duration-points="${duration.length}" data-size-points="${size.length}">
<title id="${id}-title">Build duration and image size by revision</title>
<desc id="${id}-desc">Shows ${describe}. The revisions table lists the same values.</desc>
${gridLines}
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${bottom}"/>
<line class="axis" x1="${LEFT + plotWidth}" y1="${TOP}" x2="${LEFT + plotWidth}" y2="${bottom}"/>
<line class="axis" x1="${LEFT}" y1="${bottom}" x2="${LEFT + plotWidth}" y2="${bottom}"/>
${leftLabels}${rightLabels}${xLabels}
<text class="axis-label" x="${LEFT + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">Revision</text>
<text class="axis-label axis-label-duration" transform="translate(14 ${TOP + plotHeight / 2}) rotate(-90)" text-anchor="middle">Build duration</text>
<text class="axis-label axis-label-size" transform="translate(${WIDTH - 12} ${TOP + plotHeight / 2}) rotate(90)" text-anchor="middle">Image size</text>
${line(duration, yDuration, 'series-duration')}
${line(size, ySize, 'series-size')}
${durationPoints}
${sizePoints}
</svg>
<figcaption class="legend"><span class="legend-item legend-duration">● build duration (left axis)</span> <span class="legend-item legend-size">■ image size (right axis)</span></figcaption>
</figure>`;
}
