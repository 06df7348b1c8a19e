/** Entry point of a pool thread: runs one named CPU task per call. */
import { CPU_TASKS, type CpuTaskName } from '#src/jobs/cpu-tasks.js';

/** Called by piscina with {task, input}. */
export default function runTask({ task, input }: { task: CpuTaskName; input: unknown }): unknown {
  const fn = CPU_TASKS[task] as ((input: unknown) => unknown) | undefined;
  if (fn === undefined) throw new Error(`unknown CPU task ${task}`);
  return fn(input);
}
