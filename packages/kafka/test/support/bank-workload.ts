import { Deposit, OpenAccount, Withdraw } from './account';

export interface WorkloadCommand {
  readonly commandId: string;
  readonly command: Deposit | Withdraw | OpenAccount;
}

/** The ids of the hot accounts every workload shares. */
export function accountIds(accounts: number): string[] {
  return Array.from({ length: accounts }, (_, index) => `hot-${index}`);
}

/**
 * A seeded, reproducible stream of deposits and withdrawals on a few hot
 * accounts; withdrawals are large enough that the no-overdraft rule refuses some,
 * so the order in which commands are decided matters.
 */
export function workload(seed: number, count: number, accounts: number): WorkloadCommand[] {
  let state = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: deterministic across processes, unlike Math.random.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const ids = accountIds(accounts);
  return Array.from({ length: count }, (_, index) => {
    const accountId = ids[Math.floor(random() * ids.length)];
    const amount = 1 + Math.floor(random() * 50);
    const command = random() < 0.55 ? new Deposit(accountId, amount) : new Withdraw(accountId, amount);
    return { commandId: `s${seed}-c${index}`, command };
  });
}
