import { describe, expect, it } from 'vitest';
import { isExpired, localDate, lowStockStep, pickLots, sameLots, usableStock } from '../src/domain/stock.js';

/** The pure rules of stock, without a database. Every expected value is written by hand. */
describe('localDate', () => {
  it("is the date in the facility's zone, not UTC's", () => {
    expect(localDate(new Date('2027-03-10T23:30:00Z'), 'Europe/Berlin')).toBe('2027-03-11');
    expect(localDate(new Date('2027-03-10T23:30:00Z'), 'UTC')).toBe('2027-03-10');
    expect(localDate(new Date('2027-03-11T03:00:00Z'), 'America/New_York')).toBe('2027-03-10');
  });
});

describe('isExpired', () => {
  it('a lot is usable through its last usable day and expired from the next', () => {
    expect(isExpired('2027-03-10', '2027-03-10')).toBe(false);
    expect(isExpired('2027-03-10', '2027-03-11')).toBe(true);
  });
});

describe('pickLots', () => {
  const lots = [
    { lotNumber: 'C', expiry: '2027-09-01', quantity: 10, reserved: 0 },
    { lotNumber: 'B', expiry: '2027-05-01', quantity: 4, reserved: 1 },
    { lotNumber: 'A', expiry: '2027-03-01', quantity: 50, reserved: 0 },
    { lotNumber: 'D', expiry: '2027-05-01', quantity: 2, reserved: 2 },
    { lotNumber: 'B2', expiry: '2027-05-01', quantity: 1, reserved: 0 },
  ];

  it('takes the earliest-expiring usable lots first (lot number on a tie), split as needed', () => {
    expect(pickLots(lots, 6, '2027-03-10')).toEqual({
      picks: [
        { lotNumber: 'B', expiry: '2027-05-01', quantity: 3 },
        { lotNumber: 'B2', expiry: '2027-05-01', quantity: 1 },
        { lotNumber: 'C', expiry: '2027-09-01', quantity: 2 },
      ],
      available: 14,
    });
  });

  it('answers no picks and the usable free stock when short; an expired lot never counts', () => {
    expect(pickLots(lots, 15, '2027-03-10')).toEqual({ picks: undefined, available: 14 });
    expect(pickLots(lots, 3, '2027-02-28').picks).toEqual([
      { lotNumber: 'A', expiry: '2027-03-01', quantity: 3 },
    ]);
    expect(pickLots(lots, 11, '2027-05-02')).toEqual({ picks: undefined, available: 10 });
  });
});

describe('usableStock', () => {
  it('counts unexpired, unreserved units', () => {
    expect(
      usableStock(
        [
          { lotNumber: 'A', expiry: '2027-03-09', quantity: 5, reserved: 0 },
          { lotNumber: 'B', expiry: '2027-03-10', quantity: 5, reserved: 2 },
        ],
        '2027-03-10',
      ),
    ).toBe(3);
  });
});

describe('lowStockStep', () => {
  it('publishes once per crossing below the threshold and re-arms at or above it', () => {
    expect(lowStockStep(true, 9, 10)).toEqual({ publish: true, armed: false });
    expect(lowStockStep(false, 8, 10)).toEqual({ publish: false, armed: false });
    expect(lowStockStep(false, 10, 10)).toEqual({ publish: false, armed: true });
    expect(lowStockStep(true, 10, 10)).toEqual({ publish: false, armed: true });
    expect(lowStockStep(true, 0, 0)).toEqual({ publish: false, armed: true });
  });
});

describe('sameLots', () => {
  it('compares lot numbers and quantities, in any order', () => {
    const held = [
      { lotNumber: 'A', quantity: 3 },
      { lotNumber: 'B', quantity: 2 },
    ];
    expect(
      sameLots(held, [
        held[1] as { lotNumber: string; quantity: number },
        held[0] as { lotNumber: string; quantity: number },
      ]),
    ).toBe(true);
    expect(sameLots(held, [{ lotNumber: 'A', quantity: 5 }])).toBe(false);
    expect(sameLots(held, [...held, { lotNumber: 'C', quantity: 1 }])).toBe(false);
  });
});
