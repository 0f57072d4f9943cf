package io.cairn.node.arch;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer rules of the design, on the node's and the client library's main code, and each rule
 * proven to bite on a fixture tree that breaks it (as {@link BoundedConcurrencyTest} does).
 */
class LayerRulesTest {
  private static final String FIXTURE = "io.cairn.node.arch.fixture.layers";
  private static final LayerRules ON_FIXTURE = new LayerRules(FIXTURE, FIXTURE + ".client");

  private static JavaClasses main;
  private static JavaClasses fixture;

  @BeforeAll
  static void importClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn.node", "io.cairn.client");
    // Guard against a vacuous pass (nothing imported means nothing checked).
    for (String c :
        List.of(
            "io.cairn.node.ledger.Ledger",
            "io.cairn.node.merkle.MerkleTree",
            "io.cairn.node.api.ApiServer",
            "io.cairn.node.raft.RaftNode",
            "io.cairn.client.CairnClient")) {
      assertTrue(main.contain(c), c + " not imported");
    }
    fixture = new ClassFileImporter().importPackages(FIXTURE);
  }

  @Test
  void ledgerImportsOnlyTheJdkAndProto() {
    LayerRules.CAIRN.ledgerIsPure().check(main);
  }

  @Test
  void merkleImportsOnlyTheJdkProtoAndCaffeine() {
    LayerRules.CAIRN.merkleIsPure().check(main);
  }

  @Test
  void storeImportsOnlyTheJdkProtoRocksDbAndTheLedger() {
    LayerRules.CAIRN.storeIsAnAdapterOfRocksDbOnly().check(main);
  }

  @Test
  void apiImportsNothingFromRatis() {
    LayerRules.CAIRN.apiIsFreeOfRatis().check(main);
  }

  @Test
  void raftImportsNothingFromGrpc() {
    LayerRules.CAIRN.raftIsFreeOfGrpc().check(main);
  }

  @Test
  void nodeCodeUsesNoClientInternal() {
    // Test code too: a node test reaching into the client's internals would pin them as well.
    JavaClasses withTests =
        new ClassFileImporter()
            .withImportOption(location -> !location.contains("/io/cairn/node/arch/fixture/"))
            .importPackages("io.cairn.node", "io.cairn.client");
    LayerRules.CAIRN.clientInternalStaysInternal().check(withTests);
  }

  @Test
  void theLedgerRuleReportsRatisAndCaffeineButNotProto() {
    String report = violations(ON_FIXTURE.ledgerIsPure());
    assertTrue(report.contains("org.apache.ratis.protocol.RaftPeerId"), report);
    assertTrue(report.contains("com.github.benmanes.caffeine.cache.Caffeine"), report);
    assertFalse(report.contains("io.cairn.proto.Account"), report);
  }

  @Test
  void theMerkleRuleReportsGrpcButAllowsCaffeine() {
    String report = violations(ON_FIXTURE.merkleIsPure());
    assertTrue(report.contains("io.grpc.Status"), report);
    assertFalse(report.contains("caffeine"), report);
  }

  @Test
  void theApiRuleReportsARatisImport() {
    String report = violations(ON_FIXTURE.apiIsFreeOfRatis());
    assertTrue(report.contains("ApiImportsRatis"), report);
    assertTrue(report.contains("org.apache.ratis.protocol.RaftPeerId"), report);
  }

  @Test
  void theRaftRuleReportsAGrpcImport() {
    String report = violations(ON_FIXTURE.raftIsFreeOfGrpc());
    assertTrue(report.contains("RaftImportsGrpc"), report);
    assertTrue(report.contains("io.grpc.Status"), report);
  }

  @Test
  void theClientRuleReportsOutsideUseOfInternalButNotTheLibrarysOwn() {
    String report = violations(ON_FIXTURE.clientInternalStaysInternal());
    assertTrue(report.contains("CliReachesIntoClientInternal"), report);
    assertFalse(report.contains("Facade"), report);
  }

  private static String violations(ArchRule rule) {
    EvaluationResult result = rule.evaluate(fixture);
    assertTrue(result.hasViolation(), "the rule let its fixture through: " + rule.getDescription());
    return String.join("\n", result.getFailureReport().getDetails());
  }
}
