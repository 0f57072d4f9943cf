package io.cairn.node.metrics;

import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Every metric the node exports, in one place, so names stay consistent and the dashboard and alert
 * rules have one list to check against. Meter names use dots; Prometheus shows them with
 * underscores (e.g. {@code cairn.api.operations} becomes {@code cairn_api_operations_total}).
 */
public final class NodeMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private static final int CODES = ResultCode.values().length;
  // Benign race: two threads may both look a counter up; the registry returns the same one.
  private final Counter[] operationCounters =
      new Counter[Operation.KindCase.values().length * CODES];
  private final Timer submitLatency;
  private final Timer commitLatency;
  private final Timer applyLatency;
  private final Timer admissionWait;
  private final Timer snapshotDuration;
  private final DistributionSummary batchOperations;
  private final DistributionSummary batchRequests;
  private final DistributionSummary snapshotBytes;
  private final Counter leaderChanges;

  public NodeMetrics(String nodeId) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("node", nodeId);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    this.submitLatency = latency("cairn.api.submit.latency", "Submit, end to end on this node");
    this.commitLatency =
        latency("cairn.raft.commit.latency", "Log entry handed to Raft until applied here");
    this.applyLatency = latency("cairn.state.apply.latency", "Applying one log entry");
    this.admissionWait =
        latency("cairn.batch.queue.wait", "Admitted submit waiting to be put into a log entry");
    this.snapshotDuration = latency("cairn.snapshot.duration", "Taking one snapshot");
    this.batchOperations =
        DistributionSummary.builder("cairn.batch.operations")
            .description("Operations per log entry")
            .publishPercentileHistogram()
            .register(registry);
    this.batchRequests =
        DistributionSummary.builder("cairn.batch.requests")
            .description("Client requests per log entry")
            .publishPercentileHistogram()
            .register(registry);
    this.snapshotBytes =
        DistributionSummary.builder("cairn.snapshot.size")
            .baseUnit("bytes")
            .description("Size of each snapshot taken")
            .register(registry);
    this.leaderChanges =
        Counter.builder("cairn.raft.leader.changes")
            .description("Leader changes seen by this node")
            .register(registry);
    // Registered up front at zero so dashboards and rate() see the series before the first one.
    for (String reason :
        new String[] {
          "invalid",
          "not_leader",
          "overloaded",
          "failed",
          "cancelled",
          "node_inflight",
          "node_bytes",
          "connection_inflight",
          "no_space",
          "no_role",
          "receive_timeout"
        }) {
      rejection(reason, 0);
    }
    counter("cairn.watch.entries.sent", "Ledger entries sent to watchers").increment(0);
    counter("cairn.watch.events.sent", "Operation events sent to watchers").increment(0);
    counter("cairn.watch.compacted", "Watches answered COMPACTED").increment(0);
  }

  private void rejection(String reason, double amount) {
    counter("cairn.api.rejections", "Requests refused before the log, by reason", "reason", reason)
        .increment(amount);
  }

  private Timer latency(String name, String description) {
    return Timer.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public PrometheusMeterRegistry prometheus() {
    return registry;
  }

  /** One applied operation, by kind and result code (counters cached: this is per operation). */
  public void operation(Operation.KindCase kind, ResultCode code) {
    int slot = kind.ordinal() * CODES + code.ordinal();
    Counter c = operationCounters[slot];
    if (c == null) {
      c =
          counter(
              "cairn.api.operations",
              "Operations answered, by kind and result code",
              "kind",
              kind.name().toLowerCase(java.util.Locale.ROOT),
              "code",
              code.name());
      operationCounters[slot] = c;
    }
    c.increment();
  }

  /** A request refused before the log, by reason (overloaded, invalid, not_leader, ...). */
  public void rejection(String reason) {
    rejection(reason, 1);
  }

  public Timer submitLatency() {
    return submitLatency;
  }

  public Timer commitLatency() {
    return commitLatency;
  }

  public Timer applyLatency() {
    return applyLatency;
  }

  public Timer admissionWait() {
    return admissionWait;
  }

  public void batch(int requests, int operations) {
    batchRequests.record(requests);
    batchOperations.record(operations);
  }

  public void snapshot(Duration took, long bytes) {
    snapshotDuration.record(took);
    snapshotBytes.record(bytes);
  }

  /** A config file reload, by outcome (applied, refused). */
  public void configReload(String outcome) {
    counter("cairn.config.reloads", "Config file reloads, by outcome", "outcome", outcome)
        .increment();
  }

  /** One ledger entry (with {@code events} operations) sent to one watcher. */
  public void watchEntrySent(int events) {
    counter("cairn.watch.entries.sent", "Ledger entries sent to watchers").increment();
    counter("cairn.watch.events.sent", "Operation events sent to watchers").increment(events);
  }

  /** A watch refused or ended because the entries it needed left this node's window. */
  public void watchCompacted() {
    counter("cairn.watch.compacted", "Watches answered COMPACTED").increment();
  }

  /** A call this follower forwarded to the leader, by how it ended (ok, error, timeout, local). */
  public void forwarded(String outcome, double amount) {
    counter(
            "cairn.api.forwarded",
            "Calls forwarded to the leader, by how they ended",
            "outcome",
            outcome)
        .increment(amount);
  }

  public void leaderChanged() {
    leaderChanges.increment();
  }

  /** Registers a gauge read on each scrape. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  /** Registers a gauge of a supplier's current value. */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  private Counter counter(String name, String description, String... tags) {
    String key = name + String.join("|", tags);
    return counters.computeIfAbsent(
        key, k -> Counter.builder(name).description(description).tags(tags).register(registry));
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
