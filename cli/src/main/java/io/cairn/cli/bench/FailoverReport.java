package io.cairn.cli.bench;

import io.cairn.cli.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Turns what {@link FailoverRecorder}s saw into {@code bench failover}'s figures: per fault and
 * client kind the recovery (ms from the fault to the first acknowledgement of a write sent after
 * it, over all callers of that kind), the time until every caller whose node was not the faulted
 * one had such an acknowledgement, the longest time without any acknowledgement, and the final
 * errors and unknown outcomes; then the median and maximum over the faults. A fault with no such
 * acknowledgement (yet) counts as infinitely slow: it makes {@code not_recovered} non-zero and a
 * median or maximum it decides {@code null} in JSON. Pure: no clock, no I/O.
 */
final class FailoverReport {
  private FailoverReport() {}

  /** One fault as one kind of client saw it; infinite ms for "never". */
  record FaultView(
      double firstMillis,
      double allCallersMillis,
      double maxGapMillis,
      long failed,
      long unknown,
      long stuck) {}

  static FaultView view(FailoverRecorder r, int k) {
    FailoverRecorder.Fault f = r.faults().get(k);
    double[] perCaller = r.recoveryMillis(k);
    double first = Double.POSITIVE_INFINITY;
    double all = 0;
    for (int s = 0; s < perCaller.length; s++) {
      first = Math.min(first, perCaller[s]);
      String node = r.streamNode(s);
      if (node == null || !node.equals(f.node())) {
        all = Math.max(all, perCaller[s]);
      }
    }
    long stuck = 0;
    for (FailoverRecorder.Episode e : r.episodes()) {
      if (r.window(e.sinceNanos()) == k + 1) {
        stuck++;
      }
    }
    return new FaultView(
        first, all, r.maxGapMillis(k + 1), r.failed(k + 1), r.unknown(k + 1), stuck);
  }

  /** The median of {@code values} (the mean of the middle two for an even count); NaN for none. */
  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int m = v.length / 2;
    return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  }

  static double max(double[] values) {
    return Arrays.stream(values).max().orElse(Double.NaN);
  }

  /**
   * Puts one client kind's figures into {@code j}, each key prefixed with {@code prefix} ("" for
   * the Java client, "stub_" for the stub client).
   */
  static void put(Map<String, Object> j, String prefix, FailoverRecorder r, double seconds) {
    int n = r.faults().size();
    double[] first = new double[n];
    double[] all = new double[n];
    List<Object> perFault = new ArrayList<>();
    int notRecovered = 0;
    for (int k = 0; k < n; k++) {
      FaultView v = view(r, k);
      first[k] = v.firstMillis();
      all[k] = v.allCallersMillis();
      notRecovered += Double.isInfinite(v.firstMillis()) ? 1 : 0;
      Map<String, Object> f = Json.object();
      f.put("recovery_ms", v.firstMillis());
      f.put("all_callers_ms", v.allCallersMillis());
      f.put("max_gap_ms", v.maxGapMillis());
      f.put("failed", v.failed());
      f.put("unknown", v.unknown());
      f.put("stuck", v.stuck());
      perFault.add(f);
    }
    j.put(prefix + "recovery_median_ms", median(first));
    j.put(prefix + "recovery_max_ms", max(first));
    j.put(prefix + "all_callers_median_ms", median(all));
    j.put(prefix + "all_callers_max_ms", max(all));
    j.put(prefix + "not_recovered", notRecovered);
    j.put(prefix + "failed", r.totalFailed());
    j.put(prefix + "unknown", r.totalUnknown());
    j.put(prefix + "stuck", r.stuckEpisodes());
    j.put(prefix + "acked", r.totalAcked());
    j.put(prefix + "acked_per_sec", seconds > 0 ? r.totalAcked() / seconds : 0.0);
    j.put(prefix + "non_ok_codes", r.nonOk.get());
    j.put(prefix + "replayed", r.replayed.get());
    j.put(prefix + "unanswered_at_end", r.unansweredAtEnd.get());
    j.put(prefix + "callers", r.streams());
    j.put(prefix + "recovery_ms", list(first));
    j.put(prefix + "per_fault", perFault);
  }

  private static List<Object> list(double[] values) {
    List<Object> out = new ArrayList<>();
    for (double v : values) {
      out.add(v);
    }
    return out;
  }

  /** "123" ms, or "never" for an infinite value, or "-" for NaN. */
  static String ms(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return Double.isInfinite(v) ? "never" : String.format("%.0f", v);
  }

  /**
   * The per-fault table: one row per fault with both client kinds' recovery, all-callers time,
   * longest gap, failed and unknown (and stuck for the stub client).
   */
  static String table(FailoverRecorder java, FailoverRecorder stub, long startNanos) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "%-3s %-8s %-4s %7s | %8s %8s %8s %4s %4s | %8s %8s %8s %4s %4s %5s%n",
            "#", "fault", "node", "at s", "java ms", "all ms", "gap ms", "fail", "unkn", "stub ms",
            "all ms", "gap ms", "fail", "unkn", "stuck"));
    List<FailoverRecorder.Fault> faults = java.faults();
    for (int k = 0; k < faults.size(); k++) {
      FailoverRecorder.Fault f = faults.get(k);
      FaultView a = view(java, k);
      FaultView b = stub.streams() > 0 ? view(stub, k) : null;
      sb.append(
          String.format(
              "%-3d %-8s %-4s %7.1f | %8s %8s %8s %4d %4d | ",
              k + 1,
              f.kind(),
              f.node(),
              (f.atNanos() - startNanos) / 1e9,
              ms(a.firstMillis()),
              ms(a.allCallersMillis()),
              ms(a.maxGapMillis()),
              a.failed(),
              a.unknown()));
      sb.append(
          b == null
              ? String.format("%8s%n", "(none)")
              : String.format(
                  "%8s %8s %8s %4d %4d %5d%n",
                  ms(b.firstMillis()),
                  ms(b.allCallersMillis()),
                  ms(b.maxGapMillis()),
                  b.failed(),
                  b.unknown(),
                  b.stuck()));
    }
    return sb.toString();
  }
}
