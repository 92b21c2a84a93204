/** Shapes of the Billing & Claims service (DOMAIN.md "Billing & Claims", issue #13): being written. */
export {};
