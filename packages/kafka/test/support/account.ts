import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, DomainError, Event, TargetAggregateId } from '@tributary/core';

/** A bank account with a no-overdraft rule: the aggregate of the Kafka store's tests. */
@Event('KafkaTest.AccountOpened')
export class AccountOpened {
  constructor(
    readonly accountId: string,
    readonly owner: string,
  ) {}
}

@Event('KafkaTest.Deposited')
export class Deposited {
  constructor(readonly amount: number) {}
}

@Event('KafkaTest.Withdrawn')
export class Withdrawn {
  constructor(readonly amount: number) {}
}

@Command('KafkaTest.OpenAccount')
export class OpenAccount {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly owner: string,
  ) {
    this.accountId = accountId;
  }
}

@Command('KafkaTest.Deposit')
export class Deposit {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly amount: number,
  ) {
    this.accountId = accountId;
  }
}

@Command('KafkaTest.Withdraw')
export class Withdraw {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly amount: number,
  ) {
    this.accountId = accountId;
  }
}

export class InsufficientFundsError extends DomainError {
  constructor(
    readonly accountId: string,
    readonly balance: number,
    readonly requested: number,
  ) {
    super(`Account ${accountId} holds ${balance} and cannot pay out ${requested}`, 'INSUFFICIENT_FUNDS');
  }
}

@Aggregate('Account')
export class Account extends AggregateRoot {
  @AggregateId() id = '';
  owner = '';
  balance = 0;

  @CommandHandler(OpenAccount)
  static open(command: OpenAccount): Account {
    const account = new Account();
    account.apply(new AccountOpened(command.accountId, command.owner));
    return account;
  }

  @CommandHandler(Deposit)
  deposit(command: Deposit): void {
    this.apply(new Deposited(command.amount));
  }

  @CommandHandler(Withdraw)
  withdraw(command: Withdraw): void {
    if (command.amount > this.balance) throw new InsufficientFundsError(this.id, this.balance, command.amount);
    this.apply(new Withdrawn(command.amount));
  }

  @Apply(AccountOpened) onOpened(event: AccountOpened): void {
    this.id = event.accountId;
    this.owner = event.owner;
  }

  @Apply(Deposited) onDeposited(event: Deposited): void {
    this.balance += event.amount;
  }

  @Apply(Withdrawn) onWithdrawn(event: Withdrawn): void {
    this.balance -= event.amount;
  }
}
