/** Shapes of the Analytics service (DOMAIN.md, issue #15): being written. */
export {};
