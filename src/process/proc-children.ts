// A process's children as /proc (or a directory laid out like it) lists them.
import { readFileSync, readdirSync } from 'node:fs';

/**
 * The children of `pid`, from /proc/<pid>/task/<tid>/children (each thread lists those it forked);
 * empty when the process is gone or there is no /proc.
 */
export function childrenOf(pid: number, root = '/proc'): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`${root}/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`${root}/${pid}/task/${tid}/children`, 'latin1').split(/\s+/)) {
        if (/^\d+$/.test(child)) children.push(Number(child));
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return children;
}
