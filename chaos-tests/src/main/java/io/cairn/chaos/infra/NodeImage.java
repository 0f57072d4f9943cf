package io.cairn.chaos.infra;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A node image built locally by {@code chaos-tests/docker/build-image.sh} (nothing is pulled).
 *
 * @param id the image ID ({@code sha256:...})
 * @param tag the tag it was built under
 */
public record NodeImage(String id, String tag) {
  /** Image the harness runs by default: the real node, built from {@code node/target}. */
  public static final String DEFAULT_TAG = "cairn-node:test";

  /** The build script, found from the chaos-tests module folder (surefire's {@code basedir}). */
  public static Path defaultScript() {
    return Path.of(System.getProperty("basedir", "."), "docker", "build-image.sh");
  }

  /**
   * Builds (or finds up to date) an image whose entry point runs {@code mainClass} with the jars of
   * {@code appDir} ({@code cairn-node.jar} or {@code cairn-node-*.jar}, plus {@code lib/}).
   *
   * @param timeout bound on the whole build; the first build of the base takes about 20 s
   */
  public static NodeImage build(
      Path script, Path appDir, String mainClass, String tag, Duration timeout) {
    if (!Files.isExecutable(script)) {
      throw new ChaosInfraException("image build script not found or not executable: " + script);
    }
    ExecResult result =
        HostCommand.runOrThrow(
            timeout,
            null,
            List.of(
                script.toString(),
                "--app-dir",
                appDir.toString(),
                "--main",
                mainClass,
                "--tag",
                tag));
    String[] lines = result.stdout().strip().split("\n");
    String id = lines[lines.length - 1].strip();
    if (!id.startsWith("sha256:")) {
      throw new ChaosInfraException("build script printed no image ID: " + result.stdout());
    }
    return new NodeImage(id, tag);
  }

  /** Removes this image by ID (the base it was built on stays, as the build's cache). */
  public void remove(Duration timeout) {
    HostCommand.runOrThrow(timeout, null, List.of("docker", "rmi", id));
  }
}
