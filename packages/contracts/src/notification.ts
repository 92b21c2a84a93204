/** Shapes of the Notification service (DOMAIN.md, issue #15): being written. */
export {};
