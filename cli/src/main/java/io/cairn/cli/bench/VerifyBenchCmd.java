package io.cairn.cli.bench;

import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import io.cairn.proto.signing.Signing;
import java.util.Map;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cairnctl bench verify}: what one Ed25519 check of a signed debit costs on this machine,
 * the work a leader adds per signed operation before it appends the entry.
 */
@Command(
    name = "verify",
    header = "The cost of checking one signed debit (Ed25519), on one thread.",
    description = {
      "Sign transfers with a fresh Ed25519 key, then check signatures on this thread, one at a"
          + " time, over the operation's canonical bytes: N with the JDK's Ed25519 (what"
          + " 'transfer verify' uses) and N with Bouncy Castle's (what the leader uses), in alternating rounds after a warm-up of"
          + " both. Prints the median, p90, p99 and mean microseconds per verification and the"
          + " rate one core sustains. Needs no cluster. Exit 0 when measured, 2 on bad input."
    })
public final class VerifyBenchCmd extends CliCommand {
  @Option(
      names = "--count",
      paramLabel = "N",
      defaultValue = "20000",
      description = "Verifications measured (1000..1000000, default ${DEFAULT-VALUE}).")
  int count;

  @Override
  public Integer call() {
    if (count < 1000 || count > 1_000_000) {
      throw new IllegalArgumentException("bounds: --count 1000..1000000");
    }
    FastEd25519 key = new FastEd25519();
    byte[] publicKey = key.publicKeyDer();
    Operation[] ops = new Operation[Math.min(count, 10_000)];
    for (int i = 0; i < ops.length; i++) {
      ops[i] =
          key.sign(
              Operation.newBuilder()
                  .setId("verify-" + i)
                  .setCreatedAtMillis(1_700_000_000_000L + i)
                  .setTransfer(Transfer.newBuilder().setFrom("alice").setTo("bob").setAmount(1 + i))
                  .build());
    }
    // Two rounds each, alternating, after a warm-up of both: the ratio within one run is what
    // a noisy 2-core machine can tell.
    Histogram jdk = new Histogram(60_000_000_000L, 3);
    Histogram bc = new Histogram(60_000_000_000L, 3);
    measure(ops, count / 4, null, op -> Signing.verify(publicKey, op), key);
    measure(ops, count / 4, null, key::verify, key);
    for (int round = 0; round < 2; round++) {
      measure(ops, count / 2, jdk, op -> Signing.verify(publicKey, op), key);
      measure(ops, count / 2, bc, key::verify, key);
    }
    Map<String, Object> j = Json.object();
    j.put("count", count);
    j.put("jdk", json(jdk));
    j.put("bouncycastle", json(bc));
    emit(
        "Ed25519 verification of a signed transfer on one thread, "
            + count
            + " per implementation (two alternating rounds, after a warm-up):\n"
            + text("JDK (SunEC), as cairnctl verifies", jdk)
            + "\n"
            + text("Bouncy Castle rfc8032, as the leader", bc),
        j);
    return Cairnctl.OK;
  }

  private static void measure(
      Operation[] ops,
      int n,
      Histogram into,
      java.util.function.Predicate<Operation> verify,
      FastEd25519 key) {
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      boolean ok = verify.test(ops[i % ops.length]);
      long took = System.nanoTime() - t0;
      if (!ok) {
        throw new IllegalStateException("a correct signature did not verify");
      }
      if (into != null) {
        into.recordValue(took);
      }
    }
  }

  private static String text(String what, Histogram h) {
    return String.format(
        "  %-34s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  mean %7.1f us  (%.0f per second per"
            + " core)",
        what,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMean() / 1000.0,
        1e9 / h.getMean());
  }

  private static Map<String, Object> json(Histogram h) {
    Map<String, Object> j = Json.object();
    j.put("p50_us", h.getValueAtPercentile(50) / 1000.0);
    j.put("p90_us", h.getValueAtPercentile(90) / 1000.0);
    j.put("p99_us", h.getValueAtPercentile(99) / 1000.0);
    j.put("mean_us", h.getMean() / 1000.0);
    return j;
  }
}
