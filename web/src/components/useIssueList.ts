/** Cursor paging of the issue list: pages are appended as the table scrolls near their end. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import type { Issue, IssuePage } from '../types.ts';
import { listPath, type IssueQuery } from '../lib/issue-query.ts';

/** Rows fetched per request: one screenful many times over, small enough to arrive at once. */
export const PAGE_SIZE = 200;

/** The rows loaded so far and how to get more. */
export interface IssueList {
  readonly items: readonly Issue[];
  /** Issues matching the query on the server (all pages). */
  readonly total: number | undefined;
  readonly state: 'loading' | 'ok' | 'error';
  readonly error: Error | undefined;
  readonly hasMore: boolean;
  /** Fetches the next page unless one is in flight or none is left. */
  loadMore: () => void;
  /** Starts again from the first page (after a change, or to retry). */
  reload: () => void;
}

/** Loads `query` page by page. */
export function useIssueList(query: IssueQuery): IssueList {
  const [items, setItems] = useState<readonly Issue[]>([]);
  const [total, setTotal] = useState<number | undefined>(undefined);
  const [state, setState] = useState<'loading' | 'ok' | 'error'>('loading');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const [hasMore, setHasMore] = useState(false);
  const cursor = useRef<string | null>(null);
  const busy = useRef(false);
  const controller = useRef<AbortController | undefined>(undefined);
  const key = listPath(query, PAGE_SIZE);

  const fetchPage = useCallback(
    async (first: boolean): Promise<void> => {
      const signal = controller.current?.signal;
      busy.current = true;
      setState('loading');
      try {
        const page = await api<IssuePage>(
          listPath(query, PAGE_SIZE, first ? null : cursor.current),
          { signal },
        );
        if (signal?.aborted) return;
        cursor.current = page.nextCursor;
        setHasMore(page.nextCursor !== null);
        setItems((previous) => (first ? page.items : [...previous, ...page.items]));
        setTotal(page.total);
        setError(undefined);
        setState('ok');
      } catch (failure) {
        if (signal?.aborted) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
        setState('error');
      } finally {
        if (!signal?.aborted) busy.current = false;
      }
    },
    // The key names every part of the query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );

  useEffect(() => {
    controller.current?.abort();
    controller.current = new AbortController();
    cursor.current = null;
    busy.current = false;
    // The request is the external system here; its loading state starts with it.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void fetchPage(true);
    return () => controller.current?.abort();
  }, [fetchPage, generation]);

  const loadMore = useCallback(() => {
    if (busy.current || cursor.current === null) return;
    void fetchPage(false);
  }, [fetchPage]);
  const reload = useCallback(() => {
    setGeneration((n) => n + 1);
  }, []);

  return {
    items,
    total,
    state,
    error,
    hasMore,
    loadMore,
    reload,
  };
}
