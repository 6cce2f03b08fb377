/** One bar of a chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  /** What the bar is: the baseline measured in the same run, Tributary, or a peer library. */
  readonly kind: 'baseline' | 'tributary' | 'peer';
  /** Printed after the value, e.g. `0.81×`. */
  readonly note?: string;
}

/** A group of bars under one heading, e.g. one scenario. */
export interface BarGroup {
  readonly title: string;
  readonly bars: readonly Bar[];
}

const COLOURS: Record<Bar['kind'], string> = { baseline: '#9aa0a6', tributary: '#1a73e8', peer: '#e8710a' };
const WIDTH = 760;
const LABEL_WIDTH = 260;
const BAR_HEIGHT = 18;
const GAP = 6;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatted(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100);
}

/**
 * A horizontal bar chart as plain SVG: one block per group, bars scaled to the
 * largest value in the chart, a legend of the three kinds. Plain SVG needs no
 * library and renders on GitHub and in any browser.
 */
export function barChart(title: string, unit: string, groups: readonly BarGroup[]): string {
  const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)));
  const plot = WIDTH - LABEL_WIDTH - 150;
  const lines: string[] = [];
  let y = 48;
  for (const group of groups) {
    lines.push(`<text x="8" y="${y}" font-weight="bold">${escape(group.title)}</text>`);
    y += 8;
    for (const bar of group.bars) {
      const width = Math.max(1, Math.round((bar.value / max) * plot));
      lines.push(`<text x="16" y="${y + BAR_HEIGHT - 5}">${escape(bar.label)}</text>`);
      lines.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="${COLOURS[bar.kind]}"/>`);
      lines.push(`<text x="${LABEL_WIDTH + width + 6}" y="${y + BAR_HEIGHT - 5}">${escape(formatted(bar.value))}${bar.note ? ` (${escape(bar.note)})` : ''}</text>`);
      y += BAR_HEIGHT + GAP;
    }
    y += 14;
  }
  const legend = (['baseline', 'tributary', 'peer'] as const)
    .map((kind, index) => `<rect x="${LABEL_WIDTH + index * 120}" y="22" width="12" height="12" fill="${COLOURS[kind]}"/><text x="${LABEL_WIDTH + index * 120 + 18}" y="32">${kind}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${escape(title)} (${escape(unit)})</text>`,
    legend,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}
