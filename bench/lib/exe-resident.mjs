// How much of a process's own executable is resident: the bench's memory rows and the e2e test of
// graceful-init letting go of its start-up pages read it the same way.
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * The resident part (kB) of the mappings of a process's own executable: the sum of `Rss:` in
 * /proc/<pid>/smaps over the mappings whose path is readlink(/proc/<pid>/exe). Null when gone.
 */
export function exeResidentKb(pid) {
  let exe;
  let text;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  let ours = false;
  let kb = 0;
  for (const line of text.split('\n')) {
    // a mapping's header: start-end perms offset dev inode [path]
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) ours = header[1] === exe;
    else if (ours && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)[1]);
  }
  return kb;
}
