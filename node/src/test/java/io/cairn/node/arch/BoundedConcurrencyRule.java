package io.cairn.node.arch;

import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnitAccess;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Design invariant 5 as a build-time rule: main code must not create a queue or an executor whose
 * backlog has no bound. Each forbidden construct below names why it is unbounded; the bounded
 * replacement is a {@code ThreadPoolExecutor} over an {@code ArrayBlockingQueue} with named threads
 * and an explicit rejection policy, or a capacity-taking queue constructor.
 *
 * <p>What it cannot see: a {@code ThreadPoolExecutor} given a {@code SynchronousQueue} and an
 * unbounded maximum size, or a plain collection used as a queue without a size check. Code review
 * still owns those.
 */
public final class BoundedConcurrencyRule {
  private static final String CONCURRENT = "java.util.concurrent.";

  /** Executors factory methods: each one's work queue or thread count has no bound. */
  private static final Map<String, String> EXECUTORS_FACTORIES =
      Map.of(
          "newCachedThreadPool", "creates a thread per task without limit",
          "newFixedThreadPool", "queues tasks in a capacity-less LinkedBlockingQueue",
          "newSingleThreadExecutor", "queues tasks in a capacity-less LinkedBlockingQueue",
          "newWorkStealingPool", "a ForkJoinPool: unbounded task queues",
          "newScheduledThreadPool", "a ScheduledThreadPoolExecutor: unbounded delay queue",
          "newSingleThreadScheduledExecutor",
              "a ScheduledThreadPoolExecutor: unbounded delay queue",
          "newThreadPerTaskExecutor", "creates a thread per task without limit",
          "newVirtualThreadPerTaskExecutor", "creates a thread per task without limit");

  /** Types whose every constructor gives an unbounded queue or executor. */
  private static final Map<String, String> UNBOUNDED_TYPES =
      Map.of(
          CONCURRENT + "LinkedTransferQueue",
          "has no capacity",
          CONCURRENT + "ConcurrentLinkedQueue",
          "has no capacity",
          CONCURRENT + "ConcurrentLinkedDeque",
          "has no capacity",
          CONCURRENT + "PriorityBlockingQueue",
          "grows without limit (the int is an initial size)",
          CONCURRENT + "DelayQueue",
          "has no capacity",
          CONCURRENT + "ScheduledThreadPoolExecutor",
          "its delay queue has no capacity",
          CONCURRENT + "ForkJoinPool",
          "its task queues have no capacity",
          "java.util.Timer",
          "its task queue has no capacity");

  /** Types that are bounded only when given a capacity: the constructor must take an int. */
  private static final Set<String> CAPACITY_TYPES =
      Set.of(CONCURRENT + "LinkedBlockingQueue", CONCURRENT + "LinkedBlockingDeque");

  /** Where a violation is accepted, keyed by {@link Violation#key()}, with the reason. */
  public record Allowed(String key, String reason) {}

  /** One creation of something unbounded: where, what, and why it is unbounded. */
  public record Violation(String originClass, String target, String why, String location) {
    public String key() {
      return originClass + " -> " + target;
    }
  }

  private final Map<String, String> allowlist;
  private final Set<String> allowlistUsed = ConcurrentHashMap.newKeySet();

  public BoundedConcurrencyRule(List<Allowed> allowlist) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (Allowed a : allowlist) {
      if (a.reason() == null || a.reason().isBlank()) {
        throw new IllegalArgumentException("allowlist entry without a reason: " + a.key());
      }
      m.put(a.key(), a.reason());
    }
    this.allowlist = m;
  }

  /** Allowlist entries that matched no code in the last evaluation: stale, remove them. */
  public Set<String> unusedAllowlistEntries() {
    Set<String> unused = new java.util.TreeSet<>(allowlist.keySet());
    unused.removeAll(allowlistUsed);
    return unused;
  }

  public ArchRule rule() {
    return ArchRuleDefinition.noClasses()
        .should(
            new ArchCondition<JavaClass>("create an unbounded queue or executor (invariant 5)") {
              @Override
              public void check(JavaClass c, ConditionEvents events) {
                for (JavaAccess<?> access : accesses(c)) {
                  Violation v = classify(access);
                  if (v == null) {
                    continue;
                  }
                  if (allowlist.containsKey(v.key())) {
                    allowlistUsed.add(v.key());
                    continue;
                  }
                  events.add(
                      SimpleConditionEvent.satisfied(
                          access, v.key() + ": " + v.why() + " " + v.location()));
                }
              }
            })
        .because(
            "every queue and executor needs a named bound (invariant 5): use ThreadPoolExecutor"
                + " over an ArrayBlockingQueue with named threads and a rejection policy");
  }

  private static List<JavaAccess<?>> accesses(JavaClass c) {
    List<JavaAccess<?>> out = new java.util.ArrayList<>();
    out.addAll(c.getMethodCallsFromSelf());
    out.addAll(c.getConstructorCallsFromSelf());
    out.addAll(c.getMethodReferencesFromSelf());
    out.addAll(c.getConstructorReferencesFromSelf());
    return out;
  }

  /** The violation this access is, or null. */
  private static Violation classify(JavaAccess<?> access) {
    if (!(access instanceof JavaCodeUnitAccess<?> call)) {
      return null;
    }
    String owner = call.getTargetOwner().getName();
    String name = call.getTarget().getName();
    List<String> params =
        call.getTarget().getRawParameterTypes().stream().map(JavaClass::getName).toList();
    String origin = access.getOriginOwner().getName();
    String where = access.getSourceCodeLocation().toString();
    boolean constructor = name.equals("<init>");
    if (owner.equals(CONCURRENT + "Executors") && EXECUTORS_FACTORIES.containsKey(name)) {
      return new Violation(origin, "Executors." + name, EXECUTORS_FACTORIES.get(name), where);
    }
    if (constructor && UNBOUNDED_TYPES.containsKey(owner)) {
      return new Violation(origin, "new " + owner, UNBOUNDED_TYPES.get(owner), where);
    }
    if (constructor && CAPACITY_TYPES.contains(owner) && !params.contains("int")) {
      return new Violation(
          origin, "new " + owner + "(" + String.join(",", params) + ")", "has no capacity", where);
    }
    if (owner.equals(CONCURRENT + "ForkJoinPool") && name.equals("commonPool")) {
      return new Violation(origin, "ForkJoinPool.commonPool", "unbounded task queues", where);
    }
    boolean future =
        owner.equals(CONCURRENT + "CompletableFuture")
            || owner.equals(CONCURRENT + "CompletionStage");
    if (future && name.endsWith("Async") && !params.contains(CONCURRENT + "Executor")) {
      return new Violation(
          origin,
          "CompletableFuture." + name + " without an executor",
          "runs on ForkJoinPool.commonPool, whose queues have no capacity",
          where);
    }
    return null;
  }
}
