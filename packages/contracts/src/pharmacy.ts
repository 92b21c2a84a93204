import { Type } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Pharmacy service (DOMAIN.md "Pharmacy", issue #12). Only the event Inventory
 * consumes exists yet; the formulary, prescriptions and fills come with the Pharmacy slice.
 */

/**
 * A dispense happened: the stock held by `reservationId` left the shelf. Inventory turns that
 * reservation into a decrement of exactly the lots it holds (`lots` must be those), once.
 */
export const MedicationDispensedV1 = Type.Object(
  {
    dispenseId: Uuid,
    medicationId: Type.Optional(Uuid),
    prescriptionId: Type.Optional(Uuid),
    patientId: Type.Optional(Uuid),
    reservationId: Uuid,
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1 }),
    lots: Type.Array(
      Type.Object(
        { lotNumber: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    dispensedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'medication.dispensed.v1' },
);
