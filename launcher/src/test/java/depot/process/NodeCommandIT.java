package depot.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code depot node} with settings it cannot use: the real jar exits at once, on one line, having made nothing. */
class NodeCommandIT {
  @TempDir
  Path workDir;

  @Test
  void aMistypedConfStopsTheNodeInsteadOfStartingOneWithDefaults() throws Exception {
    Run run = node(List.of("-cluster", "-conf", "conf/storgae.json"), null);
    assertEquals(1, run.code());
    assertEquals(List.of("depot: -conf conf/storgae.json: no such file"), run.stderr());
    try (Stream<Path> made = Files.list(workDir)) {
      assertEquals(List.of("stderr.txt"), made.map(p -> p.getFileName().toString()).toList(),
          "no data folder, no node: nothing started");
    }
  }

  @Test
  void aBadEnvironmentOverrideIsOneLineNotAStackTrace() throws Exception {
    Run run = node(List.of("-cluster", "-conf", "{\"roles\": [\"storage\"]}"), "storage,bogus");
    assertEquals(1, run.code());
    assertEquals(List.of("depot: unknown role 'bogus'; roles are directory, coordinator, gateway, storage"), run.stderr());
  }

  private record Run(int code, List<String> stderr) {}

  private Run node(List<String> args, String roles) throws Exception {
    Path jar = Path.of("target", "depot.jar").toAbsolutePath();
    assertTrue(Files.isRegularFile(jar), "build the jar first: " + jar);
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(), "node"));
    command.addAll(args);
    Path stderr = workDir.resolve("stderr.txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("DEPOT_"));
    pb.environment().put("DEPOT_CLUSTER_NAME", "node-command-it-" + ProcessHandle.current().pid());
    if (roles != null) {
      pb.environment().put("DEPOT_ROLES", roles);
    }
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the node kept running: " + Files.readString(stderr));
    }
    return new Run(p.exitValue(), Files.readAllLines(stderr, StandardCharsets.UTF_8));
  }
}
