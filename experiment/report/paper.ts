// The figures the paper reports (section IV, Table II), to hold ours
// against. Units: ms and pages. The paper ran on KVM VMs with 4 cores and
// 4 GB each, a 1 Gbit/s link, Ubuntu 16.04 (kernel 4.4), LXC 2.8, CRIU 2.6.

/** The paper's three strategies (III.B, III.C): Table II and every comparison with the paper are about them alone. */
export const PAPER_STRATEGIES = ['tmpfs', 'diskless', 'shared'] as const;
export type PaperStrategy = (typeof PAPER_STRATEGIES)[number];

export interface PaperFigure {
  workload: 'blank' | 'video';
  strategy: PaperStrategy;
  metric: 'downtime_ms' | 'total_ms' | 'last_dump_pages';
  mean: number;
  sd?: number;
  ci95?: number;
  /** Where the paper gives it. */
  source: string;
}

export const PAPER_SETUP = 'KVM VMs, 4 cores and 4 GB each, 1 Gbit/s between nodes, kernel 4.4, LXC 2.8, CRIU 2.6, 10 repetitions';

export const PAPER_FIGURES: readonly PaperFigure[] = [
  { workload: 'blank', strategy: 'tmpfs', metric: 'downtime_ms', mean: 1042.974, sd: 52.79, ci95: 39.806, source: 'IV.A' },
  { workload: 'video', strategy: 'tmpfs', metric: 'downtime_ms', mean: 1282.012, sd: 76.141, ci95: 57.415, source: 'IV.A' },
  { workload: 'blank', strategy: 'diskless', metric: 'downtime_ms', mean: 1152.476, sd: 76.332, ci95: 57.558, source: 'IV.A' },
  { workload: 'video', strategy: 'diskless', metric: 'downtime_ms', mean: 1465.046, sd: 107.117, ci95: 80.772, source: 'IV.A' },
  { workload: 'blank', strategy: 'shared', metric: 'downtime_ms', mean: 1824.64, sd: 122.657, ci95: 57.558, source: 'IV.A' },
  { workload: 'video', strategy: 'shared', metric: 'downtime_ms', mean: 2454.374, sd: 72.592, ci95: 92.49, source: 'IV.A' },
  { workload: 'blank', strategy: 'tmpfs', metric: 'total_ms', mean: 16405.157, ci95: 312.089, source: 'IV.B, Fig. 7' },
  { workload: 'video', strategy: 'tmpfs', metric: 'total_ms', mean: 28788.045, ci95: 658.231, source: 'IV.B, Fig. 7' },
  { workload: 'blank', strategy: 'diskless', metric: 'total_ms', mean: 16015.2164, source: 'IV.B, Fig. 7' },
  { workload: 'video', strategy: 'diskless', metric: 'total_ms', mean: 27841.798, source: 'IV.B, Fig. 7' },
  { workload: 'blank', strategy: 'shared', metric: 'total_ms', mean: 2831.442, ci95: 54.738, source: 'IV.B, Fig. 7' },
  { workload: 'video', strategy: 'shared', metric: 'total_ms', mean: 3678.089, ci95: 155.701, source: 'IV.B, Fig. 7' },
  { workload: 'blank', strategy: 'tmpfs', metric: 'last_dump_pages', mean: 509.5, sd: 6.3, ci95: 5.14, source: 'Table II' },
  { workload: 'blank', strategy: 'diskless', metric: 'last_dump_pages', mean: 1779.3, sd: 6.84, ci95: 5.57, source: 'Table II' },
  { workload: 'blank', strategy: 'shared', metric: 'last_dump_pages', mean: 517.8, sd: 17.56, ci95: 14.3, source: 'Table II' },
  { workload: 'video', strategy: 'tmpfs', metric: 'last_dump_pages', mean: 577.1, sd: 7.52, ci95: 6.125, source: 'Table II' },
  { workload: 'video', strategy: 'diskless', metric: 'last_dump_pages', mean: 5100.2, sd: 12.52, ci95: 10.2, source: 'Table II' },
  { workload: 'video', strategy: 'shared', metric: 'last_dump_pages', mean: 551, sd: 16.8, ci95: 13.68, source: 'Table II' },
];

export function paperFigure(workload: string, strategy: string, metric: string): PaperFigure | undefined {
  return PAPER_FIGURES.find((f) => f.workload === workload && f.strategy === strategy && f.metric === metric);
}
