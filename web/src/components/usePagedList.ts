/** A cursor-paged list loaded with a "Load more" button (the inventory's tables). */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import type { Page } from '../types.ts';

/** The rows so far, the state of the last request, and how to get more. */
export interface PagedList<T> {
  readonly items: readonly T[];
  readonly total: number | undefined;
  readonly state: 'loading' | 'ok' | 'error';
  readonly error: Error | undefined;
  readonly nextCursor: string | null;
  loadMore: () => void;
  retry: () => void;
}

/** Loads `path` (which already has its query string) page by page. */
export function usePagedList<T>(path: string): PagedList<T> {
  const [pages, setPages] = useState<{ path: string; items: readonly T[]; total?: number }>({
    path,
    items: [],
  });
  const [cursor, setCursor] = useState<{ path: string; value: string | null }>({
    path,
    value: null,
  });
  const [request, setRequest] = useState<{ path: string; cursor: string | null; n: number }>({
    path,
    cursor: null,
    n: 0,
  });
  const [status, setStatus] = useState<{ state: 'loading' | 'ok' | 'error'; error?: Error }>({
    state: 'loading',
  });

  // A new query starts over from the first page.
  if (request.path !== path) setRequest({ path, cursor: null, n: request.n + 1 });

  useEffect(() => {
    const controller = new AbortController();
    const separator = request.path.includes('?') ? '&' : '?';
    const url =
      request.cursor === null
        ? request.path
        : `${request.path}${separator}cursor=${encodeURIComponent(request.cursor)}`;
    const load = async (): Promise<void> => {
      try {
        const page = await api<Page<T>>(url, { signal: controller.signal });
        setPages((previous) => ({
          path: request.path,
          items:
            request.cursor === null || previous.path !== request.path
              ? page.items
              : [...previous.items, ...page.items],
          total: page.total,
        }));
        setCursor({ path: request.path, value: page.nextCursor });
        setStatus({ state: 'ok' });
      } catch (error) {
        if (controller.signal.aborted) return;
        setStatus({
          state: 'error',
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    };
    void load();
    return () => {
      controller.abort();
    };
  }, [request]);

  const loadMore = useCallback(() => {
    if (cursor.value === null || cursor.path !== path) return;
    setStatus({ state: 'loading' });
    setRequest((r) => ({ path, cursor: cursor.value, n: r.n + 1 }));
  }, [cursor, path]);
  const retry = useCallback(() => {
    setStatus({ state: 'loading' });
    setRequest((r) => ({ ...r, n: r.n + 1 }));
  }, []);

  const current = pages.path === path;
  return {
    items: current ? pages.items : [],
    total: current ? pages.total : undefined,
    state: current ? status.state : 'loading',
    error: status.error,
    nextCursor: cursor.path === path ? cursor.value : null,
    loadMore,
    retry,
  };
}
