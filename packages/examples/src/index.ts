export {
  type CustomResetModuleOutcome,
  customResetModuleExample,
  customResetModuleReport,
  FILL_RESET_POLLS,
  formatCustomResetModule,
  PatternFillDevice,
  type PatternFillWorld,
  patternFillReset,
  patternFillResetModule,
  patternFillScenario,
} from './custom-reset-module.js';
export {
  formatI2cRebind,
  I2C_DEVICE,
  type I2cActor,
  type I2cRaceVerdict,
  type I2cRebindOptions,
  type I2cRebindOutcome,
  type I2cRecipeRun,
  type I2cStep,
  i2cHost,
  i2cRebindExample,
} from './i2c-rebind.js';
export {
  formatLevelIrq,
  type LevelIrqOptions,
  type LevelIrqOutcome,
  levelIrqReport,
  levelIrqResamplefdExample,
  RTC_DEVICE,
} from './level-irq-resamplefd.js';
export {
  formatMsiViability,
  MSI_BOARD_DEVICES,
  type MsiDeviceVerdict,
  type MsiViabilityCase,
  type MsiViabilityOutcome,
  msiBoardHost,
  msiViabilityExample,
} from './msi-viability.js';
export {
  formatPl330Smmu,
  GUEST_RAM_PHYS,
  GUEST_RAM_SIZE,
  type JunoPl330Host,
  type JunoPl330HostOptions,
  junoPl330Host,
  PL330_DEVICE,
  type Pl330SmmuOutcome,
  pl330SmmuExample,
} from './pl330-smmu.js';
export { EXAMPLE_SCENARIOS, type ExampleScenario, runAllExamples } from './run-all.js';
export {
  formatUartEmulatedIommu,
  UART_DEVICE,
  type UartEmulatedIommuOutcome,
  type UartPathRun,
  uartEmulatedIommuExample,
  uartHost,
} from './uart-emulated-iommu.js';
export {
  formatXgmacGuestNode,
  XGMAC_DEVICE,
  type XgmacGuestNodeOutcome,
  xgmacGuestNodeExample,
} from './xgmac-guest-node.js';
