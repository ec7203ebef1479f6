// Gate for tests that load programs into the kernel. Without root they skip locally; under CI
// (CI=true) a skip would hide a broken set-up, so they fail instead.
import type { TestContext } from 'node:test';

export function needsBpf(t: TestContext): boolean {
  if (process.geteuid?.() === 0) return true;
  if (process.env.CI === 'true') throw new Error('this test needs root to load BPF programs, and CI must not skip it');
  t.skip('needs root');
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
