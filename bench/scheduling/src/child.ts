/**
 * One service of the scheduling benchmark in a process of its own (the testkit's runBenchChild):
 * Staff, Patient, Appointment or the gateway. Started by main.ts, which sends its configuration
 * as argv[2] and is told the listening URL over IPC.
 */
import { appointmentService } from '@hms/appointment';
import { gatewayService } from '@hms/gateway';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import { runBenchChild } from '@hms/testkit';
import type { Role } from './protocol.js';

const modules: Record<Role, typeof staffService> = {
  staff: staffService,
  patient: patientService,
  appointment: appointmentService,
  gateway: gatewayService,
};
await runBenchChild(modules);
