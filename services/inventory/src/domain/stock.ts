/** Pure rules of stock: lot picking, expiry, the stock-low trigger. No I/O here (STYLE.md §3). */

export interface FieldProblem {
  path: string;
  message: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (YYYY-MM-DD) of an instant in an IANA time zone. */
export function localDate(at: Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats a date as YYYY-MM-DD
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}

/**
 * A lot's `expiry` is its last usable day: usable on that day, expired from the next one.
 * Dates in YYYY-MM-DD compare as strings.
 */
export function isExpired(expiry: string, today: string): boolean {
  return expiry < today;
}

export interface StockLot {
  lotNumber: string;
  expiry: string;
  quantity: number;
  reserved: number;
}

export interface LotPick {
  lotNumber: string;
  expiry: string;
  quantity: number;
}

/**
 * Which lots a reservation of `quantity` takes: the earliest-expiring first (lot number breaks a
 * tie, so the choice is the same every time), each as much as it has free, split across as many
 * as needed. Only lots still usable on `usableThrough` count (the last day of the hold: a hold
 * never outlives its lots, so an expired lot is never held nor dispensed). `picks` is undefined
 * when the usable free stock is short; `available` says how much there is.
 */
export function pickLots(
  lots: readonly StockLot[],
  quantity: number,
  usableThrough: string,
): { picks: LotPick[] | undefined; available: number } {
  const usable = lots
    .filter((l) => !isExpired(l.expiry, usableThrough) && l.quantity - l.reserved > 0)
    .sort((a, b) =>
      a.expiry !== b.expiry ? (a.expiry < b.expiry ? -1 : 1) : a.lotNumber < b.lotNumber ? -1 : 1,
    );
  const available = usable.reduce((sum, l) => sum + l.quantity - l.reserved, 0);
  if (available < quantity) return { picks: undefined, available };
  const picks: LotPick[] = [];
  let left = quantity;
  for (const l of usable) {
    if (left === 0) break;
    const take = Math.min(left, l.quantity - l.reserved);
    picks.push({ lotNumber: l.lotNumber, expiry: l.expiry, quantity: take });
    left -= take;
  }
  return { picks, available };
}

/** Usable stock: in lots not expired on `today`, less what reservations hold. */
export function usableStock(lots: readonly StockLot[], today: string): number {
  return lots.filter((l) => !isExpired(l.expiry, today)).reduce((sum, l) => sum + l.quantity - l.reserved, 0);
}

/**
 * The stock-low trigger, once per crossing: while armed, usable stock below the threshold
 * publishes and disarms; disarmed, usable stock back at or above the threshold re-arms it.
 */
export function lowStockStep(
  armed: boolean,
  usable: number,
  threshold: number,
): { publish: boolean; armed: boolean } {
  if (armed && usable < threshold) return { publish: true, armed: false };
  if (!armed && usable >= threshold) return { publish: false, armed: true };
  return { publish: false, armed };
}

/**
 * Lots received (initial lots, a receipt): none already past its last usable day, each lot
 * number once. `base` is the JSON pointer of the list or the single lot (`/body/lots`, `/body`).
 */
export function receivedLotProblems(
  lots: readonly { lotNumber: string; expiry: string }[],
  today: string,
  pointer: (index: number) => string,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  lots.forEach((l, i) => {
    if (isExpired(l.expiry, today))
      problems.push({ path: `${pointer(i)}/expiry`, message: `is in the past (today is ${today})` });
    if (seen.has(l.lotNumber))
      problems.push({ path: `${pointer(i)}/lotNumber`, message: 'is given more than once' });
    seen.add(l.lotNumber);
  });
  return problems;
}

/**
 * Whether the lots a dispense event names are exactly the reservation's: the same lot numbers,
 * each with the same quantity (order aside).
 */
export function sameLots(
  held: readonly { lotNumber: string; quantity: number }[],
  named: readonly { lotNumber: string; quantity: number }[],
): boolean {
  const key = (ls: readonly { lotNumber: string; quantity: number }[]) =>
    JSON.stringify(
      [...ls].map((l) => [l.lotNumber, l.quantity]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
  return key(held) === key(named);
}

/** The API's lot: its stock and whether its last usable day has passed. */
export function lotView(l: StockLot, today: string) {
  return {
    lotNumber: l.lotNumber,
    expiry: l.expiry,
    quantity: l.quantity,
    reserved: l.reserved,
    expired: isExpired(l.expiry, today),
  };
}

/**
 * An item as the API answers it: its record, and the figures its lots add up to. On hand counts
 * every unit in a lot (expired ones too, until written off); available only the usable ones.
 * Lots that hold nothing are left out (the ledger keeps their history).
 */
export function itemView<R extends { lowArmed: boolean }>(row: R, lots: readonly StockLot[], today: string) {
  // the trigger's state is the service's own business, not the item's
  const record: Omit<R, 'lowArmed'> & Partial<Pick<R, 'lowArmed'>> = { ...row };
  delete record.lowArmed;
  const stocked = lots
    .filter((l) => l.quantity > 0)
    .sort((a, b) =>
      a.expiry !== b.expiry ? (a.expiry < b.expiry ? -1 : 1) : a.lotNumber < b.lotNumber ? -1 : 1,
    );
  return {
    ...record,
    quantityOnHand: lots.reduce((sum, l) => sum + l.quantity, 0),
    reserved: lots.reduce((sum, l) => sum + l.reserved, 0),
    available: usableStock(lots, today),
    lots: stocked.map((l) => lotView(l, today)),
  };
}

/** An adjustment's sign must fit its reason: write-offs take stock out, returns bring it back. */
export function adjustmentProblems(quantity: number, reason: string): FieldProblem[] {
  if (quantity === 0) return [{ path: '/body/quantity', message: 'must not be 0' }];
  if ((reason === 'expired' || reason === 'damaged') && quantity > 0)
    return [
      { path: '/body/quantity', message: `must be negative for reason ${reason} (it takes stock out)` },
    ];
  if (reason === 'returned' && quantity < 0)
    return [
      { path: '/body/quantity', message: 'must be positive for reason returned (it brings stock back)' },
    ];
  return [];
}
