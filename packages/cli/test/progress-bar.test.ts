import { expect } from 'chai';
import { ProgressBar, formatDuration } from '@tributary/cli';

describe('ProgressBar', () => {
  it('writes a line per interval when not a terminal', () => {
    let now = 0;
    const lines: string[] = [];
    const bar = new ProgressBar({ write: (text) => lines.push(text), tty: false, label: 'replay X', unit: 'events', now: () => now });
    bar.update({ fraction: 0.1, rate: 100, etaMs: 9000 });
    now = 1000;
    bar.update({ fraction: 0.5, rate: 120, etaMs: 65_000 });
    now = 1500;
    bar.update({ fraction: 0.7, rate: 130, etaMs: 3000 });
    bar.finish(130);
    expect(lines).to.deep.equal(['replay X  50% 120 events/s ETA 1:05\n']);
  });

  it('redraws in place on a terminal, wiping longer text', () => {
    const written: string[] = [];
    const bar = new ProgressBar({ write: (text) => written.push(text), tty: true, width: 4, unit: 'events' });
    bar.update({ fraction: 0.5, rate: 1000, etaMs: Number.POSITIVE_INFINITY });
    bar.finish(10);
    expect(written).to.deep.equal(['\r[██░░]  50% 1000 events/s ETA --', '\r[████] 100% 10 events/s ETA 0s  ', '\n']);
  });

  it('adds the detail after the ETA, in a line and in the bar', () => {
    const lines: string[] = [];
    new ProgressBar({ write: (text) => lines.push(text), tty: false, label: 'rebuild p', unit: 'events', lineIntervalMs: 0 }).update({ fraction: 0.25, rate: 40, etaMs: 2000, detail: 'lag 120' });
    new ProgressBar({ write: (text) => lines.push(text), tty: true, width: 4, unit: 'events' }).update({ fraction: 0.25, rate: 40, etaMs: 2000, detail: 'lag 120' });
    expect(lines).to.deep.equal(['rebuild p  25% 40 events/s ETA 2s lag 120\n', '\r[█░░░]  25% 40 events/s ETA 2s lag 120']);
  });

  it('formats durations as seconds, minutes or hours', () => {
    expect([999, 59_000, 61_000, 3_725_000, Number.NaN].map(formatDuration)).to.deep.equal(['1s', '59s', '1:01', '1:02:05', '--']);
  });
});
