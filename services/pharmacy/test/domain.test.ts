import { describe, expect, it } from 'vitest';
import { allergyMatches, singular, termsMatch } from '../src/domain/allergy.js';
import { fillLines, fillRefusal, statusAfterFill, type FillableItem } from '../src/domain/fill.js';
import { defaultValidUntil, isDue, prescriptionProblems, transition } from '../src/domain/prescription.js';

const amoxicillin = {
  id: 'amox',
  ingredients: ['Amoxicillin'],
  drugClasses: ['Penicillins', 'beta-lactam antibacterials'],
};
const coAmoxiclav = {
  id: 'co-amoxiclav',
  ingredients: ['amoxicillin trihydrate', 'clavulanate potassium'],
  drugClasses: ['penicillin combinations'],
};
const paracetamol = { id: 'para', ingredients: ['acetaminophen'], drugClasses: ['analgesics'] };
const ibuprofen = { id: 'ibu', ingredients: ['ibuprofen'], drugClasses: ['NSAIDs'] };

describe('singular', () => {
  it.each([
    ['penicillins', 'penicillin'],
    ['penicillin', 'penicillin'],
    ['cephalosporins', 'cephalosporin'],
    ['nsaids', 'nsaid'],
    ['allergies', 'allergy'],
    ['sulfonamides', 'sulfonamide'],
    ['class', 'class'],
    ['virus', 'virus'],
    ['latexes', 'latex'],
    ['gas', 'gas'],
  ])('%s → %s', (word, expected) => {
    expect(singular(word)).toBe(expected);
  });
});

describe('termsMatch: case-insensitive, singular or plural, whole words', () => {
  it.each([
    ['Penicillin', 'penicillins', true],
    ['penicillins', 'Penicillin', true],
    ['PENICILLIN', 'penicillin', true],
    ['Amoxicillin', 'amoxicillin', true],
    ['amoxicillin', 'Amoxicillin trihydrate', true],
    ['Penicillin', 'penicillin G benzathine', true],
    ['NSAID', 'NSAIDs', true],
    ['sulfa drugs', 'Sulfa drug', true],
    ['Penicillin', 'amoxicillin', false],
    ['cillin', 'amoxicillin', false],
    ['Penicillin', 'cephalosporins', false],
    ['aspirin', 'acetaminophen', false],
  ])('%j vs %j → %s', (substance, term, expected) => {
    expect(termsMatch(substance, term)).toBe(expected);
  });
});

describe('allergyMatches', () => {
  it('matches a class allergy recorded singular against the plural drug class', () => {
    expect(allergyMatches([{ substance: 'Penicillin' }], [amoxicillin])).toEqual([
      { substance: 'Penicillin', medicationId: 'amox', matched: 'drugClass', term: 'Penicillins' },
    ]);
  });

  it('matches an allergy recorded against the ingredient, whatever the case', () => {
    expect(allergyMatches([{ substance: 'AMOXICILLIN' }], [amoxicillin, paracetamol])).toEqual([
      { substance: 'AMOXICILLIN', medicationId: 'amox', matched: 'ingredient', term: 'Amoxicillin' },
    ]);
  });

  it('matches an ingredient of a combination product and a plural allergy against a singular class word', () => {
    expect(
      allergyMatches([{ substance: 'amoxicillin' }, { substance: 'penicillins' }], [coAmoxiclav]),
    ).toEqual([
      {
        substance: 'amoxicillin',
        medicationId: 'co-amoxiclav',
        matched: 'ingredient',
        term: 'amoxicillin trihydrate',
      },
      {
        substance: 'penicillins',
        medicationId: 'co-amoxiclav',
        matched: 'drugClass',
        term: 'penicillin combinations',
      },
    ]);
  });

  it('prefers the ingredient when both the ingredient and the class match, one entry per allergy and medication', () => {
    const both = { id: 'pen-v', ingredients: ['penicillin V potassium'], drugClasses: ['penicillins'] };
    expect(allergyMatches([{ substance: 'Penicillin' }], [both])).toEqual([
      {
        substance: 'Penicillin',
        medicationId: 'pen-v',
        matched: 'ingredient',
        term: 'penicillin V potassium',
      },
    ]);
  });

  it('finds nothing when no ingredient or class names the allergy', () => {
    expect(
      allergyMatches(
        [{ substance: 'Penicillin' }, { substance: 'latex' }, { substance: 'peanuts' }],
        [paracetamol, ibuprofen],
      ),
    ).toEqual([]);
    expect(allergyMatches([], [amoxicillin])).toEqual([]);
  });

  it('matches each medication of a prescription on its own', () => {
    expect(allergyMatches([{ substance: 'nsaid' }], [paracetamol, ibuprofen, amoxicillin])).toEqual([
      { substance: 'nsaid', medicationId: 'ibu', matched: 'drugClass', term: 'NSAIDs' },
    ]);
  });
});

describe('prescription rules', () => {
  const now = new Date('2026-03-01T10:00:00.000Z');

  it('is valid for a year by default', () => {
    expect(defaultValidUntil(now).toISOString()).toBe('2027-03-01T10:00:00.000Z');
  });

  it('names every bad field of a request at once', () => {
    const input = {
      patientId: 'p',
      items: [
        { medicationId: 'm1', dose: ' ', route: 'oral', frequency: 'daily', quantity: 1 },
        { medicationId: 'm1', dose: '1', route: 'oral', frequency: '', quantity: 1 },
      ],
      validUntil: '2026-03-01T10:00:00.000Z',
      overrideReason: '  ',
    };
    expect(prescriptionProblems(input, now).map((p) => p.path)).toEqual([
      '/body/items/0/dose',
      '/body/items/1/medicationId',
      '/body/items/1/frequency',
      '/body/validUntil',
      '/body/overrideReason',
    ]);
  });

  it('cancels and expires only while it can still be filled', () => {
    expect(transition('active', 'cancel')).toBe('cancelled');
    expect(transition('filled', 'expire')).toBe('expired');
    for (const status of ['completed', 'cancelled', 'expired'] as const) {
      expect(transition(status, 'cancel')).toBeUndefined();
      expect(transition(status, 'expire')).toBeUndefined();
    }
  });

  it('is due for expiry at its validUntil, not before, and only while open', () => {
    expect(isDue('active', '2026-03-01T10:00:00.000Z', now)).toBe(true);
    expect(isDue('active', '2026-03-01T10:00:00.001Z', now)).toBe(false);
    expect(isDue('cancelled', '2026-02-01T00:00:00.000Z', now)).toBe(false);
  });
});

describe('fill rules', () => {
  const now = new Date('2026-03-01T10:00:00.000Z');
  const later = '2026-04-01T00:00:00.000Z';
  const it1 = (over: Partial<FillableItem> = {}): FillableItem => ({
    medicationId: 'm1',
    quantity: 10,
    refills: 1,
    dispensed: 0,
    pending: 0,
    ...over,
  });

  it('fills an open prescription before validUntil while an item has a whole fill left', () => {
    expect(fillRefusal({ status: 'active', validUntil: later, items: [it1()] }, now)).toBeUndefined();
    expect(
      fillRefusal({ status: 'filled', validUntil: later, items: [it1({ dispensed: 10 })] }, now),
    ).toBeUndefined();
  });

  it('refuses a closed, an expired, a used-up prescription, and one whose last fill is under way', () => {
    expect(fillRefusal({ status: 'cancelled', validUntil: later, items: [it1()] }, now)).toBe(
      'a cancelled prescription cannot be filled',
    );
    expect(
      fillRefusal({ status: 'active', validUntil: '2026-03-01T10:00:00.000Z', items: [it1()] }, now),
    ).toContain('valid until');
    expect(
      fillRefusal({ status: 'filled', validUntil: later, items: [it1({ dispensed: 20 })] }, now),
    ).toContain('no fills left');
    expect(
      fillRefusal({ status: 'filled', validUntil: later, items: [it1({ dispensed: 10, pending: 10 })] }, now),
    ).toBe('the last fill left is under way');
  });

  it('takes the quantity of each item with a fill left', () => {
    expect(
      fillLines([
        it1(),
        it1({ medicationId: 'm2', quantity: 5, refills: 0, dispensed: 5 }),
        it1({ medicationId: 'm3', dispensed: 10 }),
      ]),
    ).toEqual([
      { medicationId: 'm1', quantity: 10 },
      { medicationId: 'm3', quantity: 10 },
    ]);
  });

  it('is completed once every item was dispensed all it allows', () => {
    expect(statusAfterFill([it1({ dispensed: 10 })])).toBe('filled');
    expect(statusAfterFill([it1({ dispensed: 20 })])).toBe('completed');
    expect(
      statusAfterFill([it1({ dispensed: 20 }), it1({ medicationId: 'm2', dispensed: 10, pending: 10 })]),
    ).toBe('filled');
  });
});
