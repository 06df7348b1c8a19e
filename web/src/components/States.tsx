/** Loading, empty and error states shared by every page: never a blank panel. */
import type { ReactNode } from 'react';

/** A polite busy indicator for a region being loaded. */
export function Loading(props: { what: string }): ReactNode {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Loading {props.what}…
    </div>
  );
}

/** Says there is nothing to show, and what would fill it. */
export function Empty(props: { children: ReactNode }): ReactNode {
  return <div className="state state-empty">{props.children}</div>;
}

/** An API failure: the message the server sent and a way to try again. */
export function ErrorPanel(props: {
  title: string;
  error: Error;
  onRetry?: () => void;
}): ReactNode {
  return (
    <div className="state state-error" role="alert">
      <strong>{props.title}</strong>
      <p className="error-message">{props.error.message}</p>
      {props.onRetry && (
        <button type="button" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
