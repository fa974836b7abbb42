import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on a terminal; silent when stderr is not a TTY (CI, pipes, tests). */
export function progressBar(
  label: string,
  total: number,
  unit = 'events',
): { update(value: number): void; stop(): void } | null {
  if (!process.stderr.isTTY) return null;
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} ${unit}`, stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (value) => bar.update(value), stop: () => bar.stop() };
}
