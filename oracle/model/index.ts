/**
 * The model side of the kernel oracle: run a scenario (oracle/FORMAT.md) on `@vfiokit/host`
 * and compare the transcript with the kernel's, reading oracle/differences.md.
 */
export {
  type Comparison,
  compareTranscripts,
  formatComparison,
  parseTranscript,
  type TranscriptDifference,
  type TranscriptEntry,
} from './compare.js';
export { type AcceptedDifference, DifferencesFormatError, parseDifferences } from './differences.js';
export {
  DEFAULT_MACHINE,
  dtbFileName,
  guestCmdline,
  isHeaderLine,
  type RunScenarioOptions,
  runScenario,
  type ScenarioRun,
} from './runner.js';
export {
  echoLine,
  parseScenario,
  quote,
  ScenarioError,
  type ScenarioLine,
  type Token,
  tokenize,
} from './scenario.js';
