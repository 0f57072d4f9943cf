package io.cairn.node.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import io.cairn.node.arch.fixture.UnboundedFixture;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Invariant 5 at build time: the node's and the client library's main code create no unbounded
 * queue or executor. One shared test reads both modules' classes (the client is on the node's test
 * classpath), so a violation in either fails the build.
 */
class BoundedConcurrencyTest {
  /** Each accepted exception, with the reason it is bounded after all. Keep this list short. */
  static final List<BoundedConcurrencyRule.Allowed> ALLOWLIST =
      List.of(
          new BoundedConcurrencyRule.Allowed(
              "io.cairn.client.CairnClient -> new java.util.concurrent.ScheduledThreadPoolExecutor",
              "the client's retry timer: it holds at most one pending retry per call in flight,"
                  + " and calls in flight are capped by CairnClient.Builder.maxInflightCalls;"
                  + " the JDK has no bounded scheduled executor"),
          new BoundedConcurrencyRule.Allowed(
              "io.cairn.node.api.ApiServer -> Executors.newSingleThreadScheduledExecutor",
              "ApiServer.ticker, the node's periodic checks (clock, free space, forwarder): each"
                  + " ticker runs one fixed-delay task, all it ever holds (calls waiting for a"
                  + " leader sit in a set bounded by the API's admission, not in a queue)"));

  @Test
  void nodeAndClientMainCodeCreateNoUnboundedQueueOrExecutor() {
    JavaClasses classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn.node", "io.cairn.client");
    // Guard against a vacuous pass (nothing imported means nothing checked).
    assertTrue(classes.contain("io.cairn.node.api.ApiServer"), "node classes not imported");
    assertTrue(classes.contain("io.cairn.client.CairnClient"), "client classes not imported");
    BoundedConcurrencyRule rule = new BoundedConcurrencyRule(ALLOWLIST);
    rule.rule().check(classes);
    assertEquals(
        Set.of(),
        rule.unusedAllowlistEntries(),
        "allowlist entries that match no code any more: remove them");
  }

  @Test
  void theRuleReportsEveryUnboundedConstructInAFixture() {
    JavaClasses fixture = new ClassFileImporter().importClasses(UnboundedFixture.class);
    EvaluationResult result = new BoundedConcurrencyRule(List.of()).rule().evaluate(fixture);
    assertTrue(result.hasViolation(), "the rule let an unbounded executor through");
    String report = String.join("\n", result.getFailureReport().getDetails());
    for (String expected :
        List.of(
            "Executors.newCachedThreadPool",
            "Executors.newFixedThreadPool",
            "Executors.newSingleThreadExecutor",
            "Executors.newWorkStealingPool",
            "new java.util.concurrent.LinkedBlockingQueue()",
            "new java.util.concurrent.LinkedBlockingDeque(java.util.Collection)",
            "new java.util.concurrent.ConcurrentLinkedQueue",
            "new java.util.concurrent.ScheduledThreadPoolExecutor",
            "CompletableFuture.supplyAsync without an executor")) {
      assertTrue(
          report.contains(expected), "no violation reported for " + expected + ":\n" + report);
    }
    // Capacity-taking constructors are fine: exactly the forbidden lines are reported.
    assertFalse(report.contains("LinkedBlockingQueue(int)"), report);
    assertFalse(report.contains("LinkedBlockingDeque(int)"), report);
  }

  @Test
  void anAllowlistedUseIsAcceptedAndAReasonIsRequired() {
    JavaClasses fixture = new ClassFileImporter().importClasses(UnboundedFixture.class);
    String origin = UnboundedFixture.class.getName();
    BoundedConcurrencyRule rule =
        new BoundedConcurrencyRule(
            List.of(
                new BoundedConcurrencyRule.Allowed(
                    origin + " -> new java.util.concurrent.ScheduledThreadPoolExecutor",
                    "test: allowed on purpose")));
    String report =
        String.join("\n", rule.rule().evaluate(fixture).getFailureReport().getDetails());
    assertFalse(report.contains("ScheduledThreadPoolExecutor"), report);
    assertTrue(report.contains("Executors.newCachedThreadPool"), report);
    assertEquals(Set.of(), rule.unusedAllowlistEntries());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () ->
            new BoundedConcurrencyRule(List.of(new BoundedConcurrencyRule.Allowed("x -> y", " "))));
  }
}
