export function exeResidentKb(pid: number): number | null;
