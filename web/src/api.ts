/** The API client: one fetch wrapper turning every failure into an ApiError with a message. */
import { useCallback, useEffect, useRef, useState } from 'react';

/** A failed API call, with the server's error code and message when it sent one. */
export class ApiError extends Error {
  /** The HTTP status, or 0 when the server could not be reached. */
  readonly status: number;
  /** The stable error code from {"error":{"code"}} (or "network_error"). */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The user recorded in issue history; the server trusts this header. */
export const USER = 'web-ui';

/** Sends a request to the API and parses the JSON answer; rejects with ApiError. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal | undefined } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        'x-surfacescan-user': USER,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? null : JSON.stringify(init.body),
      signal: init.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', `the server could not be reached (${String(error)})`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `${path} answered HTTP ${response.status} ${response.statusText}`,
    );
  }
  if (body === undefined) throw new ApiError(response.status, 'bad_json', `${path} sent no JSON`);
  return body as T;
}

/** What a data hook holds: loading (possibly with older data), failed, or loaded. */
export type Remote<T> =
  | { state: 'loading'; data: T | undefined; error?: undefined }
  | { state: 'error'; data: T | undefined; error: Error }
  | { state: 'ok'; data: T; error?: undefined };

/**
 * Loads `path` (null: nothing to load) and, with `refreshMs`, reloads it on that period.
 * Returns the state and `retry`. A failed refresh keeps the last data and shows the error.
 */
export function useApi<T>(
  path: string | null,
  refreshMs?: number,
): Remote<T> & { retry: () => void } {
  const [remote, setRemote] = useState<Remote<T>>({ state: 'loading', data: undefined });
  const [attempt, setAttempt] = useState(0);
  const last = useRef<T | undefined>(undefined);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const data = await api<T>(path, { signal: controller.signal });
        last.current = data;
        setRemote({ state: 'ok', data });
      } catch (error) {
        if (controller.signal.aborted) return;
        setRemote({
          state: 'error',
          data: last.current,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
      if (refreshMs !== undefined && !controller.signal.aborted) {
        timer = setTimeout(() => void load(), refreshMs);
      }
    };
    setRemote({ state: 'loading', data: last.current });
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, refreshMs, attempt]);
  const retry = useCallback(() => {
    setAttempt((n) => n + 1);
  }, []);
  return { ...remote, retry };
}
