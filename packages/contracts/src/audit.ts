/** Shapes of the Audit service (DOMAIN.md "Audit", issue #14): being written. */
export {};
