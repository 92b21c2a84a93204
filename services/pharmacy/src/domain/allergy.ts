/**
 * The allergy check's matching rule (issue #12): a prescribed medication matches a recorded
 * allergy when one of its ingredients or drug classes names the allergy substance, whatever the
 * case and whether either side is written singular or plural ("Penicillin" matches the class
 * "penicillins"). A peer missed the product prescribed because the allergy was recorded against
 * its ingredient (hmis#21682): ingredients and classes are both checked. Terms are compared as
 * whole words: one term's words appearing, in order, in the other's ("penicillin" matches the
 * ingredient "penicillin G benzathine", "amoxicillin trihydrate" the ingredient "amoxicillin"),
 * never a fragment of a word ("cillin" matches nothing). Erring towards an alert is the safe side:
 * an alert can be overridden with a reason, a missed one cannot be taken back.
 */

export interface MatchableMedication {
  id: string;
  ingredients: readonly string[];
  drugClasses: readonly string[];
}

export interface AllergyMatch {
  /** The allergy substance as recorded. */
  substance: string;
  medicationId: string;
  matched: 'ingredient' | 'drugClass';
  /** The ingredient or drug class that matched it, as the formulary has it. */
  term: string;
}

/** One word in its singular form: "penicillins" → "penicillin", "allergies" → "allergy", "boxes" → "box". */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ch|sh|x|z|ss)es$/.test(word)) return word.slice(0, -2);
  // "-ss", "-us", "-is" are singular already (class, virus, tuberculosis); short words are left alone
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** A term as the words it is compared by: lower case, split on anything not a letter or digit, each singular. */
export function words(term: string): string[] {
  return term
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map(singular);
}

/** Whether `inner`'s words appear, contiguous and in order, among `outer`'s. */
function contains(outer: string[], inner: string[]): boolean {
  if (inner.length === 0 || inner.length > outer.length) return false;
  for (let i = 0; i + inner.length <= outer.length; i += 1)
    if (inner.every((w, j) => outer[i + j] === w)) return true;
  return false;
}

/** Whether an allergy substance and an ingredient or drug class name the same thing (either within the other). */
export function termsMatch(substance: string, term: string): boolean {
  const a = words(substance);
  const b = words(term);
  return contains(a, b) || contains(b, a);
}

/**
 * Every (allergy, medication) pair that matches, the ingredient preferred over the class when
 * both do (it is the more specific reason); one entry per allergy and medication.
 */
export function allergyMatches(
  allergies: readonly { substance: string }[],
  medications: readonly MatchableMedication[],
): AllergyMatch[] {
  const out: AllergyMatch[] = [];
  for (const med of medications)
    for (const { substance } of allergies) {
      const ingredient = med.ingredients.find((t) => termsMatch(substance, t));
      if (ingredient !== undefined) {
        out.push({ substance, medicationId: med.id, matched: 'ingredient', term: ingredient });
        continue;
      }
      const drugClass = med.drugClasses.find((t) => termsMatch(substance, t));
      if (drugClass !== undefined)
        out.push({ substance, medicationId: med.id, matched: 'drugClass', term: drugClass });
    }
  return out;
}
