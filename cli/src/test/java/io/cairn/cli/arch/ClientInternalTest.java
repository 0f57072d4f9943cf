package io.cairn.cli.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import io.cairn.cli.arch.fixture.ReachesIntoClientInternal;
import org.junit.jupiter.api.Test;

/**
 * "Keep client/internal internal", for this module's code (main and tests): only {@code
 * io.cairn.client} is the client library's API. The same rule is in every module that uses the
 * client (node's {@code LayerRules}, cli, chaos-tests): Maven shares no test classes between
 * modules without a test-jar, and a one-line rule is cheaper to repeat than that. Each copy is
 * proven to bite on its own fixture.
 */
class ClientInternalTest {
  static final ArchRule CLIENT_INTERNAL_STAYS_INTERNAL =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.cairn.client..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.cairn.client.internal..")
          .because(
              "only io.cairn.client is the client library's API; io.cairn.client.internal may"
                  + " change in any release");

  @Test
  void thisModuleUsesNoClientInternal() {
    JavaClasses classes =
        new ClassFileImporter()
            .withImportOption(location -> !location.contains("/io/cairn/cli/arch/fixture/"))
            .importPackages("io.cairn.cli");
    assertTrue(classes.size() > 1, "no classes imported: the rule would pass vacuously");
    CLIENT_INTERNAL_STAYS_INTERNAL.check(classes);
  }

  @Test
  void theRuleReportsAUseOfClientInternalInAFixture() {
    JavaClasses fixture = new ClassFileImporter().importClasses(ReachesIntoClientInternal.class);
    EvaluationResult result = CLIENT_INTERNAL_STAYS_INTERNAL.evaluate(fixture);
    String report = String.join("\n", result.getFailureReport().getDetails());
    assertTrue(result.hasViolation(), "the rule let a use of client internals through");
    assertTrue(report.contains("io.cairn.client.internal.Caller"), report);
  }
}
