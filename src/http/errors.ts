/**
 * The application's error type. Every failure a user can cause or meet carries a stable code
 * and an HTTP status, and is rendered in exactly one place as {"error":{"code","message"}}.
 */

/** Stable machine-readable error codes clients may branch on. */
export type ErrorCode =
  | 'validation_error'
  | 'not_found'
  | 'vm_not_found'
  | 'no_path'
  | 'conflict'
  | 'out_of_scope'
  | 'import_format'
  | 'unavailable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal_error';

/** An error that is safe to show to a user: its message never contains a stack or internals. */
export class AppError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /** The HTTP status the edge answers with. */
  readonly status: number;

  constructor(code: ErrorCode, status: number, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
  }
}

/** Shorthand for a 400 validation_error. */
export function validationError(message: string): AppError {
  return new AppError('validation_error', 400, message);
}
