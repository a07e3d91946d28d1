/** A request the caller got wrong (a name, a revision, a ref): the CLI exits 2 with its message and the usage. */
export class UsageError extends Error {}
