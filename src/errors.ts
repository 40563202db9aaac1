/** Anything that ends the init before or instead of the app: one line on stderr and this exit status. */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A bad setting: one line naming it and the fix, exit 2, and the app never starts. */
export class UsageError extends Error {}
