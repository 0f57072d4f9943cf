package io.cairn.cli.bench;

import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/**
 * The options every closed-loop load command shares ({@code bench}, {@code bench etcd}): how many
 * concurrent callers, how long to measure and how long to warm up first. Mixed into each command
 * with {@code @Mixin}, so the names, defaults and bounds are written once. (The endpoints, {@code
 * --timeout} and {@code --json} are cairnctl's global options, read through {@link
 * io.cairn.cli.CliCommand}.)
 */
public final class LoadOptions {
  @Option(
      names = "--clients",
      paramLabel = "N",
      defaultValue = "64",
      description = "Concurrent callers (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--duration",
      paramLabel = "SECONDS",
      defaultValue = "20",
      description = "Measured time (default ${DEFAULT-VALUE}).")
  int durationSeconds;

  @Option(
      names = "--warmup",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "Unmeasured load first, for the JITs (default ${DEFAULT-VALUE}).")
  int warmupSeconds;

  /** The bounds, as the usage error names them. */
  static final String BOUNDS = "--clients 1..4096, --duration 1..3600, --warmup 0..600";

  boolean inBounds() {
    return clients >= 1
        && clients <= 4096
        && durationSeconds >= 1
        && durationSeconds <= 3600
        && warmupSeconds >= 0
        && warmupSeconds <= 600;
  }

  /** The phases of one run started now: [start, start of measurement, end], in nanoTime. */
  long[] phases() {
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
    return new long[] {start, measureFrom, measureFrom + TimeUnit.SECONDS.toNanos(durationSeconds)};
  }
}
