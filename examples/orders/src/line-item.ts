/** One line of an order. Prices are in cents, so sums are exact. */
export class LineItem {
  constructor(
    readonly itemId: string,
    readonly quantity: number,
    readonly unitPriceCents: number,
  ) {}
}
