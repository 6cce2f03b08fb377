/**
 * An account whose events changed in every way an upcaster exists for:
 *
 * - `Upcast.AccountOpened` v1 → v2 → v3, a chain: v2 renamed `owner` to
 *   `ownerName`; v3 changed the meaning of `limit` (euros) to `limitCents`;
 * - `Upcast.MoneyIn` v1 was renamed `Upcast.Deposited`;
 * - `Upcast.CashDeposited` and `Upcast.ChequeDeposited` were merged into `Upcast.Deposited`;
 * - `Upcast.Transfer` v1 was split into `Upcast.Deposited` and `Upcast.FeeCharged`;
 * - `Upcast.Audited` was never a fact of the account, and is dropped;
 * - `Upcast.Withdrawn` v2 added `reason` with a default: resolution suffices, no upcaster.
 */
import { Aggregate, AggregateId, AggregateRoot, Apply, CommandHandler, Event, TargetAggregateId, defineUpcaster } from '@tributary/core';

// ---- current classes ----

@Event('Upcast.AccountOpened', { version: 3 })
export class AccountOpened {
  constructor(
    readonly accountId: string,
    readonly ownerName: string,
    readonly limitCents: number,
  ) {}
}

@Event('Upcast.Deposited')
export class Deposited {
  constructor(readonly amountCents: number) {}
}

@Event('Upcast.FeeCharged')
export class FeeCharged {
  constructor(readonly feeCents: number) {}
}

@Event('Upcast.Withdrawn', { version: 2 })
export class Withdrawn {
  // Events written at v1 have no reason; the class default fills it.
  readonly reason: string = 'unknown';
  constructor(
    readonly amountCents: number,
    reason?: string,
  ) {
    if (reason !== undefined) this.reason = reason;
  }
}

// ---- legacy classes: kept to write histories in tests, never applied ----

@Event('Upcast.AccountOpened', { version: 1 })
export class AccountOpenedV1 {
  constructor(
    readonly accountId: string,
    readonly owner: string,
  ) {}
}

@Event('Upcast.AccountOpened', { version: 2 })
export class AccountOpenedV2 {
  constructor(
    readonly accountId: string,
    readonly ownerName: string,
    readonly limit: number,
  ) {}
}

@Event('Upcast.MoneyIn')
export class MoneyIn {
  constructor(readonly cents: number) {}
}

@Event('Upcast.CashDeposited')
export class CashDeposited {
  constructor(readonly cents: number) {}
}

@Event('Upcast.ChequeDeposited')
export class ChequeDeposited {
  constructor(
    readonly cents: number,
    readonly chequeNumber: string,
  ) {}
}

@Event('Upcast.Transfer')
export class Transfer {
  constructor(
    readonly amountCents: number,
    readonly feeCents: number,
  ) {}
}

@Event('Upcast.Audited')
export class Audited {
  constructor(readonly by: string) {}
}

@Event('Upcast.Withdrawn', { version: 1 })
export class WithdrawnV1 {
  constructor(readonly amountCents: number) {}
}

export const LEGACY_EVENT_CLASSES = [AccountOpenedV1, AccountOpenedV2, MoneyIn, CashDeposited, ChequeDeposited, Transfer, Audited, WithdrawnV1];

// ---- upcasters ----

/** v2 renamed `owner` to `ownerName`; accounts opened before v2 had no limit. */
export const openedV1ToV2 = defineUpcaster('Upcast.AccountOpened', 1, ({ payload }) => ({
  type: 'Upcast.AccountOpened',
  schemaVersion: 2,
  payload: { accountId: payload.accountId, ownerName: payload.owner, limit: 0 },
}));

/** v3 counts the limit in cents: the same name would have changed meaning, so the field changed too. */
export const openedV2ToV3 = defineUpcaster('Upcast.AccountOpened', 2, ({ payload }) => ({
  type: 'Upcast.AccountOpened',
  schemaVersion: 3,
  payload: { accountId: payload.accountId, ownerName: payload.ownerName, limitCents: Number(payload.limit) * 100 },
}));

export const renameMoneyIn = defineUpcaster('Upcast.MoneyIn', 1, ({ payload }) => ({
  type: 'Upcast.Deposited',
  schemaVersion: 1,
  payload: { amountCents: payload.cents },
}));

export const mergeCash = defineUpcaster('Upcast.CashDeposited', 1, ({ payload }) => ({
  type: 'Upcast.Deposited',
  schemaVersion: 1,
  payload: { amountCents: payload.cents },
}));

/** The cheque number was never used by anything; the merged event does not keep it. */
export const mergeCheque = defineUpcaster('Upcast.ChequeDeposited', 1, ({ payload }) => ({
  type: 'Upcast.Deposited',
  schemaVersion: 1,
  payload: { amountCents: payload.cents },
}));

export const splitTransfer = defineUpcaster('Upcast.Transfer', 1, ({ payload }) => [
  { type: 'Upcast.Deposited', schemaVersion: 1, payload: { amountCents: payload.amountCents } },
  { type: 'Upcast.FeeCharged', schemaVersion: 1, payload: { feeCents: payload.feeCents } },
]);

export const dropAudited = defineUpcaster('Upcast.Audited', 1, () => []);

export const ACCOUNT_UPCASTERS = [openedV1ToV2, openedV2ToV3, renameMoneyIn, mergeCash, mergeCheque, splitTransfer, dropAudited];

// ---- commands and the aggregate ----

export class Deposit {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly amountCents: number,
  ) {
    this.accountId = accountId;
  }
}

export class OpenAccount {
  constructor(
    readonly accountId: string,
    readonly ownerName: string,
  ) {}
}

@Aggregate('Upcast.Account')
export class Account extends AggregateRoot {
  @AggregateId() id = '';
  ownerName = '';
  limitCents = 0;
  balanceCents = 0;
  feesCents = 0;
  deposits = 0;
  lastWithdrawalReason = '';

  @CommandHandler(OpenAccount)
  static open(command: OpenAccount): Account {
    const account = new Account();
    account.apply(new AccountOpened(command.accountId, command.ownerName, 0));
    return account;
  }

  @CommandHandler(Deposit)
  deposit(command: Deposit): void {
    this.apply(new Deposited(command.amountCents));
  }

  @Apply(AccountOpened) opened(event: AccountOpened): void {
    this.id = event.accountId;
    this.ownerName = event.ownerName;
    this.limitCents = event.limitCents;
  }

  @Apply(Deposited) deposited(event: Deposited): void {
    this.balanceCents += event.amountCents;
    this.deposits += 1;
  }

  @Apply(FeeCharged) charged(event: FeeCharged): void {
    this.balanceCents -= event.feeCents;
    this.feesCents += event.feeCents;
  }

  @Apply(Withdrawn) withdrawn(event: Withdrawn): void {
    this.balanceCents -= event.amountCents;
    this.lastWithdrawalReason = event.reason;
  }
}

/** The account's state as plain data, to compare two accounts field by field. */
export function accountState(account: Account | undefined): Record<string, unknown> | undefined {
  return account && { ...account };
}
