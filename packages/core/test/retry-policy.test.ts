import { expect } from 'chai';
import { DomainError, InvalidOptionError, RetriesExhaustedError, TributaryError, retryPolicy, withRetry } from '@tributary/core';

const fast = retryPolicy({ retries: 3, initialDelayMs: 0, maxDelayMs: 0 });

describe('retry policy', () => {
  it('retries retriable errors until one attempt succeeds', async () => {
    let attempts = 0;
    const result = await withRetry('flaky', fast, async () => {
      attempts += 1;
      if (attempts < 3) throw new TributaryError('busy', { code: 'BUSY', retriable: true });
      return 'done';
    });
    expect(result).to.equal('done');
    expect(attempts).to.equal(3);
  });

  it('passes non-retriable errors through on the first attempt', async () => {
    let attempts = 0;
    const rule = new DomainError('no', 'RULE');
    const error = await withRetry('strict', fast, async () => {
      attempts += 1;
      throw rule;
    }).catch((e: unknown) => e);
    expect(error).to.equal(rule);
    expect(attempts).to.equal(1);
  });

  it('wraps the last error when retries run out', async () => {
    const error = await withRetry('doomed', fast, async (attempt) => {
      throw new TributaryError(`busy ${attempt}`, { code: 'BUSY', retriable: true });
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RetriesExhaustedError);
    expect((error as RetriesExhaustedError).attempts).to.equal(4);
    expect(((error as RetriesExhaustedError).cause as Error).message).to.equal('busy 4');
    expect((error as Error).message).to.contain('doomed failed after 4 attempts');
  });

  it('refuses impossible settings, naming the option', () => {
    expect(() => retryPolicy({ retries: -1 })).to.throw(InvalidOptionError, 'retry.retries');
    expect(() => retryPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).to.throw(InvalidOptionError, 'retry.maxDelayMs');
    expect(() => retryPolicy({ multiplier: 0.5 })).to.throw(InvalidOptionError, 'retry.multiplier');
  });
});
