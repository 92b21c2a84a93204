/**
 * One service of the dispensing benchmark in a process of its own (the testkit's runBenchChild):
 * Staff, Patient, Inventory, Pharmacy or the gateway. Started by main.ts, which sends its
 * configuration as argv[2] and is told the listening URL over IPC.
 */
import { gatewayService } from '@hms/gateway';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { pharmacyService } from '@hms/pharmacy';
import { staffService } from '@hms/staff';
import { runBenchChild } from '@hms/testkit';
import type { Role } from './protocol.js';

const modules: Record<Role, typeof staffService> = {
  staff: staffService,
  patient: patientService,
  inventory: inventoryService,
  pharmacy: pharmacyService,
  gateway: gatewayService,
};
await runBenchChild(modules);
