/**
 * Draws docs/performance.svg from bench/results/latest.json (`npx tsx bench/chart.ts [in] [out]`):
 * a grouped bar chart of req/s as a ratio to bare Koa, one group per scenario, one bar per variant.
 * Hand-written SVG, no dependency.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? join(HERE, 'results', 'latest.json');
const output = process.argv[3] ?? join(HERE, '..', 'docs', 'performance.svg');

interface Results {
  meta: {
    date: string;
    command: string;
    nproc: number;
    cpu: string;
    node: string;
    duration: number;
    rounds: number;
    connections: number;
  };
  variants: { id: string; label: string }[];
  scenarios: { id: string; title: string; variants: Record<string, { vsKoa: { rps: number } }> }[];
}

const results = JSON.parse(readFileSync(input, 'utf8')) as Results;

const COLORS: Record<string, string> = {
  'kgs-memory': '#9e9e9e',
  'kgs-redis': '#616161',
  'koa-session': '#e0a030',
  'ksm-memory': '#2a7ab8',
  'ksm-redis': '#0b3d6b',
  'ksm-memory-serialize': '#8cc3ea',
  'ksm-redis-serialize': '#5b4b8a',
};
const FALLBACK = ['#6a994e', '#bc4749', '#7b2cbf', '#f77f00'];

const variants = results.variants.filter((v) => v.id !== 'koa' && results.scenarios.some((s) => s.variants[v.id]));
const scenarios = results.scenarios;

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const plain = (text: string) => text.replace(/`/g, '');

const maxRatio = Math.max(
  1.1,
  ...scenarios.flatMap((s) => variants.map((v) => s.variants[v.id]?.vsKoa.rps ?? 0).filter(Number.isFinite)),
);
const yMax = Math.ceil(maxRatio * 5) / 5;

const bar = 22;
const gap = 4;
const groupGap = 36;
const left = 56;
const top = 64;
const plotHeight = 300;
const groupWidth = variants.length * (bar + gap) - gap;
const plotWidth = scenarios.length * (groupWidth + groupGap) + groupGap;
const legendTop = top + plotHeight + 92;
const legendRows = Math.ceil(variants.length / 2);
const legendColumn = 420;
const width = Math.max(left + plotWidth + 24, left + 2 * legendColumn);
const height = legendTop + legendRows * 22 + 36;

const y = (ratio: number) => top + plotHeight - (ratio / yMax) * plotHeight;
const parts: string[] = [];

parts.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  `<rect width="100%" height="100%" fill="#ffffff"/>`,
  `<text x="${left}" y="24" font-size="16" font-weight="bold">Requests per second as a ratio to bare Koa (same round; higher is better)</text>`,
  `<text x="${left}" y="44" fill="#555">${escape(`${results.meta.nproc} × ${results.meta.cpu}, Node ${results.meta.node}; ${results.meta.connections} connections, ${results.meta.rounds} rounds × ${results.meta.duration} s; median of per-round ratios`)}</text>`,
);

// Grid and axis.
for (let tick = 0; tick <= yMax + 1e-9; tick += yMax > 2 ? 0.5 : 0.2) {
  const ty = y(tick);
  parts.push(
    `<line x1="${left}" y1="${ty.toFixed(1)}" x2="${left + plotWidth}" y2="${ty.toFixed(1)}" stroke="#e5e5e5"/>`,
    `<text x="${left - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end" fill="#555">${tick.toFixed(1)}</text>`,
  );
}
parts.push(
  `<line x1="${left}" y1="${y(1).toFixed(1)}" x2="${left + plotWidth}" y2="${y(1).toFixed(1)}" stroke="#333" stroke-dasharray="5 4"/>`,
  `<text x="${left + plotWidth}" y="${(y(1) - 5).toFixed(1)}" text-anchor="end" fill="#333">bare Koa = 1</text>`,
  `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`,
  `<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#333"/>`,
);

scenarios.forEach((scenario, g) => {
  const gx = left + groupGap + g * (groupWidth + groupGap);
  variants.forEach((variant, i) => {
    const ratio = scenario.variants[variant.id]?.vsKoa.rps;
    if (ratio === undefined || !Number.isFinite(ratio)) return;
    const x = gx + i * (bar + gap);
    const color = COLORS[variant.id] ?? FALLBACK[i % FALLBACK.length];
    parts.push(
      `<rect x="${x}" y="${y(ratio).toFixed(1)}" width="${bar}" height="${(top + plotHeight - y(ratio)).toFixed(1)}" fill="${color}"><title>${escape(`${variant.label}, ${plain(scenario.title)}: ${ratio.toFixed(2)}×`)}</title></rect>`,
      `<text x="${x + bar / 2}" y="${(y(ratio) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#333">${ratio.toFixed(2)}</text>`,
    );
  });
  // The route in bold, then what the scenario does, wrapped to the group's width.
  const title = plain(scenario.title);
  const route = title.split(' ')[0]!;
  const rest = title.slice(route.length + 1);
  const cx = gx + groupWidth / 2;
  const words = rest.split(' ');
  const lines: string[] = [route];
  let line = '';
  for (const word of words) {
    if ((line + ' ' + word).trim().length > Math.max(12, Math.floor((groupWidth + groupGap) / 6.5))) {
      lines.push(line.trim());
      line = word;
    } else line += ' ' + word;
  }
  if (line.trim()) lines.push(line.trim());
  lines.slice(0, 5).forEach((text, n) => {
    parts.push(
      `<text x="${cx}" y="${top + plotHeight + 18 + n * 14}" text-anchor="middle" ${n === 0 ? 'font-weight="bold"' : 'fill="#444"'}>${escape(text)}</text>`,
    );
  });
});

variants.forEach((variant, i) => {
  const lx = left + (i % 2) * legendColumn;
  const ly = legendTop + Math.floor(i / 2) * 22;
  const color = COLORS[variant.id] ?? FALLBACK[i % FALLBACK.length];
  parts.push(
    `<rect x="${lx}" y="${ly - 11}" width="14" height="14" fill="${color}"/>`,
    `<text x="${lx + 20}" y="${ly}">${escape(variant.label)}</text>`,
  );
});
parts.push(
  `<text x="${left}" y="${height - 12}" fill="#777" font-size="10">${escape(`${results.meta.date} · ${results.meta.command}`)}</text>`,
  '</svg>',
);

mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, parts.join('\n') + '\n');
console.log(`wrote ${output}`);
