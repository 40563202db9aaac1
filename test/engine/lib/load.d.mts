export type Outcome = string;
export function request(port: number, path: string, opts?: { expectBytes?: number; timeoutMs?: number; onHeaders?: () => void; headers?: Record<string, string> }): Promise<Outcome>;
export function tally(outcomes: Outcome[]): { total: number; failed: number; kinds: Record<string, number> };
export function constantLoad(port: number | (() => number), paths: [string, number | undefined][], opts?: { everyMs?: number }): { count(): number; stop(): Promise<Outcome[]> };
export function nginxSite(dir: string, opts: { slowBytes: number; rate: string }): { slowBytes: number; mounts(port: number): [string, string][]; volumes(port: number): string[] };
