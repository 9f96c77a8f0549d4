package depot.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * What a command may touch of the outside world. Tests pass their own streams and environment
 * (the real process environment cannot be changed from inside a JVM).
 *
 * @param out         command output (and raw file bytes for {@code retrieve -o -})
 * @param err         error line and progress bars
 * @param env         environment variables (DEPOT_SERVER, DEPOT_TOKEN, DEPOT_CONFIG_DIR, ...)
 * @param interactive whether a user watches a terminal: progress bars are drawn only then
 */
public record CliContext(PrintStream out, PrintStream err, Map<String, String> env, boolean interactive) {

  public static CliContext system() {
    return new CliContext(System.out, System.err, System.getenv(), System.console() != null);
  }

  /** The variable's value, or null when it is unset or blank. */
  public String env(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? null : value.trim();
  }
}
