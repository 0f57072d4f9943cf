package io.cairn.node.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.lang.ArchRule;

/**
 * The design's layer rules ("Layers that hold"), written against a base package so that a test can
 * aim the very same rules at a fixture tree ({@code io.cairn.node.arch.fixture.layers}) and prove
 * each one reports a forbidden import. The real code is checked with {@link #CAIRN}.
 *
 * <p>Caffeine in {@code merkle/}: allowed, and only there. The tree's proof cache is a bounded memo
 * in front of a pure function (a proof is immutable for a given root, the key includes the root, so
 * it can never serve a stale answer and no result depends on it), and the design's storage model
 * puts a Caffeine cache in front of the tree. The ledger gets no such exception: it has nothing to
 * cache. Removing the line that allows it is the whole change if the cache ever moves out to the
 * caller.
 */
public final class LayerRules {
  /** The node's own packages and the client library, as they are. */
  public static final LayerRules CAIRN = new LayerRules("io.cairn.node", "io.cairn.client");

  private static final String JDK = "java..";
  private static final String PROTO = "io.cairn.proto..";
  private static final String PROTOBUF = "com.google.protobuf..";
  private static final String CAFFEINE = "com.github.benmanes.caffeine.cache..";

  private final String node;
  private final String client;

  /**
   * @param node the package that holds {@code ledger}, {@code merkle}, {@code api} and {@code raft}
   * @param client the client library's package, whose {@code internal} package stays internal
   */
  public LayerRules(String node, String client) {
    this.node = node;
    this.client = client;
  }

  /** ledger/ is pure domain: the JDK, the wire types and itself (and the tree), nothing else. */
  public ArchRule ledgerIsPure() {
    return classes()
        .that()
        .resideInAPackage(node + ".ledger..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(JDK, PROTO, PROTOBUF, node + ".ledger..", node + ".merkle..")
        .because(
            "ledger/ is pure domain: it imports only the JDK and proto (com.google.protobuf for"
                + " the generated messages), never Ratis, gRPC, storage, config or metrics");
  }

  /** merkle/ is pure too, with one named exception: Caffeine for its proof cache. */
  public ArchRule merkleIsPure() {
    return classes()
        .that()
        .resideInAPackage(node + ".merkle..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(JDK, PROTO, PROTOBUF, CAFFEINE, node + ".merkle..", node + ".ledger..")
        .because(
            "merkle/ is a pure tree: it imports only the JDK and proto (com.google.protobuf for"
                + " the generated messages) and Caffeine, allowed for the proof cache only: a"
                + " bounded memo keyed by root, which no result depends on");
  }

  /** store/ is the storage engine's adapter: RocksDB and the wire types, never Ratis or gRPC. */
  public ArchRule storeIsAnAdapterOfRocksDbOnly() {
    return classes()
        .that()
        .resideInAPackage(node + ".store..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            JDK, PROTO, PROTOBUF, "org.rocksdb..", node + ".store..", node + ".ledger..")
        .because(
            "store/ adapts RocksDB to the ledger's History and the state machine's batches; Ratis,"
                + " gRPC, config and metrics stay in the layers that own them");
  }

  /** api/ speaks gRPC to clients and asks the raft layer in Cairn's own types. */
  public ArchRule apiIsFreeOfRatis() {
    return noClasses()
        .that()
        .resideInAPackage(node + ".api..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.apache.ratis..")
        .because(
            "api/ is gRPC only: RaftNode gives out Cairn types, so Ratis can change under it"
                + " without touching the API");
  }

  /** raft/ is the Ratis adapter; the public API's transport is none of its business. */
  public ArchRule raftIsFreeOfGrpc() {
    return noClasses()
        .that()
        .resideInAPackage(node + ".raft..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.grpc..")
        .because(
            "raft/ is the Ratis adapter and knows nothing of the API's transport (Ratis's own"
                + " shaded gRPC, org.apache.ratis.thirdparty.io.grpc, is Ratis's business)");
  }

  /**
   * The client library's public surface is its top package: nothing outside it reaches into {@code
   * internal}. This stands in for a module-info, which the project does not use (the modules run on
   * the class path).
   */
  public ArchRule clientInternalStaysInternal() {
    return noClasses()
        .that()
        .resideOutsideOfPackage(client + "..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(client + ".internal..")
        .because(
            "only "
                + client
                + " is the client library's API; "
                + client
                + ".internal may"
                + " change in any release");
  }
}
