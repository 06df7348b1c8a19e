/**
 * The base of every error that means "this process cannot start as configured" (an
 * unreachable database, a failed migration, an unreadable environment file, ...). The CLI
 * prints its message as one paragraph and exits 2. It lives in a module of its own, importing
 * nothing, so that reporting such an error never loads the server.
 */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}
