/** Anything that ends the init before or instead of the app: one line on stderr and this exit status. */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
