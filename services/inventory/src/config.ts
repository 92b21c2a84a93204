import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@hms/platform';

/** The Inventory service's own configuration keys (STYLE.md §9). */
export const InventoryConfig = Type.Object({
  INVENTORY_RESERVATION_TTL_SEC: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 300,
    description:
      'how long a reservation holds stock unless confirmed, when the request does not say (ttlSec)',
  }),
  INVENTORY_RESERVATION_JOB_MS: Type.Integer({
    minimum: 50,
    default: 5_000,
    description: 'how often the TTL job releases held reservations past their expiry',
  }),
  INVENTORY_EXPIRY_JOB_MS: Type.Integer({
    minimum: 50,
    default: 300_000,
    description: 'how often the expiry job writes off lots whose last usable day has passed',
  }),
});
export type InventoryConfig = Static<typeof InventoryConfig>;

export const inventoryConfig = (env: NodeJS.ProcessEnv): InventoryConfig => loadConfig(InventoryConfig, env);
