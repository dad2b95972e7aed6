export {
  type CustomResetModuleOutcome,
  customResetModuleExample,
  FILL_RESET_POLLS,
  PatternFillDevice,
  type PatternFillWorld,
  patternFillReset,
  patternFillResetModule,
  patternFillScenario,
} from './custom-reset-module.js';
