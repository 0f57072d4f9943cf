package io.cairn.cli.bench;

import com.google.protobuf.ByteString;
import io.cairn.cli.Cairnctl;
import io.cairn.cli.CliCommand;
import io.cairn.cli.Json;
import io.cairn.client.Ops;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cairnctl bench etcd}: the closed loop of {@code bench --no-coalesce}, with etcd's {@code
 * KV.Put} in place of a transfer, so the two systems are loaded the same way by the same client
 * JVM: N caller threads, each with one put in flight, over one shared gRPC channel.
 */
@Command(
    name = "etcd",
    header =
        "etcd's writes/s and latency for N naive callers, as 'bench --no-coalesce' measures Cairn.",
    description = {
      "Measure an etcd v3 cluster's write throughput and latency for naive clients, the way"
          + " 'bench --no-coalesce' measures Cairn's: N caller threads share one gRPC channel to"
          + " etcd's leader (found with Maintenance.Status on each --endpoint; default"
          + " 127.0.0.1:2379), each sending one KV.Put at a time (a --value-bytes value at one of"
          + " --keys keys, chosen at random) and waiting for its answer, for --duration seconds"
          + " after --warmup seconds. An etcd put is acknowledged once committed on a majority,"
          + " each member having fsynced its WAL.",
      "%nLatency is per put, from send to answer (HdrHistogram, us). Prints a progress line per"
          + " second on stderr and the result on stdout (one JSON object with --json, with the"
          + " same keys as 'bench'). The calls are encoded by hand from etcd's public API"
          + " description (KV.Put, Maintenance.Status): no etcd client library. Plain-text gRPC:"
          + " for an etcd started without TLS, as scripts/bench-etcd does."
    })
public final class EtcdBenchCmd extends CliCommand {
  private static final List<String> LOCAL_ETCD = List.of("127.0.0.1:2379");

  @Mixin LoadOptions load;

  @Option(
      names = "--keys",
      paramLabel = "K",
      defaultValue = "1000",
      description = "Keys to write to, at random (default ${DEFAULT-VALUE}).")
  int keys;

  @Option(
      names = "--value-bytes",
      paramLabel = "B",
      defaultValue = "64",
      description = "Size of each value (default ${DEFAULT-VALUE}).")
  int valueBytes;

  private final Meter meter = new Meter();

  @Override
  public Integer call() throws InterruptedException {
    if (!load.inBounds()
        || keys < 1
        || keys > 1_000_000
        || valueBytes < 0
        || valueBytes > 1_000_000) {
      throw new IllegalArgumentException(
          "bounds: " + LoadOptions.BOUNDS + ", --keys 1..1000000, --value-bytes 0..1000000");
    }
    PrintWriter err = err();
    String run = Ops.newId().substring(0, 6).replaceAll("[^A-Za-z0-9]", "x");
    String leader = leader(err);
    ManagedChannel channel = NettyChannelBuilder.forTarget(leader).usePlaintext().build();
    try {
      Histogram h = closedLoop(channel, run, err);
      emit(reportText(h, leader) + meter.errorKindsText(), reportJson(h, leader, run));
      return Cairnctl.OK;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The endpoint whose member is the leader, by asking each endpoint for its status. */
  private String leader(PrintWriter err) throws InterruptedException {
    List<String> endpoints = endpoints(LOCAL_ETCD);
    if (endpoints.size() == 1) {
      return endpoints.get(0);
    }
    for (String e : endpoints) {
      ManagedChannel ch = NettyChannelBuilder.forTarget(e).usePlaintext().build();
      try {
        EtcdKv.Status s =
            ClientCalls.blockingUnaryCall(ch, EtcdKv.STATUS, callOptions(), Boolean.TRUE);
        if (s.memberId() == s.leaderId() && s.leaderId() != 0) {
          err.printf("etcd leader: member %x at %s%n", s.leaderId(), e);
          err.flush();
          return e;
        }
      } catch (StatusRuntimeException x) {
        err.println("etcd at " + e + ": " + x.getStatus());
      } finally {
        ch.shutdownNow();
        ch.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    throw new IllegalStateException("no etcd endpoint of " + endpoints + " is the leader");
  }

  private CallOptions callOptions() {
    long millis = Math.max(1, (long) (timeoutSeconds() * 1000));
    return CallOptions.DEFAULT.withDeadlineAfter(millis, TimeUnit.MILLISECONDS);
  }

  private Histogram closedLoop(ManagedChannel channel, String run, PrintWriter err)
      throws InterruptedException {
    ByteString[] names = new ByteString[keys];
    for (int i = 0; i < keys; i++) {
      names[i] = ByteString.copyFrom("bench-" + run + "-" + i, StandardCharsets.UTF_8);
    }
    byte[] raw = new byte[valueBytes];
    new SplittableRandom(1).nextBytes(raw);
    ByteString value = ByteString.copyFrom(raw);
    long[] phases = load.phases();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < load.clients; w++) {
      int worker = w;
      Thread t = new Thread(() -> work(channel, names, value, worker, phases[2]), "etcd-" + w);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    Histogram total = meter.progress(err, "puts", phases);
    for (Thread t : workers) {
      t.join(TimeUnit.SECONDS.toMillis((long) timeoutSeconds() + 5));
    }
    meter.drainInto(total);
    return total;
  }

  private void work(
      ManagedChannel channel, ByteString[] names, ByteString value, int worker, long end) {
    SplittableRandom rnd = new SplittableRandom(worker * 0x9E3779B97F4A7C15L + System.nanoTime());
    while (System.nanoTime() < end) {
      EtcdKv.Put put = new EtcdKv.Put(names[rnd.nextInt(names.length)], value);
      long t0 = System.nanoTime();
      try {
        ClientCalls.blockingUnaryCall(channel, EtcdKv.PUT, callOptions(), put);
        meter.counted(1);
        meter.answered(t0);
      } catch (StatusRuntimeException e) {
        // A put whose deadline passed may still be applied: an unknown outcome, as in 'bench'.
        meter.failed(e, 1, e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED);
      }
    }
  }

  private Map<String, Object> reportJson(Histogram h, String leader, String run) {
    double secs = load.durationSeconds;
    Map<String, Object> j = Json.object();
    j.put("system", "etcd");
    j.put("ops", meter.ops.get());
    j.put("ok_per_sec", meter.ops.get() / secs);
    j.put("errors", meter.errors.get());
    j.put("unknown", meter.unknown.get());
    j.put("throughput_per_sec", meter.ops.get() / secs);
    j.put("requests_per_sec", meter.requests.get() / secs);
    Meter.putLatencies(j, h);
    j.put("clients", load.clients);
    j.put("keys", keys);
    j.put("value_bytes", valueBytes);
    j.put("duration_s", load.durationSeconds);
    j.put("warmup_s", load.warmupSeconds);
    j.put("leader_endpoint", leader);
    j.put("run", run);
    j.put("error_kinds", meter.errorKindsJson());
    return j;
  }

  private String reportText(Histogram h, String leader) {
    double secs = load.durationSeconds;
    return String.format(
        "etcd puts %d in %ds: %.0f/s OK, errors %d, unknown %d%n"
            + "latency per put (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n"
            + "%d caller threads, one put in flight each, to the leader at %s; %d-byte values"
            + " over %d keys",
        meter.ops.get(),
        load.durationSeconds,
        meter.ops.get() / secs,
        meter.errors.get(),
        meter.unknown.get(),
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0,
        h.getMaxValue() / 1000.0,
        load.clients,
        leader,
        valueBytes,
        keys);
  }
}
