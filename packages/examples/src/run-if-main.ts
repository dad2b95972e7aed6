import { pathToFileURL } from 'node:url';

/**
 * Prints a scenario's outcome when its file is the program (`npx tsx packages/examples/src/<name>.ts`)
 * and does nothing when it is imported, so the scenario files have no side effects at import.
 */
export function runIfMain(moduleUrl: string, run: () => Promise<string> | string): void {
  const entry = process.argv[1];
  if (entry === undefined || moduleUrl !== pathToFileURL(entry).href) return;
  Promise.resolve()
    .then(run)
    .then(
      (text) => console.log(text),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
}
