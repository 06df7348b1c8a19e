/** The shell: skip link, header with navigation, and the current page (loaded on demand). */
import { Component, Suspense, lazy, useEffect, useRef, type ReactNode } from 'react';
import { Link, useLocation } from './router.tsx';
import { ErrorPanel, Loading } from './components/States.tsx';

const Overview = lazy(() => import('./pages/Overview.tsx'));
const Issues = lazy(() => import('./pages/Issues.tsx'));
const Inventory = lazy(() => import('./pages/Inventory.tsx'));
const Cloud = lazy(() => import('./pages/Cloud.tsx'));
const Scheduler = lazy(() => import('./pages/Scheduler.tsx'));

/** A page of the console: its path, its nav label and its component. */
interface Page {
  readonly path: string;
  readonly label: string;
  readonly render: () => ReactNode;
}

const PAGES: readonly Page[] = [
  { path: '/overview', label: 'Overview', render: () => <Overview /> },
  { path: '/issues', label: 'Issues', render: () => <Issues /> },
  { path: '/inventory', label: 'Assets', render: () => <Inventory /> },
  { path: '/cloud', label: 'Cloud', render: () => <Cloud /> },
  { path: '/scheduler', label: 'Scheduler', render: () => <Scheduler /> },
];

/** Catches a render error of a page so the shell and navigation stay usable. */
class PageBoundary extends Component<
  { children: ReactNode; page: string },
  { error: Error | undefined }
> {
  override state: { error: Error | undefined } = { error: undefined };
  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }
  override componentDidUpdate(previous: { page: string }): void {
    if (previous.page !== this.props.page && this.state.error) this.setState({ error: undefined });
  }
  override render(): ReactNode {
    if (this.state.error)
      return (
        <ErrorPanel
          title="This page failed to render"
          error={this.state.error}
          onRetry={() => {
            this.setState({ error: undefined });
          }}
        />
      );
    return this.props.children;
  }
}

/** The application shell. */
export function App(): ReactNode {
  const { path } = useLocation();
  const page = PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
  const current = page ?? (path === '/' ? PAGES[0] : undefined);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After an in-app navigation, focus moves to the new page's content (as a page load would).
  useEffect(() => {
    document.title = `${current?.label ?? 'Not found'} · surfacescan`;
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [current]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">surfacescan</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <Link to={p.path} aria-current={p === current ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <PageBoundary page={current?.path ?? path}>
          <Suspense fallback={<Loading what="page" />}>
            {current ? (
              current.render()
            ) : (
              <section>
                <h1>Page not found</h1>
                <p>
                  There is no page at <code>{path}</code>.{' '}
                  <Link to="/overview">Go to Overview</Link>
                </p>
              </section>
            )}
          </Suspense>
        </PageBoundary>
      </main>
    </>
  );
}
