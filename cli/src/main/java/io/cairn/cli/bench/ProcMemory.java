package io.cairn.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A local process's memory as Linux reports it in {@code /proc/<pid>/status}: resident set ({@code
 * VmRSS}) and its high-water mark ({@code VmHWM}), in KiB. Also the memory flags on its command
 * line, so a report says which limits the figures were taken under.
 */
final class ProcMemory {
  private final long pid;
  private long peakRssKib;
  private long lastRssKib;
  private long lastHwmKib;
  private int samples;

  ProcMemory(long pid) {
    this.pid = pid;
  }

  long pid() {
    return pid;
  }

  /** Reads VmRSS and VmHWM once; false when the process is gone or the file unreadable. */
  synchronized boolean sample() {
    try {
      long rss = -1;
      long hwm = -1;
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = kib(line);
        } else if (line.startsWith("VmHWM:")) {
          hwm = kib(line);
        }
      }
      if (rss < 0 || hwm < 0) {
        return false;
      }
      lastRssKib = rss;
      lastHwmKib = hwm;
      peakRssKib = Math.max(peakRssKib, rss);
      samples++;
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  synchronized long rssKib() {
    return lastRssKib;
  }

  synchronized long peakRssKib() {
    return peakRssKib;
  }

  synchronized long hwmKib() {
    return lastHwmKib;
  }

  synchronized int samples() {
    return samples;
  }

  /**
   * CPU time the process has used (user + system), in milliseconds, from /proc/PID/stat (clock
   * ticks, assumed 100 per second as on every Linux this runs on); -1 when unreadable.
   */
  long cpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The JVM memory flags (-Xmx, -Xms, -XX:MaxDirectMemorySize, ...) it was started with. */
  List<String> memoryFlags() {
    List<String> out = new ArrayList<>();
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      for (String arg : new String(raw, StandardCharsets.UTF_8).split("\0")) {
        if (arg.startsWith("-Xmx")
            || arg.startsWith("-Xms")
            || arg.startsWith("-Xss")
            || arg.startsWith("-XX:MaxDirectMemorySize")
            || arg.startsWith("-XX:+Use")
            || arg.startsWith("-XX:MaxMetaspaceSize")
            || arg.startsWith("-XX:ReservedCodeCacheSize")
            || arg.startsWith("-Dio.netty")
            || arg.startsWith("-Dio.grpc")) {
          out.add(arg);
        }
      }
    } catch (IOException e) {
      out.add("(command line unreadable)");
    }
    return out;
  }

  private static long kib(String line) {
    String[] parts = line.trim().split("\\s+");
    return Long.parseLong(parts[1]);
  }
}
