package io.cairn.cli.bench;

import com.google.protobuf.ByteString;
import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.proto.Operation;
import io.cairn.proto.Transfer;
import io.cairn.proto.signing.Signing;
import java.security.KeyPair;
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
      "Sign N transfers with a fresh Ed25519 key, then check each signature the way the leader"
          + " does (canonical bytes of the operation, JDK Ed25519) on this thread, one at a time,"
          + " after a warm-up of the same size for the JIT. Prints the median, p90, p99 and mean"
          + " microseconds per verification and the rate one core sustains. Needs no cluster."
          + " Exit 0 when measured, 2 on bad input."
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
    KeyPair key = Signing.newKeyPair();
    byte[] publicKey = key.getPublic().getEncoded();
    Operation[] ops = new Operation[Math.min(count, 10_000)];
    for (int i = 0; i < ops.length; i++) {
      Operation op =
          Operation.newBuilder()
              .setId("verify-" + i)
              .setCreatedAtMillis(1_700_000_000_000L + i)
              .setTransfer(Transfer.newBuilder().setFrom("alice").setTo("bob").setAmount(1 + i))
              .build();
      ops[i] =
          op.toBuilder()
              .setSignature(ByteString.copyFrom(Signing.sign(key.getPrivate(), op)))
              .build();
    }
    for (int i = 0; i < count; i++) { // warm-up
      if (!Signing.verify(publicKey, ops[i % ops.length])) {
        throw new IllegalStateException("a correct signature did not verify");
      }
    }
    Histogram h = new Histogram(60_000_000_000L, 3);
    long started = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long t0 = System.nanoTime();
      boolean ok = Signing.verify(publicKey, ops[i % ops.length]);
      h.recordValue(System.nanoTime() - t0);
      if (!ok) {
        throw new IllegalStateException("a correct signature did not verify");
      }
    }
    double secs = (System.nanoTime() - started) / 1e9;
    Map<String, Object> j = Json.object();
    j.put("count", count);
    j.put("p50_us", h.getValueAtPercentile(50) / 1000.0);
    j.put("p90_us", h.getValueAtPercentile(90) / 1000.0);
    j.put("p99_us", h.getValueAtPercentile(99) / 1000.0);
    j.put("mean_us", h.getMean() / 1000.0);
    j.put("per_core_per_sec", count / secs);
    emit(
        String.format(
            "Ed25519 verification of a signed transfer, %d times on one thread (%.1f s): p50 %.1f"
                + " us  p90 %.1f us  p99 %.1f us  mean %.1f us  (%.0f per second per core)",
            count,
            secs,
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(90) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0,
            h.getMean() / 1000.0,
            count / secs),
        j);
    return Cairnctl.OK;
  }
}
