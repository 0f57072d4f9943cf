package io.cairn.chaos.infra;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips a chaos test class, with the reason in the report, where no Docker engine answers or the
 * tests do not run as root (network faults enter container namespaces with nsenter). {@code
 * scripts/docker-engine up} starts an engine.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresDocker.Condition.class)
public @interface RequiresDocker {
  /** The check behind {@link RequiresDocker}. */
  final class Condition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      Optional<String> noEngine = DockerEngine.unavailableReason();
      if (noEngine.isPresent()) {
        return ConditionEvaluationResult.disabled("skipped: " + noEngine.get());
      }
      if (!"root".equals(System.getProperty("user.name"))) {
        return ConditionEvaluationResult.disabled(
            "skipped: network faults need root (nsenter into container namespaces)");
      }
      return ConditionEvaluationResult.enabled("a Docker engine answers");
    }
  }
}
