/**
 * A tiny history router: the URL (path and query) is the single source of page state, so every
 * view is a shareable link and the back button works. React Router's current major needs a newer
 * Node than the project's, and the UI needs only paths, query strings and links.
 */
import { useCallback, useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

const NAVIGATE = 'surfacescan:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE, onChange);
  };
}

const snapshot = (): string => window.location.pathname + window.location.search;

/** Moves to `url` (same origin) without a page load; `replace` keeps the history length. */
export function navigate(url: string, replace = false): void {
  if (url === snapshot()) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATE));
}

/** The current path and query; re-renders on every navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const current = useSyncExternalStore(subscribe, snapshot);
  const [path = '/', query = ''] = current.split('?');
  return { path, search: new URLSearchParams(query) };
}

/** The query string as state: returns it and a setter that writes a new one into the URL. */
export function useSearchParams(): [
  URLSearchParams,
  (next: URLSearchParams, replace?: boolean) => void,
] {
  const { path, search } = useLocation();
  const set = useCallback(
    (next: URLSearchParams, replace = false) => {
      const query = next.toString();
      navigate(query === '' ? path : `${path}?${query}`, replace);
    },
    [path],
  );
  return [search, set];
}

/** An anchor that navigates in-app on a plain click and behaves normally otherwise. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  'aria-current'?: 'page' | undefined;
}): ReactNode {
  const { to, children, ...rest } = props;
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
