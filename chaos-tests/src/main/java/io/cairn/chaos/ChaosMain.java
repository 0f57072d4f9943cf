package io.cairn.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs chaos campaigns from the command line (scripts/chaos): N runs of a nemesis for a given time
 * each, printing each run's summary; exits 1 on any violation.
 */
public final class ChaosMain {
  private ChaosMain() {}

  public static void main(String[] args) throws Exception {
    String nemesis = "all";
    int seconds = 60;
    int runs = 1;
    int workers = 4;
    String image = "cairn-node:chaos";
    Map<String, String> settings = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--nemesis" -> nemesis = args[++i];
        case "--time" -> seconds = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        case "--image" -> image = args[++i];
        case "--set" -> {
          String[] kv = args[++i].split("=", 2);
          settings.put(kv[0], kv[1]);
        }
        default -> {
          System.err.println("unknown argument: " + args[i]);
          System.exit(2);
        }
      }
    }
    if (!ChaosRun.NEMESES.contains(nemesis)
        || seconds < 10
        || seconds > 3600
        || runs < 1
        || runs > 1000
        || workers < 1
        || workers > 64) {
      System.err.println(
          "bounds: --nemesis "
              + ChaosRun.NEMESES
              + ", --time 10..3600,"
              + " --runs 1..1000, --workers 1..64");
      System.exit(2);
    }
    int violations = 0;
    long stamp = System.currentTimeMillis();
    for (int r = 1; r <= runs; r++) {
      ChaosRun.Config config =
          new ChaosRun.Config(
              "run-" + stamp + "-" + r,
              nemesis,
              Duration.ofSeconds(seconds),
              workers,
              stamp + r,
              settings,
              null,
              Path.of("chaos-tests", "target", "chaos"));
      ChaosRun.Result result = new ChaosRun(config, image).run();
      System.out.println(result.summary());
      if (!result.valid()) {
        violations++;
        System.out.println("  history: chaos-tests/target/chaos/" + config.name() + "/");
      }
    }
    System.out.printf("%d runs, %d with violations%n", runs, violations);
    System.exit(violations == 0 ? 0 : 1);
  }
}
