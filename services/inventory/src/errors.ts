import { defineErrors } from '@hms/platform';

/** Every error the Inventory service answers beyond the kit's common ones (STYLE.md §7). */
export const InventoryErrors = defineErrors({
  item_not_found: { status: 404, title: 'Inventory item not found' },
  reservation_not_found: { status: 404, title: 'Reservation not found' },
  order_not_found: { status: 404, title: 'Purchase order not found' },
  sku_exists: { status: 409, title: 'An inventory item with that SKU exists' },
  insufficient_stock: { status: 409, title: 'Not enough usable stock for the reservation' },
  reference_in_use: {
    status: 409,
    title: 'The reference names another reservation, of another item or quantity',
  },
  reservation_released: { status: 409, title: 'The reservation was released' },
  reservation_consumed: { status: 409, title: 'The reservation was consumed by a dispense' },
  reservation_expired: { status: 409, title: 'The reservation outlived its TTL and cannot be confirmed' },
  insufficient_lot_stock: {
    status: 409,
    title: 'The adjustment would take the lot below zero or below what reservations hold of it',
  },
  order_already_received: { status: 409, title: 'The purchase order was received already' },
  lot_expiry_conflict: { status: 409, title: 'The item has a lot of that number with another expiry' },
});
