/** What the bench process and its service processes say to each other (the testkit's bench child). */
import type { BenchChildConfig, FromBenchChild, ToBenchChild } from '@hms/testkit';

export type Role = 'staff' | 'patient' | 'inventory' | 'pharmacy' | 'gateway';

export type ChildConfig = BenchChildConfig<Role>;
export type FromChild = FromBenchChild;
export type ToChild = ToBenchChild;
