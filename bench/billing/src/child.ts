/**
 * The Billing service of the billing benchmark in a process of its own (the testkit's
 * runBenchChild), as cluster mode runs it. Started by main.ts, which sends its configuration as
 * argv[2] and is told the listening URL over IPC.
 */
import { billingService } from '@hms/billing';
import { runBenchChild } from '@hms/testkit';

await runBenchChild({ billing: billingService });
