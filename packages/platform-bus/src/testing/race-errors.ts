/** A binding invariant the race suite checks was broken; `details` lists every violation. */
export class BindInvariantError extends Error {
  /** Literal code identifying this error type. */
  readonly code = 'BIND_INVARIANT' as const;
  /** The violations, one line each. */
  readonly details: readonly string[];

  constructor(details: readonly string[]) {
    super(`binding invariant violated: ${details.join('; ')}`);
    this.name = 'BindInvariantError';
    this.details = details;
  }
}
