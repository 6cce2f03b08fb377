/**
 * Self time by function from a V8 `.cpuprofile` (what `node --cpu-prof` writes):
 * where a replay spends its time when it misses its target.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  readonly percent: number;
}

/** Self time by function (the top ones) and by where the code lives: a node_modules package, a workspace package, Node itself. */
export function selfTimes(file: string, top = 25): { totalMs: number; byOwner: SelfTime[]; functions: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  const owners = new Map<string, number>();
  let total = 0;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const delta = profile.timeDeltas[index] ?? 0;
    const frame = byId.get(profile.samples[index])!.callFrame;
    const url = frame.url.replace(/^file:\/\//, '');
    const where = url ? ` ${shorten(url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    totals.set(name, (totals.get(name) ?? 0) + delta);
    const owner = ownerOf(url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + delta);
    total += delta;
  }
  const ranked = (from: Map<string, number>, count: number) =>
    [...from]
      .sort(([, a], [, b]) => b - a)
      .slice(0, count)
      .map(([fn, micros]) => ({ fn, ms: Math.round(micros / 1000), percent: Math.round((micros / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), byOwner: ranked(owners, 20), functions: ranked(totals, top) };
}

function ownerOf(url: string, functionName: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  const inPackages = /\/(packages|examples)\/([^/]+)\//.exec(url);
  if (inPackages) return `@tributary/${inPackages[2]}`;
  if (url.includes('/benchmarks/')) return 'the benchmark (domain, harness)';
  if (url.startsWith('node:')) return 'Node.js built-ins';
  // No source: V8's own entries, native functions (utf8Slice …), and code made with new Function (avsc's readers).
  if (url === '') return functionName.startsWith('(') ? functionName : 'native or generated code (no source)';
  return 'other';
}

function shorten(path: string): string {
  const fromRepo = relative(process.cwd(), path);
  return fromRepo.startsWith('..') ? path : fromRepo.replace(/^node_modules\//, '~/');
}
