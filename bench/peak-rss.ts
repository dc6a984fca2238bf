import { readFileSync } from 'node:fs';

/**
 * This process's own peak resident set. Not process.resourceUsage().maxRSS: Linux keeps ru_maxrss
 * across execve, so a child spawned by the (CDK-loaded, ~200 MB) benchmark process (and bench/run.ts, under tsx) would report
 * at least its parent's size. VmHWM belongs to the address space exec created.
 */
export function peakRssMb(): number {
  try {
    const kb = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    if (kb) return Math.round(Number(kb) / 1024);
  } catch {
    // Not Linux: fall through.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
