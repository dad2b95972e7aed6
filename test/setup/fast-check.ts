import fc from 'fast-check';

// Every property run is replayable: FC_SEED (and optionally FC_PATH) pins the generator,
// FC_NUM_RUNS sets the run count of suites that do not fix their own.
// On failure fast-check's report names the seed and path to put here.
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const path = process.env.FC_PATH;
const numRuns = process.env.FC_NUM_RUNS === undefined ? undefined : Number(process.env.FC_NUM_RUNS);

fc.configureGlobal({
  ...(seed === undefined ? {} : { seed }),
  ...(path === undefined ? {} : { path }),
  ...(numRuns === undefined ? {} : { numRuns }),
  verbose: fc.VerbosityLevel.Verbose,
});
