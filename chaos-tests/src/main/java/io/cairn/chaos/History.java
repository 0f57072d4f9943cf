package io.cairn.chaos;

import io.cairn.proto.ResultCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Jepsen-shaped history: each operation with its logical process, invoke and complete times on
 * one monotonic clock, and its outcome: ok (the system answered), fail (it definitely did not
 * happen) or info (unknown; the process is then retired and continues under a new id). Bounded:
 * past {@code maxOps} recording fails loudly instead of growing without limit.
 */
public final class History {
  /** ok: answered; fail: definitely not applied; info: unknown. */
  public enum Outcome {
    OK,
    FAIL,
    INFO
  }

  /** One completed operation. Reads carry balances; transfers carry id, from, to, amount. */
  public record Op(
      int process,
      String type,
      String id,
      String from,
      String to,
      long amount,
      long invokeNanos,
      long completeNanos,
      Outcome outcome,
      ResultCode code,
      long index,
      Map<String, Long> balances,
      String node,
      String error) {
    public boolean isRead() {
      return type.equals("read");
    }

    public boolean isTransfer() {
      return type.equals("transfer");
    }

    @Override
    public String toString() {
      return isRead()
          ? "read[p" + process + " " + outcome + " @" + index + " from " + node + "]"
          : "transfer[p"
              + process
              + " "
              + id
              + " "
              + from
              + "->"
              + to
              + " "
              + amount
              + " "
              + outcome
              + (code == null ? "" : " " + code)
              + " @"
              + index
              + "]";
    }
  }

  /** A fault window. */
  public record Fault(String name, long startNanos, long endNanos) {}

  private final int maxOps;
  private final long originNanos = System.nanoTime();
  private final List<Op> ops = new ArrayList<>();
  private final List<Fault> faults = new ArrayList<>();

  public History(int maxOps) {
    this.maxOps = maxOps;
  }

  /** Nanoseconds since the history began (the one clock of the run). */
  public long now() {
    return System.nanoTime() - originNanos;
  }

  public synchronized void add(Op op) {
    if (ops.size() >= maxOps) {
      throw new IllegalStateException("history is full (" + maxOps + " operations)");
    }
    ops.add(op);
  }

  public synchronized void fault(Fault f) {
    faults.add(f);
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public synchronized List<Fault> faults() {
    return List.copyOf(faults);
  }

  /** Writes the history as JSON lines and a self-contained HTML timeline into {@code dir}. */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    StringBuilder json = new StringBuilder();
    for (Op op : ops()) {
      json.append('{')
          .append("\"process\":")
          .append(op.process())
          .append(",\"type\":\"")
          .append(op.type())
          .append('"')
          .append(",\"id\":\"")
          .append(op.id() == null ? "" : op.id())
          .append('"')
          .append(",\"from\":\"")
          .append(op.from() == null ? "" : op.from())
          .append('"')
          .append(",\"to\":\"")
          .append(op.to() == null ? "" : op.to())
          .append('"')
          .append(",\"amount\":")
          .append(op.amount())
          .append(",\"invoke_ns\":")
          .append(op.invokeNanos())
          .append(",\"complete_ns\":")
          .append(op.completeNanos())
          .append(",\"outcome\":\"")
          .append(op.outcome())
          .append('"')
          .append(",\"code\":\"")
          .append(op.code() == null ? "" : op.code())
          .append('"')
          .append(",\"index\":")
          .append(op.index())
          .append(",\"node\":\"")
          .append(op.node() == null ? "" : op.node())
          .append('"')
          .append(",\"balances\":\"")
          .append(op.balances() == null ? "" : new TreeMap<>(op.balances()))
          .append('"')
          .append(",\"error\":\"")
          .append(op.error() == null ? "" : op.error().replace("\"", "'"))
          .append('"')
          .append("}\n");
    }
    for (Fault f : faults()) {
      json.append("{\"fault\":\"")
          .append(f.name())
          .append("\",\"start_ns\":")
          .append(f.startNanos())
          .append(",\"end_ns\":")
          .append(f.endNanos())
          .append("}\n");
    }
    Files.writeString(dir.resolve("history.jsonl"), json, StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("timeline.html"), timeline(), StandardCharsets.UTF_8);
  }

  /** Latency over time, coloured by outcome, with fault windows shaded; no external scripts. */
  String timeline() {
    List<Op> all = ops();
    long end = Math.max(1, all.stream().mapToLong(Op::completeNanos).max().orElse(1));
    double maxLat =
        Math.max(
            1,
            all.stream().mapToLong(o -> o.completeNanos() - o.invokeNanos()).max().orElse(1) / 1e6);
    int w = 1200;
    int h = 400;
    StringBuilder svg = new StringBuilder();
    for (Fault f : faults()) {
      svg.append(
          String.format(
              "<rect x='%.1f' y='0' width='%.1f' height='%d' fill='#fdd'/>"
                  + "<text x='%.1f' y='12' font-size='10'>%s</text>",
              f.startNanos() * (double) w / end,
              Math.max(1, (f.endNanos() - f.startNanos()) * (double) w / end),
              h,
              f.startNanos() * (double) w / end + 2,
              f.name()));
    }
    for (Op o : all) {
      double x = o.completeNanos() * (double) w / end;
      double lat = (o.completeNanos() - o.invokeNanos()) / 1e6;
      double y = h - Math.log1p(lat) / Math.log1p(maxLat) * (h - 20);
      String colour =
          switch (o.outcome()) {
            case OK -> o.isRead() ? "#36c" : "#3a3";
            case FAIL -> "#e80";
            case INFO -> "#d22";
          };
      svg.append(String.format("<circle cx='%.1f' cy='%.1f' r='1.6' fill='%s'/>", x, y, colour));
    }
    return "<!doctype html><meta charset='utf-8'><title>Cairn chaos timeline</title>"
        + "<h3>Latency (log scale, max "
        + Math.round(maxLat)
        + " ms) over "
        + (end / 1_000_000_000)
        + " s: green ok transfer, blue ok read, orange fail, red info; shaded: faults</h3>"
        + "<svg width='"
        + w
        + "' height='"
        + h
        + "' style='border:1px solid #999'>"
        + svg
        + "</svg>";
  }
}
