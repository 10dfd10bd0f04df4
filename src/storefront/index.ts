/**
 * The reference storefront and its synthetic shoppers: the public surface
 * other modules (the CLI, `demo`, end-to-end tests) use.
 */
export { startStorefront } from './server.js';
export type { PaymentProviderTuning, Profile, RunningStorefront, StorefrontOptions } from './types.js';
export { PROFILES } from './types.js';
export { parseFaults, describeFaults } from './faults.js';
export type { FaultState } from './faults.js';
export { runShoppers } from './shoppers/run-shoppers.js';
export type { ShopOptions, ShopSummary } from './shoppers/run-shoppers.js';
export { planShopper } from './shoppers/plan.js';
export type { ShopperPlan, ShopperStep } from './shoppers/plan.js';
