/** Connections the app's pool may open; the embedded server accepts this many and a few more. */
export const POOL_SIZE = 10;
