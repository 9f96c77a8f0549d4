package depot.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Depot node running as its own OS process ({@code java -jar depot.jar node -cluster ...}), stdout and
 * stderr going to a log file. {@link #stop} sends SIGTERM ({@link Process#destroy()}) and, only if the node
 * does not exit in time, SIGKILL.
 */
final class NodeProcess {
  private final String name;
  private final Path log;
  private final Process process;
  private final long startedAt = System.nanoTime();

  private NodeProcess(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /**
   * @param env variables to set on top of {@code baseEnv}; {@code baseEnv} replaces the inherited environment
   */
  static NodeProcess start(String name, List<String> command, Path workDir, Map<String, String> baseEnv,
                           Map<String, String> env, Path log) throws IOException {
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    pb.environment().clear();
    pb.environment().putAll(baseEnv);
    pb.environment().putAll(env);
    Files.writeString(log, "", StandardCharsets.UTF_8);
    return new NodeProcess(name, log, pb.start());
  }

  String name() {
    return name;
  }

  Path log() {
    return log;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Exit code, or null while running. */
  Integer exitCode() {
    return process.isAlive() ? null : process.exitValue();
  }

  long uptimeMillis() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
  }

  /** Sends SIGTERM without waiting. */
  void terminate() {
    process.destroy();
  }

  /**
   * Waits for the process to exit after {@link #terminate()}; kills it if it is still running after
   * {@code graceMillis}. Returns true when it exited by itself (no SIGKILL needed).
   */
  boolean awaitExit(long graceMillis) {
    try {
      if (process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        return true;
      }
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return false;
    }
  }

  /** SIGTERM, wait up to {@code graceMillis}, then SIGKILL. True when it exited gracefully. */
  boolean stop(long graceMillis) {
    if (!process.isAlive()) {
      return true;
    }
    terminate();
    return awaitExit(graceMillis);
  }

  /** SIGKILL, for the JVM shutdown hook: no waiting. */
  void kill() {
    process.destroyForcibly();
  }

  /**
   * SIGKILL ({@link Process#destroyForcibly()} is {@code kill -9} on Unix) and waits until the process is gone,
   * so its ports and files are free. True when it exited within {@code timeoutMillis}.
   */
  boolean killAndAwait(long timeoutMillis) throws InterruptedException {
    process.destroyForcibly();
    return process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /** Whether the log holds {@code text} (false while it cannot be read). */
  boolean logContains(String text) {
    try {
      return Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text);
    } catch (IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  /** The last {@code lines} lines of the log (the whole file is small enough to read). */
  String tail(int lines) {
    try {
      if (!Files.exists(log)) {
        return "(no log file " + log + ")";
      }
      List<String> all = new ArrayList<>(List.of(
          new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\\R")));
      return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + (process.isAlive() ? ", running" : ", exited " + process.exitValue()) + ")";
  }
}
