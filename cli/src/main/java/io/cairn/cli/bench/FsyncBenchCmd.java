package io.cairn.cli.bench;

import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cairnctl bench fsync}: the floor under every acknowledged write. A Raft log append is
 * durable only after an fdatasync, so one caller's transfer cannot be faster than this disk's
 * fdatasync plus loopback; this measures that floor in the folder the nodes keep their logs in.
 */
@Command(
    name = "fsync",
    header = "The disk's fdatasync latency: the floor under one caller's write latency.",
    description = {
      "Measure this machine's fdatasync latency where the nodes keep their data: N times,"
          + " append 4 KiB to a temporary file in DIR and force it to disk with"
          + " FileChannel.force(false) (fdatasync on Linux), one at a time, timing each append"
          + " plus force; then print p50/p90/p99/max in ms and delete the file.",
      "%nThis is what a Raft log append waits for before a write may be acknowledged, so it is"
          + " the floor for one caller's latency ('scripts/bench-latency' sets the two side by"
          + " side). Needs no cluster. Creates DIR if missing. Exit 0 when measured, 2 on bad"
          + " input, 3 when DIR cannot be written."
    })
public final class FsyncBenchCmd extends CliCommand {
  private static final int BLOCK_BYTES = 4096;
  private static final long MAX_MICROS = TimeUnit.SECONDS.toMicros(60);

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      defaultValue = "data",
      description =
          "Folder to measure in, on the disk the nodes write to (default ${DEFAULT-VALUE}).")
  Path dir;

  @Option(
      names = "--count",
      paramLabel = "N",
      defaultValue = "2000",
      description = "Appends, each forced to disk (1..100000, default ${DEFAULT-VALUE}).")
  int count;

  @Override
  public Integer call() throws IOException {
    if (count < 1 || count > 100_000) {
      throw new IllegalArgumentException("bounds: --count 1..100000");
    }
    Files.createDirectories(dir);
    Path file = Files.createTempFile(dir, "cairn-fsync-", ".probe");
    long started = System.nanoTime();
    Histogram h;
    try {
      h = measure(file);
    } finally {
      Files.deleteIfExists(file);
    }
    double totalSecs = (System.nanoTime() - started) / 1e9;
    emit(text(h, totalSecs), json(h, totalSecs));
    return Cairnctl.OK;
  }

  /** Appends and forces {@link #count} blocks, timing each append plus force. */
  private Histogram measure(Path file) throws IOException {
    Histogram h = new Histogram(MAX_MICROS, 3);
    ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_BYTES);
    for (int i = 0; i < BLOCK_BYTES; i++) {
      block.put(i, (byte) (i * 31 + 7));
    }
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      for (int i = 0; i < count; i++) {
        block.clear();
        long t0 = System.nanoTime();
        while (block.hasRemaining()) {
          ch.write(block);
        }
        ch.force(false);
        h.recordValue(Math.min(MAX_MICROS, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0)));
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return h;
  }

  private String text(Histogram h, double totalSecs) {
    return String.format(
        "fdatasync after a 4 KiB append, %d times in %s (%.1f s): p50 %.3f ms  p90 %.3f ms"
            + "  p99 %.3f ms  max %.3f ms  (mean %.3f ms)",
        count,
        dir.toAbsolutePath().normalize(),
        totalSecs,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        h.getMean() / 1000.0);
  }

  private Map<String, Object> json(Histogram h, double totalSecs) {
    Map<String, Object> j = Json.object();
    j.put("dir", dir.toAbsolutePath().normalize().toString());
    j.put("count", count);
    j.put("block_bytes", BLOCK_BYTES);
    j.put("p50_ms", h.getValueAtPercentile(50) / 1000.0);
    j.put("p90_ms", h.getValueAtPercentile(90) / 1000.0);
    j.put("p99_ms", h.getValueAtPercentile(99) / 1000.0);
    j.put("max_ms", h.getMaxValue() / 1000.0);
    j.put("mean_ms", h.getMean() / 1000.0);
    j.put("total_s", totalSecs);
    return j;
  }
}
