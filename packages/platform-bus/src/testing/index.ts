/** Test helpers for users of @vfiokit/platform-bus: import from `@vfiokit/platform-bus/testing`. */
export {
  arndaleI2cDevices,
  pl330Device,
  primecellIdRegisters,
  type RecordingDriver,
  type RecordingDriverOptions,
  recordingDriver,
  recordingMetaDriver,
  s3cI2cDriver,
} from './arndale.js';
export { BindMonitor } from './bind-monitor.js';
export {
  type HandOverProtection,
  type HandOverRaceOptions,
  type HostNoise,
  handOverRaceProperty,
  type SeedRaceOptions,
  seedRaceProperty,
} from './hand-over-race.js';
export {
  AddDevice,
  Autoprobe,
  Bind,
  DriversProbe,
  type OverrideTarget,
  ProvidePrimecell,
  type RaceCommand,
  type RaceModel,
  type RaceReal,
  RegisterDriver,
  RemoveDevice,
  Rescan,
  SetExplicitBindOnly,
  TriggerDeferred,
  Unbind,
  UnregisterDriver,
  WriteOverride,
} from './race-commands.js';
export { BindInvariantError } from './race-errors.js';
export { arndaleRaceSetup, type RaceDriver, type RaceSetup } from './race-setup.js';
export {
  type BindRaceOptions,
  bindRaceCommands,
  bindRaceProperty,
  createRaceSystem,
  runBindRace,
} from './race-suite.js';
export { referenceMatches } from './reference-match.js';
