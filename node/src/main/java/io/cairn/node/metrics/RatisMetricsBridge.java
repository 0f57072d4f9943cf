package io.cairn.node.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;

/**
 * Exports Ratis's own metrics (kept in a shaded Dropwizard registry) through Micrometer, so the log
 * worker's flush/fsync times, append latency and queue sizes appear on /metrics beside ours. Timers
 * become {@code ratis_<component>_<name>_seconds{quantile=...}} gauges plus a {@code _count}
 * counter; counters and numeric gauges keep their value. Call {@link #bind} after the Raft server
 * has started (Ratis creates its registries then).
 */
public final class RatisMetricsBridge {
  private RatisMetricsBridge() {}

  public static int bind(MeterRegistry registry) {
    int bound = 0;
    for (RatisMetricRegistry r : MetricRegistries.global().getMetricRegistries()) {
      if (!(r instanceof RatisMetricRegistryImpl impl)) {
        continue;
      }
      MetricRegistryInfo info = r.getMetricRegistryInfo();
      String component = clean(info.getMetricsComponentName());
      var dw = impl.getDropWizardMetricRegistry();
      for (Map.Entry<String, Timer> e : dw.getTimers().entrySet()) {
        String base = "ratis." + component + "." + clean(shortName(e.getKey()));
        Timer t = e.getValue();
        for (double q : new double[] {0.5, 0.99, 0.999}) {
          Gauge.builder(
                  base + ".seconds",
                  t,
                  timer -> timer.getSnapshot().getValue(q) / TimeUnit.SECONDS.toNanos(1))
              .tag("quantile", Double.toString(q))
              .tag("ratis_prefix", info.getPrefix())
              .description("Ratis timer " + e.getKey())
              .register(registry);
        }
        FunctionCounter.builder(base + ".count", t, Timer::getCount)
            .tag("ratis_prefix", info.getPrefix())
            .register(registry);
        bound++;
      }
      for (Map.Entry<String, Counter> e : dw.getCounters().entrySet()) {
        FunctionCounter.builder(
                "ratis." + component + "." + clean(shortName(e.getKey())),
                e.getValue(),
                Counter::getCount)
            .tag("ratis_prefix", info.getPrefix())
            .register(registry);
        bound++;
      }
      for (String name : dw.getGauges().keySet()) {
        Gauge.builder(
                "ratis." + component + "." + clean(shortName(name)),
                dw,
                reg -> numeric(reg.getGauges().get(name)))
            .tag("ratis_prefix", info.getPrefix())
            .register(registry);
        bound++;
      }
    }
    return bound;
  }

  @SuppressWarnings("rawtypes") // Dropwizard's registry hands out raw Gauge values.
  private static double numeric(org.apache.ratis.thirdparty.com.codahale.metrics.Gauge g) {
    Object v = g == null ? null : g.getValue();
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static String shortName(String full) {
    int dot = full.lastIndexOf('.');
    return dot < 0 ? full : full.substring(dot + 1);
  }

  private static String clean(String s) {
    return s.replaceAll("[^A-Za-z0-9]+", "_").toLowerCase(Locale.ROOT);
  }
}
