package io.cairn.chaos.infra;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;

/**
 * Whether a Docker engine is reachable, and the settings the harness needs on these machines.
 *
 * <p>Tests call {@link #unavailableReason()} in a JUnit assumption, so a machine without Docker
 * skips the chaos tests instead of failing them; {@code scripts/docker-engine up} starts a confined
 * engine where one is wanted.
 */
public final class DockerEngine {
  /** Debian's engine is 20.10; starting at this API version skips a failed negotiation. */
  public static final String API_VERSION = "1.41";

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(20);
  private static final Path DEFAULT_SOCKET = Path.of("/var/run/docker.sock");

  private static volatile Optional<String> probed;

  private DockerEngine() {}

  /**
   * Sets what must be set before Testcontainers first talks to the engine, and checks what can only
   * be set from outside (environment variables).
   *
   * @throws ChaosInfraException if Ryuk is not disabled: it is an image, and nothing can be pulled
   */
  public static void configure() {
    if (System.getProperty("api.version") == null) {
      System.setProperty("api.version", API_VERSION);
    }
    if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
      throw new ChaosInfraException(
          "set TESTCONTAINERS_RYUK_DISABLED=true (chaos-tests/pom.xml does it for surefire):"
              + " Ryuk is an image and nothing can be pulled; the harness removes what it creates");
    }
  }

  /** Why no engine can be used, or empty when one answers. Probed once per JVM, bounded in time. */
  public static synchronized Optional<String> unavailableReason() {
    if (probed == null) {
      probed = probe();
    }
    return probed;
  }

  private static Optional<String> probe() {
    String host = System.getenv("DOCKER_HOST");
    if ((host == null || host.isEmpty()) && !Files.exists(DEFAULT_SOCKET)) {
      return Optional.of(
          "no Docker engine: " + DEFAULT_SOCKET + " is absent (run scripts/docker-engine up)");
    }
    configure();
    try (DockerCalls calls = new DockerCalls()) {
      boolean available =
          calls.call(
              "probing the Docker engine",
              PROBE_TIMEOUT,
              () -> DockerClientFactory.instance().isDockerAvailable());
      return available
          ? Optional.empty()
          : Optional.of("no Docker engine answers (run scripts/docker-engine up)");
    } catch (ChaosInfraException e) {
      return Optional.of("no Docker engine answers: " + e.getMessage());
    }
  }
}
