package depot.cli;

/**
 * A failure whose message is meant for the user as is: {@link DepotCli} prints it as the single line
 * {@code depot: <message>} on stderr and exits with {@link #exitCode()}.
 */
public class CliException extends RuntimeException {
  private final int exitCode;

  public CliException(String message) {
    this(message, 1, null);
  }

  public CliException(String message, Throwable cause) {
    this(message, 1, cause);
  }

  public CliException(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
