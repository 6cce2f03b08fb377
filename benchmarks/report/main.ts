/**
 * Turns the benchmarks' saved results (benchmarks/results/*.json, written by
 * each benchmark's last run) into SVG charts and docs/benchmarks.md, with the
 * machine and date of every figure and which of the goals it meets.
 *
 *   npm run bench -- report
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIRECTORY, SavedResult } from '../results';
import { BarGroup, barChart } from './svg-bars';
import { CHARTS, Chart } from './charts';

const DOCS = join(__dirname, '..', '..', 'docs');
const IMAGES = join(DOCS, 'benchmarks');

function loadResults(): Map<string, SavedResult> {
  const results = new Map<string, SavedResult>();
  if (!existsSync(RESULTS_DIRECTORY)) return results;
  for (const file of readdirSync(RESULTS_DIRECTORY).filter((name) => name.endsWith('.json')).sort()) {
    const saved = JSON.parse(readFileSync(join(RESULTS_DIRECTORY, file), 'utf8')) as SavedResult;
    results.set(saved.benchmark, saved);
  }
  return results;
}

function section(chart: Chart, saved: SavedResult): string {
  const { machine } = saved;
  const groups: BarGroup[] = chart.groups(saved.result);
  const image = `${saved.benchmark}.svg`;
  writeFileSync(join(IMAGES, image), barChart(chart.title, chart.unit, groups));
  const goals = chart.goals(saved.result);
  const loaded = machine.loadAverageAtStart[0] > 1.5;
  return [
    `## ${chart.title}`,
    '',
    `\`npm run bench -- ${saved.benchmark}\`, ${saved.takenAt.slice(0, 10)} on ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')} at the start${loaded ? ' (**above 1.5: not a quiet machine, do not trust these figures**)' : ''}. ${chart.about}`,
    '',
    `![${chart.title}](benchmarks/${image})`,
    '',
    ...(goals.length > 0 ? ['| Goal | Measured | Met |', '| --- | --- | --- |', ...goals.map((goal) => `| ${goal.goal} | ${goal.measured} | ${goal.met ? 'yes' : '**no**'} |`), ''] : []),
  ].join('\n');
}

function main(): void {
  mkdirSync(IMAGES, { recursive: true });
  const results = loadResults();
  const sections: string[] = [];
  const missing: string[] = [];
  for (const chart of CHARTS) {
    const saved = results.get(chart.benchmark);
    if (saved) sections.push(section(chart, saved));
    else missing.push(chart.benchmark);
  }
  const page = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench -- report` from benchmarks/results/*.json; edit benchmarks/report/, not this page. -->',
    '',
    'Each chart comes from the last run of one benchmark, saved with the machine it ran on and',
    'the load average at its start. Every benchmark measures its baseline (and its peers) in the',
    'same run, on the same machine: compare bars within a chart, not across charts or machines.',
    'Grey bars are the baseline, blue bars Tributary, orange bars peer libraries.',
    '',
    ...sections,
    ...(missing.length > 0 ? [`No saved result yet for: ${missing.map((name) => `\`${name}\``).join(', ')}.`, ''] : []),
  ].join('\n');
  writeFileSync(join(DOCS, 'benchmarks.md'), page);
  console.error(`[bench:report] docs/benchmarks.md: ${sections.length} chart(s)${missing.length > 0 ? `; no result for ${missing.join(', ')}` : ''}`);
}

main();
