package depot.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} in a JVM of its own (a heap of its own size, say), with this JVM's class path.
 * The output goes to a file rather than a pipe, so a child that hangs is killed at the deadline instead of
 * holding the test on a read forever.
 */
public final class ChildJvm {
  /** How the child ended: {@code exitCode} -1 if it was killed at the deadline. */
  public record Result(int exitCode, String output) {}

  private ChildJvm() {}

  public static Result run(Class<?> main, List<String> jvmOptions, long timeoutSeconds, String... args)
      throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    Path log = Files.createTempFile("depot-child-", ".log");
    try {
      Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean ended = child.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!ended) {
        child.destroyForcibly().waitFor();
      }
      String output = Files.readString(log, StandardCharsets.ISO_8859_1);
      return new Result(ended ? child.exitValue() : -1, ended ? output : output + "\n(killed after " + timeoutSeconds + " s)");
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
