import type { Medication, Prescription, PrescriptionCancelInput, PrescriptionInput } from '@hms/contracts';
import {
  appendToOutbox,
  authorize,
  checkVersion,
  decodeCursor,
  invalid,
  isUuid,
  toPage,
  uuidv7,
  type Caller,
  type Tx,
} from '@hms/platform';
import { allergyMatches, type AllergyMatch } from './domain/allergy.js';
import {
  defaultValidUntil,
  isDue,
  prescriptionProblems,
  transition,
  type FieldProblem,
} from './domain/prescription.js';
import { PharmacyErrors } from './errors.js';
import type { PharmacyContext } from './medications.js';
import * as store from './store.js';

/**
 * The prescription use cases: authorize, validate, load, decide, save, emit. A change and its
 * event commit in one transaction (DESIGN.md §5). Prescribing reads the patient's allergies and
 * status and the prescriber's role from the local copies before the transaction (a read-through
 * is a network call); when the Patient service must be asked and cannot answer, the request is
 * 503 and nothing is written: no prescription ever skips the allergy check.
 */
export const SOURCE = 'pharmacy';

/** Who prescribes: the caller's own staff record when linked to one, else the `prescriberId` given. */
function prescriberOf(caller: Caller, input: PrescriptionInput): { id?: string; problem?: FieldProblem } {
  const own = caller.kind === 'user' ? caller.staffId : undefined;
  if (own !== undefined) {
    if (input.prescriberId !== undefined && input.prescriberId !== own)
      throw PharmacyErrors.prescriber_not_self(
        `you are linked to staff record ${own} and prescribe as yourself, not as ${input.prescriberId}`,
        { extensions: { staffId: own } },
      );
    return { id: own };
  }
  if (input.prescriberId === undefined)
    return {
      problem: {
        path: '/body/prescriberId',
        message: 'is required when the caller is not linked to a staff record',
      },
    };
  return { id: input.prescriberId };
}

const describe = (m: AllergyMatch, meds: Map<string, Medication>) =>
  `${meds.get(m.medicationId)?.name ?? m.medicationId} matches the allergy to ${m.substance} (${
    m.matched === 'ingredient' ? 'ingredient' : 'drug class'
  } ${m.term})`;

/** POST /prescriptions. */
export async function createPrescription(
  ctx: PharmacyContext,
  caller: Caller,
  input: PrescriptionInput,
): Promise<Prescription> {
  authorize(caller, 'prescriptions:write');
  const now = ctx.clock.now();
  const prescriber = prescriberOf(caller, input);
  const problems = prescriptionProblems(input, now);
  if (prescriber.problem) problems.push(prescriber.problem);
  if (problems.length > 0 || prescriber.id === undefined) invalid(problems);
  const prescriberId = prescriber.id;

  const ids = input.items.map((i) => i.medicationId);
  const [found, patient, staff] = await Promise.all([
    store.medicationsByIds(ctx.db, ids),
    ctx.copies.patients.get(input.patientId),
    ctx.copies.staff.get(prescriberId),
  ]);
  const meds = new Map(found.map((m) => [m.id, m]));
  const missing: FieldProblem[] = [];
  if (!patient) missing.push({ path: '/body/patientId', message: 'no patient has this id' });
  if (!staff && input.prescriberId !== undefined)
    missing.push({ path: '/body/prescriberId', message: 'no staff member has this id' });
  ids.forEach((id, i) => {
    if (!meds.has(id))
      missing.push({ path: `/body/items/${i}/medicationId`, message: 'no medication has this id' });
  });
  if (missing.length > 0) invalid(missing);
  if (!patient) throw new Error('unreachable');

  if (!patient.active)
    throw PharmacyErrors.patient_inactive('a prescription for an inactive patient is refused');
  if (!staff || !staff.active || staff.role !== 'physician')
    throw PharmacyErrors.prescriber_not_eligible(
      !staff
        ? `staff record ${prescriberId} is unknown to the Staff service`
        : !staff.active
          ? `staff member ${prescriberId} is not active`
          : `staff member ${prescriberId} is a ${staff.role}, not a physician`,
      { extensions: { prescriberId } },
    );
  const prescribed = ids.map((id) => meds.get(id) as Medication);
  const withdrawn = prescribed.find((m) => !m.active);
  if (withdrawn)
    throw PharmacyErrors.medication_inactive(
      `${withdrawn.name} (${withdrawn.code}) is withdrawn from the formulary`,
      {
        extensions: { medicationId: withdrawn.id },
      },
    );

  const matches = allergyMatches(patient.allergies, prescribed);
  const overrideReason = input.overrideReason?.trim();
  if (matches.length > 0 && !overrideReason)
    throw PharmacyErrors.allergy_conflict(
      `${matches.map((m) => describe(m, meds)).join('; ')}; prescribe it with an overrideReason to go ahead`,
      { extensions: { allergies: matches } },
    );

  const notes = input.notes?.trim();
  const id = uuidv7();
  return ctx.db.transaction(async (tx) => {
    await store.insertPrescription(
      tx,
      {
        id,
        patientId: input.patientId,
        prescriberId,
        notes: notes || undefined,
        validUntil: input.validUntil ? new Date(input.validUntil) : defaultValidUntil(now),
        overrideReason,
        allergyAlerts: matches,
        createdBy: caller.id,
        items: input.items.map((i) => ({
          medicationId: i.medicationId,
          dose: i.dose.trim(),
          route: i.route.trim(),
          frequency: i.frequency.trim(),
          quantity: i.quantity,
          refills: i.refills ?? 0,
        })),
      },
      now,
    );
    return emit(tx, 'prescription.created.v1', id);
  });
}

/** Reads the prescription as saved in `tx` and appends its event: the change and its event commit together. */
async function emit(
  tx: Tx,
  type: 'prescription.created.v1' | 'prescription.cancelled.v1' | 'prescription.expired.v1',
  id: string,
): Promise<Prescription> {
  const saved = (await store.getPrescription(tx, id)) as Prescription;
  await appendToOutbox(tx, SOURCE, { type, subject: id, data: { prescription: saved } });
  return saved;
}

export async function getPrescription(
  ctx: PharmacyContext,
  caller: Caller,
  id: string,
): Promise<Prescription> {
  authorize(caller, 'prescriptions:read');
  const p = await store.getPrescription(ctx.db, id);
  if (!p) throw PharmacyErrors.prescription_not_found();
  return p;
}

export interface PrescriptionQuery extends store.PrescriptionFilter {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export async function listPrescriptions(ctx: PharmacyContext, caller: Caller, q: PrescriptionQuery) {
  authorize(caller, 'prescriptions:read');
  const limit = q.limit ?? 20;
  const after = decodeCursor(q.cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listPrescriptions(
    ctx.db,
    { patientId: q.patientId, prescriberId: q.prescriberId, status: q.status },
    { after, limit },
  );
  return toPage(rows, limit, (p) => [p.id]);
}

/** POST /prescriptions/{id}/cancel: while it can still be filled (409 otherwise); If-Match optional. */
export async function cancelPrescription(
  ctx: PharmacyContext,
  caller: Caller,
  id: string,
  input: PrescriptionCancelInput,
  expected: number | '*' | undefined,
): Promise<Prescription> {
  authorize(caller, 'prescriptions:write');
  const reason = input.reason.trim();
  if (!reason) invalid([{ path: '/body/reason', message: 'must not be blank' }]);
  return ctx.db.transaction(async (tx) => {
    const current = await store.getPrescription(tx, id, true);
    if (!current) throw PharmacyErrors.prescription_not_found();
    if (expected !== undefined) checkVersion(expected, current.version);
    if (!transition(current.status, 'cancel'))
      throw PharmacyErrors.invalid_transition(`a ${current.status} prescription cannot be cancelled`, {
        extensions: { prescriptionStatus: current.status },
      });
    await store.cancelPrescription(tx, id, reason, ctx.clock.now());
    return emit(tx, 'prescription.cancelled.v1', id);
  });
}

/** How many prescriptions one run of the expiry job takes at most (the next run takes the rest). */
const EXPIRY_BATCH = 200;

/**
 * The expiry job (kit scheduler): open prescriptions past their validUntil become `expired`, one
 * transaction each, re-checked under the row's lock (a cancel may have won). Answers how many.
 */
export async function expireDue(ctx: PharmacyContext): Promise<number> {
  const now = ctx.clock.now();
  let expired = 0;
  for (const id of await store.dueForExpiry(ctx.db, now, EXPIRY_BATCH)) {
    const done = await ctx.db.transaction(async (tx) => {
      const current = await store.getPrescription(tx, id, true);
      if (!current || !isDue(current.status, current.validUntil, now)) return false;
      await store.expirePrescription(tx, id, now);
      await emit(tx, 'prescription.expired.v1', id);
      return true;
    });
    if (done) expired += 1;
  }
  return expired;
}
