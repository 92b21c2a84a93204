/**
 * The Analytics service of the benchmark in a process of its own (the testkit's runBenchChild),
 * as cluster mode runs it. Started by main.ts, which sends its configuration as argv[2].
 */
import { analyticsService } from '@hms/analytics';
import { runBenchChild } from '@hms/testkit';

await runBenchChild({ analytics: analyticsService });
