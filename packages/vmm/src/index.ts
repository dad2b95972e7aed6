// --- guest address map (platform-bus window allocator) ---
export {
  GuestAddressMap,
  type GuestAddressMapOptions,
  type GuestMmioAllocation,
  type GuestWindow,
  type MmioAlignment,
  naturalAlignment,
} from './address-map/guest-address-map.js';
