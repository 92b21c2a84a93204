import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@hms/platform';

/** The Pharmacy service's own configuration keys (STYLE.md §9). */
export const PharmacyConfig = Type.Object({
  PHARMACY_EXPIRY_JOB_MS: Type.Integer({
    minimum: 50,
    default: 60_000,
    description: 'how often the expiry job marks prescriptions past their validUntil expired',
  }),
  PHARMACY_RESUME_JOB_MS: Type.Integer({
    minimum: 50,
    default: 30_000,
    description:
      'how often the resume job finishes or compensates fills left pending a minute or more (a Pharmacy that stopped mid-saga)',
  }),
});
export type PharmacyConfig = Static<typeof PharmacyConfig>;

export const pharmacyConfig = (env: NodeJS.ProcessEnv): PharmacyConfig => loadConfig(PharmacyConfig, env);
