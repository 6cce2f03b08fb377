import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, DomainError, Event, JsonSerializer, SerializationContext, EventData, TargetAggregateId } from '@tributary/core';
import { AvroSchema } from '@tributary/avro';

/**
 * A wallet whose commands write one or two events: the aggregate of the tests
 * where a command fails half-way through its events. Its events declare Avro
 * schemas too, so the same aggregate runs on the registry.
 */
@Event('WalletTest.Opened')
@AvroSchema({ type: 'record', name: 'Opened', namespace: 'wallet', fields: [{ name: 'walletId', type: 'string' }] })
export class WalletOpened {
  constructor(readonly walletId: string) {}
}

@Event('WalletTest.Credited')
@AvroSchema({ type: 'record', name: 'Credited', namespace: 'wallet', fields: [{ name: 'amount', type: 'long' }] })
export class Credited {
  constructor(readonly amount: number) {}
}

/** Written only by {@link CreditWithBonus}, so the first such command is the first write of its type. */
@Event('WalletTest.BonusGranted')
@AvroSchema({ type: 'record', name: 'BonusGranted', namespace: 'wallet', fields: [{ name: 'amount', type: 'long' }] })
export class BonusGranted {
  constructor(readonly amount: number) {}
}

@Command('WalletTest.Open')
export class OpenWallet {
  @TargetAggregateId() readonly walletId: string;
  constructor(walletId: string) {
    this.walletId = walletId;
  }
}

@Command('WalletTest.Credit')
export class Credit {
  @TargetAggregateId() readonly walletId: string;
  constructor(
    walletId: string,
    readonly amount: number,
  ) {
    this.walletId = walletId;
  }
}

/** Two events: the credit, then a bonus of 1. */
@Command('WalletTest.CreditWithBonus')
export class CreditWithBonus {
  @TargetAggregateId() readonly walletId: string;
  constructor(
    walletId: string,
    readonly amount: number,
  ) {
    this.walletId = walletId;
  }
}

@Command('WalletTest.Spend')
export class Spend {
  @TargetAggregateId() readonly walletId: string;
  constructor(
    walletId: string,
    readonly amount: number,
  ) {
    this.walletId = walletId;
  }
}

export class WalletEmptyError extends DomainError {
  constructor(
    readonly walletId: string,
    readonly balance: number,
  ) {
    super(`Wallet ${walletId} holds only ${balance}`, 'WALLET_EMPTY');
  }
}

@Aggregate('Wallet')
export class Wallet extends AggregateRoot {
  @AggregateId() id = '';
  balance = 0;
  bonuses = 0;

  @CommandHandler(OpenWallet)
  static open(command: OpenWallet): Wallet {
    const wallet = new Wallet();
    wallet.apply(new WalletOpened(command.walletId));
    return wallet;
  }

  @CommandHandler(Credit)
  credit(command: Credit): void {
    this.apply(new Credited(command.amount));
  }

  @CommandHandler(CreditWithBonus)
  creditWithBonus(command: CreditWithBonus): void {
    this.apply(new Credited(command.amount));
    this.apply(new BonusGranted(1));
  }

  @CommandHandler(Spend)
  spend(command: Spend): void {
    if (command.amount > this.balance) throw new WalletEmptyError(this.id, this.balance);
    this.apply(new Credited(-command.amount));
  }

  @Apply(WalletOpened) opened(event: WalletOpened): void {
    this.id = event.walletId;
  }

  @Apply(Credited) credited(event: Credited): void {
    this.balance += event.amount;
  }

  @Apply(BonusGranted) bonus(event: BonusGranted): void {
    this.balance += event.amount;
    this.bonuses += 1;
  }
}

export const WALLET_EVENTS = [WalletOpened, Credited, BonusGranted];

/**
 * JSON, except that it cannot write a bonus: a stand-in for any serializer that
 * fails on one event (a payload its schema refuses), here the second event of
 * {@link CreditWithBonus}.
 */
export class BonusRefusingSerializer extends JsonSerializer {
  override serialize(payload: EventData, context?: SerializationContext): Uint8Array {
    if (context?.type === 'WalletTest.BonusGranted') throw new Error(`this serializer cannot write ${context?.type}`);
    return super.serialize(payload);
  }
}
