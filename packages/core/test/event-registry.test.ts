import { expect } from 'chai';
import { Event, EventRegistry, UndeclaredEventError, UnknownEventTypeError } from '@tributary/core';
import { Type } from 'class-transformer';

class Address {
  constructor(
    readonly street: string,
    readonly city: string,
  ) {}
  label(): string {
    return `${this.street}, ${this.city}`;
  }
}

@Event('RegistryTest.Moved', { version: 3 })
class Moved {
  @Type(() => Address) readonly to: Address;
  @Type(() => Address) readonly history: Address[];
  @Type(() => Date) readonly at: Date;
  constructor(to: Address, history: Address[], at: Date) {
    this.to = to;
    this.history = history;
    this.at = at;
  }
}

describe('EventRegistry', () => {
  it('converts payloads to JSON-safe data and back into classes, nested types and dates included', () => {
    const registry = new EventRegistry([Moved]);
    const event = new Moved(new Address('1 Quay', 'Leith'), [new Address('2 Wynd', 'Perth')], new Date('2026-05-06T07:08:09.010Z'));
    const data = registry.toData(event);
    expect(data).to.deep.equal({
      to: { street: '1 Quay', city: 'Leith' },
      history: [{ street: '2 Wynd', city: 'Perth' }],
      at: '2026-05-06T07:08:09.010Z',
    });
    const back = registry.fromData('RegistryTest.Moved', 3, JSON.parse(JSON.stringify(data)), 'test') as Moved;
    expect(back).to.be.instanceOf(Moved);
    expect(back.to.label()).to.equal('1 Quay, Leith');
    expect(back.history[0]).to.be.instanceOf(Address);
    expect(back.at).to.be.instanceOf(Date);
    expect(back.at.getTime()).to.equal(event.at.getTime());
    expect(registry.describe(event)).to.include({ type: 'RegistryTest.Moved', version: 3 });
  });

  it('names the type, version and context of an event it does not know', () => {
    const registry = new EventRegistry([Moved]);
    expect(() => registry.fromData('RegistryTest.Moved', 2, {}, 'Loading Person p-1'))
      .to.throw(UnknownEventTypeError, "Loading Person p-1: no event class is declared for type 'RegistryTest.Moved' version 2");
  });

  it('refuses a class without @Event', () => {
    class Undecorated {}
    expect(() => new EventRegistry([Undecorated])).to.throw(UndeclaredEventError, 'Undecorated');
  });
});
