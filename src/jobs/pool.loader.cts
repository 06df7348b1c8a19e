/**
 * The file piscina loads in each pool thread. piscina tries require() before import(); on
 * Node 20.19+ require() of an ES module links it synchronously, and a thread terminated in the
 * middle of that (serve failing to listen right after its pool started, say) aborts the whole
 * process with a V8 fatal error (seen in CI: "IsGraphAsync must be used on an instantiated
 * module"). This CommonJS file is required instead, and loads the task module with import(),
 * whose asynchronous linking a terminating thread abandons safely.
 */
type RunTask = (message: { task: string; input: unknown }) => unknown;

let runTask: Promise<RunTask> | undefined;

export = async function run(message: { task: string; input: unknown }): Promise<unknown> {
  runTask ??= import('./pool.worker.js').then((module) => module.default as RunTask);
  return (await runTask)(message);
};
